#include "auth/sealing.h"

#include "bindings/effects.h"
#include "core/json.h"

namespace pb::auth {

namespace {
result<std::string> key_of(const settings& cfg) {
  const std::string& key = cfg.encryption_key;
  if (key.empty())
    return make_error(error_code::unavailable,
                      "PB_ENCRYPTION_KEY is not set: it is needed to store credentials (wrangler secret put "
                      "PB_ENCRYPTION_KEY, value: 32 random bytes in base64)");
  return std::string(key);
}
}  // namespace

task<result<std::string>> seal(const settings& cfg, std::string plaintext, std::string purpose) {
  auto key = key_of(cfg);
  if (!key) co_return std::move(key).err();
  // The purpose is bound as associated data: a sealed webhook secret cannot be replayed as credentials.
  auto sealed = co_await fx::crypto_aes_gcm_encrypt(std::move(*key), std::move(plaintext), std::move(purpose));
  if (!sealed) co_return std::move(sealed).err();
  json_writer w;
  w.begin_object().field("iv", sealed->iv_b64).field("ct", sealed->ciphertext_b64).end_object();
  co_return std::move(w).str();
}

task<result<std::string>> unseal(const settings& cfg, std::string sealed, std::string purpose) {
  auto key = key_of(cfg);
  if (!key) co_return std::move(key).err();
  auto doc = parse_json(sealed);
  if (!doc) co_return make_error(error_code::internal, "sealed value is not JSON");
  fx::aes_gcm_sealed s{std::string((*doc)["iv"].as_string()), std::string((*doc)["ct"].as_string())};
  auto plain = co_await fx::crypto_aes_gcm_decrypt(std::move(*key), std::move(s), std::move(purpose));
  if (!plain)
    co_return make_error(error_code::internal, "a stored secret could not be decrypted (was PB_ENCRYPTION_KEY changed?)");
  co_return std::move(*plain);
}

}  // namespace pb::auth
