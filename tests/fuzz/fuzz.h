// What every fuzz target shares: `check` (a broken invariant is a finding: it prints what broke and
// aborts, so libFuzzer saves the input), splitting an input into parts, and comparisons for values
// that went through PHP-compatible encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace pb::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "\n==== fuzz invariant broken: %.*s\n%.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size() > 4000 ? 4000 : detail.size()), detail.data());
  std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

// Splits on sep, keeping empty parts; at most max_parts (the last part keeps the rest).
inline std::vector<std::string_view> split(std::string_view s, char sep, std::size_t max_parts = 64) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_parts) {
    std::size_t at = s.find(sep);
    if (at == std::string_view::npos) break;
    out.push_back(s.substr(0, at));
    s.remove_prefix(at + 1);
  }
  out.push_back(s);
  return out;
}

// Every byte as %XX: the most escaped spelling of s in a URL.
inline std::string percent_encode_all(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// Whether s is valid UTF-8 (what crosses the JS boundary as text unchanged).
inline bool is_utf8(std::string_view s) {
  auto back = parse_json(json(s).dump());
  return back.ok() && back->as_string() == s;
}

// Whether an object has a key twice (PHP's json_decode keeps the last; the core keeps both, so
// PHP-equivalence checks skip such inputs).
inline bool has_duplicate_keys(const json& o) {
  const auto& members = o.as_object();
  for (std::size_t i = 0; i < members.size(); ++i)
    for (std::size_t j = i + 1; j < members.size(); ++j)
      if (members[i].first == members[j].first) return true;
  return false;
}

}  // namespace pb::fuzz
