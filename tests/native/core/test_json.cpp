// json value and writer: parsing, lookup, escaping, number round trips.
#include <catch2/catch_test_macros.hpp>

#include "core/json.h"
#include "core/json_view.h"
#include "native/xorshift.h"
#include "simdjson.h"

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

TEST_CASE("is_dump_form: true only where dump() writes the text back, byte for byte", "[json]") {
  // (text, whether it is dump()'s form). Where it says true, dump() of the parsed value must be the
  // text itself: the mirror copies such text instead of the tree's dump (sources/p2_reader.cpp).
  const std::pair<std::string, bool> cases[] = {
      {R"({"a":[1,-2,0,true,false,null,"x"],"b":{}})", true},
      {R"("\"\\\n\r\t\b\f\u0000\u001f\u001b\u0001")", true},
      {"\"caf\xC3\xA9 \xE2\x80\xA8 \x7F\"", true},  // UTF-8 and DEL as they are
      {R"(123456789012345678)", true},
      {R"(-123456789012345678)", true},
      {R"({"a":{"a":1,"a":2}})", true},  // duplicate keys: the tree keeps both
      {R"({"a": 1})", false},            // whitespace
      {" 1", false},
      {"[1,\n2]", false},
      {R"("a\/b")", false},           // dump() does not escape '/'
      {R"("\u00e9")", false},         // nor non-ASCII
      {R"("\u001B")", false},         // upper-case hex
      {R"("\u000a")", false},         // \n is written short
      {R"("\u0008")", false},
      {R"("\u2028")", false},
      {R"("\ud83d\ude00")", false},
      {R"(1.5)", false},              // floats are left to the tree
      {R"(1e5)", false},
      {R"(1E5)", false},
      {R"(-0)", false},
      {R"(1234567890123456789)", false},  // 19 digits: may not fit int64
      {R"([1.0])", false},
  };
  for (const auto& [text, dumped] : cases) {
    INFO(text);
    auto v = parse_json(text);
    REQUIRE(v.ok());
    CHECK(is_dump_form(text) == dumped);
    if (dumped) CHECK(v->dump() == text);
  }
  // Nested containers and empty keys.
  for (const char* t : {R"({"k":["a",{"b":[]}],"n":-5})", R"([[[]]])", R"({"":""})"}) {
    CHECK(is_dump_form(t));
    CHECK(parse_json(t)->dump() == t);
  }
}

TEST_CASE("check_json: parse_json's verdict without the tree", "[json]") {
  for (const char* t : {"{}", "[1,2", R"({"a":tru})", "\"\xFF\"", "", "  [1] ", "1 2"}) {
    INFO(t);
    auto tree = parse_json(t);
    auto checked = check_json(t);
    REQUIRE(tree.ok() == checked.ok());
    if (!tree.ok()) CHECK(tree.err().message == checked.err().message);
  }
  // Past 2 * max_json_values bytes the values are counted, as parse_json counts them.
  std::string many = "[";
  for (std::size_t i = 0; i <= max_json_values; ++i) many += i ? ",0" : "0";
  many += ']';
  CHECK(check_json(many).err().code == error_code::payload_too_large);
}

// CMakeLists.txt compiles simdjson with stage2_next returning an error (11.7 KB less wasm): document
// streams are not part of this build, and a caller finds out from the error, never from wrong values.
TEST_CASE("simdjson is built without document streams (parse_many)", "[json]") {
  simdjson::dom::parser parser;
  const simdjson::padded_string docs(std::string_view(R"({"a":1} {"b":2})"));
  simdjson::dom::document_stream stream;
  REQUIRE(parser.parse_many(docs).get(stream) == simdjson::SUCCESS);  // the stream starts lazily
  std::size_t values = 0, errors = 0;
  for (auto doc : stream) {
    if (doc.error() == simdjson::UNSUPPORTED_ARCHITECTURE) ++errors;
    else ++values;
    if (values + errors > 4) break;
  }
  CHECK(values == 0);
  CHECK(errors >= 1);
  // Single documents are unaffected.
  simdjson::dom::element e;
  REQUIRE(parser.parse(docs.data(), 7).get(e) == simdjson::SUCCESS);
  int64_t a = 0;
  CHECK(e["a"].get(a) == simdjson::SUCCESS);
  CHECK(a == 1);
}

TEST_CASE("parse_view with blanked values reads them as 0 and the rest as it is", "[json]") {
  // The rebuild parses a row with the members its memo copies blanked (storage/packages.cpp): the
  // text is copied with each blanked value as 0, at the start, in the middle, next to each other, at
  // the end; the verdict is the whole text's when each blanked span is a valid value.
  const std::string text = R"({"a":{"x":[1,2,{"y":"z"}]},"b":"keep \u00e9","c":[true],"d":null,"e":{"f":1.5}})";
  const std::string_view t(text);
  const auto value = [&](std::string_view v) { return t.substr(t.find(v), v.size()); };
  const std::string_view a = value(R"({"x":[1,2,{"y":"z"}]})"), c = value("[true]"), d = value("null"),
                         e = value(R"({"f":1.5})");
  {
    const std::string_view blank[] = {a, c, d, e};
    auto v = parse_view(text, blank);
    REQUIRE(v);
    CHECK(v->tree().dump() == R"({"a":0,"b":"keep é","c":0,"d":0,"e":0})");
  }
  {
    const std::string_view blank[] = {c};
    auto v = parse_view(text, blank);
    REQUIRE(v);
    CHECK(v->tree().dump() == R"({"a":{"x":[1,2,{"y":"z"}]},"b":"keep é","c":0,"d":null,"e":{"f":1.5}})");
  }
  CHECK(parse_view(text, {})->tree().dump() == parse_json(text)->dump());
  // A text broken outside the blanked values stays broken; trailing bytes are kept.
  const std::string broken = R"({"a":[1,2],"b":tru})", trailing = R"({"a":[1,2]} x)";
  const std::string_view b1[] = {std::string_view(broken).substr(5, 5)}, b2[] = {std::string_view(trailing).substr(5, 5)};
  REQUIRE(b1[0] == "[1,2]");
  REQUIRE(b2[0] == "[1,2]");
  CHECK(!parse_view(broken, b1));
  CHECK(!parse_view(trailing, b2));
  // An empty view (no value: outside the contract) still gets its 0, the text after it whole.
  const std::string gap = R"({"a":})";
  const std::string_view b3[] = {std::string_view(gap).substr(5, 0)};
  auto filled = parse_view(gap, b3);
  REQUIRE(filled);
  CHECK(filled->tree().dump() == R"({"a":0})");
}

TEST_CASE("json_key_filter never rules out a key the object has", "[json]") {
  // Random objects of random keys (empty, one byte, long, any byte), and the keys version_entry asks
  // for: every key of the object may be there; a key ruled out is one the object lacks; a non-object
  // has no keys.
  pb::testing::xorshift64 next{0xBB67AE8584CAA73BULL};
  const std::vector<std::string> asked = {"php-ext", "funding", "bin", "target-dir", "default-branch", "conflict",
                                          "provide", "replace", "abandoned", "include-path", "suggest", "support",
                                          "description", "homepage", "type", "require", "require-dev", "autoload"};
  std::size_t ruled_out = 0;
  for (int round = 0; round < 3000; ++round) {
    json_object o;
    const std::size_t n = next() % 24;
    for (std::size_t i = 0; i < n; ++i) {
      std::string key;
      if (next() % 3 == 0) {
        key = asked[next() % asked.size()];
      } else {
        const std::size_t len = next() % 4 == 0 ? next() % 40 : next() % 3;
        for (std::size_t b = 0; b < len; ++b) key += static_cast<char>(0x20 + next() % 0x5F);
      }
      o.emplace_back(std::move(key), json(std::int64_t{1}));
    }
    const std::string text = json(o).dump();
    auto view = parse_view(text);
    REQUIRE(view);
    const json_key_filter keys(*view);
    INFO(text);
    for (const auto& kv : o) CHECK(keys.may_have(kv.first));
    for (const std::string& k : asked) {
      if (keys.may_have(k)) continue;
      ++ruled_out;
      CHECK_FALSE((*view)[k].present());
    }
  }
  CHECK(ruled_out > 10000);  // the filter rules keys out (or it would save nothing)
  auto list = parse_view(R"(["php-ext","bin"])");
  REQUIRE(list);
  CHECK_FALSE(json_key_filter(*list).may_have("0"));
  CHECK_FALSE(json_key_filter(json_view()).may_have("bin"));
}
