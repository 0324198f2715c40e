// core/json_scan.h: the structural scanner's string skipping (eight bytes at a time) against the
// byte-at-a-time rule it replaced, with quotes and backslashes at every offset of a word; its containers
// (64-byte blocks) against the byte loop, with every special byte at every lane and block boundary; and
// simd::cover16, which spreads a short string over a vector.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/json_scan.h"
#include "native/xorshift.h"

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

// The block loop (value() on a container) and the byte loop over the same view: the same verdict, the
// same position after it (also after a failure) and the same depth flag.
bool same_container_answer(std::string_view view) {
  json_scanner fast(view), slow(view);
  const bool fast_ok = fast.value().has_value();
  slow.skip_ws();
  const char c = slow.peek();
  if (c != '{' && c != '[') return false;  // every caller below opens a container
  const bool slow_ok = slow.skip_container_bytes();
  return fast_ok == slow_ok && fast.position() == slow.position() && fast.too_deep() == slow.too_deep();
}

// `text` at each of 16 offsets of a buffer with bytes after it (loads near the view's end), and at the
// end of its own allocation (the sanitizer build sees any read past it).
bool same_everywhere(const std::string& text) {
  for (std::size_t offset = 0; offset < 16; ++offset) {
    std::string buffer(offset, '[');
    buffer += text;
    buffer += std::string(80, '"');
    if (!same_container_answer(std::string_view(buffer).substr(offset, text.size()))) return false;
  }
  const std::vector<char> exact(text.begin(), text.end());
  return same_container_answer(std::string_view(exact.data(), exact.size()));
}

}  // namespace

TEST_CASE("json_scanner: containers end where the byte loop says, at every lane of a block", "[json][native]") {
  // One special sequence at every position 0..140 of a container (so at every lane of the first three
  // blocks and across their boundaries), inside a string and outside one, with lengths 0..64 after it.
  const std::string specials[] = {"\"", "\\", "\\\"", "\\\\", "{", "}", "[", "]", "\"]\"", "\\\"", "\\\\\"", "\\\\\\\"", "\"\\\"\""};
  int checked = 0;
  for (const std::string& sp : specials)
    for (std::size_t at = 0; at <= 140; ++at)
      for (const bool in_string : {false, true}) {
        std::string body = in_string ? "\"" + std::string(at, 'a') + sp + "\"" : std::string(at, ' ') + sp;
        for (const char* close : {"}", "]", "\"}", "", "}}"}) {
          std::string text = "{" + body + close;
          CHECK(same_everywhere(text));
          ++checked;
        }
      }
  for (std::size_t len = 0; len <= 64; ++len)
    for (std::size_t lead = 0; lead < 16; ++lead) {
      // Every length 0..64 of a string's body in a container, after 0..15 bytes of leading whitespace.
      const std::string text = std::string(lead, ' ') + "[\"" + std::string(len, 'x') + "\"]";
      CHECK(same_everywhere(text));
      CHECK(same_everywhere(text.substr(0, text.size() - 1)));  // unterminated
      ++checked;
    }
  CHECK(checked == 13 * 141 * 2 * 5 + 65 * 16);
}

TEST_CASE("json_scanner: containers over random bytes agree with the byte loop", "[json][native]") {
  // Text that is mostly not JSON (backslashes outside strings, unmatched brackets, unterminated strings)
  // and mostly JSON-like (few specials), lengths 1..300: the block loop's fallbacks and carries.
  pb::testing::xorshift64 next{0x9E3779B97F4A7C15ULL};
  const char alphabet[] = {'{', '[', '}', ']', '"', '\\', 'a', ' ', ',', ':'};
  int mismatches = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::size_t len = 1 + next() % 300;
    const unsigned specials = 1 + static_cast<unsigned>(next() % 6);  // 1 in `specials` bytes is not 'a'
    std::string text(1, (next() & 1) ? '{' : '[');
    while (text.size() < len) text += (next() % specials == 0) ? alphabet[next() % sizeof alphabet] : 'a';
    if (!same_everywhere(text)) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("json_scanner: the depth limit across blocks", "[json][native]") {
  for (std::size_t depth : {1023u, 1024u, 1025u, 1100u}) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += (i % 3 == 0) ? "{\"k\":" : "[";
    for (std::size_t i = depth; i-- > 0;) text += (i % 3 == 0) ? "}" : "]";
    CHECK(same_everywhere(text));
    json_scanner sc(text);
    CHECK(sc.value().has_value() == (depth <= 1024));
  }
}

TEST_CASE("json_scan: is_plain_string is the byte rule, at every length and position", "[json][native]") {
  // Sixteen bytes at a time, then the rest one by one: a backslash or a control byte anywhere in strings
  // of 0..70 bytes (each block, each tail), among printable ASCII, quotes, DEL and UTF-8 bytes.
  const auto plain = [](std::string_view s) {
    for (char c : s)
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
    return true;
  };
  pb::testing::xorshift64 next{0xD1B54A32D192ED03ULL};
  const char fill[] = {'a', 'Z', ' ', '"', '\x7f', '\x80', '\xc3', '\xa9', '\xff', '/'};
  const char odd[] = {'\\', '\x00', '\x01', '\x1f', '\t', '\n'};
  int mismatches = 0;
  for (std::size_t len = 0; len <= 70; ++len)
    for (int round = 0; round < 200; ++round) {
      std::string s;
      for (std::size_t i = 0; i < len; ++i) s += fill[next() % sizeof fill];
      if (len > 0 && round % 2 == 0) s[next() % len] = odd[next() % sizeof odd];
      if (pb::json_scan::is_plain_string(s) != plain(s)) ++mismatches;
    }
  CHECK(mismatches == 0);
}

TEST_CASE("simd::cover16: every lane is one of the string's bytes and each byte is in a lane", "[json][native]") {
  // Lengths 1..16 (each of the three ways it loads), distinct bytes so a lane says which byte it took;
  // the bytes around the string are marked, so a lane read from outside it shows.
  for (std::size_t n = 1; n <= 16; ++n) {
    std::string buf(48, '\xEE');
    for (std::size_t i = 0; i < n; ++i) buf[16 + i] = static_cast<char>('a' + i);
    const simd::bytes16 v = simd::cover16(buf.data() + 16, n);
    std::vector<bool> seen(n, false);
    bool outside = false;
    for (int lane = 0; lane < 16; ++lane) {
      const auto b = static_cast<unsigned char>(v[lane]);
      if (b < 'a' || b >= 'a' + n) {
        outside = true;
        continue;
      }
      seen[b - 'a'] = true;
    }
    INFO("n = " << n);
    CHECK_FALSE(outside);
    CHECK(std::count(seen.begin(), seen.end(), true) == static_cast<std::ptrdiff_t>(n));
  }
}
