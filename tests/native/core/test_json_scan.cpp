// core/json_scan.h: the structural scanner's string skipping (eight bytes at a time) against the
// byte-at-a-time rule it replaced, with quotes and backslashes at every offset of a word; the one-pass
// check and walk (checked_members) against simdjson and the slow walk.
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/json_scan.h"

using namespace pb;

namespace {

// The end (one past the closing quote) of the string opening at 0, byte by byte; npos: unterminated.
std::size_t reference_end(const std::string& s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string::npos;
}

}  // namespace

TEST_CASE("json_scanner: strings end where the byte-at-a-time rule says, at every offset", "[json][native]") {
  const std::string fillers[] = {"a", "\xC3\xA9", "\x80", "\xFF", "\\\\", "\\\"", " "};
  int checked = 0;
  for (std::size_t before = 0; before < 20; ++before)
    for (const std::string& f : fillers)
      for (std::size_t after = 0; after < 12; ++after)
        for (const char* tail : {"\"", "\\\"\"", "", "\\", "\"x\"", "\\\\\""}) {
          std::string s = "\"" + std::string(before, 'b') + f + std::string(after, 'c') + tail;
          json_scanner sc(s);
          const auto v = sc.value();
          const std::size_t end = reference_end(s);
          if (end == std::string::npos) {
            CHECK_FALSE(v.has_value());
          } else {
            REQUIRE(v.has_value());
            CHECK(v->size() == end);
          }
          ++checked;
        }
  CHECK(checked == 20 * 7 * 12 * 6);
}

TEST_CASE("json_scanner: containers, nesting and the depth limit", "[json][native]") {
  {
    json_scanner sc(R"({"a":["x\"]",{"b":"}"}],"c":1} tail)");
    auto v = sc.value();
    REQUIRE(v);
    CHECK(*v == R"({"a":["x\"]",{"b":"}"}],"c":1})");
  }
  for (const char* broken : {R"({"a":[1})", R"([1,2)", R"({"a":"x)", R"(["a\"])"}) {
    json_scanner sc(broken);
    CHECK_FALSE(sc.value().has_value());
  }
  std::string deep(1024, '[');
  deep += std::string(1024, ']');
  json_scanner ok(deep);
  CHECK(ok.value().has_value());
  std::string deeper(1025, '[');
  deeper += std::string(1025, ']');
  json_scanner too(deeper);
  CHECK_FALSE(too.value().has_value());
  CHECK(too.failure("x").find("too deep") != std::string::npos);
}

namespace {

using member_pairs = std::vector<std::pair<std::string, std::string_view>>;

json_scan::member_fn into(member_pairs& out) {
  return [&out](std::string_view k, std::string_view v) -> result<json_scan::go_on> {
    out.emplace_back(k, v);
    return json_scan::go_on{};
  };
}

}  // namespace

// checked_members is the p2 reader's one pass over a version entry (simdjson's check, the extent and the
// members in one walk). It may leave a valid text to the slow way, never take an invalid one.
TEST_CASE("checked_members: what it takes is valid JSON, with the slow way's members and extent", "[json][native]") {
  const std::string taken[] = {
      R"({})",
      R"( { } tail)",
      R"({"version":"1.0.0","version_normalized":"1.0.0.0","dist":{"type":"zip","url":"https://h/a.zip","shasum":""}})",
      R"({"a":[],"b":{},"c":[1,-2,0,-0,0.5,-10.25e-3,1E+2,3e07,123456789012345678,-999999999999999999],"d":[true,false,null]})",
      "{ \"a\" :\t[ 1 , { \"b\" : null } ]\r\n, \"c\":\"x\" }",
      R"({"e":"\" \\ \/ \b \f \n \r \t \u00e9 \u0000 \uFFFF \u001b[31m","\u0076ersion":"dup","version":"1"})",
      R"({"k":"caf)" "\xC3\xA9" R"( \u2028 )" "\xE2\x80\xA8" R"(","":"empty key","x":{"x":{"x":[[[["deep"]]]]}}})",
      R"({"a":"__unset","a":1})",
  };
  for (const std::string& text : taken) {
    INFO(text);
    member_pairs fast, slow;
    json_scanner sc(text);
    REQUIRE(json_scan::checked_members(sc, into(fast)));
    json_scanner extent(text);
    auto object = extent.value();
    REQUIRE(object);
    CHECK(sc.offset() == extent.offset());
    CHECK(check_json(*object).ok());
    json_scanner walk(*object);
    REQUIRE(json_scan::walk_members(walk, into(slow)).ok());
    CHECK(fast == slow);
  }
  CHECK(member_pairs{} != member_pairs{{"version", "x"}});  // (the comparison above compares)
}

TEST_CASE("checked_members: what simdjson refuses it leaves to the slow way", "[json][native]") {
  std::vector<std::string> refused = {
      R"({"a":"\ud800"})", R"({"a":"\udc00x"})", R"({"a":"\ud800\u0041"})",    // surrogates without their pair
      R"({"a":1e400})", R"({"a":-1e999})", R"({"a":1)" + std::string(400, '0') + ".5}",  // not finite
      R"({"a":01})", R"({"a":-})", R"({"a":1.})", R"({"a":.5})", R"({"a":+1})", R"({"a":1e})", R"({"a":1e+})",
      R"({"a":0x1})", R"({"a":-01})", R"({"a":1.5.2})", R"({"a":1x})",
      "{\"a\":\"x\x01y\"}", "{\"a\":\"x\ny\"}", "{\"a\x1f\":1}",                   // raw control characters
      R"({"a":"\x"})", R"({"a":"\u12G4"})", R"({"a":"\u12"})", R"({"a":"\U0041"})", R"({"a":"\)",
      R"({"a":[1,]})", R"({"a":[1 2]})", R"({"a" 1})", R"({"a":1,})", R"({,"a":1})", R"({"a":1 "b":2})",
      R"({"a":tru})", R"({"a":truex})", R"({"a":nul})", R"({"a":True})", R"({"a":falsenull})", R"({"a":null1})",
      R"({"a":{"b"}})", R"({1:2})", R"({"a":1])", R"({"a":[1})", R"({"a":"x)", R"({"a":1)", R"({"a")",
      R"({"a":[}]})", R"({"a":})", R"({'a':1})", "{\"a\":1\x0b}",
      R"({"a":)" + std::string(1100, '[') + std::string(1100, ']') + "}",       // deeper than simdjson goes
  };
  for (const std::string& text : refused) {
    INFO(text);
    json_scanner extent(text);
    auto object = extent.value();
    CHECK_FALSE((object && check_json(*object).ok()));
    member_pairs seen;
    json_scanner sc(text);
    CHECK_FALSE(json_scan::checked_members(sc, into(seen)));
  }
  // Valid, but left to simdjson's own rules: a surrogate pair, 19 digits, a 3-digit exponent, 65 levels.
  for (std::string text : {std::string(R"({"a":"\ud83d\ude00"})"), std::string(R"({"a":1234567890123456789})"),
                           std::string(R"({"a":1e100})"), R"({"a":)" + std::string(64, '[') + std::string(64, ']') + "}"}) {
    INFO(text);
    CHECK(check_json(text).ok());
    member_pairs seen;
    json_scanner sc(text);
    CHECK_FALSE(json_scan::checked_members(sc, into(seen)));
  }
}
