// p2_builder: version objects in Packagist's key order with Composer/Packagist normalisation, the
// tagged/dev split, the V2Dumper document shape, and json_encode compatibility (expected strings below
// were produced by PHP 8.2's json_encode with JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE).
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <iterator>
#include <map>

#include "composer/minifier.h"
#include "composer/p2_builder.h"
#include "composer/p2_encode.h"
#include "composer/packagist_rules.h"
#include "core/json.h"
#include "core/json_scan.h"
#include "core/json_view.h"
#include "native/composer/version_fields_fixture.h"
#include "native/json_fixture.h"

using namespace pb;
using namespace pb::composer;
using pb::testing::parse;

namespace {


version_fields fields(std::string version, std::string normalized, std::string time = "") {
  return testing::widget_fields(std::move(version), std::move(normalized), std::move(time));
}

}  // namespace

TEST_CASE("version_entry: Packagist's keys, order and normalisation", "[p2]") {
  const json cj = parse(R"J({
    "name": "acme/widget", "version": "9.9.9", "time": "2001-01-01",
    "description": "A widget\nwith \u001b[31mcolour\u001b[0m",
    "keywords": ["HTTP", "psr", "http", "", 7, true, "Ünï"],
    "homepage": "javascript:alert(1)", "license": "MIT",
    "authors": [{"role": "Dev", "homepage": "ftp://x", "email": " a@b.c ", "name": "Ann", "extra": "x"},
                {"role": "only"}, "str", {"name": "  "}],
    "type": "Symfony-Bundle",
    "support": {"source": "https://github.com/acme/widget", "issues": "mailto:x", "email": "s@x",
                "irc": "irc://libera/x", "0": "n", "chat": 5},
    "funding": [{"url": "https://z", "type": "github"}, {"type": "custom", "url": "gopher://q"}, ["x"]],
    "php-ext": {"priority": 80, "configure-options": [{"name": "with-z"}, {"name": "enable-a", "description": "x\ty"}]},
    "autoload": {"psr-4": {"Acme\\": "src/"}}, "autoload-dev": {"psr-4": {"T\\": "t/"}},
    "extra": {"branch-alias": {"dev-main": "1.x-dev"}}, "target-dir": "0", "include-path": ["lib/"], "bin": "/bin/tool",
    "require": {"PHP": ">=8.1", "acme/widget": "*", "Psr/Log": "^3", "psr/log": "^2 || ^3", "x/y": 5,
                "a/b": ">=1.0@dev,<2.0@stable"},
    "require-dev": {}, "suggest": {"Ext-Intl": "self.version", "b/c": " faster "}, "conflict": {"c/d": "<1"},
    "provide": {"psr/log-implementation": "1.0"}, "replace": {"acme/old": "self.version"},
    "abandoned": "acme/new", "default-branch": true, "minimum-stability": "dev", "prefer-stable": true,
    "repositories": [], "config": {"sort-packages": true}, "scripts": {"test": "phpunit"},
    "archive": {"exclude": ["/t"]}, "source": {"type": "git"}, "dist": {"type": "tar"}, "readme": "README.md"
  })J");
  version_fields f = fields("v1.2.0", "1.2.0.0", "2026-11-29T01:02:03+00:00");
  f.dist_shasum = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
  // The entry is the tree of its encoded text: an author or funding entry left with nothing is an empty
  // PHP array, which json_encode writes as [].
  const json v = version_entry(cj, f);
  CHECK(v.dump() ==
        R"({"name":"Acme/Widget","description":"A widgetwith colour","keywords":["http","psr","7","1","Ünï"],)"
        R"("homepage":"","version":"v1.2.0","version_normalized":"1.2.0.0","license":["MIT"],)"
        R"("authors":[{"name":"Ann","email":"a@b.c","role":"Dev"},[]],)"
        R"("dist":{"type":"zip","url":"https://repo.example/dist/acme/widget/1.2.0.0/abc123.zip","reference":"abc123",)"
        R"("shasum":"da39a3ee5e6b4b0d3255bfef95601890afd80709"},"type":"symfony-bundle",)"
        R"("support":{"email":"s@x","irc":"irc://libera/x","source":"https://github.com/acme/widget"},)"
        R"("php-ext":{"priority":80,"configure-options":[{"name":"enable-a","description":"xy"},{"name":"with-z"}]},)"
        R"("funding":[[],{"type":"custom"},{"type":"github","url":"https://z"}],)"
        R"("time":"2026-11-29T01:02:03+00:00","autoload":{"psr-4":{"Acme\\":"src/"}},)"
        R"("extra":{"branch-alias":{"dev-main":"1.x-dev"}},"include-path":["lib/"],"bin":["bin/tool"],)"
        R"("default-branch":true,"require":{"php":">=8.1","psr/log":"^2 || ^3","a/b":">=1.0-dev,<2.0"},)"
        R"("suggest":{"Ext-Intl":"v1.2.0","b/c":" faster "},"conflict":{"c/d":"<1"},)"
        R"("provide":{"psr/log-implementation":"1.0"},"replace":{"acme/old":"self.version"},"abandoned":"acme/new"})");
  for (const char* dropped : {"source", "autoload-dev", "minimum-stability", "prefer-stable", "repositories", "config",
                              "scripts", "archive", "readme", "target-dir", "require-dev"}) {
    INFO(dropped);
    CHECK(v.find(dropped) == nullptr);
  }
}

TEST_CASE("version_entry of an empty composer.json has the always-present keys", "[p2]") {
  version_fields f = fields("dev-main", "dev-main");
  f.dist_type.clear();
  CHECK(version_entry(parse("{}"), f).dump() ==
        R"({"name":"Acme/Widget","description":"","keywords":[],"homepage":"","version":"dev-main",)"
        R"("version_normalized":"dev-main","license":[],"authors":[],"dist":null,"type":"library","funding":[]})");
}

TEST_CASE("version_entry edge values", "[p2]") {
  const version_fields f = fields("1.0.0", "1.0.0.0");
  SECTION("type: empty stays null, non-strings default to library") {
    CHECK(version_entry(parse(R"({"type":""})"), f)["type"].is_null());
    CHECK(version_entry(parse(R"({"type":"0"})"), f)["type"].is_null());
    CHECK(version_entry(parse(R"({"type":3})"), f)["type"].as_string() == "library");
  }
  SECTION("license: a list keeps its strings; empty values give []") {
    CHECK(version_entry(parse(R"({"license":["MIT","GPL-3.0",3]})"), f)["license"].dump() == R"(["MIT","GPL-3.0"])");
    CHECK(version_entry(parse(R"({"license":"0"})"), f)["license"].dump() == "[]");
  }
  SECTION("abandoned: true, an empty replacement or false") {
    CHECK(version_entry(parse(R"({"abandoned":true})"), f)["abandoned"].dump() == "true");
    CHECK(version_entry(parse(R"({"abandoned":""})"), f)["abandoned"].dump() == "true");
    CHECK(version_entry(parse(R"({"abandoned":false})"), f).find("abandoned") == nullptr);
  }
  SECTION("homepage: http(s) only, scheme case-insensitive") {
    CHECK(version_entry(parse(R"({"homepage":"HTTPS://x.org/a"})"), f)["homepage"].as_string() == "HTTPS://x.org/a");
    CHECK(version_entry(parse(R"({"homepage":"x.org"})"), f)["homepage"].as_string() == "");
    CHECK(version_entry(parse(R"({"homepage":"localhost:8080"})"), f)["homepage"].as_string() == "");
  }
  SECTION("empty autoload/extra/bin are left out; default-branch must be true") {
    const json v = version_entry(parse(R"({"autoload":{},"extra":[],"bin":[],"default-branch":"yes"})"), f);
    CHECK(v.find("autoload") == nullptr);
    CHECK(v.find("extra") == nullptr);
    CHECK(v.find("bin") == nullptr);
    CHECK(v.find("default-branch") == nullptr);
  }
  SECTION("sanitizing strips ANSI sequences and control characters but keeps other text") {
    const json v = version_entry(parse(R"({"description":"a\u001b]8;;http://x\u0007b\u001b\\c\u001b[1;2Hd\u001bXe\u0001\u001a\u001b"})"), f);
    CHECK(v["description"].as_string() == "abcde\x1b");  // ConsoleIO::sanitize($s, false) gives the same
    const json w = version_entry(parse(R"({"description":"x\u001b]abc\ndef\u0007y\u001b\u00e9z"})"), f);
    CHECK(w["description"].as_string() == "xabcdefyz");  // OSC stops at a newline; ESC + one UTF-8 char
  }
}

TEST_CASE("is_dev_version: dev branches by their normalized version", "[p2]") {
  CHECK(is_dev_version("dev-main"));
  CHECK(is_dev_version("dev-feature/x"));
  CHECK(is_dev_version("1.0.9999999.9999999-dev"));
  CHECK(is_dev_version("2.1.0.0-dev#abc"));
  CHECK_FALSE(is_dev_version("1.0.0.0"));
  CHECK_FALSE(is_dev_version("1.0.0.0-beta1"));
  CHECK_FALSE(is_dev_version("1.0.0.0-RC2"));
  CHECK_FALSE(is_dev_version("9999999-devx"));
  CHECK_FALSE(is_dev_version(""));
}

TEST_CASE("build_p2 splits, minifies and serializes like V2Dumper", "[p2]") {
  const json cj = parse(R"({"require":{"php":">=8.1"},"license":"MIT"})");
  std::vector<json> entries = {
      version_entry(cj, fields("dev-main", "dev-main")),
      version_entry(cj, fields("v1.1.0", "1.1.0.0", "2026-02-01T00:00:00+00:00")),
      version_entry(cj, fields("1.0.x-dev", "1.0.9999999.9999999-dev")),
      version_entry(parse(R"({"license":"MIT"})"), fields("v1.0.0", "1.0.0.0")),
  };
  const p2_documents docs = build_p2("Acme/Widget", entries);
  CHECK(docs.tagged ==
        R"({"minified":"composer/2.0","packages":{"acme/widget":[)"
        R"({"name":"Acme/Widget","description":"","keywords":[],"homepage":"","version":"v1.1.0","version_normalized":"1.1.0.0",)"
        R"("license":["MIT"],"authors":[],"dist":{"type":"zip","url":"https://repo.example/dist/acme/widget/1.1.0.0/abc123.zip",)"
        R"("reference":"abc123","shasum":""},"type":"library","funding":[],"time":"2026-02-01T00:00:00+00:00",)"
        R"("require":{"php":">=8.1"}},)"
        R"({"version":"v1.0.0","version_normalized":"1.0.0.0",)"
        R"("dist":{"type":"zip","url":"https://repo.example/dist/acme/widget/1.0.0.0/abc123.zip","reference":"abc123","shasum":""},)"
        R"("time":"__unset","require":"__unset"}]}})");
  auto dev = parse_json(docs.dev);
  REQUIRE(dev.ok());
  const json& list = (*dev)["packages"]["acme/widget"];
  REQUIRE(list.size() == 2);
  CHECK(list.as_array()[0]["version"].as_string() == "dev-main");
  CHECK(list.as_array()[1].dump() ==
        R"({"version":"1.0.x-dev","version_normalized":"1.0.9999999.9999999-dev",)"
        R"("dist":{"type":"zip","url":"https://repo.example/dist/acme/widget/1.0.9999999.9999999-dev/abc123.zip",)"
        R"("reference":"abc123","shasum":""}})");
  // expanding the document gives the entries back
  CHECK(php_identical(expand(list.as_array()), json(json_array{entries[0], entries[2]})));
}

TEST_CASE("build_p2 writes what minify() on the trees, encoded whole, gives", "[p2]") {
  // The writer minifies on encoded texts; keys that move, floats (1.0 encodes as 1 but 1.0 !== 1, and
  // -0.0 === 0.0 in PHP though they encode apart), lists written as objects, duplicate keys, null
  // members and an empty version in between must all give what the trees give.
  const json versions = parse(R"([
    {"a":{"x":1},"b":1.0,"c":[1,2],"d":"s","e":-0.0,"f":null},
    {"c":[1,2],"a":{"x":1},"b":1,"d":"s","e":0.0,"f":null},
    {"a":{"x":1},"a":{"x":2},"c":[1,2],"d":"t","b":1},
    {"a":{"x":2},"c":{"0":1,"1":2},"d":"t","b":1.0,"g":[]},
    {"a":{"x":2},"c":[1,2],"d":"t","b":1.0,"g":{}},
    {},
    {"a":{"x":2},"c":[1,2],"d":"s"},
    {"d":"s","a":{"x":2},"c":[1,2]}
  ])");
  const p2_documents docs = build_p2("x", versions.as_array());
  json_object packages;
  packages.emplace_back("x", minify(versions.as_array()));
  json_object doc;
  doc.emplace_back("minified", json("composer/2.0"));
  doc.emplace_back("packages", json(std::move(packages)));
  CHECK(docs.tagged == packagist_json_encode(json(std::move(doc))));
  CHECK(docs.tagged.find(R"({"b":1,"f":"__unset"})") != std::string::npos);  // 1.0 then 1: a change, both encode as 1
}

TEST_CASE("build_p2: members unchanged for many versions are compared with the right text", "[p2]") {
  // The writer keeps each list's state as views into its copies of the last two versions (minifier.h):
  // a member unchanged since an older version must be re-pointed at each new one, or its view reads a
  // buffer that has since been overwritten with a later version whose members sit elsewhere. Values
  // and the members before them change length from version to version; some stay the same for long runs.
  json_array versions;
  for (int i = 0; i < 40; ++i) {
    json_object v;
    v.emplace_back("name", json("a/b"));
    v.emplace_back("version", json(std::string(static_cast<std::size_t>(1 + (i * 7) % 13), 'v') + std::to_string(i)));
    v.emplace_back("description", json(i < 20 ? "same for twenty" : "then another, longer text for the rest"));
    if (i % 9 != 4) v.emplace_back("extra", json(std::string(static_cast<std::size_t>((i * 5) % 11), 'x')));
    v.emplace_back("require", parse(i / 6 % 2 ? R"({"php":">=8.1","a/c":"^1"})" : R"({"php":">=7.2"})"));
    v.emplace_back("license", parse(R"(["MIT"])"));
    versions.emplace_back(std::move(v));
  }
  // A version with a duplicate key written whole (after an empty one): its second "d" is never found by
  // key, and must be re-pointed all the same.
  for (const char* v : {R"({})", R"({"d":"first","e":1,"d":"second"})", R"({"e":22,"d":"first"})",
                        R"({"f":"a longer member first","e":333,"d":"first"})", R"({"e":4444})", R"({"d":"x","e":4444})"})
    versions.push_back(parse(v));
  const p2_documents docs = build_p2("a/b", versions);
  json_object packages;
  packages.emplace_back("a/b", minify(versions));
  json_object doc;
  doc.emplace_back("minified", json("composer/2.0"));
  doc.emplace_back("packages", json(std::move(packages)));
  CHECK(docs.tagged == packagist_json_encode(json(std::move(doc))));
}

TEST_CASE("build_p2 with no versions still writes valid documents", "[p2]") {
  const p2_documents docs = build_p2("a/b", {});
  CHECK(docs.tagged == R"({"minified":"composer/2.0","packages":{"a/b":[]}})");
  CHECK(docs.dev == R"({"minified":"composer/2.0","packages":{"a/b":[]}})");
}

TEST_CASE("packagist_json_encode matches PHP's json_encode", "[p2]") {
  CHECK(packagist_json_encode(parse(
            "[1.0, 0.1, 1e25, 1.0e-7, 0.0001, 1e16, 1e17, -0.0, 123456789.125, 2.5e-5, 1.5e300, 5e-324, "
            "0.30000000000000004, 100.0, 1e15]")) ==
        "[1,0.1,1.0e+25,1.0e-7,0.0001,10000000000000000,1.0e+17,-0,123456789.125,2.5e-5,1.5e+300,5.0e-324,"
        "0.30000000000000004,100,1000000000000000]");
  CHECK(packagist_json_encode(parse(
            R"({"a":{},"b":[],"c":{"0":"x","1":"y"},"d":{"1":"x"},"e":"a/b é \u2028 \u2029 \u007f \u0001 \" \\ \t"})")) ==
        "{\"a\":[],\"b\":[],\"c\":[\"x\",\"y\"],\"d\":{\"1\":\"x\"},\"e\":\"a/b é \\u2028 \\u2029 \x7f \\u0001 \\\" \\\\ \\t\"}");
  CHECK(packagist_json_encode(parse("[9223372036854775807,-9223372036854775807,true,false,null]")) ==
        "[9223372036854775807,-9223372036854775807,true,false,null]");
  // pb::json::dump agrees on everything but these PHP-isms: it keeps {} and 1.0, and U+2028 raw.
  CHECK(parse(R"({"s":"a/b é"})").dump() == packagist_json_encode(parse(R"({"s":"a\/b \u00e9"})")));
}

TEST_CASE("packagist_json_encode escapes a byte wherever it stands in a string", "[p2]") {
  // The encoder scans for bytes needing care eight at a time and then byte by byte: each such byte at
  // every offset of strings of every length to 17, around the word sizes and the short-string limit
  // (254), against the rules written plainly.
  const auto expected = [](const std::string& s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\x01') out += "\\u0001";
      else if (c == 0x1f) out += "\\u001f";
      else if (c == 0xE2 && s.compare(i, 3, "\xE2\x80\xA8") == 0) out += "\\u2028", i += 2;
      else out += static_cast<char>(c);
    }
    return out + "\"";
  };
  const std::string specials[] = {"\"", "\\", "\n", "\x01", "\x1f", "\xE2\x80\xA8", "\xE2\x82\xAC", "\x7f", " "};
  for (std::size_t len : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 253, 254, 255, 300}) {
    for (std::size_t at = 0; at <= len; ++at) {
      for (const std::string& special : specials) {
        std::string s(len, 'a');
        s.insert(at, special);
        if (s.size() > 9) s[s.size() / 2 == at ? 0 : s.size() / 2] = 'Z';
        INFO("length " << len << " at " << at << " special " << static_cast<int>(static_cast<unsigned char>(special[0])));
        REQUIRE(packagist_json_encode(json(s)) == expected(s));
      }
    }
  }
}

TEST_CASE("same_bytes: one differing byte anywhere, at any alignment, makes texts differ", "[p2]") {
  // The memo and the writer compare members' texts with it, eight bytes, then four, then one at a
  // time: a byte changed at every offset of texts around those sizes, each text at every start in its
  // buffer (unaligned loads), against string_view's ==.
  const std::string base = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (std::size_t len = 0; len <= 40; ++len) {
    for (std::size_t shift = 0; shift < 8; ++shift) {
      const std::string a = std::string(shift, '.') + base.substr(0, len);
      const std::string_view av = std::string_view(a).substr(shift);
      const std::string same(base.substr(0, len));
      INFO("length " << len << " shift " << shift);
      REQUIRE(detail::same_bytes(av, same));
      for (std::size_t at = 0; at < len; ++at) {
        std::string b = same;
        b[at] = static_cast<char>(b[at] ^ 0x20);
        INFO("at " << at);
        REQUIRE(!detail::same_bytes(av, b));
        REQUIRE(!detail::same_bytes(b, av));
      }
      if (len) REQUIRE(!detail::same_bytes(av, av.substr(0, len - 1)));  // a prefix is not the text
    }
  }
}

TEST_CASE("version_entry: many links, duplicates after lower-casing keep their first place and last value", "[p2]") {
  // More targets than the duplicate filter has bits (64), names that differ only in a digit, and
  // duplicates that appear only once lower-cased, early and late.
  std::string require = "{";
  json_object expected;
  for (int i = 0; i < 150; ++i) {
    const std::string target = "acme/svc-" + std::to_string(i);
    require += "\"" + target + "\":\"^" + std::to_string(i) + "\",";
    expected.emplace_back(target, json("^" + std::to_string(i)));
  }
  for (int i : {0, 7, 77, 149, 7}) {
    require += "\"ACME/Svc-" + std::to_string(i) + "\":\"~" + std::to_string(i) + ".1\",";
    for (auto& kv : expected)
      if (kv.first == "acme/svc-" + std::to_string(i)) kv.second = json("~" + std::to_string(i) + ".1");
  }
  require += "\"Acme/Widget\":\"*\",\"New/One\":\"1\",\"new/one\":\"2\"}";
  expected.emplace_back("new/one", json("2"));
  const json v = version_entry(parse("{\"require\":" + require + ",\"suggest\":{\"A/b\":\"x\",\"a/b\":\"y\",\"A/b\":\"z\"}}"),
                               fields("1.0.0", "1.0.0.0"));
  CHECK(v["require"] == json(expected));
  CHECK(v["suggest"].dump() == R"({"A/b":"z","a/b":"y"})");
}

namespace {

// The entry's members as the writer gets them: "key=value" lines.
std::string members_of(const encoded_entry& e) {
  std::string out;
  for (const auto& m : e.members) out += std::string(e.key(m)) + "=" + std::string(e.value(m)) + "\n";
  return out;
}

// version_entry over `text` twice: with the pass-through members' texts found as the rebuild finds them
// (the first of each key, json_scan), and with none (every member encoded from the view).
struct both_ways {
  std::string given, encoded;
};
both_ways entry_both_ways(const std::string& text) {
  encoded_entry with, without;
  member_texts texts;
  std::optional<std::string_view> found[3];
  REQUIRE(json_scan::first_members(text, passed_through_keys, found));
  for (std::size_t i = 0; i < 3; ++i) texts.at[i] = found[i];
  auto view = parse_view(text);
  REQUIRE(view);
  version_entry(*view, texts, fields("1.0.0", "1.0.0.0"), with);
  view = parse_view(text);
  REQUIRE(view);
  version_entry(*view, member_texts{}, fields("1.0.0", "1.0.0.0"), without);
  return {members_of(with), members_of(without)};
}

}  // namespace

TEST_CASE("version_entry: members passed through as their text are what encoding them writes", "[p2]") {
  // Each case once in "autoload", once in "extra", once in "include-path"; the first of duplicate
  // top-level keys is the one read. Canonical texts are copied; every other one must fall back, and a
  // fast path taken wrongly shows as a difference (e.g. "\/" or "\u00e9" copied as written).
  const std::vector<std::pair<std::string, std::string>> cases = {
      // canonical: copied (escaped quote and backslash, non-ASCII, nested lists, integers, true/false/null)
      {R"({"psr-4":{"Acme\\Sdk\\":"src/"},"files":["a.php"],"n":[1,-2,0,123456789012345678],"b":[true,false,null]})",
       R"({"psr-4":{"Acme\\Sdk\\":"src/"},"files":["a.php"],"n":[1,-2,0,123456789012345678],"b":[true,false,null]})"},
      {R"({"q":"say \"hi\"","u":"Ünï — ok"})", R"({"q":"say \"hi\"","u":"Ünï — ok"})"},
      // duplicate keys inside are kept, as the tree keeps them
      {R"({"a":1,"a":2})", R"({"a":1,"a":2})"},
      // escapes json_encode does not write
      {R"({"a":"x\/y"})", R"({"a":"x/y"})"},
      {R"({"a":"\u00e9"})", R"({"a":"é"})"},
      // U+2028/U+2029 as raw bytes: json_encode escapes them
      {"{\"a\":\"x\xE2\x80\xA8y\xE2\x80\xA9\"}", R"({"a":"x\u2028y\u2029"})"},
      // control characters: sanitize removes them from values (not from keys)
      {R"({"a":"x\ny\tz\u001b[1mw"})", R"({"a":"xyzw"})"},
      {R"({"k\n":"v"})", R"({"k\n":"v"})"},
      {R"({"a":"\u0000"})", R"({"a":"\u0000"})"},
      // objects json_encode writes as lists
      {R"({"a":{}})", R"({"a":[]})"},
      {R"({"a":{"0":"x","1":"y"}})", R"({"a":["x","y"]})"},
      {R"({"a":{"0":"x","2":"y"}})", R"({"a":{"0":"x","2":"y"}})"},
      {R"({"0":"x"})", R"(["x"])"},
      // numbers that are not int64 as written, and whitespace
      {R"({"a":1.0,"b":1e2,"c":-0})", R"({"a":1,"b":100,"c":0})"},
      {R"({"a":12345678901234567890})", R"({"a":1.2345678901234567e+19})"},
      {R"({"a":1234567890123456789})", R"({"a":1234567890123456789})"},
      {R"({"a": 1})", R"({"a":1})"},
      {"[\"lib/\", \"x\"]", R"(["lib/","x"])"},
  };
  for (const auto& [member, expected] : cases) {
    for (const std::string key : {"autoload", "extra", "include-path"}) {
      const std::string text = "{\"name\":\"acme/widget\",\"" + key + "\":" + member + ",\"" + key + "\":{\"second\":1}}";
      INFO(text);
      const both_ways got = entry_both_ways(text);
      CHECK(got.given == got.encoded);
      INFO(got.given);
      CHECK(got.given.find(key + "=" + expected + "\n") != std::string::npos);
    }
  }
}

TEST_CASE("version_entry: a float passed through keeps its tree for the minifier", "[p2]") {
  // 1.0 and 1 encode alike but are not identical in PHP: the writer must write the second version's
  // "extra" as a change. The text path must not lose the tree (floats never take it).
  p2_writer w("acme/widget");
  encoded_entry e;
  for (const char* extra : {R"({"x":1.0})", R"({"x":1})"}) {
    const std::string text = std::string("{\"extra\":") + extra + "}";
    std::optional<std::string_view> found[3];
    REQUIRE(json_scan::first_members(text, passed_through_keys, found));
    auto view = parse_view(text);
    REQUIRE(view);
    version_entry(*view, member_texts{{found[0], found[1], found[2]}}, fields("1.0.0", "1.0.0.0"), e);
    w.add(e);
  }
  const p2_documents docs = std::move(w).finish();
  CHECK(docs.tagged.find(R"(,{"extra":{"x":1}}])") != std::string::npos);
}

TEST_CASE("version_entry: link lists written in one pass only when that is what the rules give", "[p2]") {
  // links_plain takes an object of lower-case, clean, distinct targets, not opening with "0"; each case
  // here breaks one of those conditions (or sits next to it) and must come out as the general rule does.
  const auto require_of = [](const std::string& require) -> std::string {
    auto view = parse_view(R"({"require":)" + require + "}");
    REQUIRE(view);
    encoded_entry e;
    version_entry(*view, member_texts{}, fields("1.0.0", "1.0.0.0"), e);
    for (const auto& m : e.members)
      if (e.key(m) == "require") return std::string(e.value(m));
    return "(none)";
  };
  CHECK(require_of(R"({"a/b":"^1","c/d":"^2"})") == R"({"a/b":"^1","c/d":"^2"})");
  CHECK(require_of(R"({"0":"^1","1":"^2"})") == R"(["^1","^2"])");                          // a PHP list
  CHECK(require_of(R"({"acme/widget":"*","0":"^1"})") == R"(["^1"])");                     // "0" first once kept
  CHECK(require_of(R"({"1":"^1","0":"^2"})") == R"({"1":"^1","0":"^2"})");
  CHECK(require_of(R"({"a/b":"^1","c/d":"^2","a/b":"^3"})") == R"({"a/b":"^3","c/d":"^2"})");  // duplicate
  CHECK(require_of(R"({"a/\u001bb":"^1","a/\u0007c":"^2"})") == R"({"a/":"^1","a/c":"^2"})");  // sanitized
  CHECK(require_of(R"({"a/\u001cb":"^1"})") == R"({"a/\u001cb":"^1"})");                        // 0x1C stays
  CHECK(require_of(R"({"A/b":"^1","a/b":"^2"})") == R"({"a/b":"^2"})");
  CHECK(require_of(R"({"Acme/Widget":"*","acme/widget":"*","x/y":"1"})") == R"({"x/y":"1"})");  // itself
  CHECK(require_of(R"({"acme/widget":"*"})") == "(none)");
  CHECK(require_of(R"({"a/b":1,"c/d":null})") == "(none)");
  CHECK(require_of(R"({"a/b":">=1.0@dev,<2.0","c/d":"^1\u0001"})") == R"({"a/b":">=1.0-dev,<2.0","c/d":"^1"})");
  CHECK(require_of(R"(["^1","^2"])") == R"(["^1","^2"])");
  CHECK(require_of(R"({})") == "(none)");
}

TEST_CASE("version_entry: support and homepages written from the parse are what the rules give", "[p2]") {
  // support_plain and kept_url take the common case straight from the parse; every case here must
  // come out as support_of and filter_url (packagist_rules.cpp) give it.
  const std::vector<std::string> supports = {
      R"({"issues":"https://x/i","source":"https://x/s"})",
      R"({"source":"https://x/s","issues":"http://x/i","chat":"https://x/c","security":"https://x/y"})",
      R"({"issues":"ftp://x"})", R"({"issues":"HTTPS://x"})", R"({"issues":"https://x\u0007y"})",
      R"({"email":"a@b","issues":"https://x"})", R"({"issues":"https://a","issues":"https://b","docs":"https://c"})",
      R"({"0":"https://a","wiki":"https://w"})", R"({"irc":"irc://x","rss":"https://r"})", R"({"issues":""})",
      R"({"issues":"http:/x"})", R"({"docs":1,"wiki":"https://w"})", R"({})", R"("https://x")", R"(["https://x"])",
      R"({"issues":"https://1","forum":"https://2","wiki":"https://3","source":"https://4","docs":"https://5",)"
      R"("rss":"https://6","security":"https://7","chat":"https://8"})",
      R"({"issues":"https://1","forum":"https://2","wiki":"https://3","source":"https://4","docs":"https://5",)"
      R"("rss":"https://6","security":"https://7","chat":"https://8","irc":"https://9"})",
      R"({"Issues":"https://x","source":"https://\u001b[1mx"})", R"({"email":"https://x","-1":"https://a"})",
      R"({"zz":"https://x","a0":"http://y","email":"mailto:a@b"})", R"({"zz":"https://x","a0":"http://y"})"};
  const std::vector<std::string> homepages = {"https://a", "http://a/b", "HTTP://a", "ftp://a", "", "https://a\u001b[1mb",
                                              "javascript:alert(1)", "https://", "http:x", " https://a"};
  for (const std::string& support : supports) {
    for (const std::string& home : homepages) {
      const std::string h = packagist_json_encode(json(home));
      const std::string text = R"({"support":)" + support + R"(,"homepage":)" + h + R"(,"authors":[{"name":"n","homepage":)" + h + "}]}";
      auto view = parse_view(text);
      REQUIRE(view);
      encoded_entry e;
      version_entry(*view, member_texts{}, fields("1.0.0", "1.0.0.0"), e);
      std::map<std::string, std::string> got;
      for (const auto& m : e.members) got[std::string(e.key(m))] = std::string(e.value(m));
      view = parse_view(text);
      REQUIRE(view);
      const auto expected_support = detail::support_of(*view);
      INFO(text);
      CHECK(got.count("support") == (expected_support ? 1u : 0u));
      if (expected_support) CHECK(got["support"] == packagist_json_encode(*expected_support));
      const std::string kept = detail::filter_url(home).value_or("");
      CHECK(got["homepage"] == packagist_json_encode(json(kept)));
      const std::string trimmed_kept = detail::filter_url(home.substr(home.find_first_not_of(' ') == std::string::npos ? home.size() : home.find_first_not_of(' '))).value_or("");
      CHECK(got["authors"] == (trimmed_kept.empty() ? R"([{"name":"n"}])" : R"([{"name":"n","homepage":)" + packagist_json_encode(json(trimmed_kept)) + "}]"));
    }
  }
}

TEST_CASE("version_entry: the memo copies a member only when its text, the name and the rule allow it", "[p2]") {
  // Consecutive versions through one entry_memo, each checked against version_entry without one (every
  // rule run), member for member, and the documents the writer makes of both. Each pair of neighbours
  // differs on one side of a reuse condition: one byte of a member's text at the same length (the length
  // compare alone would copy), the package's name (a self link dropped for one name is kept for the
  // other), a suggest reason of "self.version" (the pretty version changes), a row whose texts were not
  // scanned next to one whose were (absent there means "not known" here), a float kept as a tree.
  struct version {
    std::string text, name = "Acme/Widget";
    bool scanned = true;
  };
  const std::string base = R"("keywords":["a","b"],"authors":[{"name":"Ann"}],"autoload":{"psr-4":{"A\\":"src/"}},)"
                           R"("extra":{"x":1},"suggest":{"ext-intl":"faster"},"conflict":{"c/d":"<1"},)";
  const auto with = [&](const std::string& require) { return "{" + base + R"("require":)" + require + "}"; };
  const std::vector<version> versions = {
      {with(R"({"php":">=8.1","x/y":"^1.2"})")},
      {with(R"({"php":">=8.1","x/y":"^1.2"})")},                    // all the same: copied
      {with(R"({"php":">=8.1","x/y":"^1.3"})")},                    // one byte, same length
      {with(R"({"php":">=8.1","x/y":"^1.3","acme/widget":"*"})")},  // a self link: dropped
      {with(R"({"php":">=8.1","x/y":"^1.3","acme/widget":"*"})"), "Acme/Other"},  // kept for this name
      {with(R"({"php":">=8.1","x/y":"^1.3","acme/widget":"*"})")},
      {R"({"keywords":["a","c"],"authors":[{"name":"Bob"}],"suggest":{"a/b":"self.version"},"require-dev":{"q/r":"1"}})"},
      {R"({"keywords":["a","c"],"authors":[{"name":"Bob"}],"suggest":{"a/b":"self.version"},"require-dev":{"q/r":"1"}})"},
      {R"({"keywords":["a","c"],"authors":[{"name":"Bob"}],"suggest":{"a/b":" self.version"},"require-dev":{"q/r":"2"}})"},
      {R"({"keywords":["a","c"]})"},
      {R"({"keywords":["a","c"],"require":{"x/y":"1"},"provide":{"p/q":"1"}})", "Acme/Widget", false},  // not scanned
      {R"({"keywords":["a","c"]})"},
      {R"({"keywords":["a","c"],"extra":{"x":1.0},"replace":{"o/p":"*"}})"},
      {R"({"keywords":["a","c"],"extra":{"x":1.0},"replace":{"o/p":"*"}})"},  // the float's tree copied too
      {R"({"keywords":["a","c"],"extra":{"x":1},"replace":{"o/p":"*"}})"},
      {R"({"keywords":["a","d"],"extra":{"x":1},"replace":{"o/p":"*"},"include-path":["lib/"]})"},
      {R"({"keywords":["a","d"],"extra":{"x":1},"replace":{"o/p":"*"},"include-path":["lib/"]})"},
  };
  entry_memo memo;
  p2_writer memoized("acme/widget"), fresh("acme/widget");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const version& v = versions[i];
    INFO(i << ": " << v.text);
    member_texts texts;
    std::optional<std::string_view> found[std::size(text_keys)];
    REQUIRE(json_scan::first_members(v.text, text_keys, found));
    if (v.scanned) {
      std::copy(std::begin(found), std::end(found), texts.at.begin());
      texts.scanned = true;
    }
    version_fields f = fields("1.0." + std::to_string(i), "1.0." + std::to_string(i) + ".0");
    f.name = v.name;
    auto view = parse_view(v.text);
    REQUIRE(view);
    const encoded_entry& got = version_entry(*view, texts, f, memo);
    encoded_entry expected;
    view = parse_view(v.text);
    REQUIRE(view);
    version_entry(*view, texts, f, expected);
    CHECK(members_of(got) == members_of(expected));
    CHECK(got.trees.size() == expected.trees.size());
    memoized.add(got);
    fresh.add(expected);
  }
  const p2_documents a = std::move(memoized).finish(), b = std::move(fresh).finish();
  CHECK(a.tagged == b.tagged);
  CHECK(a.tagged.find(R"("extra":{"x":1})") != std::string::npos);  // written again after 1.0
}
