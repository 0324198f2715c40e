// Comparisons for the Composer-metadata targets: version objects as Composer sees them after a trip
// through MetadataMinifier and PHP's json_encode.
#pragma once

#include <cmath>

#include "composer/minifier.h"
#include "core/json.h"

namespace pb::fuzz {

// php_identical, except that an integral float equals the integer of the same value: PHP's json_encode
// writes 1.0 as 1 (no JSON_PRESERVE_ZERO_FRACTION), so a float can come back as an int.
inline bool php_equal_encoded(const json& a, const json& b) {
  if (a.is_number() && b.is_number() && a.type() != b.type()) {
    const double x = a.as_double(), y = b.as_double();
    return x == y && std::trunc(x) == x;
  }
  const bool a_container = a.is_array() || a.is_object();
  const bool b_container = b.is_array() || b.is_object();
  if (!a_container || !b_container) return composer::php_identical(a, b);
  if (a.size() != b.size()) return false;
  const bool both_lists = a.is_array() && b.is_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string ka = a.is_object() ? a.as_object()[i].first : std::to_string(i);
    const std::string kb = b.is_object() ? b.as_object()[i].first : std::to_string(i);
    if (!both_lists && ka != kb) return false;
    const json& va = a.is_object() ? a.as_object()[i].second : a.as_array()[i];
    const json& vb = b.is_object() ? b.as_object()[i].second : b.as_array()[i];
    if (!php_equal_encoded(va, vb)) return false;
  }
  return true;
}

// A version object as Composer reads it back from minified metadata: the top-level keys whose value is
// null or the string "__unset" are gone (MetadataMinifier cannot carry them past the first version).
inline json_object composer_view(const json& version) {
  json_object out;
  for (const auto& [k, v] : version.as_object()) {
    if (v.is_null() || (v.is_string() && v.as_string() == "__unset")) continue;
    out.emplace_back(k, v);
  }
  return out;
}

// Same top-level keys (in any order: expand appends new keys where the original had them elsewhere),
// each value equal by `eq`.
template <class Eq>
bool same_members(const json_object& a, const json_object& b, Eq eq) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    const json* other = nullptr;
    for (const auto& [k2, v2] : b)
      if (k2 == k) other = &v2;
    if (!other || !eq(v, *other)) return false;
  }
  return true;
}

}  // namespace pb::fuzz
