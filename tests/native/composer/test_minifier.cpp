// minifier: the port of Composer\MetadataMinifier\MetadataMinifier against PHP's own output for named
// cases (tests/data/composer/minifier_cases.json, made by make_minifier_cases.php), plus exact key
// order and php_identical. The large randomized comparison is tests/composer/differential.php.
#include <catch2/catch_test_macros.hpp>

#include <fstream>
#include <sstream>

#include "composer/minifier.h"
#include "core/json.h"
#include "native/json_fixture.h"

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
