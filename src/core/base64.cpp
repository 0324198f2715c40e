#include "core/base64.h"

#include <cstdint>

namespace pb {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string quote(std::string_view s) {
  constexpr std::size_t max = 60;
  std::string q = "\"";
  q.append(s.substr(0, max));
  q += s.size() > max ? "...\"" : "\"";
  return q;
}

error bad_base64(std::string_view text, std::string_view why) {
  return make_error(error_code::bad_request, "invalid base64 " + quote(text) + ": " + std::string(why));
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16 |
                            std::uint32_t(std::uint8_t(bytes[i + 1])) << 8 | std::uint8_t(bytes[i + 2]);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16 | std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += '=';
  }
  return out;
}

result<std::string> base64_decode(std::string_view text) {
  std::string_view body = text;
  std::size_t padding = 0;
  while (!body.empty() && body.back() == '=' && padding < 2) {
    body.remove_suffix(1);
    ++padding;
  }
  if (padding > 0 && text.size() % 4 != 0) return bad_base64(text, "padded length is not a multiple of 4");
  if (body.size() % 4 == 1) return bad_base64(text, "truncated (a single character left over)");

  std::string out;
  out.reserve(body.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const int v = decode_char(body[i]);
    if (v < 0) {
      const char c = body[i];
      std::string what = c == '=' ? std::string("misplaced padding '='")
                                  : "character " + quote(std::string_view(&body[i], 1)) + " is not in the alphabet";
      return bad_base64(text, what + " at offset " + std::to_string(i));
    }
    acc = (acc << 6 | std::uint32_t(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(acc >> bits & 0xff);
    }
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace pb
