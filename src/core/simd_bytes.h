// Byte masks of 16- and 64-byte blocks: which bytes of a block equal a given byte, as bits (bit i: byte i).
// For the JSON scanner's block loop and strict reading (core/json_scan.h), simdjson's fallback kernel,
// the one it runs in wasm (its string loops, patched in CMakeLists.txt), and the link rules' byte tests
// on short strings (cover16, composer/p2_fields.cpp). Written over clang's generic vectors so
// that one source is SIMD128 in the Worker's wasm (-msimd128) and SSE2 in the native and sanitizer builds,
// which then test the code the Worker runs; only the vector-to-bits step differs per target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pb::simd {

using bytes16 = signed char __attribute__((vector_size(16)));

inline bytes16 load16(const char* p) {  // any alignment: memcpy is one v128.load / movdqu
  bytes16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline bytes16 splat(char c) {
  const auto b = static_cast<signed char>(c);
  return bytes16{b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b};
}

// The top bit of each lane of a compare's result (all ones or zero) as 16 bits.
inline std::uint32_t bits16(bytes16 lanes) {
#if defined(__wasm_simd128__)
  return static_cast<std::uint32_t>(__builtin_wasm_bitmask_i8x16(lanes));
#elif defined(__SSE2__)
  return static_cast<std::uint32_t>(_mm_movemask_epi8(reinterpret_cast<__m128i>(lanes)));
#else
  std::uint32_t m = 0;
  for (int i = 0; i < 16; ++i) m |= static_cast<std::uint32_t>(lanes[i] < 0) << i;
  return m;
#endif
}

// The first position at or after i (of n bytes at p) whose byte is not printable ASCII other than '"' and
// '\\' (a control byte, a byte >= 0x80, a quote or a backslash), checked sixteen at a time while sixteen
// remain; else the first of the last fifteen (or i, if later). simdjson's fallback stage 1 skips string
// bytes with it (CMakeLists.txt): its byte loop does nothing for the bytes it skips.
inline std::size_t plain_ascii_end(const char* p, std::size_t i, std::size_t n) {
  for (; i + 16 <= n; i += 16) {
    const bytes16 v = load16(p + i);
    // Signed lanes: bytes >= 0x80 are negative, so "< 0x20" holds for them and for the controls.
    const std::uint32_t other = bits16((v == splat('"')) | (v == splat('\\')) | (v < splat(0x20)));
    if (other) return i + static_cast<std::size_t>(__builtin_ctz(other));
  }
  return i;
}

// The position of the first '"', '\\' or control byte (below 0x20) at or after i (n when none), sixteen
// bytes at a time while sixteen remain: where a string's plain text ends (bytes >= 0x80 are plain).
inline std::size_t string_stop(const char* p, std::size_t i, std::size_t n) {
  using u8x16 = unsigned char __attribute__((vector_size(16)));
  for (; i + 16 <= n; i += 16) {
    const bytes16 v = load16(p + i);
    const auto b = reinterpret_cast<u8x16>(v);
    const u8x16 control = u8x16{} + 0x20;
    const std::uint32_t stop = bits16((v == splat('"')) | (v == splat('\\')) | reinterpret_cast<bytes16>(b < control));
    if (stop) return i + static_cast<std::size_t>(__builtin_ctz(stop));
  }
  for (; i < n; ++i)
    if (p[i] == '"' || p[i] == '\\' || static_cast<unsigned char>(p[i]) < 0x20) return i;
  return n;
}

// The n bytes at p (1 <= n <= 16, only those read) spread over the sixteen lanes, repeated where n < 16:
// every lane holds one of them and each of them is in some lane. For a test of whether any byte of a
// short string is of a kind (composer/p2_fields.cpp: most link targets and constraints are 3-20 bytes).
inline bytes16 cover16(const char* p, std::size_t n) {
  std::uint64_t lo, hi;
  if (n >= 8) {  // two words, overlapping when n < 16
    std::memcpy(&lo, p, 8);
    std::memcpy(&hi, p + n - 8, 8);
  } else if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    lo = hi = a | std::uint64_t{b} << 32;
  } else {  // the first, middle and last byte cover one to three
    const std::uint64_t a = static_cast<unsigned char>(p[0]), b = static_cast<unsigned char>(p[n / 2]),
                        c = static_cast<unsigned char>(p[n - 1]);
    lo = (a | b << 8 | c << 16 | c << 24) * 0x0000000100000001ULL;
    hi = lo;
  }
  using words = std::uint64_t __attribute__((vector_size(16)));
  return reinterpret_cast<bytes16>(words{lo, hi});
}

// The masks the scanner's block loop reads from the 64 bytes at p (all readable).
struct block_masks {
  std::uint64_t quote = 0;      // '"'
  std::uint64_t backslash = 0;  // '\\'
  std::uint64_t bracket = 0;    // '{', '[', '}' or ']'
};

inline block_masks masks64(const char* p) {
  const bytes16 quote = splat('"'), backslash = splat('\\'), open = splat('{'), close = splat('}'), fold = splat(0x20);
  block_masks m;
  for (int k = 0; k < 4; ++k) {
    const bytes16 v = load16(p + 16 * k);
    // '[' and ']' are '{' and '}' without the 0x20 bit; no other byte ORed with 0x20 gives either.
    const bytes16 folded = v | fold;
    const auto shift = static_cast<unsigned>(16 * k);
    m.quote |= std::uint64_t{bits16(v == quote)} << shift;
    m.backslash |= std::uint64_t{bits16(v == backslash)} << shift;
    m.bracket |= std::uint64_t{bits16((folded == open) | (folded == close))} << shift;
  }
  return m;
}

// Bit i of the result: the XOR of bits 0..i of x (for quotes: whether byte i is inside a string, its
// opening quote counted in and its closing quote not).
inline std::uint64_t prefix_xor(std::uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

}  // namespace pb::simd
