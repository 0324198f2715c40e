// simdjson's fallback kernel, the one the Worker's wasm runs, with its two string loops patched to work
// sixteen bytes at a time (CMakeLists.txt): forced here and compared with the native kernel on strings
// holding each kind of byte those loops must stop at (quotes, escapes, UTF-8 of every length, broken
// UTF-8, controls) at every lane of the first blocks, for every string length 0..64.
#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "simdjson.h"
#include "native/xorshift.h"

namespace {

struct answer {
  simdjson::error_code error;
  std::string minified;
  bool operator==(const answer&) const = default;
};

answer parse_with(const simdjson::implementation* kernel, const std::string& text) {
  const simdjson::implementation* before = simdjson::get_active_implementation();
  simdjson::get_active_implementation() = kernel;  // a parser takes the active kernel when it allocates
  answer a{simdjson::SUCCESS, ""};
  {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    a.error = parser.parse(text).get(root);
    if (!a.error) a.minified = simdjson::minify(root);
  }
  simdjson::get_active_implementation() = before;
  return a;
}

struct kernels {
  const simdjson::implementation* fallback = simdjson::get_available_implementations()["fallback"];
  const simdjson::implementation* native = simdjson::get_available_implementations().detect_best_supported();
  // Kernels may name different errors for text with several (the unpatched fallback does too): `exact`
  // compares the error, else whether there is one.
  bool agree(const std::string& text, bool exact = true) const {
    answer a = parse_with(fallback, text), b = parse_with(native, text);
    if (!exact) a.error = a.error ? simdjson::TAPE_ERROR : a.error, b.error = b.error ? simdjson::TAPE_ERROR : b.error;
    return a == b;
  }
};

}  // namespace

TEST_CASE("simdjson fallback: its patched string loops agree with the native kernel at every lane", "[json][native]") {
  const kernels k;
  REQUIRE(k.fallback != nullptr);
  REQUIRE(k.native != nullptr);
  REQUIRE(k.native->name() != "fallback");  // else this compares the kernel with itself
  const std::vector<std::string> specials = {
      "\\\"", "\\\\", "\\n", "\\/", "\\u00e9", "\\ud83d\\ude00", "\\x",  // escapes (the last one invalid)
      "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",                   // UTF-8 of two, three, four bytes
      "\xFF", "\x80", "\xE2\x82", "\xC0\xAF", "\xED\xA0\x80",            // broken UTF-8
      "\x01", "\x1F", "\t", "\x7F", " ", "\"",                           // controls, DEL, a space, a quote
  };
  int checked = 0, mismatched = 0;
  for (std::size_t len = 0; len <= 64; ++len)
    for (std::size_t at = 0; at <= len; ++at)
      for (const std::string& special : specials) {
        const std::string s = std::string(at, 'a') + special + std::string(len - at, 'b');
        for (const std::string& text : {"[\"" + s + "\",1]", "{\"" + s + "\":\"" + s + "\"}", "\"" + s}) {
          // A bare quote ends the string early: text with several errors, which kernels name differently.
          if (!k.agree(text, special != "\"")) ++mismatched;
          ++checked;
        }
      }
  CHECK(mismatched == 0);
  CHECK(checked == 65 * 66 / 2 * 21 * 3);
}

TEST_CASE("simdjson fallback: random strings get the native kernel's verdict and values", "[json][native]") {
  const kernels k;
  REQUIRE(k.fallback != nullptr);
  pb::testing::xorshift64 next{0x243F6A8885A308D3ULL};
  const char bytes[] = {'a', 'a', 'a', 'a', '"', '\\', 'n', 'u', '0', '\x01', ' ', '\xC3', '\xA9', '\xE2', '\x82', '\xAC', '\xFF', ',', '[', ']'};
  int mismatched = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = "[\"";
    const std::size_t len = next() % 100;
    for (std::size_t i = 0; i < len; ++i) text += bytes[next() % sizeof bytes];
    text += "\"]";
    if (!k.agree(text, false)) ++mismatched;
  }
  CHECK(mismatched == 0);
}
