// Sealing secrets at rest: AES-256-GCM through the crypto effects, with the key from the Worker secret
// PB_ENCRYPTION_KEY (base64 of 32 random bytes). A sealed value is the JSON text {"iv":..,"ct":..}.
#pragma once

#include <string>

#include "bindings/task.h"
#include "core/result.h"
#include "core/settings.h"

namespace pb::auth {

// Fails with error_code::unavailable when PB_ENCRYPTION_KEY is not set.
task<result<std::string>> seal(const settings& cfg, std::string plaintext, std::string purpose);
task<result<std::string>> unseal(const settings& cfg, std::string sealed, std::string purpose);

}  // namespace pb::auth
