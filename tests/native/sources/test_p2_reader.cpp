// The packagist mirror's streaming rewrite (sources/p2_reader.h, composer::p2_writer behind
// storage::build_documents) against the code it replaced (tests/reference/mirror_rewrite.h): the same
// rows and byte-for-byte the same documents, on named documents (__unset, inheritance, dev branches,
// odd and missing dists, unicode and escapes, floats, duplicate keys, "minified" last or absent) and on
// a few thousand generated ones. Also what the reader does differently on purpose.
#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "composer/minifier.h"
#include "core/json_scan.h"
#include "native/xorshift.h"
#include "reference/mirror_rewrite.h"
#include "sources/p2_reader.h"

using namespace pb;

namespace {

void same_as_reference(const std::string& doc, const std::string& name = "acme/pkg") {
  INFO(doc.substr(0, 2000));
  auto old_path = reference::mirror_rewrite(doc, name);
  auto new_path = reference::production_rewrite(doc, name);
  REQUIRE(old_path.has_value());
  REQUIRE(new_path.has_value());
  CHECK(reference::difference(*old_path, *new_path) == "");
}

std::string minified_doc(const std::string& name, const json_array& versions) {
  json_object packages;
  packages.emplace_back(name, composer::minify(versions));
  json_object top;
  top.emplace_back("packages", json(std::move(packages)));
  top.emplace_back("minified", json("composer/2.0"));  // last, as Packagist writes it
  return json(std::move(top)).dump();
}

// The random-input tests' generator (tests/native/xorshift.h), so a failure names its seed.
struct rng {
  testing::xorshift64 g;
  std::uint64_t next() { return g(); }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool one_in(std::size_t n) { return below(n) == 0; }
};

json random_scalar(rng& r) {
  static const char* strings[] = {"", "MIT", "caf\xC3\xA9 \xF0\x9F\x98\x80", "line\nbreak\ttab", "esc\x1B[31mred\x1B[0m",
                                  "\xE2\x80\xA8sep", "https://example.com/x", "irc://irc.example/x", "javascript:alert(1)",
                                  "self.version", "^1.0@dev,>=0.9", "  padded  ", "__unset", "0", "a\"quote\\slash/"};
  switch (r.below(7)) {
    case 0: return json(strings[r.below(std::size(strings))]);
    case 1: return json(static_cast<std::int64_t>(r.below(5)));
    case 2: {
      static const double doubles[] = {1.0, -0.0, 0.0, 1.5, 1e25, 0.1};
      return json(doubles[r.below(std::size(doubles))]);
    }
    case 3: return json(r.one_in(2));
    case 4: return json();
    default: return json(strings[r.below(std::size(strings))]);
  }
}

json random_value(rng& r, int depth) {
  if (depth > 2 || r.one_in(2)) return random_scalar(r);
  if (r.one_in(2)) {
    json_array a;
    for (std::size_t i = r.below(3); i > 0; --i) a.push_back(random_value(r, depth + 1));
    return json(std::move(a));
  }
  static const char* keys[] = {"psr-4", "0", "1", "name", "url", "type", "email", "homepage", "issues", "source",
                               "dev-main", "A\\B\\", "branch-alias", "configure-options"};
  json_object o;
  for (std::size_t i = r.below(4); i > 0; --i) o.emplace_back(keys[r.below(std::size(keys))], random_value(r, depth + 1));
  return json(std::move(o));
}

json random_version(rng& r, std::size_t i) {
  static const char* versions[][2] = {{"v1.0.0", "1.0.0.0"}, {"2.1.0-beta1", "2.1.0.0-beta1"}, {"dev-main", "dev-main"},
                                      {"1.x-dev", "1.9999999.9999999.9999999-dev"}, {"dev-feature/x", "dev-feature/x"},
                                      {"3.0.0-RC2", "3.0.0.0-RC2"}, {"v0.1", "0.1.0.0"}};
  static const char* top_keys[] = {"description", "keywords", "homepage", "license", "authors", "type", "support",
                                   "funding", "autoload", "extra", "require", "require-dev", "suggest", "conflict",
                                   "provide", "replace", "bin", "target-dir", "include-path", "php-ext",
                                   "default-branch", "abandoned", "notification-url", "uid", "scripts"};
  json_object v;
  const auto& ver = versions[(i + r.below(2)) % std::size(versions)];
  if (!r.one_in(25)) v.emplace_back("version", json(ver[0]));
  if (!r.one_in(10)) v.emplace_back("version_normalized", json(ver[1]));
  v.emplace_back("name", json(r.one_in(5) ? "Acme/Pkg" : "acme/pkg"));
  for (std::size_t k = r.below(10); k > 0; --k) {
    const char* key = top_keys[r.below(std::size(top_keys))];
    json value = random_value(r, 0);
    if (std::string_view(key) == "require" && r.one_in(2)) value = json(json_object{{"php", json(">=8.1")}, {"acme/pkg", json("*")}});
    if (std::string_view(key) == "extra" && r.one_in(2))
      value = json(json_object{{"branch-alias", json(json_object{{ver[1], json("2.x-dev")}})}});
    v.emplace_back(key, std::move(value));
  }
  switch (r.below(6)) {
    case 0: break;  // no dist: skipped
    case 1: v.emplace_back("dist", json()); break;
    default: {
      json_object dist;
      static const char* types[] = {"zip", "tar", "path", "xz"};
      if (!r.one_in(6)) dist.emplace_back("type", json(types[r.below(std::size(types))]));
      static const char* urls[] = {"https://api.github.com/repos/acme/pkg/zipball/abc", "http://mirror.example/a.zip",
                                   "ftp://x/a.zip", "https://user:pw@host/a.zip", "not a url", ""};
      dist.emplace_back("url", json(urls[r.below(std::size(urls))]));
      static const char* refs[] = {"0123456789abcdef0123456789abcdef01234567", "main", "", "ABCDEF"};
      dist.emplace_back("reference", json(refs[r.below(std::size(refs))]));
      dist.emplace_back("shasum", r.one_in(2) ? json("") : json("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
      v.emplace_back("dist", json(std::move(dist)));
    }
  }
  if (r.one_in(2)) v.emplace_back("source", json(json_object{{"type", json("git")}, {"reference", json("feedface")}}));
  static const char* times[] = {"2024-01-02T03:04:05+00:00", "2020-05-06T07:08:09+02:00", "not a time"};
  if (!r.one_in(4)) v.emplace_back("time", json(times[r.below(std::size(times))]));
  if (r.one_in(30)) v.emplace_back("description", json("a duplicate key"));
  return json(std::move(v));
}

}  // namespace

TEST_CASE("mirror rewrite: named documents give what the old path gave, byte for byte", "[p2_reader]") {
  const std::string dist = R"("dist":{"type":"zip","url":"https://api.github.com/repos/acme/pkg/zipball/0123456789abcdef0123456789abcdef01234567","reference":"0123456789abcdef0123456789abcdef01234567","shasum":""})";
  const std::vector<std::string> docs = {
      // inherited fields, __unset, a dev branch with a branch alias and default-branch, "minified" last
      R"({"packages":{"acme/pkg":[{"name":"acme/pkg","description":"A package","version":"v2.0.0","version_normalized":"2.0.0.0","license":["MIT"],)" + dist +
          R"(,"time":"2024-01-02T03:04:05+00:00","require":{"php":">=8.1","acme/pkg":"*","Psr/Log":"^1.0@dev,>=0.9"},"autoload":{"psr-4":{"Acme\\Pkg\\":"src/"}}},)"
          R"({"version":"v1.0.0","version_normalized":"1.0.0.0","require":"__unset","description":"Older"},)"
          R"({"version":"dev-main","version_normalized":"dev-main","extra":{"branch-alias":{"dev-main":"2.x-dev"}},"default-branch":true,"time":"__unset"}]},"minified":"composer/2.0"})",
      // not minified: "__unset" is a plain value, every version complete
      R"({"minified":"none","packages":{"acme/pkg":[{"version":"1.0.0","description":"__unset",)" + dist + R"(}]}})",
      // no "minified" key at all, escapes in keys and values (\/ and \u00e9 and a surrogate pair)
      R"({"packages":{"acme\/pkg":[{"version":"1.0.0","description":"caf\u00e9 \ud83d\ude00 \/ \u2028",)" + dist + R"(}]}})",
      // two keys for the package (case), one not a list; the first of duplicate top-level keys counts
      R"({"minified":"composer/2.0","packages":{"Acme/Pkg":[{"version":"1.0.0",)" + dist + R"(}],"acme/pkg":[{"version":"1.1.0",)" + dist +
          R"(},{"version":"1.2.0"}],"ACME/PKG":{"x":1},"other/pkg":[1,2,{"bad":[]}]},"minified":"none","packages":{}})",
      // odd dist types, a missing dist, a null dist, a source-only version, credentials in a dist URL
      R"({"minified":"composer/2.0","packages":{"acme/pkg":[{"version":"1.0.0","dist":{"type":"tar","url":"https://h/a.tar","reference":"main","shasum":"abc"}},)"
          R"({"version":"1.0.1","dist":{"url":"https://h/b.zip"}},{"version":"1.0.2","dist":null},{"version":"1.0.3","dist":"__unset","source":{"type":"git","reference":"abc"}},)"
          R"({"version":"1.0.4","dist":{"type":"path","url":"https://u:p@h/c.zip"}},{"version":"1.0.5","dist":{"type":"zip","url":"https://h/d.zip","reference":""},"source":{"reference":"f00d"}}]}})",
      // floats, nulls, empty containers, PHP-list-like objects in the composer.json
      R"({"minified":"composer/2.0","packages":{"acme/pkg":[{"version":"1.0.0",)" + dist +
          R"(,"extra":{"a":1.0,"b":-0.0,"c":1e25,"d":{"0":"x","1":"y"},"e":[],"f":{}},"keywords":["A","a","b",1,true,null],"homepage":null},)"
          R"({"version":"1.1.0","extra":{"a":1,"b":0.0,"c":1e25,"d":["x","y"],"e":{},"f":[]},"keywords":null},)"
          R"({"version":"1.2.0","extra":{"a":1,"b":0.0,"c":1e25,"d":["x","y"],"e":{},"f":[]}},{}]}})",
      // versions as non-objects, an empty entry that restarts the inheritance, whitespace everywhere
      "{ \"minified\" : \"composer/2.0\" ,\n \"packages\" : { \"acme/pkg\" : [ \"x\" , [1,2] , {\"version\":\"1.0.0\"," + dist +
          "} , [] , {\"version\":\"2.0.0\"," + dist + "} ] } }\n",
      // sanitizing: control characters and ANSI escapes in strings, support and funding to sort
      R"({"minified":"composer/2.0","packages":{"acme/pkg":[{"version":"1.0.0",)" + dist +
          R"(,"description":"a\u001b[31mred\u001b[0m\nline","support":{"source":"https://s","issues":"javascript:x","chat":"irc://c","0":"x"},)"
          R"("funding":[{"type":"github","url":"https://f/b"},{"type":"custom","url":"https://f/a"},{"url":"ftp://x"}],"authors":[{"name":" Ann ","homepage":"ftp://x","role":"dev"},{"role":"x"}]}]}})",
      // a byte order mark before the document (simdjson skips it; found by the p2_rewrite fuzz target)
      "\xEF\xBB\xBF{\"packages\":{\"acme/pkg\":[{\"version\":\"1.0.0\"," + dist + "}]}}",
      // an empty package list and a document without packages
      R"({"minified":"composer/2.0","packages":{"acme/pkg":[]}})",
      R"({"minified":"composer/2.0"})",
      // the reader's text path (members copied as the document wrote them when that is what json_writer
      // writes): values it must not copy (whitespace, \/, \u escapes json_writer does not write, upper-case
      // hex, floats, -0, 19-digit integers), "__unset" written with an escape, escaped and duplicate keys
      // in the first entry and in diffs, and a list whose entries stop being objects half way (the tree
      // path takes over from the text path's state)
      R"({"minified":"composer/2.0","packages":{"acme/pkg":[{"version":"1.0.0",)" + dist +
          R"(,"extra":{ "a" : [1, 2] },"b":"x\/y","c":"\u00e9\u001B\u001b\n\u0000\"","d":1.5,"e":-0,"f":1234567890123456789,"g":-12,"h":[true,false,null]},)"
          R"({"version":"1.0.1","\u0076ersion":"dup","b":"\u005f_unset","c":"__unset","i":{"k":1,"k":2},"d":"__unset"},)"
          R"({"version":"1.0.2","version":"1.0.9","i":"__unset","j":"\u2028"},)"
          R"(["x"],{"version":"1.0.3","j":"__unset"},{"version":"1.0.4"}]}})",
      R"({"packages":{"acme/pkg":[{"version":"1.0.0",)" + dist + R"(,"x":{"\u0041":[]}},{"version":"1.0.1",)" + dist +
          R"(},"x",{"version":"1.0.2",)" + dist + R"(}]}})",
  };
  for (const auto& d : docs) same_as_reference(d);
}

// The row's columns of a version read as text are what the tree path reads (the reference): the first
// of duplicate keys, keys and values written with escapes, values that are not strings, a dist or
// source that is not an object, dist URLs on both sides of web_url's short cut; and the values named.
TEST_CASE("mirror rewrite: the row's columns of a version read as text are what the tree says", "[p2_reader]") {
  const std::string doc =
      R"({"packages":{"acme/pkg":[)"
      R"({"version":"1.0.\u0030","version_normalized":"1.0.0.0","dist":{"u\u0072l":"https:\/\/a.test\/one.zip","url":"https://b.test/two.zip","type":7,"reference":"abc","shasum":null},"time":"2024-01-02T03:04:05+00:00"},)"
      R"({"version":"1.0.1","version":"9.9.9","dist":{"url":"https://a.test/x.zip","reference":"","type":""},"source":{"reference":"feed\u0066ace"},"time":5},)"
      R"({"version":2,"dist":{"url":"https://a.test/x.zip"}},{"version":"1.0.2","dist":["https://a.test/x.zip"]},)"
      R"({"version":"1.0.3","dist":{"url":null}},{"version":"1.0.4","dist":{"url":""}},{"version":"1.0.5","dist":{"url":"https://user@a.test/x.zip"}},)"
      R"({"version":"1.0.6","dist":{"url":"HTTPS://A.TEST/x.zip","reference":"ZZ"},"source":"not an object"},)"
      R"({"version":"1.0.7","dist":{"url":"https://a.test/a/../x.zip"},"source":{"reference":"0123abc","reference":"y"}},)"
      R"({"version":"1.0.8","dist":{"url":"https://a.test/x.zip","type":{"t":"zip"},"shasum":"da39"},"version_normalized":"\u0031.0.8.0"},)"
      R"({"version":"1.0.9","dist":{"url":" https://a.test/x.zip "},"version_normalized":""},)"
      R"({"version":"1.0.10","dist":{"url":"https://a.test/x.zip?ref=1#f","reference":"\u0030"},"time":"2020-05-06T07:08:09+02:00","time":"x"},)"
      R"({"version":"1.0.11","dist":{"url":"https://a.test/first.zip","type":"tar"},"dist":{"url":"https://a.test/second.zip","reference":"cc"},"source":{"reference":"aa"},"so\u0075rce":{"reference":"bb"}},)"
      R"({"version":"1.0.12","dist":"https://a.test/x.zip","source":{"reference":"aa"}},)"
      R"({"version":"not a version ###","dist":{"url":"https://a.test/x.zip"}})"
      R"(]}})";
  same_as_reference(doc);
  auto rows = reference::production_rewrite(doc, "acme/pkg");
  REQUIRE(rows);
  REQUIRE(rows->rows.size() == 8);
  const auto& r = rows->rows;
  CHECK(r[0].v.version == "1.0.0");
  CHECK(r[0].upstream_dist_url == "https://a.test/one.zip");  // the escaped key is the first "url"
  CHECK(r[0].v.dist_type == "zip");                            // a type that is not a string
  CHECK(r[0].v.reference == "abc");
  CHECK(r[0].v.release_time > 0);
  CHECK(r[1].v.version == "1.0.1");                            // the first "version"
  CHECK(r[1].v.reference == "feedface");                       // from source, unescaped
  CHECK(r[1].v.dist_type == "");
  CHECK(r[1].v.release_time == 0);
  CHECK(r[2].v.version == "1.0.6");
  CHECK(r[2].upstream_dist_url == "https://a.test/x.zip");
  CHECK(r[2].v.reference.size() == 40);                        // "ZZ" is not hex: hashed
  CHECK(r[3].upstream_dist_url == "https://a.test/x.zip");
  CHECK(r[3].v.reference == "0123abc");                        // the first source reference
  CHECK(r[4].v.version_normalized == "1.0.8.0");
  CHECK(r[4].v.dist_shasum == "da39");
  CHECK(r[5].upstream_dist_url == "https://a.test/x.zip");
  CHECK(r[5].v.version_normalized == "1.0.9.0");
  CHECK(r[6].upstream_dist_url == "https://a.test/x.zip?ref=1#f");
  CHECK(r[6].v.reference == "0");
  CHECK(r[7].upstream_dist_url == "https://a.test/first.zip");  // the first "dist", its members only
  CHECK(r[7].v.dist_type == "tar");
  CHECK(r[7].v.reference == "aa");                               // the first "source"
  REQUIRE(rows->skipped.size() == 7);
  CHECK(rows->skipped[0] == "a version without \"version\"");
  CHECK(rows->skipped[1] == "1.0.2: no dist archive (source-only versions are not mirrored)");
  CHECK(rows->skipped[2] == "1.0.3: no dist archive (source-only versions are not mirrored)");
  CHECK(rows->skipped[3] == "1.0.4: no dist archive (source-only versions are not mirrored)");
  CHECK(rows->skipped[4] == "1.0.5: dist URL skipped: it carries a user name or password");
  CHECK(rows->skipped[5] == "1.0.12: no dist archive (source-only versions are not mirrored)");
  CHECK(rows->skipped.back().rfind("not a version ###: ", 0) == 0);
}

// The row's composer.json is copied member by member when every key is written as it is; a key that needs
// an escape (a quote, a backslash, a control character) or a value not in json_writer's form sends the
// version down the writer's path. Both give the tree's bytes, in documents minified and not.
TEST_CASE("mirror rewrite: a row's composer.json with keys that need escapes is the tree's", "[p2_reader]") {
  const std::string dist = R"("dist":{"url":"https://a.test/x.zip","type":"zip","reference":"abc"})";
  for (const std::string key : {R"("a\"b")", R"("c\\d")", R"("e\u0001f")", R"("\u0000")", R"("g\u007fh")", R"("h\u007f")",
                                R"("\u00e9t\u00e9")", "\"\xC3\xA9\"", R"("x\/y")", R"("\ud83d\ude00")", R"("")", R"("plain")"}) {
    INFO(key);
    const std::string one = R"({"version":"1.0.0",)" + dist + "," + key + R"(:1,"require":{"php":">=8"}})";
    const std::string two = R"({"version":"1.0.1",)" + dist + "," + key + R"(:2})";
    const std::string value_form = R"({"version":"1.0.2",)" + dist + "," + key + R"(:1.50})";  // not json_writer's form
    same_as_reference(R"({"packages":{"acme/pkg":[)" + one + "," + two + "," + value_form + "]}}");
    same_as_reference(R"({"minified":"composer/2.0","packages":{"acme/pkg":[)" + one + R"(,{"version":"1.0.1",)" + key +
                      R"(:2},{"version":"1.0.2","require":"__unset"}]}})");
  }
}

// strings_at answers a bit per place: a request for more places than its result has bits does not
// compile (it used to read the first 32 and leave the rest silently unread).
template <std::size_t N>
constexpr bool strings_at_takes =
    requires(const sources::p2_version& v, const sources::string_place (&places)[N], std::string (&out)[N]) {
      v.strings_at(places, out);
    };
static_assert(strings_at_takes<1> && strings_at_takes<sources::p2_version::max_places>);
static_assert(!strings_at_takes<sources::p2_version::max_places + 1>);

TEST_CASE("mirror rewrite: strings_at reads up to its most places, the last one's bit included", "[p2_reader]") {
  constexpr std::size_t n = sources::p2_version::max_places;
  std::string doc = R"({"packages":{"acme/pkg":[{"o":{"k":"inner"},)";
  std::vector<std::string> keys;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    keys.push_back("key-" + std::to_string(i));
    doc += "\"" + keys.back() + "\":\"v" + std::to_string(i) + "\",";
  }
  doc += R"("last":1}]}})";
  sources::string_place places[n];
  for (std::size_t i = 0; i + 1 < n; ++i) places[i] = {keys[i]};
  places[n - 1] = {"o", "k"};
  std::string out[n];
  std::uint32_t found = 0;
  auto r = sources::read_p2_versions(doc, "acme/pkg", [&](const sources::p2_version& v) {
    found = v.strings_at(places, out);
    return true;
  });
  REQUIRE(r.ok());
  CHECK(found == 0xFFFFFFFFu);
  CHECK(out[0] == "v0");
  CHECK(out[n - 2] == "v" + std::to_string(n - 2));
  CHECK(out[n - 1] == "inner");
}

TEST_CASE("mirror rewrite: generated documents give what the old path gave, byte for byte", "[p2_reader]") {
  for (std::uint64_t seed = 1; seed <= 3000; ++seed) {
    rng r{seed * 0x9E3779B97F4A7C15ull};
    json_array versions;
    for (std::size_t i = 0, n = 1 + r.below(12); i < n; ++i) versions.push_back(random_version(r, i));
    INFO("seed " << seed);
    same_as_reference(minified_doc("acme/pkg", versions));
  }
}

TEST_CASE("mirror rewrite: the row's composer.json writes keys that need escaping as the tree's dump does", "[p2_reader]") {
  // p2_version::without writes plain ASCII keys as they are and escapes the rest: keys on either side
  // of that line (quote, backslash, controls, DEL, non-ASCII, U+2028) next to the ordinary ones.
  static const char* odd_keys[] = {"a\"b", "back\\slash", "tab\there", "nl\n", "\x01", "del\x7F", "caf\xC3\xA9",
                                   "\xE2\x80\xA8", "\xE2\x80\xA9x", "\xF0\x9F\x98\x80", "~!@#$%^&*()", "", " ",
                                   "/slash/", "\x1F", "plain-key"};
  for (std::uint64_t seed = 1; seed <= 1500; ++seed) {
    rng r{seed * 0x9E3779B97F4A7C15ull + 7};
    json_array versions;
    for (std::size_t i = 0, n = 1 + r.below(8); i < n; ++i) {
      json v = random_version(r, i);
      json_object o = v.as_object();
      for (std::size_t k = 1 + r.below(3); k > 0; --k) o.emplace_back(odd_keys[r.below(std::size(odd_keys))], random_value(r, 0));
      versions.push_back(json(std::move(o)));
    }
    INFO("seed " << seed);
    same_as_reference(minified_doc("acme/pkg", versions));
  }
}

TEST_CASE("build_documents: the dump order's hints read without a tree are what the tree says", "[p2_reader]") {
  // build_documents reads each row's branch alias and default-branch with a scanner and parses the
  // composer.json once, for its entry; where the two readings differ (a text that is not JSON as the
  // core writes it) the tree decides. Rows whose text sorts them differently from their neighbours.
  const std::vector<std::string> texts = {
      R"({"default-branch":true})",
      R"({"default-branch":false,"default-branch":true})",                  // the first of duplicates
      R"({"default\u002dbranch":true})",                                     // an escaped key
      R"({"default-branch":"true"})",                                       // not a bool
      R"({"default-branch":true,"x":tru})",                                 // not JSON: the tree has nothing
      R"({"default-branch":true,"x":[1,2})",                                // unbalanced: the scanner fails
      R"({"extra":{"branch-alias":{"dev-main":"3.x-dev"}}})",
      R"({"extra":{"branch-alias":{"dev-main":"3.x-dev","dev-main":"1.x-dev"}}})",
      R"({"extra":{"branch-alias":{"dev-main":"3.x-dev"}},"extra":{"branch-alias":{"dev-main":"1.x-dev"}}})",
      R"({"extra":{"branch-alias":{"dev-main":5}}})",
      R"({"extra":{"branch-alias":{"dev-main":"3.x-dev"},"branch-alias":{"dev-main":"1.x-dev"}}})",
      R"({"extra":{"branch-\u0061lias":{"dev-\u006dain":"2.\u0078-dev"}}})",
      R"({"extra":{"branch-alias":{"dev-main":"3.x-dev"}},"bad":01})",      // not JSON
      R"({"extra":{"a":1},"autoload":{"psr-4":[]},"bad":01})",              // not JSON, the hints agree: no members
      R"({"extra":["branch-alias"],"default-branch":true})",
      R"({"extra":{"branch-alias":{"dev-main":"3.x-dev"}})",                // unbalanced
      R"(not json at all)",
  };
  for (std::size_t pick = 0; pick < texts.size(); ++pick) {
    std::vector<storage::version_row> rows;
    for (const char* v : {"dev-main", "dev-other", "1.0.0", "2.0.0", "dev-feature"}) {
      storage::version_row r;
      r.version = v;
      r.version_normalized = std::string(v).substr(0, 4) == "dev-" ? v : std::string(v) + ".0";
      r.reference = "abc";
      r.dist_type = "zip";
      r.composer_json = R"({"description":"plain"})";
      rows.push_back(r);
    }
    rows[0].composer_json = texts[pick];
    rows[1].composer_json = texts[(pick + 5) % texts.size()];
    INFO(texts[pick]);
    const auto want = reference::build_documents("acme/pkg", rows);
    const auto got = storage::build_documents("acme/pkg", rows);
    CHECK(got.tagged == want.tagged);
    CHECK(got.dev == want.dev);
  }
}

TEST_CASE("build_documents: members the memo copies are parsed blanked only when it copies them", "[p2_reader]") {
  // write_documents parses a row with the values of the members its entry_memo will copy read as 0
  // (their text is the previous version's, which parsed). Neighbours in dump order (newest first) on
  // each side of that: the same texts; one byte changed at the same length; a suggest written with the
  // version ("self.version": not copied); a row that does not parse, and one with bytes after its
  // object, both after and before rows with the same texts; members in another order than text_keys
  // (the blanked spans are sorted); duplicate keys; an extra with this version's branch alias.
  const std::string req = R"("require":{"php":">=8.1","x/y":"^1.2"})", req2 = R"("require":{"php":">=8.1","x/y":"^1.3"})";
  const std::string rest = R"("keywords":["a","b"],"authors":[{"name":"Ann"}],"autoload":{"psr-4":{"A\\":"src/"}})";
  const std::vector<std::string> texts = {
      "{" + req + "," + rest + R"(,"suggest":{"s/t":"why"},"require-dev":{"q/r":"1"}})",
      "{" + req + "," + rest + R"(,"suggest":{"s/t":"why"},"require-dev":{"q/r":"1"}})",
      "{" + req2 + "," + rest + R"(,"suggest":{"s/t":"why"},"require-dev":{"q/r":"1"}})",
      "{" + rest + "," + req2 + R"(,"require-dev":{"q/r":"1"},"suggest":{"s/t":"self.version"}})",
      "{" + rest + "," + req2 + R"(,"require-dev":{"q/r":"1"},"suggest":{"s/t":"self.version"}})",
      "{" + rest + "," + req2 + R"(,"require-dev":{"q/r":"1"},"x":tru})",
      "{" + rest + "," + req2 + R"(,"require-dev":{"q/r":"1"}})",
      "{" + rest + "," + req2 + R"(,"require-dev":{"q/r":"1"}} x)",
      "{" + rest + "," + req2 + R"(,"require-dev":{"q/r":"1"}})",
      "{" + rest + "," + req2 + R"(,"require-dev":{"q/r":"1"},"require":{"z/z":"1"}})",
      "{" + rest + "," + req2 + R"(,"require-dev":{"q/r":"1"},"require":{"z/z":"1"}})",
      "{" + rest + "," + req2 + R"(,"extra":{"branch-alias":{"1.0.1.0":"1.x-dev"}}})",
      "{" + rest + "," + req2 + R"(,"extra":{"branch-alias":{"1.0.1.0":"1.x-dev"}}})",
      "{" + rest + "," + req2 + R"(,"keywords":["c"]})",
  };
  std::vector<storage::version_row> rows;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    storage::version_row r;
    r.version = "1.0." + std::to_string(texts.size() - i);  // the first text is the newest
    r.version_normalized = r.version + ".0";
    r.reference = "abc" + std::to_string(i);
    r.dist_type = "zip";
    r.composer_json = texts[i];
    rows.push_back(r);
  }
  const auto want = reference::build_documents("acme/pkg", rows);
  const auto got = storage::build_documents("acme/pkg", rows);
  CHECK(got.tagged == want.tagged);
  CHECK(got.dev == want.dev);
  CHECK(got.tagged.find(R"("suggest":{"s/t":"1.0.10"})") != std::string::npos);  // the rule ran again
}

TEST_CASE("mirror rewrite: a document of more values than one tree may hold is read", "[p2_reader]") {
  // The old path parsed the whole document into one tree and refused more than max_json_values values
  // (this document has 600,000); the reader holds one version at a time, so it reads it.
  std::string doc = R"({"packages":{"acme/pkg":[)";
  for (int i = 0; i < 200; ++i) {
    if (i) doc += ',';
    doc += R"({"version":"1.0.)" + std::to_string(i) + R"(","dist":{"type":"zip","url":"https://h/a.zip"},"extra":{"x":[)";
    for (int k = 0; k < 3000; ++k) doc += k ? ",0" : "0";
    doc += "]}}";
  }
  doc += R"(]},"minified":"composer/2.0"})";
  CHECK_FALSE(reference::p2_versions(doc, "acme/pkg").has_value());
  std::size_t seen = 0;
  auto r = sources::read_p2_versions(doc, "acme/pkg", [&](const sources::p2_version& v) {
    CHECK(v.tree()["extra"]["x"].size() == 3000);
    ++seen;
    return true;
  });
  CHECK(r.ok());
  CHECK(seen == 200);
}

TEST_CASE("mirror rewrite: broken documents are refused; unread parts are only scanned", "[p2_reader]") {
  const auto reads = [](std::string_view doc) {
    return sources::read_p2_versions(doc, "acme/pkg", [](const sources::p2_version&) { return true; }).ok();
  };
  CHECK_FALSE(reads(""));
  CHECK_FALSE(reads("[]"));
  CHECK_FALSE(reads(R"({"packages":{"acme/pkg":[{"version":"1.0.0"}]})"));         // unbalanced
  CHECK_FALSE(reads(R"({"packages":{"acme/pkg":[{"version":"1.0.0"}]}} x)"));      // content after it
  CHECK_FALSE(reads(R"({"packages":{"acme/pkg":[{"version":"1.0.0",}]}})"));       // a broken entry that is read
  CHECK_FALSE(reads(R"({"packages":{"acme/pkg":[{"version":"1.0.0"}] "x":1}})"));  // a missing separator
  CHECK_FALSE(reads(R"({"packages":{"acme/pkg":[{"version":"1.0.0"}}]})"));        // brackets that do not match
  CHECK_FALSE(reads("{\"packages\":{\"acme/pkg\":[{\"version\":\"\xFF\"}]}}"));  // not UTF-8
  CHECK_FALSE(reads(R"({"minified":composer,"packages":{}})"));                    // "minified" is read
  // A broken entry is refused with simdjson's error for it (check_json's), as the old path refused it.
  for (std::string entry : {R"({"version":"1.0.0",})", R"({"version":"1.0.0","x":tru})", R"({"version":"\ud800"})",
                            R"({"version":"1.0.0","x":1e999})", "{\"version\":\"1.0.0\x01\"}", R"({"version" "1"})"}) {
    INFO(entry);
    auto r = sources::read_p2_versions(R"({"packages":{"acme/pkg":[{"version":"0.1"},)" + entry + "]}}", "acme/pkg",
                                       [](const sources::p2_version&) { return true; });
    auto want = check_json(entry);
    REQUIRE_FALSE(want.ok());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message == want.err().message);
  }
  // An entry is walked where it stands before it is checked: a walk takes each member's value on its own,
  // so it passes entries one level deeper than reading the entry's extent does. Around that limit, and
  // for entries the walk refuses but the extent does not, the error is the extent's, else check_json's.
  std::vector<std::string> edges = {R"({"version":"1.0.0","x":1,})", R"({"version":"1.0.0",:1})", R"({"version":"1.0.0" "x":1})",
                                    R"({"version":"1.0.0","x"})", R"({"version":"1.0.0","x":[}])", R"({"version":"1.0.0","x":{]})"};
  for (std::size_t depth = 1020; depth <= 1030; ++depth)
    edges.push_back(R"({"version":"1.0.0","x":)" + std::string(depth, '[') + std::string(depth, ']') + "}");
  // The document is walked where it stands, into "packages"; a list is read there too when "minified"
  // came first, else skipped whole and read after the walk. So without "minified" the packages' walk
  // (each list skipped, inside "packages") answers first; with it, the entry's own reading does. Either
  // way the depth counts every container the entry sits in, as a skip of the whole document did.
  const auto nothing = [](std::string_view, std::string_view) -> result<json_scan::go_on> { return json_scan::go_on{}; };
  for (const std::string& entry : edges) {
    INFO(entry.substr(0, 60) << " (" << entry.size() << " bytes)");
    const std::string packages = R"({"acme/pkg":[{"version":"0.1"},)" + entry + "]}";
    auto checked = check_json(entry);
    json_scanner lists(packages, 1), extent(entry, 2);  // inside the document; inside "packages" and the list
    auto listed = json_scan::members(lists, nothing);
    const bool extent_reads = extent.value().has_value();
    const auto expect = [&](const result<std::monostate>& r, bool lists_first) {
      if (lists_first && !listed) {
        REQUIRE_FALSE(r.ok());
        CHECK(r.err().message == listed.err().message);
      } else if (!extent_reads) {
        REQUIRE_FALSE(r.ok());
        CHECK(r.err().message == "invalid JSON (" + extent.failure("a version entry was expected") + ")");
      } else if (!checked.ok()) {
        REQUIRE_FALSE(r.ok());
        CHECK(r.err().message == checked.err().message);
      } else {
        CHECK(r.ok());
      }
    };
    const auto all = [](const sources::p2_version&) { return true; };
    expect(sources::read_p2_versions(R"({"packages":)" + packages + "}", "acme/pkg", all), true);
    expect(sources::read_p2_versions(R"({"minified":"composer/2.0","packages":)" + packages + "}", "acme/pkg", all), false);
  }
  // Nesting deeper than JSON parsing allows, in a part that is only scanned, says so (as simdjson did).
  const std::string deep = R"({"packages":{"other/pkg":)" + std::string(2000, '[') + std::string(2000, ']') + "}}";
  auto too_deep = sources::read_p2_versions(deep, "acme/pkg", [](const sources::p2_version&) { return true; });
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.err().message.find("too deep") != std::string::npos);
  // Deliberate (docs/PERFORMANCE.md): another package's list is only scanned for its extent, so a
  // syntax error inside it no longer refuses the document the way parsing it whole did.
  const std::string other_broken = R"({"packages":{"other/pkg":[{"a":tru}],"acme/pkg":[{"version":"1.0.0"}]}})";
  CHECK_FALSE(reference::p2_versions(other_broken, "acme/pkg").has_value());
  CHECK(reads(other_broken));
}

TEST_CASE("mirror rewrite: the reader stops when asked", "[p2_reader]") {
  // The lists read after the document's walk, and (with "minified" first) where they stand; in the
  // second list too.
  for (std::string head : {"{", R"({"minified":"composer/2.0",)"})
    for (std::size_t stop_at : {2, 4}) {
      const std::string doc = head + R"("packages":{"acme/pkg":[{"version":"1"},{"version":"2"},{"version":"3"}],"ACME/PKG":[{"version":"4"},{"version":"5"}]}})";
      INFO(doc << " stopping at " << stop_at);
      std::vector<std::string> seen;
      auto r = sources::read_p2_versions(doc, "acme/pkg", [&](const sources::p2_version& v) {
        seen.emplace_back(v.tree()["version"].as_string());
        return seen.size() < stop_at;
      });
      CHECK(r.ok());
      CHECK(seen.size() == stop_at);
      CHECK(seen.back() == std::to_string(stop_at));
    }
}

TEST_CASE("mirror rewrite: a composer source takes the package's last key, the packagist mirror every list", "[p2_reader]") {
  const auto versions = [](std::string_view doc, sources::p2_lists which) {
    std::vector<std::string> seen;
    auto r = sources::read_p2_versions(doc, "acme/pkg", [&](const sources::p2_version& v) {
      seen.emplace_back(v.tree()["version"].as_string());
      return true;
    }, which);
    CHECK(r.ok());
    return seen;
  };
  const std::string two = R"({"packages":{"Acme/Pkg":[{"version":"1"}],"other/x":[],"acme/pkg":[{"version":"2"},{"version":"3"}]}})";
  CHECK(versions(two, sources::p2_lists::every) == std::vector<std::string>{"1", "2", "3"});
  CHECK(versions(two, sources::p2_lists::last) == std::vector<std::string>{"2", "3"});
  // "minified" first: every list is read where it stands, the last still only after the walk.
  const std::string minified = R"({"minified":"composer/2.0",)" + two.substr(1);
  CHECK(versions(minified, sources::p2_lists::every) == std::vector<std::string>{"1", "2", "3"});
  CHECK(versions(minified, sources::p2_lists::last) == std::vector<std::string>{"2", "3"});
  // As composer_repo read it before: the last key wins even when it is not a list.
  const std::string last_not_list = R"({"packages":{"acme/pkg":[{"version":"1"}],"ACME/PKG":{"1":{"version":"1"}}}})";
  CHECK(versions(last_not_list, sources::p2_lists::every) == std::vector<std::string>{"1"});
  CHECK(versions(last_not_list, sources::p2_lists::last).empty());
}
