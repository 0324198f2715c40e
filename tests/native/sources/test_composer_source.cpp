// A Composer repository as a source, on the native host with a scripted upstream: v2 (minified p2) and
// v1 (inline packages + includes) syncs, include/exclude patterns, credentials only to the source's
// host, dist fetch-through into R2, and upstream failures that leave the last good metadata served.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <fstream>
#include <map>

#include "auth/sealing.h"
#include "composer/minifier.h"
#include "core/base64.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"

using namespace pb;
using namespace pb::testing;

namespace {

// A small private Composer repository at https://satis.test behind Basic auth (deploy:pw).
struct fake_repo {
  std::map<std::string, upstream_response> routes;  // url -> response
  std::vector<std::pair<std::string, std::string>> seen;  // url, authorization
  std::string fault;  // "500" or "garbage": applied to packages.json

  upstream_response operator()(const json& req) {
    std::string url(req["url"].as_string());
    std::string auth = request_header(req, "authorization");
    seen.emplace_back(url, auth);
    if (url.rfind("https://satis.test/", 0) == 0 && auth != "Basic " + base64_encode("deploy:pw"))
      return {401, {{"content-type", "application/json"}}, "{\"warning\":\"auth\"}"};
    if (url == "https://satis.test/packages.json" && fault == "500") return {500, {}, "oops"};
    if (url == "https://satis.test/packages.json" && fault == "garbage") return {200, {}, "<html>not json"};
    auto it = routes.find(url);
    if (it == routes.end()) return {404, {}, "{}"};
    return it->second;
  }
};

std::string lib_zip(const std::string& v) {
  return make_zip({{"composer.json", "{\"name\":\"acme/lib\",\"version\":\"" + v + "\"}"}, {"src/Lib.php", "<?php // " + v}});
}

json version_obj(const std::string& version, const std::string& normalized, const std::string& dist_url,
                 const std::string& reference, const std::string& shasum, const std::string& require_php) {
  json v = json::object();
  v.set("name", json("acme/lib"));
  v.set("version", json(version));
  v.set("version_normalized", json(normalized));
  json dist = json::object();
  dist.set("type", json("zip"));
  dist.set("url", json(dist_url));
  dist.set("reference", json(reference));
  dist.set("shasum", json(shasum));
  v.set("dist", dist);
  json req = json::object();
  req.set("php", json(require_php));
  v.set("require", req);
  v.set("type", json("library"));
  v.set("time", json("2026-01-02T03:04:05+00:00"));
  return v;
}

void serve_v2(fake_repo& repo) {
  std::string z1 = lib_zip("1.0.0"), z2 = lib_zip("1.1.0"), zb = lib_zip("dev-main");
  repo.routes["https://satis.test/packages.json"] = {
      200, {}, R"({"packages":[],"metadata-url":"/p2/%package%.json","available-packages":["acme/lib","other/skip"]})"};
  json_array tagged{version_obj("1.1.0", "1.1.0.0", "https://satis.test/dist/lib-1.1.0.zip",
                                "1111111111111111111111111111111111111111", hex_digest("SHA-1", z2), ">=8.1"),
                    version_obj("1.0.0", "1.0.0.0", "https://cdn.test/lib-1.0.0.zip",
                                "0000000000000000000000000000000000000000", "", ">=8.0")};
  json doc = json::object();
  doc.set("minified", json("composer/2.0"));
  json pk = json::object();
  pk.set("acme/lib", composer::minify(tagged));
  doc.set("packages", pk);
  repo.routes["https://satis.test/p2/acme/lib.json"] = {200, {{"last-modified", "Thu, 01 Jan 2026 00:00:00 GMT"}}, doc.dump()};
  json dev = json::object();
  json dpk = json::object();
  dpk.set("acme/lib", json(json_array{version_obj("dev-main", "dev-main", "https://satis.test/dist/lib-main.zip",
                                                  "2222222222222222222222222222222222222222", "", ">=8.1")}));
  dev.set("packages", dpk);
  repo.routes["https://satis.test/p2/acme/lib~dev.json"] = {200, {}, dev.dump()};
  repo.routes["https://satis.test/dist/lib-1.1.0.zip"] = {200, {{"content-length", std::to_string(z2.size())}}, z2};
  repo.routes["https://cdn.test/lib-1.0.0.zip"] = {200, {{"content-length", std::to_string(z1.size())}}, z1};
  repo.routes["https://satis.test/dist/lib-main.zip"] = {200, {{"content-length", std::to_string(zb.size() + 10)}}, zb};
}

struct fixture {
  native_host h;
  fake_repo repo;
  client c{h, "https://broker.test", admin_vars()};
  std::string token;
  std::int64_t source_id = 0;
  std::string webhook_secret;
  std::string webhook_path;  // /hooks/{id}/{nonce}

  fixture() {
    h.set_upstream([this](const json& req) { return repo(req); });
    reply t = c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"ci"})");
    token = std::string(t.body_json()["token"].as_string());
    reply s = c.call("POST", "/admin/api/sources", bearer("adm"),
                     R"({"type":"composer","url":"https://satis.test","include":["acme/*"],
                         "credentials":{"type":"basic","username":"deploy","password":"pw"}})");
    source_id = s.body_json()["id"].as_int();
    webhook_secret = std::string(s.body_json()["webhook_secret"].as_string());
    webhook_path = std::string(s.body_json()["webhook_url"].as_string()).substr(std::string("https://broker.test").size());
    h.queue.clear();  // creation's wake-up (test_sync_queue.cpp): these tests sync by hand
  }
  reply sync() { return c.call("POST", "/admin/api/sources/" + std::to_string(source_id) + "/sync", bearer("adm")); }
  json source() { return c.call("GET", "/admin/api/sources/" + std::to_string(source_id), bearer("adm")).body_json(); }
};

}  // namespace

TEST_CASE("a v2 composer source syncs, serves rewritten metadata and mirrors archives on first download",
          "[sources][composer-source][native]") {
  fixture f;
  serve_v2(f.repo);
  reply r = f.sync();
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.body_json()["mode"].as_string() == "inline");
  CHECK(r.body_json()["result"]["status"].as_string() == "ok");
  CHECK(r.body_json()["result"]["packages"].as_int() == 1);  // other/skip is outside include
  CHECK(r.body_json()["result"]["versions"].as_int() == 3);
  json last = f.source()["last_sync"];
  CHECK(last["status"].as_string() == "ok");
  CHECK(last["versions"].as_int() == 3);

  json p2 = f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).body_json();
  const json& versions = p2["packages"]["acme/lib"];
  REQUIRE(versions.size() == 2);
  json expanded = composer::expand(versions.as_array());
  const json& newest = expanded.as_array()[0];
  CHECK(newest["version"].as_string() == "1.1.0");
  CHECK(newest["require"]["php"].as_string() == ">=8.1");
  CHECK(newest["dist"]["url"].as_string() ==
        "https://broker.test/dist/acme/lib/1.1.0.0/1111111111111111111111111111111111111111.zip");
  CHECK(expanded.as_array()[1]["require"]["php"].as_string() == ">=8.0");
  CHECK(f.c.call("GET", "/p2/acme/lib~dev.json", basic(f.token)).body_json()["packages"]["acme/lib"].size() == 1);
  CHECK(f.c.call("GET", "/p2/other/skip.json", basic(f.token)).status == 404);

  // Credentials went to satis.test only.
  for (const auto& [url, auth] : f.repo.seen)
    if (url.rfind("https://satis.test/", 0) != 0) CHECK(auth.empty());

  SECTION("first download streams from upstream into R2; the next one comes from R2") {
    std::string path = "/dist/acme/lib/1.0.0.0/0000000000000000000000000000000000000000.zip";
    std::size_t fetches = f.repo.seen.size();
    reply d = f.c.call("GET", path, basic(f.token));
    CHECK(d.status == 200);
    CHECK(d.body == lib_zip("1.0.0"));
    CHECK(f.repo.seen.back().first == "https://cdn.test/lib-1.0.0.zip");
    CHECK(f.repo.seen.back().second.empty());  // another host: no credentials
    CHECK(f.h.blob_exists("mirror/acme/lib/0000000000000000000000000000000000000000.zip"));
    json row = f.h.query("SELECT dist_key, dist_shasum, dist_size FROM versions WHERE version = '1.0.0'").as_array()[0];
    CHECK(row["dist_shasum"].as_string() == hex_digest("SHA-1", lib_zip("1.0.0")));
    fetches = f.repo.seen.size();
    reply again = f.c.call("GET", path, basic(f.token));
    CHECK(again.body == lib_zip("1.0.0"));
    CHECK(f.repo.seen.size() == fetches);  // served from R2
  }
  SECTION("an archive that does not match the promised shasum or length is not kept") {
    f.repo.routes["https://satis.test/dist/lib-1.1.0.zip"].body = lib_zip("tampered");
    f.repo.routes["https://satis.test/dist/lib-1.1.0.zip"].headers = {{"content-length", std::to_string(lib_zip("tampered").size())}};
    (void)f.c.call("GET", "/dist/acme/lib/1.1.0.0/1111111111111111111111111111111111111111.zip", basic(f.token));
    CHECK_FALSE(f.h.blob_exists("mirror/acme/lib/1111111111111111111111111111111111111111.zip"));
    // Short body (Content-Length says 10 bytes more): nothing stored.
    (void)f.c.call("GET", "/dist/acme/lib/dev-main/2222222222222222222222222222222222222222.zip", basic(f.token));
    CHECK_FALSE(f.h.blob_exists("mirror/acme/lib/2222222222222222222222222222222222222222.zip"));
    CHECK(f.h.query("SELECT count(*) AS n FROM versions WHERE dist_key IS NOT NULL").as_array()[0]["n"].as_int() == 0);
  }
  SECTION("single flight: a download that finds a fetch in progress waits for its R2 copy") {
    std::string path = "/dist/acme/lib/1.0.0.0/0000000000000000000000000000000000000000.zip";
    f.h.query("UPDATE versions SET fetch_lease_until = 1767225660000 WHERE version = '1.0.0'");
    int sleeps = 0;
    f.h.on_sleep = [&] {
      if (++sleeps == 2) {  // meanwhile, "the other request" finishes storing the archive
        f.h.query("UPDATE versions SET dist_key = 'mirror/acme/lib/other.zip', dist_size = 1 WHERE version = '1.0.0'");
      }
    };
    f.h.put_blob("mirror/acme/lib/other.zip", lib_zip("1.0.0"));
    std::size_t fetches = f.repo.seen.size();
    reply d = f.c.call("GET", path, basic(f.token));
    CHECK(d.status == 200);
    CHECK(d.body == lib_zip("1.0.0"));
    CHECK(sleeps == 2);
    CHECK(f.repo.seen.size() == fetches);  // no upstream fetch
  }
  SECTION("single flight: an expired lease lets the next request fetch") {
    f.h.query("UPDATE versions SET fetch_lease_until = 1 WHERE version = '1.0.0'");
    reply d = f.c.call("GET", "/dist/acme/lib/1.0.0.0/0000000000000000000000000000000000000000.zip", basic(f.token));
    CHECK(d.body == lib_zip("1.0.0"));
    CHECK(f.repo.seen.back().first == "https://cdn.test/lib-1.0.0.zip");
  }
  SECTION("an upstream error before the body is a 502 JSON with a plain message; the details are logged") {
    f.repo.routes["https://cdn.test/lib-1.0.0.zip"] = {503, {}, "busy"};
    reply d = f.c.call("GET", "/dist/acme/lib/1.0.0.0/0000000000000000000000000000000000000000.zip", basic(f.token));
    CHECK(d.status == 502);
    CHECK(d.body == R"({"error":{"code":"upstream","message":"the archive of acme/lib could not be fetched from its upstream"}})");
    CHECK(d.header("cache-control") == "no-store");
    CHECK(d.log == "upstream answered HTTP 503 for https://cdn.test/lib-1.0.0.zip");
  }
  SECTION("an archive without a Content-Length is stored whole before it is served") {
    std::string zip = lib_zip("1.0.0");
    for (const header_list& headers : {header_list{}, header_list{{"content-encoding", "gzip"}, {"content-length", "12"}}}) {
      f.h.query("UPDATE versions SET dist_key = NULL, dist_sha256 = NULL, dist_size = NULL, fetch_lease_until = NULL");
      f.repo.routes["https://cdn.test/lib-1.0.0.zip"] = {200, headers, zip};
      reply d = f.c.call("GET", "/dist/acme/lib/1.0.0.0/0000000000000000000000000000000000000000.zip", basic(f.token));
      CHECK(d.status == 200);
      CHECK(d.body == zip);
      // Stored (r2.put) and recorded before anything is served (from the edge cache or R2): the client
      // never gets a stream nobody checked.
      auto at = [&](std::string_view op) { return std::find(d.ops.begin(), d.ops.end(), op) - d.ops.begin(); };
      CHECK(at("r2.put") < at("cache.match"));
      CHECK(at("cache.match") < static_cast<std::ptrdiff_t>(d.ops.size()));
      CHECK(at("body.tee") == static_cast<std::ptrdiff_t>(d.ops.size()));
      json row = f.h.query("SELECT dist_key, dist_size FROM versions WHERE version = '1.0.0'").as_array()[0];
      CHECK(row["dist_size"].as_int() == static_cast<std::int64_t>(zip.size()));
    }
  }
  SECTION("an archive over PB_MAX_ARCHIVE_BYTES is refused with a 502, nothing stored") {
    f.c.vars.set("PB_MAX_ARCHIVE_BYTES", json("100"));
    for (bool declared : {true, false}) {
      std::string zip = lib_zip("1.0.0");
      f.repo.routes["https://cdn.test/lib-1.0.0.zip"] = {
          200, declared ? header_list{{"content-length", std::to_string(zip.size())}} : header_list{}, zip};
      reply d = f.c.call("GET", "/dist/acme/lib/1.0.0.0/0000000000000000000000000000000000000000.zip", basic(f.token));
      INFO(d.body << " " << d.log);
      CHECK(d.status == 502);
      CHECK(d.body_json()["error"]["code"].as_string() == "upstream");
      CHECK(d.body.find("cdn.test") == std::string::npos);
      CHECK(d.log.find(declared ? "over PB_MAX_ARCHIVE_BYTES (100)" : "PayloadTooLarge") != std::string::npos);
      CHECK_FALSE(f.h.blob_exists("mirror/acme/lib/0000000000000000000000000000000000000000.zip"));
      CHECK(f.h.query("SELECT fetch_lease_until FROM versions WHERE version = '1.0.0'").as_array()[0]["fetch_lease_until"].is_null());
    }
  }
  SECTION("a broken upstream keeps the last good metadata and records the error") {
    std::string before = f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).body;
    for (const char* fault : {"500", "garbage"}) {
      f.repo.fault = fault;
      reply bad = f.sync();
      CHECK(bad.status == 200);
      CHECK(bad.body_json()["result"]["status"].as_string() == "error");
      CHECK(f.source()["last_sync"]["status"].as_string() == "error");
      CHECK_FALSE(f.source()["last_sync"]["error"].as_string().empty());
      CHECK(f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).body == before);
    }
  }
  SECTION("a new upstream version appears after the next sync; a removed one disappears") {
    f.repo.routes["https://satis.test/p2/acme/lib~dev.json"] = {404, {}, "{}"};
    CHECK(f.sync().body_json()["result"]["status"].as_string() == "ok");
    CHECK(f.c.call("GET", "/p2/acme/lib~dev.json", basic(f.token)).body_json()["packages"]["acme/lib"].size() == 0);
  }
}

TEST_CASE("a v1 composer source: inline packages and includes", "[sources][composer-source][native]") {
  fixture f;
  std::string zip = lib_zip("2.0.0");
  json v = version_obj("2.0.0", "2.0.0.0", "https://satis.test/dist/lib-2.0.0.zip",
                       "3333333333333333333333333333333333333333", hex_digest("SHA-1", zip), ">=8.2");
  json inc = json::object();
  json pk = json::object();
  json byver = json::object();
  byver.set("2.0.0", v);
  pk.set("acme/lib", byver);
  inc.set("packages", pk);
  f.repo.routes["https://satis.test/packages.json"] = {
      200, {}, R"({"packages":{},"includes":{"include/all$abc.json":{"sha1":"abc"}}})"};
  f.repo.routes["https://satis.test/include/all$abc.json"] = {200, {}, inc.dump()};
  f.repo.routes["https://satis.test/dist/lib-2.0.0.zip"] = {200, {{"content-length", std::to_string(zip.size())}}, zip};
  reply r = f.sync();
  INFO(r.body);
  CHECK(r.body_json()["result"]["status"].as_string() == "ok");
  json p2 = f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).body_json();
  REQUIRE(p2["packages"]["acme/lib"].size() == 1);
  CHECK(f.c.call("GET", "/dist/acme/lib/2.0.0.0/3333333333333333333333333333333333333333.zip", basic(f.token)).body == zip);
}

TEST_CASE("a v1 provider repository (providers-url, provider-includes)", "[sources][composer-source][native]") {
  fixture f;
  std::string zip = lib_zip("3.0.0");
  json v = version_obj("3.0.0", "3.0.0.0", "https://satis.test/dist/lib-3.0.0.zip",
                       "4444444444444444444444444444444444444444", hex_digest("SHA-1", zip), ">=8.3");
  json byver = json::object();
  byver.set("3.0.0", v);
  json pk = json::object();
  pk.set("acme/lib", byver);
  json file = json::object();
  file.set("packages", pk);
  f.repo.routes["https://satis.test/packages.json"] = {
      200, {}, R"({"packages":[],"providers-url":"/p/%package%$%hash%.json","provider-includes":{"p/provider-latest$abc.json":{"sha256":"abc"}}})"};
  f.repo.routes["https://satis.test/p/provider-latest$abc.json"] = {200, {}, R"({"providers":{"acme/lib":{"sha256":"def"},"other/x":{"sha256":"123"}}})"};
  f.repo.routes["https://satis.test/p/acme/lib$def.json"] = {200, {}, file.dump()};
  f.repo.routes["https://satis.test/dist/lib-3.0.0.zip"] = {200, {{"content-length", std::to_string(zip.size())}}, zip};
  reply r = f.sync();
  INFO(r.body);
  CHECK(r.body_json()["result"]["status"].as_string() == "ok");
  CHECK(r.body_json()["result"]["packages"].as_int() == 1);  // other/x is outside include
  json p2 = f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).body_json();
  REQUIRE(p2["packages"]["acme/lib"].size() == 1);
  CHECK(f.c.call("GET", "/dist/acme/lib/3.0.0.0/4444444444444444444444444444444444444444.zip", basic(f.token)).body == zip);
}

TEST_CASE("packages owned by uploads are not taken over by a source", "[sources][composer-source][native]") {
  fixture f;
  serve_v2(f.repo);
  std::string zip = make_zip({{"composer.json", "{\"name\":\"acme/lib\"}"}});
  header_list hs = bearer("adm");
  hs.emplace_back("content-length", std::to_string(zip.size()));
  REQUIRE(f.c.call("PUT", "/admin/api/artifacts/acme/lib?version=9.0.0", hs, zip).status == 201);
  reply r = f.sync();
  CHECK(r.body_json()["result"]["status"].as_string() == "error");
  CHECK(r.body.find("provided by another source") != std::string::npos);
  json p2 = f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).body_json();
  REQUIRE(p2["packages"]["acme/lib"].size() == 1);
  CHECK(p2["packages"]["acme/lib"].as_array()[0]["version"].as_string() == "9.0.0");
}

TEST_CASE("the cron trigger runs due syncs", "[sources][composer-source][native]") {
  fixture f;
  serve_v2(f.repo);
  finished run = invoke(f.h, scheduled_start("*/15 * * * *", admin_vars()));
  (void)run;
  CHECK(f.source()["last_sync"]["status"].as_string() == "ok");
  CHECK(f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).status == 200);
}

TEST_CASE("webhooks trigger a sync only when verified", "[sources][hooks][native]") {
  fixture f;
  serve_v2(f.repo);
  std::string hook = f.webhook_path;
  std::string payload = R"({"ref":"refs/tags/v1.1.0","repository":{"full_name":"acme/lib"}})";

  SECTION("a bad or missing signature is 401 and changes nothing") {
    header_list bad = {{"x-hub-signature-256", "sha256=" + std::string(64, '0')}, {"x-github-event", "push"}};
    CHECK(f.c.call("POST", hook, bad, payload).status == 401);
    CHECK(f.c.call("POST", hook, {}, payload).status == 401);
    CHECK(f.c.call("POST", hook, {{"x-gitlab-token", "wrong"}}, payload).status == 401);
    CHECK(f.c.call("POST", "/hooks/999", bad, payload).status == 401);
    CHECK(f.c.call("POST", "/hooks/999/" + std::string(32, 'a'), bad, payload).status == 401);
    CHECK(f.c.call("POST", "/hooks/" + std::to_string(f.source_id), bad, payload).status == 401);
    CHECK(f.source()["last_sync"].is_null());
    CHECK(f.repo.seen.empty());
  }
  SECTION("a GitHub-signed push runs the sync") {
    header_list good = {{"x-hub-signature-256", "sha256=" + hex_hmac_sha256(f.webhook_secret, payload)},
                        {"x-github-event", "push"}};
    reply r = f.c.call("POST", hook, good, payload);
    CHECK(r.status == 202);
    // The sync runs on the queue, in invocations of its own.
    CHECK(f.source()["last_sync"].is_null());
    REQUIRE(f.h.queue.size() == 1);
    CHECK(f.h.queue[0].body.dump() == "{\"sync\":" + std::to_string(f.source_id) + ",\"start\":true}");
    CHECK(deliver_queue(f.h, f.c.vars).size() == 1);
    CHECK(f.source()["last_sync"]["status"].as_string() == "ok");
    CHECK(f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).status == 200);
  }
  SECTION("without a queue the webhook runs the first slice itself, after its response") {
    f.h.has_queue = false;
    header_list signed_push = {{"x-hub-signature-256", "sha256=" + hex_hmac_sha256(f.webhook_secret, payload)},
                               {"x-github-event", "push"}};
    reply r = f.c.call("POST", hook, signed_push, payload);
    CHECK(r.status == 202);
    CHECK(f.source()["last_sync"]["status"].as_string() == "ok");
    CHECK(f.c.call("GET", "/p2/acme/lib.json", basic(f.token)).status == 200);
  }
  SECTION("a GitLab token header works for a composer source too") {
    CHECK(f.c.call("POST", hook, {{"x-gitlab-token", f.webhook_secret}}, payload).status == 202);
    deliver_queue(f.h, f.c.vars);
    CHECK(f.source()["last_sync"]["status"].as_string() == "ok");
  }
  SECTION("a ping is answered without syncing") {
    header_list ping = {{"x-hub-signature-256", "sha256=" + hex_hmac_sha256(f.webhook_secret, "{}")}, {"x-github-event", "ping"}};
    CHECK(f.c.call("POST", hook, ping, "{}").status == 200);
    CHECK(f.source()["last_sync"].is_null());
  }
}

namespace {

// n packages acme/p00.. in a v2 repository, one tagged version each.
void serve_many(fake_repo& repo, int n) {
  json names = json::array();
  for (int i = 0; i < n; ++i) {
    std::string name = std::string("acme/p") + (i < 10 ? "0" : "") + std::to_string(i);
    names.push_back(json(name));
    json v = version_obj("1.0.0", "1.0.0.0", "https://satis.test/dist/" + name + ".zip", "3333333333333333333333333333333333333333", "", ">=8.1");
    v.set("name", json(name));
    json doc = json::object();
    doc.set("minified", json("composer/2.0"));
    json pk = json::object();
    pk.set(name, composer::minify(json_array{v}));
    doc.set("packages", pk);
    repo.routes["https://satis.test/p2/" + name + ".json"] = {200, {}, doc.dump()};
  }
  json root = json::object();
  root.set("packages", json::array());
  root.set("metadata-url", json("/p2/%package%.json"));
  root.set("available-packages", names);
  repo.routes["https://satis.test/packages.json"] = {200, {}, root.dump()};
}

std::size_t subrequests(const std::vector<std::string>& ops) {
  return static_cast<std::size_t>(std::count_if(ops.begin(), ops.end(), [](const std::string& op) {
    return op == "fetch" || op.rfind("d1.", 0) == 0 || op.rfind("kv.", 0) == 0 || op.rfind("r2.", 0) == 0 || op.rfind("cache.", 0) == 0;
  }));
}

}  // namespace

TEST_CASE("a cron run stays within its plan's subrequest budget and continues at the next run", "[sources][budget][native]") {
  fixture f;
  serve_many(f.repo, 30);
  json vars = admin_vars();
  vars.set("PB_SYNC_PACKAGES_PER_SLICE", json("100"));  // the budget, not the slice size, must hold the run

  SECTION("Free: at most 50 per run, the sync finishes over several runs") {
    int runs = 0;
    std::int64_t packages_before = -1;
    for (; runs < 12 && f.source()["last_sync"]["status"].as_string() != "ok"; ++runs) {
      f.h.clock_ms += 16 * 60 * 1000;
      finished run = invoke(f.h, scheduled_start("*/15 * * * *", vars));
      CHECK(subrequests(run.ops) <= 50);
      std::int64_t written = f.h.query("SELECT count(*) AS n FROM packages").as_array()[0]["n"].as_int();
      CHECK(written > packages_before);  // every run makes progress
      packages_before = written;
    }
    CHECK(runs > 1);
    CHECK(f.source()["last_sync"]["status"].as_string() == "ok");
    CHECK(f.h.query("SELECT count(*) AS n FROM packages").as_array()[0]["n"].as_int() == 30);
  }
  SECTION("Paid: one run does it all") {
    vars.set("PB_PLAN", json("paid"));
    finished run = invoke(f.h, scheduled_start("*/15 * * * *", vars));
    CHECK(subrequests(run.ops) > 50);
    CHECK(subrequests(run.ops) <= 1000);
    CHECK(f.source()["last_sync"]["status"].as_string() == "ok");
    CHECK(f.h.query("SELECT count(*) AS n FROM packages").as_array()[0]["n"].as_int() == 30);
  }
}

TEST_CASE("rotating PB_ENCRYPTION_KEY: the previous key still opens, reseal moves everything to the new one", "[sources][sealing][native]") {
  fixture f;  // the source's credentials are sealed with admin_vars()'s key
  serve_v2(f.repo);
  const std::string old_key(admin_vars()["PB_ENCRYPTION_KEY"].as_string());
  const std::string new_key = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
  json stored = f.h.query("SELECT credentials_enc FROM sources").as_array()[0];
  CHECK((*parse_json(stored["credentials_enc"].as_string()))["k"].as_string() == auth::key_id(old_key));

  auto vars_with = [&](const std::string& key, const std::string& previous) {
    json v = admin_vars();
    v.set("PB_ENCRYPTION_KEY", json(key));
    if (!previous.empty()) v.set("PB_ENCRYPTION_KEY_PREVIOUS", json(previous));
    v.set("PB_WEBHOOK_KEY", json(old_key));  // webhook secrets stay what they were (docs/OPERATIONS.md)
    return v;
  };
  client rotated{f.h, "https://broker.test", vars_with(new_key, old_key)};
  client new_only{f.h, "https://broker.test", vars_with(new_key, "")};
  std::string sync_path = "/admin/api/sources/" + std::to_string(f.source_id) + "/sync";

  // Without the previous key the stored credentials cannot be opened: the sync fails, nothing is lost.
  CHECK(new_only.call("POST", sync_path, bearer("adm")).status != 200);
  // With it, they can.
  reply synced = rotated.call("POST", sync_path, bearer("adm"));
  CHECK(synced.status == 200);
  CHECK(f.source()["last_sync"]["status"].as_string() == "ok");

  reply resealed = rotated.call("POST", "/admin/api/reseal", bearer("adm"));
  REQUIRE(resealed.status == 200);
  json r = resealed.body_json();
  CHECK(r["key_id"].as_string() == auth::key_id(new_key));
  CHECK(r["resealed"].as_int() == 1);
  CHECK(r["already_current"].as_int() == 0);
  CHECK(r["failed"].size() == 0);
  json again = rotated.call("POST", "/admin/api/reseal", bearer("adm")).body_json();
  CHECK(again["resealed"].as_int() == 0);
  CHECK(again["already_current"].as_int() == 1);

  // Now the new key alone opens the upstream credentials, and the webhook keeps its secret.
  f.repo.seen.clear();
  CHECK(new_only.call("POST", sync_path, bearer("adm")).status == 200);
  REQUIRE_FALSE(f.repo.seen.empty());
  CHECK(f.repo.seen.front().second == "Basic " + base64_encode("deploy:pw"));
  CHECK(new_only.call("POST", f.webhook_path, {{"x-gitlab-token", f.webhook_secret}}, "{}").status == 202);

  // A key that opens nothing: reseal names what failed and reveals nothing else.
  client stranger{f.h, "https://broker.test", vars_with("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", "")};
  reply failed = stranger.call("POST", "/admin/api/reseal", bearer("adm"));
  REQUIRE(failed.status == 200);
  CHECK(failed.body_json()["failed"].size() == 1);
  CHECK(failed.body_json()["resealed"].as_int() == 0);
  CHECK(failed.body.find("deploy:pw") == std::string::npos);
  CHECK(new_only.call("POST", "/admin/api/reseal", {}).status == 401);
}
