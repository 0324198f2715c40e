// SHA-256 (FIPS 180-4) in C++. Tokens are hashed on every authenticated request; doing it here instead
// of through the crypto.digest effect saves a JS round trip on the hot path (see docs/PERFORMANCE.md).
// Everything else (archives, HMAC, AES) goes through WebCrypto effects.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pb {

std::array<std::uint8_t, 32> sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// Compares two strings in time that depends only on their lengths (for secrets of fixed length, such
// as digests, it leaks nothing).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace pb
