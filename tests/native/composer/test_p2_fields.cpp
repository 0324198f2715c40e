// The field rules' fast paths (p2_fields.cpp, p2_builder.cpp) against the plain way: link lists
// written in one pass against the link rules on a tree, over random lists; the members the key filter
// may rule out, each alone and among many others. Split from test_p2_builder.cpp.
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <utility>
#include <vector>

#include "composer/p2_builder.h"
#include "composer/packagist_rules.h"
#include "core/json.h"
#include "core/json_view.h"
#include "core/text.h"
#include "native/composer/version_fields_fixture.h"
#include "native/xorshift.h"

using namespace pb;
using namespace pb::composer;

namespace {

version_fields fields(std::string version, std::string normalized, std::string time = "") {
  return testing::widget_fields(std::move(version), std::move(normalized), std::move(time));
}

// The entry's members as the writer gets them: "key=value" lines.
std::string members_of(const encoded_entry& e) {
  std::string out;
  for (const auto& m : e.members) out += std::string(e.key(m)) + "=" + std::string(e.value(m)) + "\n";
  return out;
}

}  // namespace

namespace {

// The link rules on a tree, written out plainly (ArrayLoader + the Updater, as links_general reads
// them): the reference the random link lists below are held against.
std::string links_by_the_rules(const json& require, const std::string& self_lower) {
  json_object kept;
  const auto add = [&](const std::string& target, const json& constraint) {
    if (!constraint.is_string()) return;
    const std::string lower = detail::ascii_lower(target);
    if (lower == self_lower) return;
    const std::string key = detail::sanitize(lower);
    const std::string_view c = constraint.as_string();
    const bool flags = c.find(',') != std::string_view::npos && c.find('@') != std::string_view::npos;
    json value(detail::sanitize(flags ? detail::rewrite_stability_flags(c) : std::string(c)));
    for (auto& kv : kept)
      if (kv.first == key) {
        kv.second = std::move(value);
        return;
      }
    kept.emplace_back(key, std::move(value));
  };
  if (require.is_object()) {
    for (const auto& [k, v] : require.as_object()) add(k, v);
  } else if (require.is_array()) {
    for (std::size_t i = 0; i < require.as_array().size(); ++i) add(std::to_string(i), require.as_array()[i]);
  }
  return kept.empty() ? "(none)" : packagist_json_encode(json(std::move(kept)));
}

}  // namespace

TEST_CASE("version_entry: random link lists come out as the rules on a tree give them", "[p2]") {
  // Targets and constraints of bytes each link rule treats apart (upper case, what sanitize removes,
  // what json_encode escapes, U+2028, ',' and '@', "0", the package itself), short and past the
  // one-append buffer: the one-pass writer must take exactly the lists the rules leave unchanged.
  pb::testing::xorshift64 next{0x3C6EF372FE94F82BULL};
  const std::vector<std::string> pieces = {"a", "b", "z", "/", "-", "0", "1", "A", "Z", "\"", "\\", "\x01", "\x1b", "\x1c",
                                           "\x1f", "\n", "\xE2\x80\xA8", "\xE2\x82\xAC", "é", "@", ",", "<", ">=", "^", " ",
                                           "@dev", ">=1.0@dev,<2", "acme/widget", "Acme/Widget"};
  const auto text = [&](std::size_t max_pieces) {
    std::string s;
    const std::size_t n = next() % (max_pieces + 1);
    for (std::size_t i = 0; i < n; ++i) s += pieces[next() % pieces.size()];
    if (next() % 16 == 0) s += std::string(120 + next() % 100, 'x');  // past 250 bytes with the other side, at times
    return s;
  };
  for (int round = 0; round < 6000; ++round) {
    json_object require;
    const std::size_t links = next() % 6;
    for (std::size_t i = 0; i < links; ++i) {
      std::string target = next() % 3 ? "v/p" + std::to_string(next() % 8) : text(3);
      if (next() % 8 == 0) target = next() % 2 ? "0" : "acme/widget";
      json constraint = next() % 12 == 0 ? json(std::int64_t{1}) : json(text(4));
      require.emplace_back(std::move(target), std::move(constraint));
    }
    const json tree(std::move(require));
    const std::string cj = "{\"require\":" + tree.dump() + "}";
    auto view = parse_view(cj);
    REQUIRE(view);
    encoded_entry e;
    version_entry(*view, member_texts{}, fields("1.0.0", "1.0.0.0"), e);
    std::string got = "(none)";
    for (const auto& m : e.members)
      if (e.key(m) == "require") got = std::string(e.value(m));
    INFO(cj);
    REQUIRE(got == links_by_the_rules(tree, "acme/widget"));
  }
}

TEST_CASE("version_entry: each member the key filter may rule out is read when it is the only one", "[p2]") {
  // version_entry skips the lookups of keys its composer.json lacks (json_key_filter): each such key
  // alone, and among many others, must still come out.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("conflict":{"a/b":"<1"})", R"(conflict={"a/b":"<1"})"},
      {R"("provide":{"a/b":"1.0"})", R"(provide={"a/b":"1.0"})"},
      {R"("replace":{"a/b":"self.version"})", R"(replace={"a/b":"self.version"})"},
      {R"("require":{"a/b":"^1"})", R"(require={"a/b":"^1"})"},
      {R"("require-dev":{"a/b":"^1"})", R"(require-dev={"a/b":"^1"})"},
      {R"("suggest":{"a/b":"why"})", R"(suggest={"a/b":"why"})"},
      {R"("include-path":["lib/"])", R"(include-path=["lib/"])"},
      {R"("target-dir":"Acme/W")", R"(target-dir="Acme/W")"},
      {R"("bin":"bin/w")", R"(bin=["bin/w"])"},
      {R"("default-branch":true)", R"(default-branch=true)"},
      {R"("abandoned":"x/y")", R"(abandoned="x/y")"},
      {R"("php-ext":{"extension-name":"w"})", R"(php-ext={"extension-name":"w"})"},
      {R"("funding":[{"type":"github","url":"https://github.com/w"}])", R"(funding=[{"type":"github","url":"https://github.com/w"}])"},
      {R"("description":"d")", R"(description="d")"},
      {R"("homepage":"https://w")", R"(homepage="https://w")"},
      {R"("type":"Plugin")", R"(type="plugin")"},
  };
  std::string others;
  for (int i = 0; i < 70; ++i) others += ",\"x-" + std::to_string(i) + "\":" + std::to_string(i);
  for (const auto& [member, expected] : cases) {
    for (const std::string& text : {"{" + member + "}", "{\"name\":\"acme/widget\"" + others + "," + member + others + "}"}) {
      auto view = parse_view(text);
      REQUIRE(view);
      encoded_entry e;
      version_entry(*view, member_texts{}, fields("1.0.0", "1.0.0.0"), e);
      INFO(text);
      CHECK(members_of(e).find(expected + "\n") != std::string::npos);
    }
  }
}

