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
#include "simdjson.h"
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

namespace {

// A random JSON-ish value: mostly valid, with the pieces strict_value must tell apart (escapes short
// and \u of every kind, surrogates, \/, control bytes, integers of every length, -0, leading zeros,
// fractions, exponents, words, whitespace, nesting, UTF-8), sometimes broken on purpose.
std::string random_value(pb::testing::xorshift64& next, int depth) {
  const auto pick = [&](std::initializer_list<const char*> xs) { return std::string(xs.begin()[next() % xs.size()]); };
  const auto ws = [&] { return next() % 6 == 0 ? pick({" ", "\n", "\t", "\r", "  "}) : std::string(); };
  switch (depth > 4 ? next() % 4 : next() % 6) {
    case 0: {
      std::string s = "\"";
      const std::size_t parts = next() % 8;
      for (std::size_t i = 0; i < parts; ++i)
        s += pick({"a", "Zz", "https://example.org/x", "é", "\xE2\x80\xA8", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\b", "\\f",
                   "\\r", "\\u0000", "\\u001f", "\\u001F", "\\u0008", "\\u000a", "\\u00e9", "\\u2028", "\\ud83d\\ude00",
                   "\\ud800", "\\udc00", "\\x", "\\u12", "\x01", "\x1f", "\x7f", "0123456789abcdef0123"});
      return s + (next() % 40 == 0 ? "" : "\"");
    }
    case 1:
      return pick({"0", "-0", "7", "-12", "123456789012345678", "1234567890123456789", "-999999999999999999", "01", "-",
                   "1.5", "1e5", "2E-3", "-0.0", "1.", "18446744073709551616"});
    case 2: return pick({"true", "false", "null", "tru", "nul", "truex", "nan"});
    case 3: return next() % 2 ? "[]" : "{}";
    case 4: {
      std::string s = "[" + ws();
      const std::size_t n = next() % 4;
      for (std::size_t i = 0; i < n; ++i) s += (i ? "," + ws() : "") + random_value(next, depth + 1) + ws();
      if (next() % 30 == 0) s += ",";
      return s + (next() % 40 == 0 ? "}" : "]");
    }
    default: {
      std::string s = "{" + ws();
      const std::size_t n = next() % 4;
      for (std::size_t i = 0; i < n; ++i)
        s += (i ? "," + ws() : "") + pick({"\"k\"", "\"a b\"", "\"\\u0041\"", "\"\\/\"", "k"}) + ws() +
             (next() % 30 == 0 ? "" : ":") + ws() + random_value(next, depth + 1) + ws();
      return s + (next() % 40 == 0 ? "]" : "}");
    }
  }
}

}  // namespace

TEST_CASE("json_scan: strict_value accepts only what simdjson accepts, ends where value() does, knows the form",
          "[json][native]") {
  // The reader skips simdjson's check of an entry whose members strict_value accepted, and copies a
  // member's text when `dump` says it is json_writer's form: both must be exact. Random values, then
  // each with a byte changed, dropped or added; and every dump of a tree it reads is accepted as dump.
  pb::testing::xorshift64 next{0x9E3779B97F4A7C15ULL};
  const char bytes[] = {'"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', '-', 'e', '.', 'u', 'a', '\x01', '\xC3'};
  std::size_t accepted = 0, dumped = 0, tried = 0;
  for (int round = 0; round < 40000; ++round) {
    std::string text = random_value(next, 0);
    if (round % 2 && !text.empty()) {
      const std::size_t at = next() % text.size();
      switch (next() % 3) {
        case 0: text[at] = bytes[next() % sizeof bytes]; break;
        case 1: text.erase(at, 1); break;
        default: text.insert(at, 1, bytes[next() % sizeof bytes]);
      }
    }
    const std::string followed = text + (next() % 2 ? "," : "}");  // as a member's value is followed
    if (!simdjson::validate_utf8(followed.data(), followed.size())) continue;  // (the reader checks it first)
    json_scanner strict(followed), extent(followed);
    bool dump = false;
    ++tried;
    strict.skip_ws();
    const std::size_t before = strict.position();
    if (!strict.strict_value(dump)) {
      CHECK(strict.position() == before);
      continue;
    }
    ++accepted;
    INFO(text);
    const auto v = extent.value();
    REQUIRE(v.has_value());
    CHECK(strict.position() == extent.position());
    const std::string_view read = *v;
    CHECK(check_json(read).ok());
    CHECK(dump == is_dump_form(read));
    if (dump) ++dumped;
    // json_writer's own text of the same value: accepted, and as its form.
    if (auto tree = parse_json(read)) {
      const std::string again = tree->dump();
      json_scanner s(again);
      bool d = false;
      const bool integers_only = again.find_first_of(".eE") == std::string::npos || again.find('"') != std::string::npos;
      if (integers_only && s.strict_value(d)) CHECK(d);
    }
  }
  // Enough of both answers that the comparisons above mean something.
  CHECK(accepted > tried / 5);
  CHECK(dumped > accepted / 5);
  CHECK(accepted - dumped > accepted / 10);
}
