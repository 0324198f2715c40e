// A GitLab project as a source (self-hosted, nested group path), on the native host with the in-C++
// fake v4 API: X-Next-Page pagination, Composer's version rules, skipped refs, p2 and dist through the
// broker (repository/archive.zip on the API host, with credentials), 429 rate limits and 500s.
#include "test_vcs_fake.h"

using namespace pb;
using namespace pb::testing;
using namespace pb::testing::vcs;

namespace {

fake_host gitlab() {
  fake_host f;
  f.kind = 'l';
  f.web = "https://gitlab.example.test/group/sub/widget";
  f.api = "https://gitlab.example.test/api/v4";
  f.repo_path = "group/sub/widget";
  populate(f);
  return f;
}

const char* source = R"({"type":"gitlab","url":"https://gitlab.example.test/group/sub/widget/",
                         "credentials":{"type":"bearer","token":"tok"}})";

}  // namespace

TEST_CASE("a GitLab project syncs every page of refs into versions", "[sources][vcs][gitlab][native]") {
  fixture f(gitlab(), source);
  check_populated_sync(f);
  const std::string project = "https://gitlab.example.test/api/v4/projects/group%2Fsub%2Fwidget";
  CHECK(f.up.seen[0].first == project);
  CHECK(f.up.seen[1].first == project + "/repository/tags?per_page=100");
  CHECK(f.up.seen[2].first == project + "/repository/tags?per_page=100&page=2");
  CHECK(f.up.seen[3].first == project + "/repository/tags?per_page=100&page=3");
  // The commit date is the version's time.
  CHECK(f.p2().as_array()[0]["time"].as_string().rfind("2025-12-0", 0) == 0);

  SECTION("the archive comes from the API host, with the credentials") {
    check_download(f, project + "/repository/archive.zip?sha=" + sha_of('b'));
    check_credentials(f, {"gitlab.example.test"});
  }
  SECTION("an upstream 500 keeps the served metadata") { check_fault_keeps_metadata(f); }
}

TEST_CASE("GitLab's 429 with Retry-After stops the sync until then", "[sources][vcs][gitlab][native]") {
  fixture f(gitlab(), source);
  check_rate_limit(f, 1767225600000 + 120 * 1000);
}

TEST_CASE("a GitLab numeric default branch is x.y.x-dev with default-branch", "[sources][vcs][gitlab][native]") {
  fake_host g = gitlab();
  g.default_branch = "2.x";
  fixture f(std::move(g), source);
  CHECK(f.sync().body_json()["result"]["status"].as_string() == "ok");
  json dev = f.p2(true);
  for (const auto& v : dev.as_array())
    CHECK(v["default-branch"].as_bool() == (v["version"].as_string() == "2.x-dev"));
}
