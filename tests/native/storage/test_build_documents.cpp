// storage::build_documents (the rebuild every upload and sync runs) against the reference rewrite on
// trees (tests/reference/mirror_rewrite.h), on rows whose fields vary from one to the next: the
// rebuild reuses one version_fields and the memo's lower-cased name across rows, the reference
// makes them anew for each.
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "composer/p2_builder.h"
#include "core/json_view.h"
#include "native/xorshift.h"
#include "reference/mirror_rewrite.h"
#include "storage/packages.h"

using namespace pb;

namespace {
std::string detail_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}
}  // namespace

TEST_CASE("build_documents: fields reused from row to row are each row's own", "[storage]") {
  // Release times present and absent, dist types empty and not, references and shasums short and past
  // libc++'s inline buffer, branch names with '/', self links under the package's name in any case.
  pb::testing::xorshift64 next{0xA54FF53A5F1D36F1ULL};
  for (int round = 0; round < 200; ++round) {
    std::vector<storage::version_row> rows;
    const std::size_t n = 1 + next() % 12;
    for (std::size_t i = 0; i < n; ++i) {
      storage::version_row r;
      if (next() % 4 == 0) {
        r.version = next() % 2 ? "dev-feature/x" + std::to_string(i) : "dev-main" + std::to_string(i);
        r.version_normalized = r.version;
      } else {
        r.version = "1." + std::to_string(i) + "." + std::to_string(next() % 3);
        r.version_normalized = r.version + ".0";
      }
      r.reference = next() % 2 ? "r" + std::to_string(i) : std::string(40, static_cast<char>('a' + next() % 6));
      r.dist_type = next() % 4 == 0 ? "" : next() % 2 ? "zip" : "tar";
      r.dist_shasum = next() % 2 ? "" : std::string(40, '0' + static_cast<char>(next() % 10));
      r.release_time = next() % 3 == 0 ? 0 : 1'600'000'000'000 + static_cast<std::int64_t>(next() % 1'000'000'000);
      const char* self = next() % 2 ? "Acme/Pkg" : "acme/pkg";
      r.composer_json = std::string(R"({"name":"acme/pkg","require":{")") + self + R"(":"*","x/y":"^1"},"suggest":{"a/b":")" +
                        (next() % 3 == 0 ? "self.version" : "why") + R"("}})";
      rows.push_back(std::move(r));
    }
    const auto want = reference::build_documents("acme/pkg", rows);
    const auto got = storage::build_documents("acme/pkg", rows);
    REQUIRE(got.tagged == want.tagged);
    REQUIRE(got.dev == want.dev);
  }
}

TEST_CASE("version_entry: the memo's lower-cased name is the name of the version written", "[storage]") {
  // Names of the same length one after the other through one memo: each version drops the links to
  // its own package only (the memo keeps the previous name lower-cased).
  composer::entry_memo memo;
  const std::string text = R"({"require":{"acme/one":"1","acme/two":"2","acme/six":"6"}})";
  for (const char* name : {"Acme/One", "Acme/One", "Acme/Two", "acme/two", "Acme/Six", "Acme/One"}) {
    composer::version_fields f;
    f.name = name;
    f.version = "1.0.0";
    f.version_normalized = "1.0.0.0";
    auto view = parse_view(text);
    REQUIRE(view);
    const composer::encoded_entry& e = composer::version_entry(*view, composer::member_texts{}, f, memo);
    std::string require;
    for (const auto& m : e.members)
      if (e.key(m) == "require") require = std::string(e.value(m));
    INFO(name);
    const std::string self = detail_lower(name);
    CHECK(require.find("\"" + self + "\"") == std::string::npos);
    CHECK(require.size() == std::string(R"({"acme/one":"1","acme/two":"2"})").size());
  }
}
