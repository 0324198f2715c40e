// A packagist source laid out like packagist.org (issue 13 item 1, issue 10 items 3, 6, 8): metadata on
// one origin (https://repo.pk.test), the change feed and the advisories API on another
// (https://api.pk.test), as its packages.json advertises. The feed cursor is taken at creation, private
// vendors are never mirrored nor sent upstream, and the advisory cache is bounded and lives an hour.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>

#include "composer/minifier.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"

using namespace pb;
using namespace pb::testing;

namespace {

constexpr std::int64_t t0 = 1767225600000;  // fetch_start's fixed time

json log_version(const std::string& v) {
  return *parse_json(R"({"name":"psr/log","version":")" + v + R"(","version_normalized":")" + v +
                     R"(.0","type":"library","dist":{"type":"zip","url":"https://gh.test/psr/log/zipball/)" +
                     std::string(40, v[0]) + R"(","reference":")" + std::string(40, v[0]) + R"(","shasum":""}})");
}

struct packagist_org {
  std::vector<json> log_versions{log_version("1.0.0")};
  std::string last_modified = "Mon, 01 Jan 2024 00:00:00 GMT";
  std::int64_t feed_now = 17672256000000;       // the feed's clock (1/10,000 s)
  std::vector<std::pair<std::int64_t, std::string>> changes;  // (timestamp, package)
  bool advisories_down = false, feed_down = false;
  std::vector<std::string> urls, advisory_bodies;

  upstream_response operator()(const json& req) {
    std::string url(req["url"].as_string());
    urls.push_back(url);
    if (url == "https://repo.pk.test/packages.json")
      return {200, {}, R"({"packages":[],"metadata-url":"/p2/%package%.json",
        "metadata-changes-url":"https://api.pk.test/metadata/changes.json",
        "security-advisories":{"metadata":true,"api-url":"https://api.pk.test/api/security-advisories/"},
        "providers-api":"https://api.pk.test/providers/%package%.json","list":"https://api.pk.test/packages/list.json",
        "notify-batch":"https://api.pk.test/downloads/"})"};
    if (url == "https://repo.pk.test/p2/psr/log.json") {
      json doc = json::object();
      json pk = json::object();
      pk.set("psr/log", composer::minify(log_versions));
      doc.set("packages", pk);
      doc.set("minified", json("composer/2.0"));
      return {200, {{"last-modified", last_modified}}, doc.dump()};
    }
    if (url == "https://repo.pk.test/p2/psr/log~dev.json") return {200, {}, R"({"packages":{"psr/log":[]}})"};
    if (url.rfind("https://api.pk.test/metadata/changes.json", 0) == 0) {
      if (feed_down) return {500, {}, "<html>oops</html>"};
      std::size_t at = url.find("since=");
      if (at == std::string::npos)
        return {400, {}, R"({"error":"Invalid or missing \"since\" query parameter","timestamp":)" + std::to_string(feed_now) + "}"};
      std::int64_t since = std::stoll(url.substr(at + 6));
      std::string actions;
      for (const auto& [ts, name] : changes)
        if (ts >= since && ts < feed_now)
          actions += std::string(actions.empty() ? "" : ",") + R"({"type":"update","package":")" + name + R"(","time":1})";
      return {200, {}, R"({"actions":[)" + actions + R"(],"timestamp":)" + std::to_string(feed_now) + "}"};
    }
    if (url == "https://api.pk.test/api/security-advisories/") {
      advisory_bodies.emplace_back(req["body"].as_string());
      if (advisories_down) return {503, {}, "<html>down</html>"};
      return {200, {}, R"({"advisories":{"psr/log":[{"advisoryId":"PKSA-1","packageName":"psr/log","title":"bad","affectedVersions":"<1.0.1","reportedAt":"2024-01-01 00:00:00","sources":[]}]}})"};
    }
    return {404, {}, "Not Found"};
  }
  // Everything under the metadata origin that is not metadata must not exist there (as on packagist).
  bool asked_metadata_origin_for_api() const {
    return std::any_of(urls.begin(), urls.end(), [](const std::string& u) {
      return u.rfind("https://repo.pk.test/", 0) == 0 && u.find("/p2/") == std::string::npos && u != "https://repo.pk.test/packages.json";
    });
  }
};

struct fixture {
  native_host h;
  packagist_org up;
  json vars = [] {
    json v = admin_vars();
    v.set("PB_PRIVATE_VENDORS", json("acme, acme-*"));
    return v;
  }();
  client c{h, "https://broker.test", vars};
  std::string reader, updater;
  std::int64_t source_id = 0;
  fixture() {
    h.set_upstream([this](const json& r) { return up(r); });
    reader = std::string(c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"r"})").body_json()["token"].as_string());
    updater = std::string(
        c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"u","access":"update"})").body_json()["token"].as_string());
    reply s = c.call("POST", "/admin/api/sources", bearer("adm"), R"({"type":"packagist","url":"https://repo.pk.test"})");
    REQUIRE(s.status == 201);
    source_id = s.body_json()["id"].as_int();
  }
  json source() { return c.call("GET", "/admin/api/sources/" + std::to_string(source_id), bearer("adm")).body_json(); }
  void cron() {
    h.query("UPDATE sources SET next_sync_at = 0");
    invoke(h, scheduled_start("*/15 * * * *", vars));
  }
  reply advisories(const std::string& token, const std::string& form, std::int64_t now = 0) {
    header_list hs = basic(token);
    hs.emplace_back("content-type", "application/x-www-form-urlencoded");
    client at = c;
    at.now_ms = now;
    return at.call("POST", "/api/security-advisories", hs, form);
  }
};

}  // namespace

TEST_CASE("packagist: the API is where packages.json says, and the feed cursor is taken at creation",
          "[sources][packagist][native]") {
  fixture f;
  json s = f.source();
  CHECK(s["endpoints"]["metadata-changes-url"].as_string() == "https://api.pk.test/metadata/changes.json");
  CHECK(s["endpoints"]["security-advisories-api-url"].as_string() == "https://api.pk.test/api/security-advisories/");
  CHECK(s["endpoints"]["notify-batch"].as_string() == "https://api.pk.test/downloads/");
  CHECK(f.h.query("SELECT feed_cursor FROM sources").as_array()[0]["feed_cursor"].as_string() == "17672256000000");

  // Mirrored on demand; a release published before the first cron run still arrives through the feed.
  REQUIRE(f.c.call("GET", "/p2/psr/log.json", basic(f.updater)).status == 200);
  f.up.log_versions.insert(f.up.log_versions.begin(), log_version("2.0.0"));
  f.up.last_modified = "Tue, 02 Jan 2024 00:00:00 GMT";
  f.up.changes.emplace_back(f.up.feed_now + 5, "psr/log");
  f.up.feed_now += 100;
  f.cron();
  json versions = composer::expand(f.c.call("GET", "/p2/psr/log.json", basic(f.reader)).body_json()["packages"]["psr/log"].as_array());
  CHECK(versions.as_array()[0]["version"].as_string() == "2.0.0");
  CHECK(f.source()["last_sync"]["status"].as_string() == "ok");
  CHECK_FALSE(f.up.asked_metadata_origin_for_api());

  SECTION("composer audit through the broker reports the upstream's advisories") {
    reply r = f.advisories(f.reader, "packages%5B0%5D=psr%2Flog");
    REQUIRE(r.status == 200);
    CHECK(r.body_json()["advisories"]["psr/log"].as_array()[0]["advisoryId"].as_string() == "PKSA-1");
    CHECK(f.source()["advisories"]["status"].as_string() == "ok");
  }
  SECTION("an advisories failure shows in the source's state") {
    f.up.advisories_down = true;
    reply r = f.advisories(f.reader, "packages%5B0%5D=psr%2Flog");
    CHECK(r.status == 200);  // composer still audits against what is known
    json adv = f.source()["advisories"];
    CHECK(adv["status"].as_string() == "error");
    CHECK(adv["error"].as_string().find("HTTP 503") != std::string::npos);
  }
  SECTION("a feed failure shows in last_sync") {
    f.up.feed_down = true;
    f.cron();
    json last = f.source()["last_sync"];
    CHECK(last["status"].as_string() == "error");
    CHECK(last["error"].as_string().find("https://api.pk.test/metadata/changes.json") != std::string::npos);
  }
}

TEST_CASE("packagist: private vendors and existing names are never mirrored", "[sources][packagist][native]") {
  fixture f;
  f.up.urls.clear();
  CHECK(f.c.call("GET", "/p2/acme/secret.json", basic(f.updater)).status == 404);
  CHECK(f.c.call("GET", "/p2/acme-internal/x.json", basic(f.updater)).status == 404);
  CHECK(f.up.urls.empty());  // the private name never left the broker

  // A name that exists here (here: a package row another source is still building) is not taken.
  f.h.query("INSERT INTO packages (name, source, revision, created_at, updated_at) VALUES ('psr/log', 'artifact', 0, 1, 1)");
  CHECK(f.c.call("GET", "/p2/psr/log.json", basic(f.updater)).status == 404);
  CHECK(f.h.query("SELECT source_id FROM packages").as_array()[0]["source_id"].is_null());

  // Mirrored before its vendor was declared private: its name still never goes to packagist.
  f.h.query("INSERT INTO packages (name, source, source_id, revision, created_at, updated_at) VALUES ('acme/old', 'packagist', " +
            std::to_string(f.source_id) + ", 0, 1, 1)");
  f.up.advisory_bodies.clear();
  REQUIRE(f.advisories(f.reader, "packages%5B%5D=acme%2Fold").status == 200);
  CHECK(f.up.advisory_bodies.empty());
}

TEST_CASE("advisories: capped, forwarded only for names that are or could be mirrored", "[sources][advisories][native]") {
  fixture f;
  REQUIRE(f.c.call("GET", "/p2/psr/log.json", basic(f.updater)).status == 200);

  std::string many;
  for (int i = 0; i < 1001; ++i) many += (i ? "&" : "") + std::string("packages%5B%5D=v/p") + std::to_string(i);
  reply too_many = f.advisories(f.reader, many);
  CHECK(too_many.status == 400);
  CHECK(too_many.body.find("at most 1000 package names") != std::string::npos);
  reply too_long = f.advisories(f.reader, "packages%5B%5D=v/" + std::string(200, 'a'));
  CHECK(too_long.status == 400);

  f.up.advisory_bodies.clear();
  reply r = f.advisories(f.reader, "packages%5B%5D=psr%2Flog&packages%5B%5D=acme%2Fsecret&packages%5B%5D=some%2Fother");
  REQUIRE(r.status == 200);
  REQUIRE(f.up.advisory_bodies.size() == 1);
  CHECK(f.up.advisory_bodies[0].find("psr%2Flog") != std::string::npos);
  CHECK(f.up.advisory_bodies[0].find("some%2Fother") != std::string::npos);  // could be mirrored
  CHECK(f.up.advisory_bodies[0].find("acme") == std::string::npos);          // private vendor: never sent
}

TEST_CASE("advisories: the cache lives an hour and writes KV within a daily budget", "[sources][advisories][native]") {
  fixture f;
  REQUIRE(f.c.call("GET", "/p2/psr/log.json", basic(f.updater)).status == 200);
  f.up.advisory_bodies.clear();
  const std::string form = "packages%5B%5D=psr%2Flog";
  REQUIRE(f.advisories(f.reader, form, t0).status == 200);
  CHECK(f.up.advisory_bodies.size() == 1);
  CHECK(f.h.kv().size() == 1);
  // 59 minutes later: from the cache. 61 minutes later: asked again (the clock moves, nobody sleeps).
  CHECK(f.advisories(f.reader, form, t0 + 59 * 60 * 1000).body_json()["advisories"]["psr/log"].size() == 1);
  CHECK(f.up.advisory_bodies.size() == 1);
  CHECK(f.advisories(f.reader, form, t0 + 61 * 60 * 1000).body_json()["advisories"]["psr/log"].size() == 1);
  CHECK(f.up.advisory_bodies.size() == 2);

  // Names that could be mirrored but are not are asked, never cached: made-up names cost no KV write.
  f.h.kv().clear();
  REQUIRE(f.advisories(f.reader, "packages%5B%5D=made%2Fup1&packages%5B%5D=made%2Fup2", t0).status == 200);
  CHECK(f.h.kv().empty());

  // The day's budget spent: answered from upstream, nothing written.
  f.h.query("INSERT INTO pb_meta (key, value) VALUES ('advisory_cache_writes', '2026-01-01 500') "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  REQUIRE(f.advisories(f.reader, form, t0).status == 200);
  CHECK(f.h.kv().empty());
  // A new day: writes again, and counts from 1.
  REQUIRE(f.advisories(f.reader, form, t0 + 86400 * 1000).status == 200);
  CHECK(f.h.kv().size() == 1);
  CHECK(f.h.query("SELECT value FROM pb_meta WHERE key = 'advisory_cache_writes'").as_array()[0]["value"].as_string() ==
        "2026-01-02 1");
}
