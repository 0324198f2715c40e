#include "runners/crypto_ops.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <vector>

#include "runners/failure.h"

namespace pb::runners {

namespace {

const EVP_MD* md_for(std::string_view algorithm) {
  if (algorithm == "SHA-1") return EVP_sha1();
  if (algorithm == "SHA-256") return EVP_sha256();
  if (algorithm == "SHA-384") return EVP_sha384();
  if (algorithm == "SHA-512") return EVP_sha512();
  if (algorithm == "MD5") return EVP_md5();  // Workers accept it too (object ETags)
  fail("NotSupportedError", "unknown digest " + std::string(algorithm));
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(in), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) fail("InvalidCharacterError", "bad base64");
  std::string out(3 * in.size() / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(in), static_cast<int>(in.size()));
  if (n < 0) fail("InvalidCharacterError", "bad base64");
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string hex_digest(std::string_view algorithm, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md_for(algorithm), nullptr);
  return to_hex(out, n);
}

std::string hmac_raw(std::string_view algorithm, std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(md_for(algorithm), key.data(), static_cast<int>(key.size()), bytes(data), data.size(), mac, &n);
  return std::string(reinterpret_cast<const char*>(mac), n);
}

std::string hmac_hex(std::string_view algorithm, std::string_view key, std::string_view data) {
  std::string raw = hmac_raw(algorithm, key, data);
  return to_hex(bytes(raw), raw.size());
}

std::string random_hex(std::size_t n) {
  std::vector<unsigned char> buf(n);
  if (n && RAND_bytes(buf.data(), static_cast<int>(n)) != 1) fail("OperationError", "no randomness available");
  return to_hex(buf.data(), buf.size());
}

digest_stream::digest_stream(std::string_view algorithm) : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  EVP_DigestInit_ex(ctx_.get(), md_for(algorithm), nullptr);
}

void digest_stream::update(std::string_view chunk) { EVP_DigestUpdate(ctx_.get(), chunk.data(), chunk.size()); }

std::string digest_stream::hex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_.get(), out, &n);
  return to_hex(out, n);
}

namespace {

json aes_gcm(bool enc, const json& e) {
  std::string key = base64_decode(e["key_b64"].as_string());
  if (key.size() != 32) fail("DataError", "AES key must be 256 bits");
  std::string iv = enc ? std::string(12, '\0') : base64_decode(e["iv_b64"].as_string());
  if (enc && RAND_bytes(reinterpret_cast<unsigned char*>(iv.data()), 12) != 1) fail("OperationError", "no randomness available");
  std::string input = enc ? std::string(e["plaintext"].as_string()) : base64_decode(e["ciphertext_b64"].as_string());
  std::string aad(e["aad"].as_string());
  std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> c(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  auto* k = bytes(key);
  auto* v = bytes(iv);
  std::string output(input.size() + 16, '\0');
  auto* o = reinterpret_cast<unsigned char*>(output.data());
  int len = 0, total = 0;
  bool ok = true;
  if (enc) {
    ok = EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, k, v) == 1;
    if (!aad.empty()) ok = ok && EVP_EncryptUpdate(c.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1;
    ok = ok && EVP_EncryptUpdate(c.get(), o, &len, bytes(input), static_cast<int>(input.size())) == 1;
    total = len;
    ok = ok && EVP_EncryptFinal_ex(c.get(), o + total, &len) == 1;
    total += len;
    ok = ok && EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, 16, o + total) == 1;
    total += 16;
  } else {
    if (input.size() < 16) ok = false;
    std::string tag = ok ? input.substr(input.size() - 16) : std::string();
    if (ok) input.resize(input.size() - 16);
    ok = ok && EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, k, v) == 1;
    if (!aad.empty()) ok = ok && EVP_DecryptUpdate(c.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1;
    ok = ok && EVP_DecryptUpdate(c.get(), o, &len, bytes(input), static_cast<int>(input.size())) == 1;
    total = len;
    ok = ok && EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1;
    ok = ok && EVP_DecryptFinal_ex(c.get(), o + total, &len) == 1;
    total += len;
  }
  if (!ok) fail("OperationError", "The operation failed for an operation-specific reason");
  output.resize(static_cast<std::size_t>(total));
  json out = json::object();
  if (enc) {
    out.set("iv_b64", json(base64_encode(iv)));
    out.set("ciphertext_b64", json(base64_encode(output)));
  } else {
    out.set("plaintext", json(output));
  }
  return out;
}

}  // namespace

json run_crypto(std::string_view op, const json& e) {
  json out = json::object();
  if (op == "crypto.digest") {
    out.set("hex", json(hex_digest(e["algorithm"].as_string(), e["data"].as_string())));
  } else if (op == "crypto.hmac") {
    out.set("hex", json(hmac_hex(e["algorithm"].as_string(), e["key"].as_string(), e["data"].as_string())));
  } else if (op == "crypto.random") {
    std::int64_t n = e["bytes"].as_int();
    if (n < 0 || n > 65536) fail("QuotaExceededError", "getRandomValues: at most 65536 bytes");
    out.set("hex", json(random_hex(static_cast<std::size_t>(n))));
  } else if (op == "crypto.aes_gcm_encrypt" || op == "crypto.aes_gcm_decrypt") {
    return aes_gcm(op == "crypto.aes_gcm_encrypt", e);
  } else {
    fail("UnknownEffect", "no runner for effect op \"" + std::string(op) + "\"");
  }
  return out;
}

json run_decompress(const json& e) {
  std::string in = base64_decode(e["data_b64"].as_string());
  std::string_view format = e["format"].as_string();
  if (format != "deflate-raw" && format != "deflate" && format != "gzip")
    fail("TypeError", "Unsupported compression format: '" + std::string(format) + "'");
  std::int64_t max_bytes = e["max_bytes"].as_int(INT64_MAX);
  int bits = format == "deflate-raw" ? -15 : format == "gzip" ? 16 + 15 : 15;
  z_stream zs{};
  if (inflateInit2(&zs, bits) != Z_OK) fail("TypeError", "inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  std::string outbuf;
  char chunk[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      fail("TypeError", "The compressed data was not valid: inflate error " + std::to_string(rc));
    }
    outbuf.append(chunk, sizeof chunk - zs.avail_out);
    if (static_cast<std::int64_t>(outbuf.size()) > max_bytes) {
      inflateEnd(&zs);
      fail("PayloadTooLarge", "body is larger than " + std::to_string(max_bytes) + " bytes");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      fail("TypeError", "The compressed data ended early");
    }
  }
  inflateEnd(&zs);
  json out = json::object();
  out.set("body_b64", json(base64_encode(outbuf)));
  return out;
}

}  // namespace pb::runners
