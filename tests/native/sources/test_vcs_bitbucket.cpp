// A Bitbucket Cloud repository as a source, on the native host with the in-C++ fake 2.0 API: paging by
// the body's `next`, Composer's version rules, skipped refs, p2 and dist through the broker (the web
// host's /get/{sha}.zip, with credentials), Basic app-password credentials, 429 rate limits and 500s.
#include "test_vcs_fake.h"

using namespace pb;
using namespace pb::testing;
using namespace pb::testing::vcs;

namespace {

fake_host bitbucket() {
  fake_host f;
  f.kind = 'b';
  f.web = "https://bitbucket.org/ws/widget";
  f.api = "https://api.bitbucket.org/2.0";
  f.repo_path = "ws/widget";
  f.authorization = "Basic " + base64_encode("deployer:app-pw");
  populate(f);
  return f;
}

const char* source = R"({"type":"bitbucket","url":"https://bitbucket.org/ws/widget",
                         "credentials":{"type":"basic","username":"deployer","password":"app-pw"}})";

}  // namespace

TEST_CASE("a Bitbucket repository syncs every page of refs into versions", "[sources][vcs][bitbucket][native]") {
  fixture f(bitbucket(), source);
  check_populated_sync(f);
  const std::string repo = "https://api.bitbucket.org/2.0/repositories/ws/widget";
  CHECK(f.up.seen[0].first == repo);
  CHECK(f.up.seen[1].first == repo + "/refs/tags?pagelen=100");
  CHECK(f.up.seen[2].first == repo + "/refs/tags?pagelen=100&page=2");

  SECTION("the archive comes from the web host, with the credentials") {
    check_download(f, "https://bitbucket.org/ws/widget/get/" + sha_of('b') + ".zip");
    check_credentials(f, {"bitbucket.org", "api.bitbucket.org"});
  }
  SECTION("an upstream 500 keeps the served metadata") { check_fault_keeps_metadata(f); }
}

TEST_CASE("Bitbucket's 429 stops the sync until Retry-After", "[sources][vcs][bitbucket][native]") {
  fixture f(bitbucket(), source);
  check_rate_limit(f, 1767225600000 + 120 * 1000);
}

TEST_CASE("self-hosted Bitbucket-style API via api_url", "[sources][vcs][bitbucket][native]") {
  fake_host b = bitbucket();
  b.web = "https://bb.example.test/ws/widget";
  b.api = "https://bb-api.example.test/2.0";
  fixture f(std::move(b), R"({"type":"bitbucket","url":"https://bb.example.test/ws/widget","api_url":"https://bb-api.example.test/2.0",
                              "credentials":{"type":"basic","username":"deployer","password":"app-pw"}})");
  CHECK(f.sync().body_json()["result"]["status"].as_string() == "ok");
  CHECK(f.up.seen[0].first == "https://bb-api.example.test/2.0/repositories/ws/widget");
  check_download(f, "https://bb.example.test/ws/widget/get/" + sha_of('b') + ".zip");
}
