// VersionParser port: composer/semver's own VersionParserTest tables (tests/data/versions/
// version_parser.json), then the PCRE corners the port has to reproduce.
#include <catch2/catch_test_macros.hpp>

#include "test_data.h"
#include "versions/version_parser.h"

using namespace pb::versions;
using pb::json;

TEST_CASE("normalize: VersionParserTest::successfulNormalizedVersions", "[versions][normalize]") {
  const json doc = test::load_data("version_parser.json");
  for (const json& c : test::table(doc, "successfulNormalizedVersions", 63)) {
    INFO(c["name"].as_string() << ": \"" << c["input"].as_string() << '"');
    auto r = normalize(c["input"].as_string());
    REQUIRE(r.ok());
    CHECK(*r == c["expected"].as_string());
  }
}

TEST_CASE("normalize: VersionParserTest::failingNormalizedVersions", "[versions][normalize]") {
  const json doc = test::load_data("version_parser.json");
  for (const json& c : test::table(doc, "failingNormalizedVersions", 20)) {
    INFO(c["name"].as_string() << ": \"" << c["input"].as_string() << '"');
    auto r = normalize(c["input"].as_string());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == pb::error_code::bad_request);
    CHECK(r.err().http_status() == 400);
    CHECK(r.err().message == c["message"].as_string());
  }
}

TEST_CASE("normalize: VersionParserTest bad alias and bad aliasee messages", "[versions][normalize]") {
  const json doc = test::load_data("version_parser.json");
  for (const json& c : test::table(doc, "failingNormalizedVersionsWithBadAlias", 5)) {
    INFO(c["name"].as_string() << ": \"" << c["full"].as_string() << '"');
    CHECK(normalize(c["source"].as_string(), c["full"].as_string()).ok());
    auto r = normalize(c["alias"].as_string(), c["full"].as_string());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message == c["message"].as_string());
  }
  for (const json& c : test::table(doc, "failingNormalizedVersionsWithBadAliasee", 5)) {
    INFO(c["name"].as_string() << ": \"" << c["full"].as_string() << '"');
    auto r = normalize(c["source"].as_string(), c["full"].as_string());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message == c["message"].as_string());
    CHECK(normalize(c["alias"].as_string(), c["full"].as_string()).ok());
  }
}

TEST_CASE("normalize_branch: VersionParserTest::successfulNormalizedBranches", "[versions][normalize_branch]") {
  const json doc = test::load_data("version_parser.json");
  for (const json& c : test::table(doc, "successfulNormalizedBranches", 13)) {
    INFO(c["name"].as_string() << ": \"" << c["input"].as_string() << '"');
    CHECK(normalize_branch(c["input"].as_string()) == c["expected"].as_string());
  }
}

TEST_CASE("parse_numeric_alias_prefix: VersionParserTest::numericAliasVersions", "[versions]") {
  const json doc = test::load_data("version_parser.json");
  for (const json& c : test::table(doc, "numericAliasVersions", 8)) {
    INFO(c["input"].as_string());
    const auto prefix = parse_numeric_alias_prefix(c["input"].as_string());
    if (c["expected"].is_bool()) {
      CHECK_FALSE(prefix.has_value());
    } else {
      REQUIRE(prefix.has_value());
      CHECK(*prefix == c["expected"].as_string());
    }
  }
}

TEST_CASE("parse_stability: VersionParserTest::stabilityProvider", "[versions][stability]") {
  const json doc = test::load_data("version_parser.json");
  for (const json& c : test::table(doc, "stabilityProvider", 22)) {
    INFO(c["input"].as_string());
    CHECK(parse_stability(c["input"].as_string()) == c["expected"].as_string());
  }
}

// Expected values below were checked against composer/semver 3.3.2 under PHP 8.2.
TEST_CASE("normalize follows PCRE where it is surprising", "[versions][normalize]") {
  // `$` also matches before a final newline, so a stripped "@dev" can leave one behind harmlessly
  CHECK(*normalize("1.0\n@dev") == "1.0.0.0");
  CHECK(*normalize("1.0+foo\n@dev") == "1.0.0.0");
  // `.` stops at a newline: the dev-branch pattern starts after it
  CHECK(*normalize("foo\n1.0-dev") == "1.0.9999999.9999999-dev");
  // 'stable' is compared case-sensitively after a case-insensitive match
  CHECK(*normalize("1.0.0-stable-dev") == "1.0.0.0");
  CHECK(*normalize("1.0.0-STABLE") == "1.0.0.0-stable");
  CHECK(*normalize("1.0-.dev") == "1.0.0.0-dev");
  CHECK(*normalize("2010-01-02-beta-dev") == "2010.01.02-beta-dev");
  CHECK(*normalize("20100102203040123") == "20100102203040123");
  CHECK(*normalize(" 1.0 as 2.0 ") == "1.0.0.0");
}

TEST_CASE("normalize: the full version only changes the message, and '' is not null", "[versions][normalize]") {
  CHECK(normalize("foo", "foo@dev  as 1.0").err().message ==
        "Invalid version string \"foo\" in \"foo@dev  as 1.0\", the alias source must be an exact version, if "
        "it is a branch name you should prefix it with dev-");
  CHECK(normalize("foo", "").err().message == "Invalid version string \"foo\"");
  CHECK(normalize("foo as 1.0").err().message ==
        "Invalid version string \"foo as 1.0\" in \"foo as 1.0\", the alias source must be an exact version, if "
        "it is a branch name you should prefix it with dev-");
  CHECK(normalize("").err().message == "Invalid version string \"\"");
}

TEST_CASE("parse_stability ignores #refs and reads the last modifier", "[versions][stability]") {
  CHECK(parse_stability("1.0.0-beta#x\n") == "beta");
  CHECK(parse_stability("1.0-ALPHA") == "alpha");
  CHECK(parse_stability("1.0.0-alpha.beta") == "beta");
  CHECK(parse_stability("dev-master#abc") == "dev");
  CHECK(parse_stability("1.0.0.0-RC1") == "RC");
}

TEST_CASE("normalize_default_branch and normalize_stability", "[versions]") {
  CHECK(normalize_default_branch("dev-master") == "9999999-dev");
  CHECK(normalize_default_branch("dev-trunk") == "9999999-dev");
  CHECK(normalize_default_branch("dev-main") == "dev-main");
  CHECK(normalize_stability("rc") == "RC");
  CHECK(normalize_stability("BETA") == "beta");
  CHECK(normalize_stability("no-rc") == "no-rc");
}
