// The Composer repository and admin routes end to end on the native host (real SQLite with
// d1/migrations, R2 in a temp dir): uploads, tokens, packages.json, p2 with 304s, dist with ranges,
// notify-batch, and every refusal. Plus the exact effect sequence of a p2 hit (scripted host).
#include <catch2/catch_test_macros.hpp>

#include <algorithm>

#include "core/base64.h"
#include "core/json.h"
#include "core/sha256.h"
#include "host/abi.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/scripted_host.h"
#include "host/zip_writer.h"

using namespace pb;
using namespace pb::testing;

namespace {

constexpr const char* admin = "test-admin-token";
const std::string origin = "https://repo.test";

json vars() {
  json v = json::object();
  v.set("ADMIN_TOKEN", json(admin));
  return v;
}

reply call(native_host& h, std::string method, std::string path, header_list headers = {}, std::optional<std::string> body = {}) {
  client c{h, origin, vars()};
  return c.call(std::move(method), std::move(path), std::move(headers), std::move(body));
}

header_list admin_auth() { return {{"authorization", std::string("Bearer ") + admin}}; }

std::string composer_json(const std::string& name, const std::string& extra = "") {
  return "{\"name\":\"" + name + "\",\"description\":\"test package\",\"type\":\"library\",\"license\":\"MIT\"," +
         "\"autoload\":{\"psr-4\":{\"Acme\\\\\":\"src/\"}}" + extra + "}";
}

reply upload(native_host& h, const std::string& name, const std::string& version, const std::string& zip) {
  header_list hs = admin_auth();
  hs.emplace_back("content-length", std::to_string(zip.size()));
  hs.emplace_back("content-type", "application/zip");
  std::string q = version.empty() ? "" : "?version=" + version;
  return call(h, "PUT", "/admin/api/artifacts/" + name + q, hs, zip);
}

std::string create_token(native_host& h, const std::string& body) {
  header_list hs = admin_auth();
  hs.emplace_back("content-type", "application/json");
  reply r = call(h, "POST", "/admin/api/tokens", hs, body);
  REQUIRE(r.status == 201);
  return std::string(r.body_json()["token"].as_string());
}

}  // namespace

TEST_CASE("artifact upload stores the archive and publishes p2 metadata", "[composer][native]") {
  native_host h;
  std::string zip = make_zip({{"acme-widget-1a2b3c/", ""},
                              {"acme-widget-1a2b3c/composer.json", composer_json("acme/widget", ",\"require\":{\"php\":\">=8.1\"}")},
                              {"acme-widget-1a2b3c/src/Widget.php", "<?php namespace Acme; class Widget {}"}});
  reply up = upload(h, "acme/widget", "1.2.0", zip);
  REQUIRE(up.status == 201);
  json u = up.body_json();
  CHECK(u["name"].as_string() == "acme/widget");
  CHECK(u["version_normalized"].as_string() == "1.2.0.0");
  CHECK(u["shasum"].as_string() == hex_digest("SHA-1", zip));
  CHECK(u["sha256"].as_string() == hex_digest("SHA-256", zip));
  CHECK(u["reference"].as_string() == u["shasum"].as_string());

  std::string token = create_token(h, R"({"name":"ci"})");
  CHECK(token.rfind("pbt_", 0) == 0);
  CHECK(h.query("SELECT token_hash FROM tokens").as_array()[0]["token_hash"].as_string() == hex_digest("SHA-256", token));

  reply p2 = call(h, "GET", "/p2/acme/widget.json", basic(token));
  REQUIRE(p2.status == 200);
  CHECK(p2.header("cache-control").find("private") != std::string::npos);
  CHECK_FALSE(p2.header("last-modified").empty());
  json doc = p2.body_json();
  CHECK(doc["minified"].as_string() == "composer/2.0");
  const json& versions = doc["packages"]["acme/widget"];
  REQUIRE(versions.size() == 1);
  const json& v = versions.as_array()[0];
  CHECK(v["version"].as_string() == "1.2.0");
  CHECK(v["dist"]["url"].as_string() == origin + "/dist/acme/widget/1.2.0.0/" + std::string(u["shasum"].as_string()) + ".zip");
  CHECK(v["dist"]["shasum"].as_string() == u["shasum"].as_string());
  CHECK(v["require"]["php"].as_string() == ">=8.1");

  reply dev = call(h, "GET", "/p2/acme/widget~dev.json", basic(token));
  CHECK(dev.status == 200);
  CHECK(dev.body_json()["packages"]["acme/widget"].size() == 0);

  SECTION("a warm isolate answers a p2 hit from memory, without effects") {
    reply warm = call(h, "GET", "/p2/acme/widget.json", basic(token));
    CHECK(warm.status == 200);
    CHECK(warm.body == p2.body);
    CHECK(warm.ops.empty());
    // An upload in this isolate is visible at once.
    REQUIRE(upload(h, "acme/widget", "1.2.1", make_zip({{"composer.json", composer_json("acme/widget")}}, "x")).status == 201);
    reply fresh = call(h, "GET", "/p2/acme/widget.json", basic(token));
    CHECK(fresh.body_json()["packages"]["acme/widget"].size() == 2);
  }
  SECTION("If-Modified-Since answers 304 with an empty body") {
    header_list hs = basic(token);
    hs.emplace_back("if-modified-since", p2.header("last-modified"));
    reply again = call(h, "GET", "/p2/acme/widget.json", hs);
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    header_list old = basic(token);
    old.emplace_back("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT");
    CHECK(call(h, "GET", "/p2/acme/widget.json", old).status == 200);
  }
  SECTION("dist serves the exact bytes, and ranges") {
    std::string path = std::string(u["dist_url"].as_string()).substr(origin.size());
    reply d = call(h, "GET", path, basic(token));
    REQUIRE(d.status == 200);
    CHECK(d.body == zip);
    CHECK(d.header("content-type") == "application/zip");
    CHECK(d.header("cache-control").find("private") == 0);
    header_list hs = basic(token);
    hs.emplace_back("range", "bytes=0-9");
    reply part = call(h, "GET", path, hs);
    CHECK(part.status == 206);
    CHECK(part.body == zip.substr(0, 10));
    CHECK(part.header("content-range") == "bytes 0-9/" + std::to_string(zip.size()));
    header_list tail = basic(token);
    tail.emplace_back("range", "bytes=-5");
    CHECK(call(h, "GET", path, tail).body == zip.substr(zip.size() - 5));
    header_list beyond = basic(token);
    beyond.emplace_back("range", "bytes=" + std::to_string(zip.size()) + "-");
    reply bad = call(h, "GET", path, beyond);
    CHECK(bad.status == 416);
    CHECK(bad.header("content-range") == "bytes */" + std::to_string(zip.size()));
    // The mirror template form (%version% normalized) and an unknown reference.
    CHECK(call(h, "GET", "/dist/acme/widget/1.2.0.0/0000000000000000000000000000000000000000.zip", basic(token)).status == 404);
  }
  SECTION("a second version rebuilds the documents newest first") {
    std::string zip2 = make_zip({{"composer.json", composer_json("acme/widget")}, {"src/Widget.php", "<?php // 1.3"}});
    REQUIRE(upload(h, "acme/widget", "1.3.0", zip2).status == 201);
    std::string zip3 = make_zip({{"composer.json", composer_json("acme/widget")}}, "dev build");
    REQUIRE(upload(h, "acme/widget", "dev-main", zip3).status == 201);
    json tagged = call(h, "GET", "/p2/acme/widget.json", basic(token)).body_json();
    REQUIRE(tagged["packages"]["acme/widget"].size() == 2);
    CHECK(tagged["packages"]["acme/widget"].as_array()[0]["version"].as_string() == "1.3.0");
    json devdoc = call(h, "GET", "/p2/acme/widget~dev.json", basic(token)).body_json();
    REQUIRE(devdoc["packages"]["acme/widget"].size() == 1);
    CHECK(devdoc["packages"]["acme/widget"].as_array()[0]["version"].as_string() == "dev-main");
  }
}

TEST_CASE("dist uses the edge cache only where it works: not on workers.dev", "[composer][native]") {
  native_host h;
  std::string zip = make_zip({{"composer.json", composer_json("acme/widget")}});
  reply up = upload(h, "acme/widget", "1.0.0", zip);
  REQUIRE(up.status == 201);
  std::string token = create_token(h, R"({"name":"ci"})");
  std::string path = std::string(up.body_json()["dist_url"].as_string()).substr(origin.size());
  auto count = [](const reply& r, std::string_view op) { return std::count(r.ops.begin(), r.ops.end(), op); };

  client custom{h, "https://packages.example.com", vars()};
  reply first = custom.call("GET", path, basic(token));
  REQUIRE(first.status == 200);
  CHECK(first.body == zip);
  CHECK(count(first, "cache.match") == 1);
  CHECK(count(first, "cache.put") == 1);
  CHECK(count(first, "r2.get") == 2);  // one for the client, one to fill the cache afterwards

  for (const char* host : {"https://package-broker.acme.workers.dev", "https://package-broker.acme.WORKERS.dev:443"}) {
    client dev{h, host, vars()};
    reply d = dev.call("GET", path, basic(token));
    REQUIRE(d.status == 200);
    CHECK(d.body == zip);
    CHECK(count(d, "cache.match") == 0);
    CHECK(count(d, "cache.put") == 0);
    CHECK(count(d, "r2.get") == 1);
  }
}

TEST_CASE("uploads that cannot be accepted store nothing", "[composer][native]") {
  native_host h;
  std::string good = make_zip({{"composer.json", composer_json("acme/widget")}});
  REQUIRE(upload(h, "acme/widget", "1.0.0", good).status == 201);
  std::size_t blobs = h.blob_count();

  auto expect_400 = [&](const std::string& name, const std::string& version, const std::string& zip, const std::string& says) {
    reply r = upload(h, name, version, zip);
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(r.body_json()["error"]["code"].as_string() == "bad_request");
    CHECK(std::string(r.body_json()["error"]["message"].as_string()).find(says) != std::string::npos);
    CHECK(h.blob_count() == blobs);
  };
  expect_400("acme/widget", "2.0.0", "this is not a zip file at all, just text", "zip");
  expect_400("acme/widget", "2.0.0", make_zip({{"README.md", "hi"}}), "composer.json");
  expect_400("acme/widget", "2.0.0", make_zip({{"composer.json", "{\"name\": nope"}}), "not valid JSON");
  expect_400("acme/widget", "2.0.0", make_zip({{"composer.json", composer_json("acme/other")}}), "acme/other");
  expect_400("acme/widget", "not a version!", good, "Invalid version string");
  expect_400("acme/widget", "", good, "no version");
  expect_400("Not Valid/name!", "1.0.0", good, "not a valid package name");

  reply dup = upload(h, "acme/widget", "1.0.0", good);
  CHECK(dup.status == 409);
  CHECK(dup.body_json()["error"]["code"].as_string() == "conflict");
  CHECK(h.blob_count() == blobs);
  CHECK(h.query("SELECT count(*) AS n FROM versions").as_array()[0]["n"].as_int() == 1);

  header_list no_auth = {{"content-length", std::to_string(good.size())}};
  CHECK(call(h, "PUT", "/admin/api/artifacts/acme/widget?version=3.0.0", no_auth, good).status == 401);
  CHECK(h.blob_count() == blobs);

  // A body shorter than its Content-Length is the client's fault (400); R2 failing is not (503).
  header_list longer = admin_auth();
  longer.emplace_back("content-length", std::to_string(good.size() + 10));
  reply short_body = call(h, "PUT", "/admin/api/artifacts/acme/widget?version=4.0.0", longer, good);
  CHECK(short_body.status == 400);
  CHECK(std::string(short_body.body_json()["error"]["message"].as_string()).find("did not arrive whole") != std::string::npos);
  h.fail_op("r2.put", "Error", "R2 is down");
  reply r2_down = upload(h, "acme/widget", "4.0.0", good);
  CHECK(r2_down.status == 503);
  CHECK(r2_down.body_json()["error"]["code"].as_string() == "unavailable");
  h.clear_faults();
  CHECK(h.blob_count() == blobs);
  CHECK(h.query("SELECT count(*) AS n FROM versions").as_array()[0]["n"].as_int() == 1);
}

TEST_CASE("an upload named by its archive (PUT /admin/api/artifacts): the console's upload", "[composer][native]") {
  native_host h;
  auto put = [&](const std::string& zip, const std::string& query = "") {
    header_list hs = admin_auth();
    hs.emplace_back("content-length", std::to_string(zip.size()));
    return call(h, "PUT", "/admin/api/artifacts" + query, hs, zip);
  };
  std::string zip = make_zip({{"acme-widget-1a2b3c/", ""},
                              {"acme-widget-1a2b3c/composer.json", composer_json("Acme/Widget", ",\"version\":\"1.4.0\"")}});
  reply up = put(zip);
  INFO(up.body);
  REQUIRE(up.status == 201);
  json u = up.body_json();
  CHECK(u["name"].as_string() == "acme/widget");
  CHECK(u["version"].as_string() == "1.4.0");
  CHECK(u["dist_url"].as_string() == origin + "/dist/acme/widget/1.4.0.0/" + hex_digest("SHA-1", zip) + ".zip");
  std::string token = create_token(h, R"({"name":"ci"})");
  json doc = call(h, "GET", "/p2/acme/widget.json", basic(token)).body_json();
  REQUIRE(doc["packages"]["acme/widget"].size() == 1);
  CHECK(doc["packages"]["acme/widget"].as_array()[0]["version"].as_string() == "1.4.0");
  // ?version= wins over composer.json's, as on the named route; the audit entry names the package.
  REQUIRE(put(make_zip({{"composer.json", composer_json("acme/widget")}}), "?version=2.0.0").status == 201);
  json audit = h.query("SELECT target FROM audit_log WHERE action = 'artifact.upload'");
  REQUIRE(audit.size() == 2);
  CHECK(audit.as_array()[1]["target"].as_string() == "package:acme/widget");

  std::size_t blobs = h.blob_count();
  auto refused = [&](const std::string& zip, int status, const std::string& says) {
    reply r = put(zip, "?version=9.0.0");
    INFO(r.body);
    CHECK(r.status == status);
    CHECK(std::string(r.body_json()["error"]["message"].as_string()).find(says) != std::string::npos);
    CHECK(h.blob_count() == blobs);  // nothing stays behind
  };
  refused(make_zip({{"composer.json", R"({"description":"no name"})"}}), 400, "has no \"name\"");
  refused(make_zip({{"composer.json", R"({"name":"not a name"})"}}), 400, "not a valid package name");
  refused(make_zip({{"README.md", "no composer.json"}}), 400, "composer.json");
  // A package that comes from a source takes no uploads, whichever route names it.
  h.query("INSERT INTO sources (type, url, created_at, updated_at) VALUES ('composer', 'https://up.test', 0, 0)");
  h.query("UPDATE packages SET source_id = 1 WHERE name = 'acme/widget'");
  refused(make_zip({{"composer.json", composer_json("acme/widget")}}, "from elsewhere"), 409, "comes from a source");
  CHECK(h.query("SELECT version FROM versions").size() == 2);
}

TEST_CASE("token authentication and scopes", "[composer][native][auth]") {
  native_host h;
  REQUIRE(upload(h, "acme/widget", "1.0.0", make_zip({{"composer.json", composer_json("acme/widget")}})).status == 201);
  REQUIRE(upload(h, "other/tool", "1.0.0", make_zip({{"composer.json", composer_json("other/tool")}})).status == 201);
  std::string all = create_token(h, R"({"name":"all"})");
  std::string scoped = create_token(h, R"({"name":"acme only","packages":["acme/*"]})");
  std::string expired = create_token(h, R"({"name":"old","expires_at":"2020-01-01T00:00:00Z"})");

  SECTION("no, unknown, expired and revoked credentials: 401 with a warning composer prints") {
    auto check_401 = [&](const reply& r, const std::string& says) {
      CHECK(r.status == 401);
      CHECK(r.header("content-type") == "application/json");
      CHECK_FALSE(r.header("www-authenticate").empty());
      CHECK(std::string(r.body_json()["warning"].as_string()).find(says) != std::string::npos);
    };
    check_401(call(h, "GET", "/packages.json"), "authentication required");
    check_401(call(h, "GET", "/p2/acme/widget.json", basic("pbt_nope")), "unknown token");
    check_401(call(h, "GET", "/p2/acme/widget.json", basic(expired)), "expired");
    json list = parse_json(call(h, "GET", "/admin/api/tokens", admin_auth()).body).value()["tokens"];
    std::int64_t id = list.as_array()[0]["id"].as_int();
    REQUIRE(call(h, "DELETE", "/admin/api/tokens/" + std::to_string(id), admin_auth()).status == 200);
    check_401(call(h, "GET", "/p2/acme/widget.json", basic(all)), "revoked");
    CHECK(call(h, "DELETE", "/admin/api/tokens/999", admin_auth()).status == 404);
  }
  SECTION("Bearer works like Basic") {
    CHECK(call(h, "GET", "/p2/acme/widget.json", {{"authorization", "Bearer " + all}}).status == 200);
  }
  SECTION("a package outside the scope is a 404, like an unknown one") {
    CHECK(call(h, "GET", "/p2/other/tool.json", basic(scoped)).status == 404);
    CHECK(call(h, "GET", "/p2/nobody/nothing.json", basic(scoped)).status == 404);
    CHECK(call(h, "GET", "/p2/acme/widget.json", basic(scoped)).status == 200);
    json root = call(h, "GET", "/packages.json", basic(scoped)).body_json();
    REQUIRE(root["available-packages"].size() == 1);
    CHECK(root["available-packages"].as_array()[0].as_string() == "acme/widget");
    json full = call(h, "GET", "/packages.json", basic(all)).body_json();
    CHECK(full["available-packages"].size() == 2);
    CHECK(full["metadata-url"].as_string() == "/p2/%package%.json");
    CHECK(full["mirrors"].as_array()[0]["dist-url"].as_string() == origin + "/dist/%package%/%version%/%reference%.%type%");
    CHECK(full["mirrors"].as_array()[0]["preferred"].as_bool());
    CHECK(full["notify-batch"].as_string() == origin + "/downloads");
  }
  SECTION("the secret is never listed; the admin API needs the admin token") {
    reply list = call(h, "GET", "/admin/api/tokens", admin_auth());
    CHECK(list.body.find(all) == std::string::npos);
    CHECK(call(h, "GET", "/admin/api/tokens", basic(all)).status == 401);
    CHECK(call(h, "GET", "/admin/api/tokens", {{"authorization", "Bearer wrong"}}).status == 401);
  }
  SECTION("bad token requests are 400") {
    header_list hs = admin_auth();
    CHECK(call(h, "POST", "/admin/api/tokens", hs, R"({"packages":["acme/*"]})").status == 400);
    CHECK(call(h, "POST", "/admin/api/tokens", hs, R"({"name":"x","packages":[]})").status == 400);
    CHECK(call(h, "POST", "/admin/api/tokens", hs, R"({"name":"x","expires_at":"tomorrow"})").status == 400);
    CHECK(call(h, "POST", "/admin/api/tokens", hs, R"({"name":"x","access":"admin"})").status == 400);
    CHECK(call(h, "POST", "/admin/api/tokens", hs, "not json").status == 400);
  }
}

TEST_CASE("notify-batch counts downloads per package, version and token", "[composer][native]") {
  native_host h;
  REQUIRE(upload(h, "acme/widget", "1.0.0", make_zip({{"composer.json", composer_json("acme/widget")}})).status == 201);
  std::string token = create_token(h, R"({"name":"ci"})");
  std::string batch = R"({"downloads":[{"name":"acme/widget","version":"1.0.0.0"},{"name":"acme/widget","version":"1.0.0.0"},{"name":"unknown/pkg","version":"1.0.0.0"}]})";
  reply r = call(h, "POST", "/downloads", basic(token), batch);
  CHECK(r.status == 201);
  CHECK(r.body == "{\"status\":\"success\"}");
  REQUIRE(call(h, "POST", "/downloads", basic(token), batch).status == 201);
  json rows = h.query("SELECT version_normalized, count FROM downloads");
  REQUIRE(rows.size() == 1);
  CHECK(rows.as_array()[0]["count"].as_int() == 4);
  CHECK(call(h, "POST", "/downloads", basic(token), "nope").status == 400);
}

TEST_CASE("composer's audit call reads its rows and the sources in one round trip", "[composer][advisories][native]") {
  native_host h;
  REQUIRE(upload(h, "acme/widget", "1.0.0", make_zip({{"composer.json", composer_json("acme/widget")}})).status == 201);
  std::string token = create_token(h, R"({"name":"ci"})");
  REQUIRE(call(h, "GET", "/packages.json", basic(token)).status == 200);  // the token is in the isolate's cache now
  header_list hs = basic(token);
  hs.emplace_back("content-type", "application/x-www-form-urlencoded");
  reply r = call(h, "POST", "/api/security-advisories", hs, "packages%5B%5D=acme%2Fwidget&packages%5B%5D=acme%2Fnone");
  REQUIRE(r.status == 200);
  CHECK(r.body == R"({"advisories":{"acme/widget":[]}})");
  std::string ops;
  for (const auto& op : r.ops) ops += op + " ";
  INFO("ops: " << ops << "batches: " << r.batches);
  // The body, then the advisories, the packages and the sources together: composer waits for this
  // answer at the end of every `composer update`, so each storage round trip is on its clock.
  CHECK(r.batches == 2);
}

TEST_CASE("admin package views", "[admin][native]") {
  native_host h;
  REQUIRE(upload(h, "acme/widget", "1.0.0", make_zip({{"composer.json", composer_json("acme/widget")}})).status == 201);
  REQUIRE(upload(h, "acme/widget", "1.1.0", make_zip({{"composer.json", composer_json("acme/widget")}}, "b")).status == 201);
  json list = call(h, "GET", "/admin/api/packages", admin_auth()).body_json();
  REQUIRE(list["packages"].size() == 1);
  CHECK(list["packages"].as_array()[0]["versions"].as_int() == 2);
  CHECK(list["packages"].as_array()[0]["latest"].as_string() == "1.1.0");
  json detail = call(h, "GET", "/admin/api/packages/acme/widget", admin_auth()).body_json();
  CHECK(detail["versions"].as_array()[0]["version"].as_string() == "1.1.0");
  CHECK(call(h, "GET", "/admin/api/packages/acme/none", admin_auth()).status == 404);
}

TEST_CASE("a p2 hit is one batch: token and document together", "[composer][scripted]") {
  scripted_host h;
  json token_row = *parse_json(
      R"({"row":{"id":1,"name":"ci","token_prefix":"pbt_","packages":"[\"*\"]","access":"read","expires_at":null,"revoked_at":null,"created_at":1,"last_used_at":1767225600000}})");
  // The documents' change marker and the row, in one D1 batch.
  json doc_read = *parse_json(
      R"({"results":[{"results":[{"value":"1767225000000"}],"meta":{}},)"
      R"({"results":[{"body":"{\"packages\":{\"acme/widget\":[]},\"minified\":\"composer/2.0\"}","blob_key":null,"last_modified":"Thu, 01 Jan 2026 00:00:00 GMT"}],"meta":{}}]})");
  json hash_param = json::array();
  hash_param.push_back(json(sha256_hex("secret")));  // only the digest of the secret reaches storage
  h.expect("d1.first", token_row, has_field("params", hash_param))
      .expect("d1.batch", doc_read, [](const json& e) -> std::string {
        const json& st = e["statements"];
        if (st.size() == 2 && st.as_array()[1]["params"].dump() == R"(["p2/acme/widget.json"])") return "";
        return "expected the marker and the document's row, got " + st.dump();
      });
  finished f = invoke(h, fetch_start("GET", origin + "/p2/acme/widget.json", basic("secret"), false, vars()));
  CHECK(f.batches == 1);
  CHECK(f.status() == 200);
  CHECK(h.all_used());
  CHECK(h.failures.empty());
}
