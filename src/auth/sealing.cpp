#include "auth/sealing.h"

#include "bindings/effects.h"
#include "core/json.h"
#include "core/sha256.h"

#include <vector>

namespace pb::auth {

namespace {

result<std::string> current_key(const settings& cfg) {
  if (cfg.encryption_key.empty())
    return make_error(error_code::unavailable,
                      "PB_ENCRYPTION_KEY is not set: it is needed to store credentials (wrangler secret put "
                      "PB_ENCRYPTION_KEY, value: 32 random bytes in base64)");
  return cfg.encryption_key;
}

task<result<std::string>> open_with(std::string key, const json& doc, std::string purpose) {
  fx::aes_gcm_sealed s{std::string(doc["iv"].as_string()), std::string(doc["ct"].as_string())};
  co_return co_await fx::crypto_aes_gcm_decrypt(std::move(key), std::move(s), std::move(purpose));
}

}  // namespace

std::string key_id(std::string_view key_b64) { return sha256_hex(key_b64).substr(0, 8); }

bool sealed_with_current_key(const settings& cfg, std::string_view sealed) {
  if (cfg.encryption_key.empty()) return false;
  auto doc = parse_json(sealed);
  return doc && (*doc)["k"].as_string() == key_id(cfg.encryption_key);
}

task<result<std::string>> seal(const settings& cfg, std::string plaintext, std::string purpose) {
  auto key = current_key(cfg);
  if (!key) co_return std::move(key).err();
  std::string kid = key_id(*key);
  // The purpose is bound as associated data: a sealed webhook secret cannot be replayed as credentials.
  auto sealed = co_await fx::crypto_aes_gcm_encrypt(std::move(*key), std::move(plaintext), std::move(purpose));
  if (!sealed) co_return std::move(sealed).err();
  json_writer w;
  w.begin_object().field("k", kid).field("iv", sealed->iv_b64).field("ct", sealed->ciphertext_b64).end_object();
  co_return std::move(w).str();
}

task<result<std::string>> unseal(const settings& cfg, std::string sealed, std::string purpose) {
  auto doc = parse_json(sealed);
  if (!doc) co_return make_error(error_code::internal, "sealed value is not JSON");
  std::string_view kid = (*doc)["k"].as_string();
  // The keys to try, in order: the one the value names, or (no name) the current key, then the previous.
  std::vector<const std::string*> keys;
  for (const std::string* k : {&cfg.encryption_key, &cfg.encryption_key_previous})
    if (!k->empty() && (kid.empty() || key_id(*k) == kid)) keys.push_back(k);
  if (keys.empty()) {
    if (cfg.encryption_key.empty()) co_return std::move(current_key(cfg)).err();
    co_return make_error(error_code::internal, "a stored secret was sealed with key " + std::string(kid) +
                                                   ", which is neither PB_ENCRYPTION_KEY nor PB_ENCRYPTION_KEY_PREVIOUS");
  }
  for (const std::string* k : keys) {
    auto plain = co_await open_with(*k, *doc, purpose);
    if (plain) co_return std::move(*plain);
  }
  co_return make_error(error_code::internal, "a stored secret could not be decrypted (was PB_ENCRYPTION_KEY changed?)");
}

}  // namespace pb::auth
