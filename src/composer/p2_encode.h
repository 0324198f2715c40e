// PHP's json_encode as Packagist calls it (JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), in pieces:
// the rules (p2_builder.cpp, p2_fields.cpp) write each member of a version straight into an encoded_entry
// with these, the writer (p2_writer.cpp, where they live) writes the documents. Also `same_bytes`, the
// equality both files compare members' texts with. Internal to src/composer.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/json.h"

namespace pb::composer::detail {

void encode_string(std::string& out, std::string_view s);  // a string value or key, quotes included
void encode_value(std::string& out, const json& v);        // packagist_json_encode, appended
bool holds_double(const json& v);                          // a float anywhere inside (encoded text is not enough)

// a == b, eight bytes at a time. The memo (a member's text against the previous version's) and the
// writer's minifier (each encoded member against the previous one) compare hundreds of bytes per member
// that are nearly always equal; wasm's memcmp is a byte loop unless both pointers are 4-aligned, which
// spans into a text seldom are (memcmp was 5-11% of a mirror rewrite, docs/PERFORMANCE.md).
inline bool same_bytes(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char *x = a.data(), *y = b.data();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t u, v;
    std::memcpy(&u, x + i, 8);
    std::memcpy(&v, y + i, 8);
    if (u != v) return false;
  }
  if (n - i >= 4) {  // the tail: at most one 4-byte word, then bytes
    std::uint32_t u, v;
    std::memcpy(&u, x + i, 4);
    std::memcpy(&v, y + i, 4);
    if (u != v) return false;
    i += 4;
  }
  for (; i < n; ++i)
    if (x[i] != y[i]) return false;
  return true;
}

}  // namespace pb::composer::detail
