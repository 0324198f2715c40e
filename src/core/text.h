// ASCII case folding: package names, host names, header names and HTTP date words are ASCII and
// compared case-insensitively; locale-dependent tolower has no place there.
#pragma once

#include <string>
#include <string_view>

namespace pb {

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace pb
