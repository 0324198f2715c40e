// WebCrypto and DecompressionStream as the effects need them, on OpenSSL and zlib: the crypto.* ops,
// compression.decompress, base64, hex digests (one-shot and streaming). Shared by the server and the
// native test hosts.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/json.h"

namespace pb::runners {

std::string to_hex(const unsigned char* p, std::size_t n);
std::string base64_encode(std::string_view in);
std::string base64_decode(std::string_view in);  // throws failure(InvalidCharacterError)

// Lower-case hex digest; algorithm "SHA-1", "SHA-256", "SHA-384" or "SHA-512".
std::string hex_digest(std::string_view algorithm, std::string_view data);
std::string hmac_hex(std::string_view algorithm, std::string_view key, std::string_view data);
std::string hmac_raw(std::string_view algorithm, std::string_view key, std::string_view data);
std::string random_hex(std::size_t bytes);

// A digest computed over chunks as they stream past.
class digest_stream {
 public:
  explicit digest_stream(std::string_view algorithm);
  void update(std::string_view chunk);
  std::string hex();  // once, at the end
 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

// Runs crypto.digest, crypto.hmac, crypto.random, crypto.aes_gcm_encrypt/decrypt and
// compression.decompress (PROTOCOL.md). Throws failure like WebCrypto would.
json run_crypto(std::string_view op, const json& effect);
json run_decompress(const json& effect);

}  // namespace pb::runners
