// A GitHub repository as a source (github.com defaults and GitHub Enterprise via api_url), on the native
// host with the in-C++ fake API: every page of tags and branches, Composer's version rules, skipped refs,
// p2 and dist through the broker (zipball -> codeload without credentials), rate limits and 500s.
// (A repository big enough to need several slices: test_sync_queue.cpp.)
#include "test_vcs_fake.h"

using namespace pb;
using namespace pb::testing;
using namespace pb::testing::vcs;

namespace {

fake_host github_com() {
  fake_host f;
  f.kind = 'h';
  f.web = "https://github.com/acme/widget";
  f.api = "https://api.github.com";
  f.repo_path = "acme/widget";
  f.archive_host = "codeload.github.com";
  populate(f);
  return f;
}

fake_host enterprise() {
  fake_host f = github_com();
  f.web = "https://ghe.example.test/acme/widget";
  f.api = "https://ghe.example.test/api/v3";
  f.archive_host = "codeload.ghe.example.test";
  return f;
}

const char* ghe_source = R"({"type":"github","url":"https://ghe.example.test/acme/widget",
                             "api_url":"https://ghe.example.test/api/v3/","credentials":{"type":"bearer","token":"tok"}})";

}  // namespace

TEST_CASE("a GitHub Enterprise repository syncs every page of refs into versions", "[sources][vcs][github][native]") {
  fixture f(enterprise(), ghe_source);
  check_populated_sync(f);
  // Every request derived from url/api_url; tags and branches were paged.
  for (const auto& [url, auth] : f.up.seen) CHECK(url.rfind("https://ghe.example.test/api/v3/repos/acme/widget", 0) == 0);
  CHECK(f.up.seen[1].first == "https://ghe.example.test/api/v3/repos/acme/widget/tags?per_page=100");
  CHECK(f.up.seen[2].first == "https://ghe.example.test/api/v3/repos/acme/widget/tags?per_page=100&page=2");
  // One composer.json read per commit (nightly shares v1.0.0's commit and is skipped by name anyway).
  std::size_t reads = 0;
  for (const auto& [url, auth] : f.up.seen) reads += url.find("/contents/composer.json?ref=") != std::string::npos;
  CHECK(reads == 7);

  SECTION("the archive comes from the zipball API, then codeload without credentials") {
    check_download(f, "https://ghe.example.test/api/v3/repos/acme/widget/zipball/" + sha_of('b'));
    CHECK(f.up.seen.back().first == "https://codeload.ghe.example.test/acme/widget/legacy.zip/" + sha_of('b'));
    check_credentials(f, {"ghe.example.test"});
  }
  SECTION("an upstream 500 keeps the served metadata") { check_fault_keeps_metadata(f); }
  SECTION("a new tag appears after the next sync; a deleted one disappears") {
    f.up.tags.push_back({"v1.2.0", sha_of('7')});
    f.up.files[sha_of('7')] = R"({"name":"acme/widget"})";
    f.up.tags.erase(f.up.tags.begin());  // v1.0.0
    CHECK(f.sync().body_json()["result"]["status"].as_string() == "ok");
    CHECK(versions_of(f.p2()) == std::vector<std::string>{"v1.2.0", "1.1.0"});
  }
}

TEST_CASE("github.com: the API host is derived from the web URL", "[sources][vcs][github][native]") {
  fixture f(github_com(), R"({"type":"github","url":"https://github.com/acme/widget.git","credentials":{"type":"bearer","token":"tok"}})");
  reply r = f.sync();
  INFO(r.body);
  CHECK(r.body_json()["result"]["status"].as_string() == "ok");
  CHECK(f.up.seen[0].first == "https://api.github.com/repos/acme/widget");
  check_credentials(f, {"api.github.com", "github.com"});
}

TEST_CASE("GitHub's rate limit stops the sync until the reset", "[sources][vcs][github][native]") {
  fixture f(enterprise(), ghe_source);
  check_rate_limit(f, f.up.reset_s * 1000);
}

TEST_CASE("a low remaining GitHub quota stops the slice early", "[sources][vcs][github][native]") {
  fixture f(enterprise(), ghe_source);
  f.up.remaining_header = 4;
  json r = f.sync().body_json();
  CHECK(r["result"]["status"].as_string() == "running");
  CHECK(f.up.seen.size() == 1);  // the repository read said 4 left: nothing more
  CHECK(f.h.query("SELECT next_sync_at FROM sources").as_array()[0]["next_sync_at"].as_int() == f.up.reset_s * 1000);
  f.up.remaining_header = 4000;
  CHECK(f.sync_at(f.up.reset_s * 1000 + 1)["result"]["status"].as_string() == "ok");
}

TEST_CASE("a repository without any usable composer.json is an error, nothing is served",
          "[sources][vcs][github][native]") {
  fake_host empty = enterprise();
  empty.files.clear();
  fixture f(std::move(empty), ghe_source);
  json r = f.sync().body_json();
  CHECK(r["result"]["status"].as_string() == "error");
  CHECK(r["result"]["errors"].as_array()[0].as_string().find("no valid composer.json") != std::string_view::npos);
}

TEST_CASE("a GitHub source URL that names no repository is refused with the URL quoted", "[sources][vcs][github][native]") {
  fixture f(enterprise(), ghe_source);
  (void)f.h.query("UPDATE sources SET url = 'https://ghe.example.test/acme'");  // the admin API refuses it already
  json r = f.sync().body_json();
  CHECK(r["result"]["status"].as_string() == "error");
  CHECK(r["result"]["errors"].as_array()[0].as_string().find("\"https://ghe.example.test/acme\"") != std::string_view::npos);
  CHECK(f.up.seen.empty());
}
