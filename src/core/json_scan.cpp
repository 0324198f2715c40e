// The scanner's parts compiled once (core/json_scan.h): the strict reading of a value and the member
// walk most callers share. Apart from json.cpp (the tree, the parse, the writer) because they read text
// without building anything; both are hot files at -O2 (CMakeLists.txt, PB_HOT_SOURCES).
#include "core/json_scan.h"

#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace pb {

bool json_scanner::strict_value(bool& dump) {
  skip_ws();
  const char* p = s_.data();
  const std::size_t n = s_.size(), lim = limit();
  std::size_t i = at_, depth = 0;
  char open[max_depth];  // '{' or '[' for each container open
  bool plain = true;      // json_writer's form so far
  const auto ws = [&] {
    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')) {
      ++i;
      plain = false;
    }
  };
  // A string at i (its opening quote): true and i past it when valid.
  const auto quoted = [&] {
    for (++i;;) {
      i = simd::string_stop(p, i, n);
      if (i >= n) return false;
      if (p[i] == '"') {
        ++i;
        return true;
      }
      if (p[i] != '\\' || i + 1 >= n) return false;  // a control byte, or a backslash at the end
      const char e = p[i + 1];
      if (e == '"' || e == '\\' || e == 'n' || e == 'r' || e == 't' || e == 'b' || e == 'f') {
        i += 2;
      } else if (e == '/') {
        i += 2;
        plain = false;
      } else if (e == 'u') {
        if (i + 6 > n) return false;
        unsigned code = 0;
        bool lower = true;
        for (std::size_t k = i + 2; k < i + 6; ++k) {
          const char h = p[k];
          unsigned d;
          if (h >= '0' && h <= '9') {
            d = static_cast<unsigned>(h - '0');
          } else if (h >= 'a' && h <= 'f') {
            d = static_cast<unsigned>(h - 'a' + 10);
          } else if (h >= 'A' && h <= 'F') {
            d = static_cast<unsigned>(h - 'A' + 10);
            lower = false;
          } else {
            return false;
          }
          code = code * 16 + d;
        }
        if (code >= 0xD800 && code <= 0xDFFF) return false;  // surrogates: left to simdjson
        // json_writer's \u escapes: lower-case, below 0x20, none of the five with a short form.
        if (!lower || code >= 0x20 || code == '\b' || code == '\t' || code == '\n' || code == '\f' || code == '\r')
          plain = false;
        i += 6;
      } else {
        return false;
      }
    }
  };
  // A key, ':' and the whitespace around them, at i.
  const auto key = [&] {
    if (i >= n || p[i] != '"' || !quoted()) return false;
    ws();
    if (i >= n || p[i] != ':') return false;
    ++i;
    ws();
    return true;
  };
  while (true) {
    // A value at i.
    if (i >= n) return false;
    const char c = p[i];
    if (c == '"') {
      if (!quoted()) return false;
    } else if (c == '{' || c == '[') {
      if (depth >= lim) return false;
      open[depth++] = c;
      ++i;
      ws();
      if (i < n && p[i] == (c == '{' ? '}' : ']')) {
        ++i;
        --depth;
      } else {
        if (c == '{' && !key()) return false;
        continue;  // the first value inside
      }
    } else if (c == 't' || c == 'n' || c == 'f') {
      const std::string_view word = c == 't' ? "true" : c == 'n' ? "null" : "false";
      if (s_.substr(i, word.size()) != word) return false;
      i += word.size();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const std::size_t sign = c == '-' ? 1 : 0, digits = i + sign;
      std::size_t k = digits;
      while (k < n && p[k] >= '0' && p[k] <= '9') ++k;
      const std::size_t count = k - digits;
      if (count == 0 || count > 18 || (p[digits] == '0' && count > 1)) return false;
      if (k < n && (p[k] == '.' || p[k] == 'e' || p[k] == 'E')) return false;
      if (sign && p[digits] == '0') plain = false;  // -0
      i = k;
    } else {
      return false;
    }
    // After a value: the end of the containers it closes, then ',' and the next value (and key).
    while (true) {
      if (depth == 0) {
        // As value() ends a word: a byte that could continue it makes the text something else.
        if (i < n && !std::strchr(" \t\r\n,]}:[{\"", p[i])) return false;
        at_ = i;
        dump = plain;
        return true;
      }
      ws();
      if (i >= n) return false;
      const bool object = open[depth - 1] == '{';
      if (p[i] == (object ? '}' : ']')) {
        ++i;
        --depth;
        continue;
      }
      if (p[i] != ',') return false;
      ++i;
      ws();
      if (object && !key()) return false;
      break;
    }
  }
}

result<std::monostate> json_scan::walk_members(json_scanner& sc, const member_fn& member) {
  return members(sc, member);
}

bool json_scan::first_members(std::string_view object, std::span<const std::string_view> keys,
                              std::span<std::optional<std::string_view>> found) {
  std::size_t missing = keys.size();
  json_scanner sc(object);
  // Its own instantiation of members(), not walk_members' std::function: the rebuild walks every
  // row's composer.json with it (scanned_hints), a call through the function per member.
  auto r = members(sc, [&](std::string_view key, std::string_view value) -> result<go_on> {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!found[i] && key == keys[i]) {
        found[i] = value;
        --missing;
      }
    }
    return go_on{missing == 0};
  });
  return static_cast<bool>(r);
}

}  // namespace pb
