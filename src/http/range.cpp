#include "http/range.h"

#include <algorithm>

namespace pb::http {

namespace {
// At most 18 digits, so the value stays below 2^63 without overflow checks.
bool parse_number(std::string_view s, std::int64_t& v) {
  if (s.empty() || s.size() > 18) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return true;
}
}  // namespace

range_kind parse_range(std::string_view header, std::int64_t size, byte_range& out) {
  if (header.substr(0, 6) != "bytes=") return range_kind::none;
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return range_kind::none;
  std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return range_kind::none;
  std::int64_t a = 0, b = 0;
  std::string_view left = spec.substr(0, dash), right = spec.substr(dash + 1);
  if (left.empty()) {  // suffix: last b bytes
    if (!parse_number(right, b)) return range_kind::none;
    if (b == 0 || size == 0) return range_kind::unsatisfiable;
    out = {size - std::min(b, size), size - 1};
    return range_kind::ok;
  }
  if (!parse_number(left, a)) return range_kind::none;
  if (right.empty()) {
    b = size - 1;
  } else if (!parse_number(right, b) || b < a) {
    return range_kind::none;
  }
  if (a >= size) return range_kind::unsatisfiable;
  out = {a, std::min(b, size - 1)};
  return range_kind::ok;
}

}  // namespace pb::http
