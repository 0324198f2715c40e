// Deletion (packages, versions, sources with their R2 objects), download stats (notify-batch counts
// only versions that exist; /dist fetches; GET /admin/api/stats) and per-token rate limits, on the
// native host.
#include "auth/rate_limit.h"
#include "bindings/effects.h"
#include "native/routes/admin_fixture.h"

using namespace pb;
using namespace pb::testing;

namespace {
constexpr std::int64_t jan_1 = 1767225600000;
}

TEST_CASE("deleting a version rebuilds the documents and removes the archive", "[deletion][native]") {
  admin_fixture f;
  REQUIRE(f.upload("acme/widget", "1.0.0").status == 201);
  json leaked = f.upload("acme/widget", "1.1.0").body_json();
  std::string token(f.token(R"({"name":"ci"})")["token"].as_string());
  std::string key(f.h.query("SELECT dist_key FROM versions WHERE version = '1.1.0'").as_array()[0]["dist_key"].as_string());
  REQUIRE(f.h.blob_exists(key));
  REQUIRE(p2_versions(f.as_client(token, "GET", "/p2/acme/widget.json").body_json(), "acme/widget").size() == 2);  // now cached

  reply del = f.admin("DELETE", "/admin/api/packages/acme/widget/versions/1.1.0");
  INFO(del.body);
  REQUIRE(del.status == 200);
  CHECK(del.body_json()["objects_deleted"].as_array()[0].as_string() == key);
  CHECK_FALSE(f.h.blob_exists(key));
  // The isolate's cached document went with it: the next hit is the rebuilt one.
  CHECK(p2_versions(f.as_client(token, "GET", "/p2/acme/widget.json").body_json(), "acme/widget") ==
        std::vector<std::string>{"1.0.0"});
  std::string dist(leaked["dist_url"].as_string());
  CHECK(f.as_client(token, "GET", dist.substr(std::string("https://repo.test").size())).status == 404);
  json entry = f.audit("?action=version.delete").as_array()[0];
  CHECK(entry["before"]["deleted"]["version"].as_string() == "1.1.0");
  CHECK(entry["before"]["deleted"]["dist_shasum"].as_string() == leaked["shasum"].as_string());
  CHECK(f.admin("DELETE", "/admin/api/packages/acme/widget/versions/1.1.0").status == 404);

  SECTION("the normalized form works too; the last version takes the package with it") {
    REQUIRE(f.admin("DELETE", "/admin/api/packages/acme/widget/versions/1.0.0.0").status == 200);
    CHECK(f.admin("GET", "/admin/api/packages/acme/widget").status == 404);
    CHECK(f.as_client(token, "GET", "/p2/acme/widget.json").status == 404);
    CHECK(f.h.blob_count() == 0);
  }
  SECTION("deleting the package removes everything") {
    REQUIRE(f.upload("acme/widget", "1.2.0").status == 201);
    reply gone = f.admin("DELETE", "/admin/api/packages/acme/widget");
    REQUIRE(gone.status == 200);
    CHECK(gone.body_json()["objects_deleted"].size() == 2);
    CHECK(f.h.blob_count() == 0);
    CHECK(f.count("SELECT COUNT(*) AS n FROM versions") == 0);
    CHECK(f.count("SELECT COUNT(*) AS n FROM metadata_documents") == 0);
    CHECK(f.as_client(token, "GET", "/packages.json").body_json()["available-packages"].size() == 0);
    CHECK(f.admin("DELETE", "/admin/api/packages/acme/widget").status == 404);
    CHECK(f.audit("?action=package.delete").as_array()[0]["before"]["deleted"]["versions"].size() == 2);
  }
  SECTION("a viewer may not delete") {
    std::string viewer(f.admin("POST", "/admin/api/admins", R"({"name":"v","role":"viewer"})").body_json()["token"].as_string());
    CHECK(f.admin("DELETE", "/admin/api/packages/acme/widget", {}, viewer).status == 403);
    CHECK(f.count("SELECT COUNT(*) AS n FROM versions") == 1);
  }
}

TEST_CASE("deleting a source removes its packages and their R2 copies", "[deletion][sources][native]") {
  admin_fixture f;
  json src = f.admin("POST", "/admin/api/sources", R"({"type":"composer","url":"https://satis.example.com"})").body_json();
  std::int64_t id = src["id"].as_int();
  // A mirrored package as a sync and a first download leave it: rows with the source, an archive in R2.
  f.h.query("INSERT INTO packages (name, source, source_id, revision, created_at, updated_at) VALUES ('up/lib', 'composer', " +
            std::to_string(id) + ", 1, 1, 1)");
  f.h.query("INSERT INTO versions (package_id, version, version_normalized, stability, reference, composer_json, dist_key, "
            "source, source_id, created_at) SELECT id, '1.0.0', '1.0.0.0', 'stable', 'abc', '{}', 'mirror/up/lib/abc.zip', "
            "'composer', " + std::to_string(id) + ", 1 FROM packages WHERE name = 'up/lib'");
  f.h.put_blob("mirror/up/lib/abc.zip", "zip bytes");
  REQUIRE(f.h.blob_exists("mirror/up/lib/abc.zip"));
  reply del = f.admin("DELETE", "/admin/api/sources/" + std::to_string(id));
  INFO(del.body);
  REQUIRE(del.status == 200);
  CHECK(del.body_json()["packages"].dump() == R"(["up/lib"])");
  CHECK_FALSE(f.h.blob_exists("mirror/up/lib/abc.zip"));
  CHECK(f.count("SELECT COUNT(*) AS n FROM packages") == 0);
  json entry = f.audit("?action=source.delete").as_array()[0];
  CHECK(entry["before"]["url"].as_string() == "https://satis.example.com");
  CHECK(entry["before"]["packages"].size() == 1);
}

TEST_CASE("stats: installs and fetches per package, version, token and day", "[stats][native]") {
  admin_fixture f;
  REQUIRE(f.upload("acme/widget", "1.0.0").status == 201);
  json t = f.token(R"({"name":"ci"})");
  std::string token(t["token"].as_string());
  // Only versions that exist count; bad names and oversized entries are skipped.
  std::string batch = R"({"downloads":[{"name":"acme/widget","version":"1.0.0.0"},{"name":"acme/widget","version":"1.0.0"},)"
                      R"({"name":"acme/widget","version":"9.9.9.9"},{"name":"made/up","version":"1.0.0.0"},)"
                      R"({"name":")" + std::string(300, 'a') + R"(/b","version":"1.0.0.0"}]})";
  REQUIRE(f.as_client(token, "POST", "/downloads", batch).status == 201);
  json rows = f.h.query("SELECT version_normalized, count, fetches FROM downloads");
  REQUIRE(rows.size() == 1);
  CHECK(rows.as_array()[0]["count"].as_int() == 2);
  std::string dist(f.admin("GET", "/admin/api/packages/acme/widget").body_json()["versions"].as_array()[0]["dist_url"].as_string());
  REQUIRE(f.as_client(token, "GET", dist).status == 200);
  CHECK(f.h.query("SELECT fetches FROM downloads").as_array()[0]["fetches"].as_int() == 1);
  // The fetch count is marked coalescible (PROTOCOL.md d1.run "group"); nothing else is.
  CHECK(f.h.grouped_writes == std::vector<std::string>{"downloads"});
  f.c.now_ms = jan_1 + 86'400'000;
  REQUIRE(f.as_client(token, "POST", "/downloads", R"({"downloads":[{"name":"acme/widget","version":"1.0.0.0"}]})").status == 201);

  json by_day = f.admin("GET", "/admin/api/stats?group=day&from=2026-01-01&to=2026-01-02").body_json();
  REQUIRE(by_day["rows"].size() == 2);
  CHECK(by_day["rows"].as_array()[0]["day"].as_string() == "2026-01-01");
  CHECK(by_day["rows"].as_array()[0]["downloads"].as_int() == 2);
  CHECK(by_day["rows"].as_array()[0]["fetches"].as_int() == 1);
  CHECK(by_day["totals"]["downloads"].as_int() == 3);
  json by_token = f.admin("GET", "/admin/api/stats?group=token&days=7").body_json();
  REQUIRE(by_token["rows"].size() == 1);
  CHECK(by_token["rows"].as_array()[0]["token_name"].as_string() == "ci");
  CHECK(f.admin("GET", "/admin/api/stats?group=version&package=acme/widget").body_json()["rows"].as_array()[0]["version"].as_string() ==
        "1.0.0.0");
  CHECK(f.admin("GET", "/admin/api/stats?group=planet").status == 400);
  CHECK(f.admin("GET", "/admin/api/stats?from=2026-02-01&to=2026-01-01").status == 400);
  CHECK(f.admin("GET", "/admin/api/stats?from=2026-01-01&days=3").status == 400);
}

TEST_CASE("rate limits: headers on every answer, 429 with Retry-After and composer's warning", "[ratelimit][native]") {
  admin_fixture f;
  REQUIRE(f.upload("acme/widget", "1.0.0").status == 201);
  std::string token(f.token(R"({"name":"ci","rate_limit":3})")["token"].as_string());
  f.c.now_ms = jan_1 + 20'000;
  for (int i = 0; i < 3; ++i) {
    reply r = f.as_client(token, "GET", i == 0 ? "/packages.json" : "/p2/acme/widget.json");
    CHECK(r.status == 200);
    CHECK(r.header("x-ratelimit-limit") == "3");
    CHECK(r.header("x-ratelimit-remaining") == std::to_string(2 - i));
    CHECK(r.header("x-ratelimit-reset") == std::to_string((jan_1 + 60'000) / 1000));
  }
  reply limited = f.as_client(token, "GET", "/p2/acme/widget.json");
  CHECK(limited.status == 429);
  CHECK(limited.header("content-type") == "application/json");
  CHECK(limited.header("retry-after") == "40");
  CHECK(limited.header("x-ratelimit-remaining") == "0");
  CHECK(std::string(limited.body_json()["warning"].as_string()).find("rate limit") != std::string::npos);
  CHECK(limited.body_json()["error"]["code"].as_string() == "rate_limited");
  CHECK(f.audit("?action=access.rate_limited").size() == 1);
  // The next minute is a new window.
  f.c.now_ms = jan_1 + 60'000;
  CHECK(f.as_client(token, "GET", "/p2/acme/widget.json").status == 200);

  SECTION("the default applies to tokens without their own limit; 0 is unlimited") {
    json vars = admin_vars();
    vars.set("PB_RATE_LIMIT", json("2"));
    f.c.vars = vars;
    std::string other(f.token(R"({"name":"default"})")["token"].as_string());
    std::string free(f.token(R"({"name":"free","rate_limit":0})")["token"].as_string());
    CHECK(f.as_client(other, "GET", "/packages.json").header("x-ratelimit-limit") == "2");
    CHECK(f.as_client(other, "GET", "/packages.json").status == 200);
    CHECK(f.as_client(other, "GET", "/packages.json").status == 429);
    reply unlimited = f.as_client(free, "GET", "/packages.json");
    CHECK(unlimited.status == 200);
    CHECK(unlimited.header("x-ratelimit-limit").empty());
  }
}

TEST_CASE("rate limiter: windows per calendar minute, bounded memory", "[ratelimit]") {
  auth::reset_rate_limits();
  auto a = auth::take(1, 2, 59'000);
  CHECK(a.allowed);
  CHECK(a.remaining == 1);
  CHECK(a.reset_s == 60);
  CHECK(auth::take(1, 2, 59'500).allowed);
  auto c = auth::take(1, 2, 59'900);
  CHECK_FALSE(c.allowed);
  CHECK(c.retry_after_s == 1);
  CHECK(auth::take(1, 2, 60'000).allowed);  // new minute
  CHECK(auth::take(2, 0, 0).limit == 0);    // unlimited
  for (std::int64_t id = 0; id < 20000; ++id) (void)auth::take(id, 5, 120'000);
  CHECK(auth::take(7, 5, 120'001).allowed);
  auth::reset_rate_limits();
}
