// The order in which Packagist lists a package's versions in its p2 documents. Port of
// App\Entity\Package::sortVersions (composer/packagist src/Entity/Package.php), which
// App\Package\V2Dumper::dumpPackageToV2File applies with usort() before splitting the list into tags
// (<name>.json) and dev branches (<name>~dev.json), each keeping this order. Not Semver::rsort: Packagist
// never calls it. Pure; the caller supplies the fields the PHP comparator reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pb::versions {

struct dump_version {
  std::string_view version;             // pretty version; carried for callers, not used for ordering
  std::string_view version_normalized;  // Version::getNormalizedVersion()
  // extra["branch-alias"][version_normalized] when that key exists (e.g. "2.x-dev" for dev-master).
  std::optional<std::string_view> branch_alias;
  bool default_branch = false;             // Version::isDefaultBranch()
  std::optional<std::int64_t> released_at;  // Version::getReleasedAt() in any fixed unit; nullopt = null
};

// Package::sortVersions($a, $b): negative when a is listed first. Newest first by version_compare on
// the normalized version (a branch alias "2.x-dev" sorts as "2.9999999-dev", any other "dev-*" as
// "0.0.0-alpha"), except that a non-numeric default branch always comes first; equal sort versions
// order by release date (newest first, no date last), then by normalized version with PHP's <=>.
[[nodiscard]] int compare_for_dump(const dump_version& a, const dump_version& b);

// usort($versions, Package::sortVersions(...)) as PHP 8 runs it: returns the input indices in dump
// order. PHP's sort is stable (ties keep input order) and is zend_sort step for step, so the result is
// PHP's even where the comparator is inconsistent (e.g. "1.0.0.0" and "01.0.0.0" are equal to
// version_compare but not to the tie-breaks, or two non-numeric default branches both claim first).
[[nodiscard]] std::vector<std::size_t> sort_versions_for_dump(std::span<const dump_version> versions);

}  // namespace pb::versions
