// packagist mirroring on the native host with a scripted packagist-like upstream: lazy mirroring by
// `update` tokens only, dists rewritten to our /dist, patterns in packages.json, the change feed on
// the cron trigger, and advisories passed through (with KV caching) next to locally recorded ones.
#include <catch2/catch_test_macros.hpp>

#include <map>

#include "composer/minifier.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"

using namespace pb;
using namespace pb::testing;

namespace {

json log_version(const std::string& v) {
  return *parse_json(R"({"name":"psr/log","version":")" + v + R"(","version_normalized":")" + v +
                     R"(.0","type":"library","require":{"php":">=8.0.0"},"dist":{"type":"zip","url":"https://gh.test/psr/log/zipball/)" +
                     std::string(40, v[0]) + R"(","reference":")" + std::string(40, v[0]) + R"(","shasum":""},"time":"2024-01-01T00:00:00+00:00"})");
}

struct fake_packagist {
  std::vector<json> log_versions{log_version("3.0.0"), log_version("2.0.0")};
  std::string last_modified = "Mon, 01 Jan 2024 00:00:00 GMT";
  std::vector<std::string> feed;  // package names in the next feed answer
  bool feed_down = false;
  int advisory_calls = 0;
  std::vector<std::string> urls;

  upstream_response operator()(const json& req) {
    std::string url(req["url"].as_string());
    urls.push_back(url);
    if (url == "https://packagist.test/p2/psr/log.json") {
      for (const auto& h : req["headers"].as_array())
        if (h.as_array()[0].as_string() == "if-modified-since" && h.as_array()[1].as_string() == last_modified)
          return {304, {}, ""};
      json doc = json::object();
      json pk = json::object();
      pk.set("psr/log", composer::minify(log_versions));
      doc.set("packages", pk);
      doc.set("minified", json("composer/2.0"));
      return {200, {{"last-modified", last_modified}}, doc.dump()};
    }
    if (url == "https://packagist.test/p2/psr/log~dev.json") return {200, {{"last-modified", last_modified}}, R"({"packages":{"psr/log":[]}})"};
    if (url.rfind("https://packagist.test/metadata/changes.json", 0) == 0) {
      if (feed_down) return {500, {}, "down"};
      if (url.find("since=") == std::string::npos) return {400, {}, R"({"error":"Invalid or missing \"since\" query parameter","timestamp":17040672000000})"};
      std::string actions;
      for (const auto& n : feed) actions += std::string(actions.empty() ? "" : ",") + R"({"type":"update","package":")" + n + R"(","time":1704067300})";
      feed.clear();
      return {200, {}, R"({"actions":[)" + actions + R"(],"timestamp":17040673000000})"};
    }
    if (url == "https://packagist.test/api/security-advisories/") {
      ++advisory_calls;
      return {200, {}, R"({"advisories":{"psr/log":[{"advisoryId":"PKSA-1","packageName":"psr/log","title":"bad","affectedVersions":">=2,<2.0.1","reportedAt":"2024-01-01 00:00:00","sources":[]}]}})"};
    }
    if (url.rfind("https://gh.test/psr/log/zipball/", 0) == 0) {
      std::string z = make_zip({{"psr-log-abc/composer.json", R"({"name":"psr/log"})"}});
      return {200, {{"content-length", std::to_string(z.size())}}, z};
    }
    return {404, {}, "{}"};
  }
};

struct fixture {
  native_host h;
  fake_packagist up;
  client c{h, "https://broker.test", admin_vars()};
  std::string reader, updater;
  std::int64_t source_id = 0;
  fixture() {
    h.set_upstream([this](const json& r) { return up(r); });
    reader = std::string(c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"r"})").body_json()["token"].as_string());
    updater = std::string(
        c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"u","access":"update"})").body_json()["token"].as_string());
    source_id = c.call("POST", "/admin/api/sources", bearer("adm"),
                       R"({"type":"packagist","url":"https://packagist.test","include":["psr/*"],"exclude":["psr/evil"]})")
                    .body_json()["id"]
                    .as_int();
  }
};

}  // namespace

TEST_CASE("packagist packages are mirrored on first request by update tokens only", "[sources][packagist][native]") {
  fixture f;
  CHECK(f.c.call("GET", "/p2/psr/log.json", basic(f.reader)).status == 404);
  reply r = f.c.call("GET", "/p2/psr/log.json", basic(f.updater));
  INFO(r.body);
  REQUIRE(r.status == 200);
  json versions = composer::expand(r.body_json()["packages"]["psr/log"].as_array());
  REQUIRE(versions.size() == 2);
  CHECK(versions.as_array()[0]["version"].as_string() == "3.0.0");
  CHECK(std::string(versions.as_array()[0]["dist"]["url"].as_string()).rfind("https://broker.test/dist/psr/log/3.0.0.0/", 0) == 0);
  CHECK(f.c.call("GET", "/p2/psr/log.json", basic(f.reader)).status == 200);  // mirrored now
  CHECK(f.c.call("GET", "/p2/psr/evil.json", basic(f.updater)).status == 404);
  CHECK(f.c.call("GET", "/p2/other/pkg.json", basic(f.updater)).status == 404);

  json root = f.c.call("GET", "/packages.json", basic(f.reader)).body_json();
  CHECK(root.find("available-packages") == nullptr);
  CHECK(root["available-package-patterns"].dump().find("psr/*") != std::string::npos);
  CHECK(root["security-advisories"]["api-url"].as_string() == "https://broker.test/api/security-advisories");

  std::string dist = std::string(versions.as_array()[0]["dist"]["url"].as_string()).substr(std::string("https://broker.test").size());
  reply d = f.c.call("GET", dist, basic(f.reader));
  CHECK(d.status == 200);
  CHECK(d.body.rfind("PK", 0) == 0);
}

TEST_CASE("the change feed refreshes mirrored packages on the cron trigger", "[sources][packagist][native]") {
  fixture f;
  REQUIRE(f.c.call("GET", "/p2/psr/log.json", basic(f.updater)).status == 200);
  invoke(f.h, scheduled_start("*/15 * * * *", admin_vars()));  // first run learns the feed position
  f.up.log_versions.insert(f.up.log_versions.begin(), log_version("4.0.0"));
  f.up.last_modified = "Tue, 02 Jan 2024 00:00:00 GMT";
  f.up.feed = {"psr/log", "psr/unmirrored"};
  f.h.query("UPDATE sources SET next_sync_at = 0");
  invoke(f.h, scheduled_start("*/15 * * * *", admin_vars()));
  json versions = composer::expand(f.c.call("GET", "/p2/psr/log.json", basic(f.reader)).body_json()["packages"]["psr/log"].as_array());
  CHECK(versions.as_array()[0]["version"].as_string() == "4.0.0");
  for (const auto& u : f.up.urls) CHECK(u.find("psr/unmirrored") == std::string::npos);

  SECTION("a broken feed leaves the mirror intact and records the error") {
    std::string before = f.c.call("GET", "/p2/psr/log.json", basic(f.reader)).body;
    f.up.feed_down = true;
    f.h.query("UPDATE sources SET next_sync_at = 0");
    invoke(f.h, scheduled_start("*/15 * * * *", admin_vars()));
    json s = f.c.call("GET", "/admin/api/sources/" + std::to_string(f.source_id), bearer("adm")).body_json();
    CHECK(s["last_sync"]["status"].as_string() == "error");
    CHECK(f.c.call("GET", "/p2/psr/log.json", basic(f.reader)).body == before);
  }
}

TEST_CASE("advisories: local ones and the packagist source's, cached", "[sources][packagist][advisories][native]") {
  fixture f;
  REQUIRE(f.c.call("GET", "/p2/psr/log.json", basic(f.updater)).status == 200);
  std::string zip = make_zip({{"composer.json", R"({"name":"acme/app"})"}});
  header_list up = bearer("adm");
  up.emplace_back("content-length", std::to_string(zip.size()));
  REQUIRE(f.c.call("PUT", "/admin/api/artifacts/acme/app?version=1.0.0", up, zip).status == 201);
  std::string safe_zip = make_zip({{"composer.json", R"({"name":"acme/safe"})"}});
  header_list safe_up = bearer("adm");
  safe_up.emplace_back("content-length", std::to_string(safe_zip.size()));
  REQUIRE(f.c.call("PUT", "/admin/api/artifacts/acme/safe?version=1.0.0", safe_up, safe_zip).status == 201);
  reply created = f.c.call("POST", "/admin/api/advisories", bearer("adm"),
                           R"({"package":"acme/app","title":"RCE in app","affected_versions":"<1.0.1","cve":"CVE-2026-0001"})");
  REQUIRE(created.status == 201);

  // composer's http_build_query form: packages[0]=...&packages[1]=...
  header_list form = basic(f.reader);
  form.emplace_back("content-type", "application/x-www-form-urlencoded");
  reply r = f.c.call("POST", "/api/security-advisories", form, "packages%5B0%5D=psr%2Flog&packages%5B1%5D=acme%2Fapp&packages%5B%5D=acme%2Fsafe");
  INFO(r.body);
  REQUIRE(r.status == 200);
  json adv = r.body_json()["advisories"];
  CHECK(adv["psr/log"].as_array()[0]["advisoryId"].as_string() == "PKSA-1");
  CHECK(adv["acme/app"].as_array()[0]["title"].as_string() == "RCE in app");
  CHECK(adv["acme/app"].as_array()[0]["affectedVersions"].as_string() == "<1.0.1");
  CHECK(f.up.advisory_calls == 1);
  reply again = f.c.call("GET", "/api/security-advisories?packages[]=psr/log", basic(f.reader));
  CHECK(again.body_json()["advisories"]["psr/log"].size() == 1);
  CHECK(f.up.advisory_calls == 1);  // served from the KV cache
  CHECK(f.c.call("GET", "/api/security-advisories?packages[]=psr/log", {}).status == 401);
}
