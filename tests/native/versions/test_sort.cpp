// Packagist's p2 dump order (tests/data/versions/sort.json, expectations from PHP's usort with
// Package::sortVersions).
#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "test_data.h"
#include "versions/comparator.h"
#include "versions/sort.h"
#include "native/xorshift.h"

using namespace pb::versions;
using pb::json;

TEST_CASE("sort_versions_for_dump: Package::sortVersions cases", "[versions][sort]") {
  const json doc = test::load_data("sort.json");
  for (const json& c : test::table(doc, "cases", 10)) {
    INFO(c["name"].as_string());
    std::vector<dump_version> versions;
    for (const json& v : c["versions"].as_array()) {
      const pb::json_array& f = v.as_array();
      REQUIRE(f.size() == 5);
      dump_version d;
      d.version = f[0].as_string();
      d.version_normalized = f[1].as_string();
      if (f[2].is_string()) d.branch_alias = f[2].as_string();
      d.default_branch = f[3].as_bool();
      if (f[4].is_integer()) d.released_at = f[4].as_int();
      versions.push_back(d);
    }
    std::vector<std::string> got;
    for (std::size_t i : sort_versions_for_dump(versions)) got.emplace_back(versions[i].version);
    std::vector<std::string> expected;
    for (const json& e : c["expected"].as_array()) expected.emplace_back(e.as_string());
    CHECK(got == expected);
  }
}

TEST_CASE("compare_for_dump is the comparator itself", "[versions][sort]") {
  dump_version tag{"1.0.0", "1.0.0.0", {}, false, {}};
  dump_version newer{"2.0.0", "2.0.0.0", {}, false, {}};
  dump_version main_branch{"dev-main", "dev-main", {}, true, {}};
  dump_version feature{"dev-feature", "dev-feature", {}, false, 100};
  CHECK(compare_for_dump(newer, tag) < 0);
  CHECK(compare_for_dump(tag, newer) > 0);
  CHECK(compare_for_dump(main_branch, newer) < 0);
  CHECK(compare_for_dump(feature, tag) > 0);
  CHECK(compare_for_dump(tag, tag) == 0);
  CHECK(sort_versions_for_dump({}).empty());
}

TEST_CASE("compare_for_dump: dotted decimal versions compared by their numbers are version_compare", "[versions][sort]") {
  // The dump sort parses a plain dotted decimal version ("1.2.3.0") into numbers once; every other form
  // goes through version_compare. Pairs of every shape around that boundary, against version_compare.
  const std::vector<std::string> parts = {"0", "1", "2", "9", "10", "01", "007", "99999", "123456789012345678",
                                          "999999999999999999", "1234567890123456789", "99999999999999999999",
                                          "18446744073709551617"};
  const std::vector<std::string> tails = {"", ".", "-dev", "-beta2", "..1", "a", "-p1", ".0"};
  pb::testing::xorshift64 rng{0x9E3779B97F4A7C15ull};
  auto next = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto make = [&] {
    std::string v;
    for (std::size_t i = 0, n = 1 + next(5); i < n; ++i) v += (i ? "." : "") + parts[next(parts.size())];
    if (next(4) == 0) v += tails[next(tails.size())];
    return v;
  };
  for (int round = 0; round < 20000; ++round) {
    const std::string a = make(), b = round % 7 == 0 ? make().substr(0, 3) : make();
    if (a == b) continue;
    INFO(a << " vs " << b);
    const dump_version da{a, a, {}, false, {}}, db{b, b, {}, false, {}};
    CHECK(compare_for_dump(da, db) == version_compare(b, a));
  }
}
