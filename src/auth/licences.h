// Licences: per-package (or per-pattern) version constraints and an update-expiry date on a token. A
// version of a package that some licence's pattern matches is visible only if one of those licences
// allows it: its normalized version satisfies the constraint (composer/semver rules, parsed once when
// the token is loaded) and it was released on or before `updates_until`. Packages no licence matches
// are governed by the token's scope alone. Pure: no effects.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace pb::versions {
class constraint;
}

namespace pb::auth {

struct licence {
  std::string packages;             // a package pattern ("acme/*")
  std::string constraint;           // as given ("^2.0")
  std::int64_t updates_until = 0;   // unix ms, inclusive; 0 = no expiry
  std::shared_ptr<const versions::constraint> parsed;
};

// Validates and parses one licence; the error names the bad part.
result<licence> make_licence(std::string packages, std::string constraint, std::int64_t updates_until);

// The stored form (tokens.licences) and the admin API's form: {"packages","constraint","updates_until"}.
json licences_to_json(const std::vector<licence>& ls, bool iso_times);
// Reads the stored form; entries that no longer parse are kept as "matches nothing" (fail closed).
std::vector<licence> licences_from_json(const json& stored);

// Whether some licence names this package.
bool restricted(const std::vector<licence>& ls, std::string_view package);
// Whether a version is visible; release_ms 0 = unknown (hidden when a matching licence has an expiry).
bool version_visible(const std::vector<licence>& ls, std::string_view package, std::string_view version_normalized,
                     std::int64_t release_ms);

// A key that differs for every distinct licence set (for caching filtered documents).
std::string licence_key(const std::vector<licence>& ls);
// Whether two licence sets have the same key (the same licences in the same order), without building it.
bool same_licences(const std::vector<licence>& a, const std::vector<licence>& b);

// A p2 document (minified composer/2.0) with only the versions the licences let this package show:
// expanded, filtered by constraint and `time`, minified again. Documents of packages no licence names
// come back unchanged.
result<std::string> filter_document(std::string_view body, std::string_view package, const std::vector<licence>& ls);

}  // namespace pb::auth
