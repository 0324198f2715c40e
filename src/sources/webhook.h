// Webhook secrets, derived instead of stored: secret = HMAC-SHA256(key, id | nonce), where key is
// PB_WEBHOOK_KEY (else PB_ENCRYPTION_KEY) and the nonce is part of the source's webhook URL
// (/hooks/{id}/{nonce}). A delivery's signature is therefore checked before anything is read from
// storage; the stored nonce is compared afterwards, so a regenerated nonce retires the old URL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bindings/task.h"
#include "core/result.h"
#include "core/settings.h"

namespace pb::sources {

// 32 lower-case hex characters.
bool valid_webhook_nonce(std::string_view nonce);
task<result<std::string>> new_webhook_nonce();
// The secret a provider signs with (48 hex characters); unavailable when neither key is set.
task<result<std::string>> webhook_secret(const settings& cfg, std::int64_t source_id, std::string nonce);

}  // namespace pb::sources
