#include "sources/webhook.h"

#include "bindings/effects.h"

namespace pb::sources {

bool valid_webhook_nonce(std::string_view nonce) {
  if (nonce.size() != 32) return false;
  for (char c : nonce)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

task<result<std::string>> new_webhook_nonce() { co_return co_await fx::crypto_random_hex(16); }

task<result<std::string>> webhook_secret(const settings& cfg, std::int64_t source_id, std::string nonce) {
  const std::string& key = cfg.webhook_key.empty() ? cfg.encryption_key : cfg.webhook_key;
  if (key.empty())
    co_return make_error(error_code::unavailable,
                         "PB_WEBHOOK_KEY (or PB_ENCRYPTION_KEY) is not set: webhook secrets are derived from it");
  // The message names its purpose, so the same key's MACs for anything else never collide with it.
  auto mac = co_await fx::crypto_hmac("SHA-256", key, "package-broker webhook secret|" + std::to_string(source_id) + "|" + nonce);
  if (!mac) co_return std::move(mac).err();
  co_return mac->substr(0, 48);
}

}  // namespace pb::sources
