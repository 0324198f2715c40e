// minifier: the port of Composer\MetadataMinifier\MetadataMinifier against PHP's own output for named
// cases (tests/data/composer/minifier_cases.json, made by make_minifier_cases.php), plus exact key
// order and php_identical; basic_minifier's hinted searches against the first-match loop. The large
// randomized comparison is tests/composer/differential.php.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "composer/minifier.h"
#include "core/json.h"
#include "native/json_fixture.h"
#include "native/xorshift.h"

using namespace pb;
using namespace pb::composer;
using pb::testing::parse;

namespace {


json load_cases() {
  std::ifstream in(std::string(PB_TEST_DATA_DIR) + "/composer/minifier_cases.json", std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str());
}

}  // namespace

TEST_CASE("minify and expand agree with MetadataMinifier on the named cases", "[minifier]") {
  const json cases = load_cases();
  REQUIRE(cases.size() >= 10);
  for (const json& c : cases.as_array()) {
    INFO(c["name"].as_string());
    const json input = parse(c["input"].as_string());
    const json minified = minify(input.as_array());
    INFO("ours: " << minified.dump() << "\nphp:  " << c["minified"].dump());
    CHECK(php_identical(minified, c["minified"]));
    CHECK(php_identical(expand(c["minified"].as_array()), c["expanded"]));
    CHECK(php_identical(expand(minified.as_array()), c["expanded"]));
    CHECK(php_identical(expand(minified.as_array()), input) == c["round_trip_is_exact"].as_bool());
  }
}

TEST_CASE("minify keeps PHP's key order: changed keys in place, new ones appended, unsets last", "[minifier]") {
  const json in = parse(R"([
    {"name":"a/b","version":"2.0","require":{"x/y":"^1"},"extra":{"k":1}},
    {"name":"a/b","version":"1.0","homepage":"h","extra":{"k":1}},
    {"name":"a/b","version":"0.9","require":{"x/y":"^1"},"homepage":"h","extra":{"k":1}}
  ])");
  const json out = minify(in.as_array());
  CHECK(out.dump() ==
        R"([{"name":"a/b","version":"2.0","require":{"x/y":"^1"},"extra":{"k":1}},)"
        R"({"version":"1.0","homepage":"h","require":"__unset"},)"
        R"({"version":"0.9","require":{"x/y":"^1"}}])");
  // expand appends "require" after "homepage" in the running state: PHP's order, not the input's
  CHECK(expand(out.as_array()).as_array()[2].dump() ==
        R"({"name":"a/b","version":"0.9","extra":{"k":1},"homepage":"h","require":{"x/y":"^1"}})");
}

TEST_CASE("a null value becomes __unset in place", "[minifier]") {
  const json out = minify(parse(R"([{"a":1},{"a":1,"b":null,"c":2}])").as_array());
  CHECK(out.dump() == R"([{"a":1},{"b":"__unset","c":2}])");
}

TEST_CASE("expand treats only the string __unset as a removal", "[minifier]") {
  const json out = expand(parse(R"([{"a":1,"b":2},{"a":"__unset","b":null,"c":["__unset"]}])").as_array());
  CHECK(out.dump() == R"([{"a":1,"b":2},{"b":null,"c":["__unset"]}])");
  CHECK(expand({}).dump() == "[]");
  CHECK(minify({}).dump() == "[]");
}

TEST_CASE("php_identical is === on json_decode(..., true) values", "[minifier]") {
  CHECK(php_identical(parse("1"), parse("1")));
  CHECK_FALSE(php_identical(parse("1"), parse("1.0")));
  CHECK(php_identical(parse("1.0"), parse("1.0")));
  CHECK(php_identical(parse("-0.0"), parse("0.0")));
  CHECK_FALSE(php_identical(parse("\"1\""), parse("1")));
  CHECK_FALSE(php_identical(parse("true"), parse("1")));
  CHECK(php_identical(parse("null"), parse("null")));
  CHECK_FALSE(php_identical(parse("null"), parse("false")));
  CHECK(php_identical(parse("{}"), parse("[]")));
  CHECK(php_identical(parse(R"({"0":"a","1":"b"})"), parse(R"(["a","b"])")));
  CHECK_FALSE(php_identical(parse(R"({"1":"a","0":"b"})"), parse(R"(["b","a"])")));
  CHECK_FALSE(php_identical(parse(R"({"01":"a"})"), parse(R"(["a"])")));
  CHECK_FALSE(php_identical(parse(R"({"a":1,"b":2})"), parse(R"({"b":2,"a":1})")));
  CHECK(php_identical(parse(R"({"a":[1,{"b":"é/"}]})"), parse(R"({"a":[1,{"b":"\u00e9\/"}]})")));
  CHECK_FALSE(php_identical(parse(R"([1,2])"), parse(R"([1,2,3])")));
  CHECK_FALSE(php_identical(parse(R"([])"), parse(R"("")")));
}

namespace {

// basic_minifier's loop as it was before its searches started at the last key found: every search from
// the start of the list, so the first member of a key is the one found (lists may hold a key twice:
// a version with duplicate keys is written whole). Values are ints, 0 standing for null.
using owned_list = member_list<int, std::string>;
using diff_list = std::vector<std::pair<std::string, std::optional<int>>>;

struct reference_minifier {
  owned_list known;
  bool truthy = false;

  static void assign(diff_list& d, const std::string& key, std::optional<int> v) {
    for (auto& kv : d)
      if (kv.first == key) return void(kv.second = v);
    d.emplace_back(key, v);
  }
  std::pair<bool, diff_list> next(const owned_list& current, bool current_truthy) {
    if (!truthy) {
      known = current;
      truthy = current_truthy;
      return {true, {}};
    }
    diff_list d;
    for (const auto& member : current) {
      const std::string& key = member.first;
      const int val = member.second;
      auto it = std::find_if(known.begin(), known.end(), [&](const auto& kv) { return kv.first == key; });
      if (it == known.end()) {
        d.emplace_back(key, val);
        known.emplace_back(key, val);
      } else if (it->second == 0 || it->second != val) {
        assign(d, key, val);
        it->second = val;
      }
    }
    for (auto it = known.begin(); it != known.end();) {
      auto now = std::find_if(current.begin(), current.end(), [&](const auto& kv) { return kv.first == it->first; });
      if (now == current.end() || now->second == 0) {
        assign(d, it->first, std::nullopt);
        it = known.erase(it);
      } else {
        ++it;
      }
    }
    truthy = !known.empty();
    return {false, d};
  }
};

template <class Step>
diff_list diff_of(const Step& step) {
  diff_list d;
  for (const auto& [key, v] : step.diff) d.emplace_back(std::string(key), v ? std::optional<int>(*v) : std::nullopt);
  return d;
}

}  // namespace

TEST_CASE("basic_minifier's searches from the last key found give the first-match loop's diffs", "[minifier]") {
  // Random version lists over six keys (reordered, dropped, added, null, repeated within a version with
  // the same value or another) and empty versions (the next one is written whole), through both forms of the minifier (owning keys, and views with a trivially
  // copyable value), step by step against the reference loop.
  pb::testing::xorshift64 next{0x6A09E667F3BCC908ULL};
  const auto identical = [](int a, int b) { return a == b; };
  const auto is_null = [](int v) { return v == 0; };
  int mismatches = 0, steps = 0, with_duplicates = 0;
  for (int list = 0; list < 400; ++list) {
    std::vector<owned_list> versions;  // kept alive: the view form points into the last two
    owned_list base;
    for (int k = 0; k < 6; ++k) base.emplace_back(std::string(1, static_cast<char>('a' + k)), 1 + static_cast<int>(next() % 3));
    for (int v = 0; v < 30; ++v) {
      owned_list version = base;
      const unsigned shape = static_cast<unsigned>(next() % 10);
      if (shape == 0) version.clear();                                              // empty
      if (shape == 1) std::swap(version[next() % version.size()], version[next() % version.size()]);
      if (shape == 2) version.erase(version.begin() + static_cast<long>(next() % version.size()));
      // A key twice, with the same value or another (null too), last, first or next to the other.
      const auto again = [&] { return std::pair(version[next() % version.size()].first, static_cast<int>(next() % 4)); };
      if (shape == 3) version.push_back(again());
      if (shape == 4) version.insert(version.begin(), again());
      if (shape == 8) {
        const std::size_t at = next() % version.size();
        version.insert(version.begin() + static_cast<long>(at) + 1, std::pair(version[at].first, static_cast<int>(next() % 4)));
      }
      if (shape == 5) version[next() % version.size()].second = static_cast<int>(next() % 4);  // maybe null
      if (shape == 6) version.emplace_back("g", static_cast<int>(next() % 3));
      if (shape == 7) base[next() % base.size()].second = 1 + static_cast<int>(next() % 3);
      versions.push_back(std::move(version));
    }
    reference_minifier reference;
    basic_minifier<int, decltype(identical), decltype(is_null)> owning(identical, is_null);
    basic_minifier<int, decltype(identical), decltype(is_null), std::string_view> viewing(identical, is_null);
    for (const owned_list& version : versions) {
      member_list<int, std::string_view> view;
      for (const auto& [k, val] : version) view.emplace_back(k, val);
      for (std::size_t a = 0; a < version.size(); ++a)
        for (std::size_t b = a + 1; b < version.size(); ++b) with_duplicates += version[a].first == version[b].first;
      const auto expected = reference.next(version, !version.empty());
      const auto& o = owning.next(version, !version.empty());
      const auto& w = viewing.next(view, !view.empty());
      if (o.whole != expected.first || diff_of(o) != expected.second) ++mismatches;
      if (w.whole != expected.first || diff_of(w) != expected.second) ++mismatches;
      ++steps;
    }
  }
  CHECK(mismatches == 0);
  CHECK(steps == 400 * 30);
  CHECK(with_duplicates > 1000);  // the lists do hold keys twice
}
