// Version strings as Composer reads them: normalize, normalize_branch, parse_stability and friends.
// Port of Composer\Semver\VersionParser, composer/semver 3.3.2 (Debian's /usr/share/php/Composer/Semver),
// minus constraint parsing; comparison is in comparator.h, the p2 dump order in sort.h. No <regex>: each
// PCRE pattern is matched by hand, trying alternatives in PCRE's backtracking order, so odd inputs
// behave as in PHP. (3.4 differs: a second trailing date group, normalizeStability() validates.)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace pb::versions {

// VersionParser::normalize($version): "1.0" -> "1.0.0.0", "v2.1-beta.3" -> "2.1.0.0-beta3",
// "1.x-dev" -> "1.9999999.9999999.9999999-dev", "master" -> "dev-master", "dev-Foo" -> "dev-Foo".
// Invalid input gives error_code::bad_request with PHP's exact message, e.g.
// `Invalid version string "foo"` (plus PHP's ` in "<full>", the alias ...` hint when it applies).
// This overload is PHP's `$fullVersion = null` (the trimmed input is used as the full version).
[[nodiscard]] result<std::string> normalize(std::string_view version);
// VersionParser::normalize($version, $fullVersion): full_version only changes the error message; it
// is used as given (an empty string is PHP's '', not null).
[[nodiscard]] result<std::string> normalize(std::string_view version, std::string_view full_version);

// VersionParser::normalizeBranch($name): "2.1" / "v2.1.x" / "2.*" -> "2.1.9999999.9999999-dev";
// anything else -> "dev-" + trimmed name.
[[nodiscard]] std::string normalize_branch(std::string_view name);

// VersionParser::normalizeDefaultBranch($name): "dev-master"/"dev-default"/"dev-trunk" ->
// "9999999-dev", anything else unchanged (deprecated upstream; Semver::sort still uses it).
[[nodiscard]] std::string normalize_default_branch(std::string_view name);

// VersionParser::parseStability($version): one of "stable", "RC", "beta", "alpha", "dev" (static
// strings). Accepts pretty or normalized versions, "#ref" suffixes and "+build" metadata.
[[nodiscard]] std::string_view parse_stability(std::string_view version);

// VersionParser::normalizeStability($stability): lower-cases, then "rc" -> "RC" (no validation in
// 3.3.2: unknown words come back lower-cased).
[[nodiscard]] std::string normalize_stability(std::string_view stability);

// VersionParser::parseNumericAliasPrefix($branch): "1.2.x-dev" / "1.2-dev" -> "1.2."; nullopt where
// PHP returns false.
[[nodiscard]] std::optional<std::string> parse_numeric_alias_prefix(std::string_view branch);

}  // namespace pb::versions
