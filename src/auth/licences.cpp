#include "auth/licences.h"

#include <algorithm>

#include "auth/credentials.h"
#include "composer/minifier.h"
#include "composer/p2_builder.h"
#include "core/http_date.h"
#include "core/sha256.h"
#include "versions/constraint.h"

namespace pb::auth {

result<licence> make_licence(std::string packages, std::string constraint, std::int64_t updates_until) {
  if (!valid_pattern(packages))
    return make_error(error_code::bad_request, "\"packages\" must be a package pattern (vendor/name, vendor/*), got \"" +
                                                   packages + "\"");
  if (constraint.empty() || constraint.size() > 200)
    return make_error(error_code::bad_request, "\"constraint\" must be a version constraint of 1 to 200 characters");
  auto parsed = versions::parse_constraints(constraint);
  if (!parsed) return make_error(error_code::bad_request, "\"constraint\": " + parsed.err().message);
  licence l;
  l.packages = std::move(packages);
  l.constraint = std::move(constraint);
  l.updates_until = updates_until;
  l.parsed = std::make_shared<const versions::constraint>(std::move(*parsed));
  return l;
}

json licences_to_json(const std::vector<licence>& ls, bool iso_times) {
  json out = json::array();
  for (const auto& l : ls) {
    json o = json::object();
    o.set("packages", json(l.packages));
    o.set("constraint", json(l.constraint));
    if (!l.updates_until) o.set("updates_until", json());
    else o.set("updates_until", iso_times ? json(format_iso8601_utc(l.updates_until)) : json(l.updates_until));
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<licence> licences_from_json(const json& stored) {
  std::vector<licence> out;
  for (const auto& e : stored.as_array()) {
    auto l = make_licence(std::string(e["packages"].as_string()), std::string(e["constraint"].as_string()),
                          e["updates_until"].as_int());
    if (l) {
      out.push_back(std::move(*l));
    } else {
      licence closed;  // parsed stays null: matches no version
      closed.packages = std::string(e["packages"].as_string("*"));
      closed.constraint = std::string(e["constraint"].as_string());
      out.push_back(std::move(closed));
    }
  }
  return out;
}

bool restricted(const std::vector<licence>& ls, std::string_view package) {
  for (const auto& l : ls)
    if (name_matches(package, l.packages)) return true;
  return false;
}

bool version_visible(const std::vector<licence>& ls, std::string_view package, std::string_view version_normalized,
                     std::int64_t release_ms) {
  bool named = false;
  for (const auto& l : ls) {
    if (!name_matches(package, l.packages)) continue;
    named = true;
    if (!l.parsed) continue;
    if (l.updates_until && (release_ms == 0 || release_ms > l.updates_until)) continue;
    if (l.parsed->matches_version(version_normalized)) return true;
  }
  return !named;
}

std::string licence_key(const std::vector<licence>& ls) {
  if (ls.empty()) return {};
  return sha256_hex(licences_to_json(ls, false).dump()).substr(0, 16);
}

bool same_licences(const std::vector<licence>& a, const std::vector<licence>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const licence& x, const licence& y) {
    return x.packages == y.packages && x.constraint == y.constraint && x.updates_until == y.updates_until;
  });
}

result<std::string> filter_document(std::string_view body, std::string_view package, const std::vector<licence>& ls) {
  if (!restricted(ls, package)) return std::string(body);
  auto doc = parse_json(body);
  if (!doc) return std::move(doc).err();
  json* packages = doc->find("packages");
  if (!packages || !packages->is_object()) return std::string(body);
  for (auto& [name, list] : packages->as_object()) {
    if (!list.is_array()) continue;
    json expanded = composer::expand(list.as_array());
    json_array kept;
    for (const auto& v : expanded.as_array()) {
      std::int64_t released = parse_iso8601(v["time"].as_string()).value_or(0);
      if (version_visible(ls, name, v["version_normalized"].as_string(), released)) kept.push_back(v);
    }
    list = composer::minify(kept);
  }
  return composer::packagist_json_encode(*doc);
}

}  // namespace pb::auth
