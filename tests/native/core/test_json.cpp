// json value and writer: parsing, lookup, escaping, number round trips.
#include <catch2/catch_test_macros.hpp>

#include "core/json.h"

using namespace pb;

TEST_CASE("json parses and dumps compactly, keeping key order and integer-ness", "[json]") {
  auto j = parse_json(R"( {"b": 1, "a": [true, null, 2.5, "x\"y"], "big": 12345678901234} )");
  REQUIRE(j.ok());
  CHECK(j->dump() == R"({"b":1,"a":[true,null,2.5,"x\"y"],"big":12345678901234})");
  CHECK((*j)["b"].is_integer());
  CHECK((*j)["a"].as_array()[2].as_double() == 2.5);
  CHECK((*j)["missing"].is_null());
}

TEST_CASE("invalid JSON is an error that quotes the input", "[json]") {
  auto j = parse_json("{\"a\": nope}");
  REQUIRE_FALSE(j.ok());
  CHECK(j.err().code == error_code::bad_request);
  CHECK(j.err().message.find("{\\\"a\\\": nope}") == std::string::npos);
  CHECK(j.err().message.find("{\"a\": nope}") != std::string::npos);
}

TEST_CASE("the writer escapes control characters and quotes", "[json]") {
  json_writer w;
  w.begin_object().field("k\n", std::string_view("a\x01\"\\/")).key("arr").begin_array().value(1).value(2.0).null().end_array().end_object();
  CHECK(w.str() == R"({"k\n":"a\u0001\"\\/","arr":[1,2.0,null]})");
  auto back = parse_json(w.str());
  REQUIRE(back.ok());
  CHECK((*back)["k\n"].as_string() == "a\x01\"\\/");
}

TEST_CASE("set replaces in place and erase removes", "[json]") {
  json o = json::object();
  o.set("a", json(1));
  o.set("b", json(2));
  o.set("a", json(3));
  CHECK(o.dump() == R"({"a":3,"b":2})");
  CHECK(o.erase("a"));
  CHECK_FALSE(o.erase("a"));
  CHECK(o.dump() == R"({"b":2})");
}

TEST_CASE("utf-8 passes through unchanged", "[json]") {
  auto j = parse_json("\"Gr\xC3\xBC\xC3\x9F\x65 \\u00e9\"");
  REQUIRE(j.ok());
  CHECK(j->as_string() == "Gr\xC3\xBC\xC3\x9F\x65 \xC3\xA9");
  CHECK(j->dump() == "\"Gr\xC3\xBC\xC3\x9F\x65 \xC3\xA9\"");
}

TEST_CASE("the writer replaces bytes that are not UTF-8 as TextDecoder reads them, so output stays JSON", "[json]") {
  // Found by the wire fuzzer: an error message quoting invalid input made the core hand back a
  // document simdjson (and any strict reader) refuses. Expected strings are what JS's TextDecoder
  // gives for the same bytes (each maximal invalid subpart becomes one U+FFFD).
  const std::string r = "\xEF\xBF\xBD";
  const std::pair<std::string, std::string> cases[] = {
      {"a\x93" "b", "a" + r + "b"},
      {"\xC3", r},
      {"\xE2\x82", r},
      {"\xE2\x82\xAC", "\xE2\x82\xAC"},
      {"\xED\xA0\x80", r + r + r},
      {"\xF4\x90\x80\x80", r + r + r + r},
      {"\xC0\xAF", r + r},
      {"\xF0\x80" "A", r + r + "A"},
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
      {"\xF0\x9F\x98" "A", r + "A"},
      {"\xFF\xFE", r + r},
  };
  for (const auto& [in, want] : cases) {
    INFO(in);
    json_writer w;
    w.value(std::string_view(in));
    auto back = parse_json(w.str());
    REQUIRE(back.ok());
    CHECK(back->as_string() == want);
    CHECK(json(in).dump() == w.str());
  }
}
