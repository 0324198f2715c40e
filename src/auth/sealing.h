// Sealing secrets at rest: AES-256-GCM through the crypto effects, with the key from the Worker secret
// PB_ENCRYPTION_KEY (base64 of 32 random bytes). A sealed value is the JSON text {"k":..,"iv":..,"ct":..}
// where k names the key that sealed it, so a rotated key (PB_ENCRYPTION_KEY_PREVIOUS) still opens it
// until everything is re-sealed under the new one (POST /admin/api/reseal).
#pragma once

#include <string>
#include <string_view>

#include "bindings/task.h"
#include "core/result.h"
#include "core/settings.h"

namespace pb::auth {

// A key's id: the first 8 hex digits of the SHA-256 of its base64 text (names it, reveals nothing).
std::string key_id(std::string_view key_b64);

// Fails with error_code::unavailable when PB_ENCRYPTION_KEY is not set.
task<result<std::string>> seal(const settings& cfg, std::string plaintext, std::string purpose);
// Opens a value sealed with PB_ENCRYPTION_KEY or PB_ENCRYPTION_KEY_PREVIOUS (values sealed before key
// ids existed carry none: both keys are tried).
task<result<std::string>> unseal(const settings& cfg, std::string sealed, std::string purpose);
// True when the value is sealed with the current PB_ENCRYPTION_KEY (re-sealing would change nothing).
bool sealed_with_current_key(const settings& cfg, std::string_view sealed);

}  // namespace pb::auth
