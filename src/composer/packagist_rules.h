// Packagist's normalisation rules that the p2 entry writer (p2_builder.cpp, p2_fields.cpp) calls out of
// its hot path: ConsoleIO::sanitize and its recursive form, Updater::filterUrl, the stability-flag rewrite of
// multi-constraints, and the members most versions lack, built as json trees (support, funding, php-ext,
// bin). Split from p2_builder.cpp along that seam; compiled at the module's size level, since these run
// only on the rare inputs the writer's fast paths decline. Internal to src/composer.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/json.h"
#include "core/json_view.h"

namespace pb::composer::detail {

using sv = std::string_view;

inline std::string ascii_lower(sv s) {  // strtolower() (locale-insensitive since PHP 8.2)
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

template <class Value>
bool is_container(const Value& v) { return v.is_array() || v.is_object(); }

// Composer\IO\ConsoleIO::sanitize($s, false), which Packagist's Updater applies to stored strings:
// removes ANSI escape sequences (CSI "ESC [ params intermediates final", OSC "ESC ] ... (ESC \ | BEL)",
// any other "ESC <char>") and the control characters 0x01-0x1A (so newlines and tabs too).
inline bool sanitize_keeps(sv s) {  // sanitize(s) == s
  bool clean = true;
  for (char ch : s) clean = clean && !(static_cast<unsigned char>(ch) >= 0x01 && static_cast<unsigned char>(ch) <= 0x1B);
  return clean;
}

std::string sanitize(sv s);

// sanitize() of a string the caller gives up: the same string when there is nothing to remove (no copy).
inline std::string sanitized(std::string s) { return sanitize_keeps(s) ? std::move(s) : sanitize(s); }

// array_walk_recursive($x, sanitizeStringLeaf): sanitizes string leaves, leaves keys alone.
void sanitize_leaves(json& v);

// Updater::filterUrl: null (nullopt) unless the scheme is allowed; "" stays "".
std::optional<std::string> filter_url(sv url, std::initializer_list<sv> allowed = {"http", "https"});

// The Updater's rewrite of stability flags inside multi-constraints (see the .cpp).
std::string rewrite_stability_flags(sv constraint);

// The members built as trees; nullopt (or an empty list for funding) when the version has none.
std::optional<json> support_of(json_view cj);
json funding_of(json_view cj);
std::optional<json> php_ext_of(json_view cj);
std::optional<json> bin_of(json_view cj);

}  // namespace pb::composer::detail
