#include "composer/minifier.h"

#include <string>
#include <utility>

namespace pb::composer {

namespace {

// A version as PHP sees it: an ordered key => value map. Objects are taken as they are, JSON arrays
// become lists with keys "0".."n-1", anything else iterates as empty (PHP would warn in foreach).
json_object as_php_array(const json& v) {
  if (v.is_object()) return v.as_object();
  json_object o;
  if (v.is_array()) {
    const auto& a = v.as_array();
    o.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) o.emplace_back(std::to_string(i), a[i]);
  }
  return o;
}


// The key of element i of a JSON array or object seen as a PHP array.
std::string key_at(const json& v, std::size_t i) {
  return v.is_object() ? v.as_object()[i].first : std::to_string(i);
}

const json& value_at(const json& v, std::size_t i) {
  return v.is_object() ? v.as_object()[i].second : v.as_array()[i];
}

}  // namespace

bool php_identical(const json& a, const json& b) {
  const bool a_container = a.is_array() || a.is_object();
  const bool b_container = b.is_array() || b.is_object();
  if (a_container || b_container) {
    if (!a_container || !b_container) return false;
    if (a.size() != b.size()) return false;
    const bool both_lists = a.is_array() && b.is_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!both_lists && key_at(a, i) != key_at(b, i)) return false;
      if (!php_identical(value_at(a, i), value_at(b, i))) return false;
    }
    return true;
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::kind::null: return true;
    case json::kind::boolean: return a.as_bool() == b.as_bool();
    case json::kind::integer: return a.as_int() == b.as_int();
    case json::kind::number: return a.as_double() == b.as_double();
    case json::kind::string: return a.as_string() == b.as_string();
    default: return false;
  }
}

json minify(const json_array& versions) {
  json_array out;
  out.reserve(versions.size());
  basic_minifier<json, bool (*)(const json&, const json&), bool (*)(const json&)> m(
      php_identical, [](const json& v) { return v.is_null(); });
  json_object scratch;
  for (const json& version : versions) {
    // A scalar version would be the state as is in PHP; the next foreach over it would iterate
    // nothing, so an empty map is the same state.
    const json_object* current = &version.as_object();
    if (!version.is_object()) {
      scratch = as_php_array(version);
      current = &scratch;
    }
    const auto& step = m.next(*current, php_truthy(version));
    if (step.whole) {
      out.push_back(version);
      continue;
    }
    json_object minified;
    minified.reserve(step.diff.size());
    for (const auto& [key, val] : step.diff) minified.emplace_back(key, val ? *val : json("__unset"));
    out.emplace_back(std::move(minified));
  }
  return json(std::move(out));
}

const json& expander::next(json data) {
  if (!php_truthy(expanded_)) {
    expanded_ = std::move(data);
    return expanded_;
  }
  // add any changes from the previous version to the expanded one
  if (!expanded_.is_object()) expanded_ = json(as_php_array(expanded_));
  json_object& state = expanded_.as_object();
  json_object members = data.is_object() ? std::move(data.as_object()) : as_php_array(data);
  expand_members(state, members, [](const json& v) { return v.is_string() && v.as_string() == "__unset"; });
  return expanded_;
}

json expand(const json_array& minified) {
  json_array out;
  out.reserve(minified.size());
  expander e;
  for (const json& data : minified) out.push_back(e.next(data));
  return json(std::move(out));
}

}  // namespace pb::composer
