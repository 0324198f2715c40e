// core/json_scan.h: the structural scanner's string skipping (eight bytes at a time) against the
// byte-at-a-time rule it replaced, with quotes and backslashes at every offset of a word.
#include <catch2/catch_test_macros.hpp>

#include <string>

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
