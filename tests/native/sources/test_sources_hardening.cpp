// Sources hardening (issue 10, items 1-5, 7, 8), on the native host with scripted upstreams: credentials
// only to the source's origin and never downgraded to http, credentials that stay with their source,
// ownership of package names, names validated like uploads, revocation with a lookup in flight,
// disabled sources, webhook deliveries deduplicated and verified before any storage read.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <map>

#include "composer/minifier.h"
#include "core/base64.h"
#include "host/abi.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"

using namespace pb;
using namespace pb::testing;

namespace {

const std::string creds_header = "Basic " + base64_encode("deploy:pw");

// A Composer repository at https://satis.test (Basic deploy:pw) whose routes a test fills in.
struct repo {
  std::map<std::string, upstream_response> routes;
  std::vector<std::pair<std::string, std::string>> seen;  // url, authorization
  std::vector<std::string> agents;                          // user-agent of every request

  upstream_response operator()(const json& req) {
    std::string url(req["url"].as_string());
    seen.emplace_back(url, request_header(req, "authorization"));
    agents.push_back(request_header(req, "user-agent"));
    auto it = routes.find(url);
    return it == routes.end() ? upstream_response{404, {}, "{}"} : it->second;
  }
  std::string auth_for(std::string_view url) const {
    for (const auto& [u, a] : seen)
      if (u == url) return a;
    return "<not requested>";
  }
};

json version(const std::string& name, const std::string& v, const std::string& dist_url, char ref) {
  json o = *parse_json(R"({"version":")" + v + R"(","version_normalized":")" + v + R"(.0","type":"library"})");
  o.set("name", json(name));
  json dist = json::object();
  dist.set("type", json("zip"));
  dist.set("url", json(dist_url));
  dist.set("reference", json(std::string(40, ref)));
  dist.set("shasum", json(""));
  o.set("dist", dist);
  return o;
}

void serve(repo& r, const std::string& name, std::vector<json> versions, std::vector<std::string> listed = {}) {
  if (listed.empty()) listed.push_back(name);
  json names = json::array();
  for (const auto& n : listed) names.push_back(json(n));
  json root = json::object();
  root.set("packages", json::array());
  root.set("metadata-url", json("/p2/%package%.json"));
  root.set("available-packages", names);
  r.routes["https://satis.test/packages.json"] = {200, {}, root.dump()};
  json doc = json::object();
  json pk = json::object();
  pk.set(name, json(json_array(versions.begin(), versions.end())));
  doc.set("packages", pk);
  r.routes["https://satis.test/p2/" + name + ".json"] = {200, {}, doc.dump()};
}

struct fixture {
  native_host h;
  repo up;
  client c{h, "https://broker.test", admin_vars()};
  std::string token;
  std::int64_t source_id = 0;

  explicit fixture(const std::string& source = R"({"type":"composer","url":"https://satis.test",
      "credentials":{"type":"basic","username":"deploy","password":"pw"}})") {
    h.set_upstream([this](const json& r) { return up(r); });
    token = std::string(c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"t"})").body_json()["token"].as_string());
    reply s = c.call("POST", "/admin/api/sources", bearer("adm"), source);
    REQUIRE(s.status == 201);
    source_id = s.body_json()["id"].as_int();
  }
  std::string src_path() const { return "/admin/api/sources/" + std::to_string(source_id); }
  reply sync() { return c.call("POST", src_path() + "/sync", bearer("adm")); }
  json source() { return c.call("GET", src_path(), bearer("adm")).body_json(); }
  reply patch(const std::string& body) { return c.call("PATCH", src_path(), bearer("adm"), body); }
  reply upload(const std::string& name, const std::string& v) {
    std::string zip = make_zip({{"composer.json", "{\"name\":\"" + name + "\"}"}});
    header_list hs = bearer("adm");
    hs.emplace_back("content-length", std::to_string(zip.size()));
    return c.call("PUT", "/admin/api/artifacts/" + name + "?version=" + v, hs, zip);
  }
};

std::string zip_of(const std::string& name) { return make_zip({{"composer.json", "{\"name\":\"" + name + "\"}"}}); }

}  // namespace

TEST_CASE("credentials go only to the source's origin, as fetch parses it", "[sources][hardening][native]") {
  fixture f;
  // The old check took the host after the first "://": this URL passed as satis.test, fetch goes to evil.example.
  serve(f.up, "acme/lib",
        {version("acme/lib", "1.0.0", "https:evil.example/x://satis.test/a.zip", 'a'),
         version("acme/lib", "1.1.0", "https://satis.test:8443/b.zip", 'b'),
         version("acme/lib", "1.2.0", "https://satis.test/c.zip", 'c'),
         version("acme/lib", "1.3.0", "https://satis.test/down.zip", 'd'),
         version("acme/lib", "1.4.0", "https://deploy:pw@cdn.test/e.zip", 'e')});
  std::string zip = zip_of("acme/lib");
  f.up.routes["https://satis.test:8443/b.zip"] = {200, {{"content-length", std::to_string(zip.size())}}, zip};
  f.up.routes["https://satis.test/c.zip"] = {200, {{"content-length", std::to_string(zip.size())}}, zip};
  f.up.routes["https://satis.test/down.zip"] = {302, {{"location", "http://satis.test/down.zip"}}, ""};
  f.up.routes["http://satis.test/down.zip"] = {302, {{"location", "https://satis.test/c2.zip"}}, ""};
  f.up.routes["https://satis.test/c2.zip"] = {200, {{"content-length", std::to_string(zip.size())}}, zip};
  reply r = f.sync();
  INFO(r.body);
  REQUIRE(r.status == 200);
  // Validated at sync time: the versions with unusable dist URLs are skipped, with the reason.
  std::string errors = r.body_json()["result"]["errors"].dump();
  CHECK(errors.find("1.0.0: dist URL skipped") != std::string::npos);
  CHECK(errors.find("has no \\\"//\\\" after its scheme") != std::string::npos);
  CHECK(errors.find("1.4.0: dist URL skipped: it carries a user name or password") != std::string::npos);
  CHECK(f.h.query("SELECT version FROM versions ORDER BY version").dump() ==
        R"([{"version":"1.1.0"},{"version":"1.2.0"},{"version":"1.3.0"}])");

  CHECK(f.up.auth_for("https://satis.test/packages.json") == creds_header);  // they do go where they belong
  // Another port is another origin.
  CHECK(f.c.call("GET", "/dist/acme/lib/1.1.0.0/" + std::string(40, 'b') + ".zip", basic(f.token)).status == 200);
  CHECK(f.up.auth_for("https://satis.test:8443/b.zip").empty());
  CHECK(f.c.call("GET", "/dist/acme/lib/1.2.0.0/" + std::string(40, 'c') + ".zip", basic(f.token)).status == 200);
  CHECK(f.up.auth_for("https://satis.test/c.zip") == creds_header);
  // https → http → https on the source's own host: not over http, and not after the downgrade either.
  CHECK(f.c.call("GET", "/dist/acme/lib/1.3.0.0/" + std::string(40, 'd') + ".zip", basic(f.token)).status == 200);
  CHECK(f.up.auth_for("https://satis.test/down.zip") == creds_header);
  CHECK(f.up.auth_for("http://satis.test/down.zip").empty());
  CHECK(f.up.auth_for("https://satis.test/c2.zip").empty());
  // Every upstream request says who it is (GitHub refuses requests without a User-Agent).
  CHECK(std::all_of(f.up.agents.begin(), f.up.agents.end(), [](const std::string& a) { return a.rfind("package-broker/", 0) == 0; }));
}

TEST_CASE("credentials stay with their source", "[sources][hardening][native]") {
  fixture f;
  serve(f.up, "acme/lib", {version("acme/lib", "1.0.0", "https://satis.test/a.zip", 'a')});

  SECTION("moving url to another origin drops them, unless new ones come along") {
    reply moved = f.patch(R"({"url":"https://elsewhere.test"})");
    REQUIRE(moved.status == 200);
    CHECK(moved.body_json()["credentials"].is_null());
    CHECK(f.h.query("SELECT credentials_enc FROM sources").as_array()[0]["credentials_enc"].is_null());
    reply with_new = f.patch(R"({"url":"https://satis.test","credentials":{"type":"basic","username":"deploy","password":"pw"}})");
    CHECK(with_new.body_json()["credentials"]["type"].as_string() == "basic");
    CHECK(f.sync().body_json()["result"]["status"].as_string() == "ok");
    CHECK(f.up.auth_for("https://satis.test/packages.json") == creds_header);
    // Same origin, another path: they stay.
    CHECK(f.patch(R"({"url":"https://satis.test/"})").body_json()["credentials"]["type"].as_string() == "basic");
    CHECK(f.patch(R"({"api_url":"https://api.elsewhere.test"})").body_json()["credentials"].is_null());
  }
  SECTION("a sealed value copied to another source does not open") {
    reply other = f.c.call("POST", "/admin/api/sources", bearer("adm"), R"({"type":"composer","url":"https://satis.test"})");
    std::int64_t other_id = other.body_json()["id"].as_int();
    f.h.query("UPDATE sources SET credentials_type = 'basic', credentials_enc = (SELECT credentials_enc FROM sources WHERE id = " +
              std::to_string(f.source_id) + ") WHERE id = " + std::to_string(other_id));
    reply r = f.c.call("POST", "/admin/api/sources/" + std::to_string(other_id) + "/sync", bearer("adm"));
    INFO(r.body);
    CHECK(r.status == 503);
    CHECK(r.body.find("do not open for this source") != std::string::npos);
    CHECK(f.up.seen.empty());  // nothing was sent, with or without the credentials
  }
  SECTION("{\"secret\":NAME} names only PB_SOURCE_* secrets") {
    for (const char* name : {"ADMIN_TOKEN", "PB_ENCRYPTION_KEY", "SATIS_AUTH", "PB_SOURCE_", "pb_source_x"}) {
      reply r = f.patch(std::string(R"({"credentials":{"secret":")") + name + "\"}}");
      INFO(name << " -> " << r.body);
      CHECK(r.status == 400);
      CHECK(r.body.find("\\\"credentials.secret\\\" must name a Worker secret PB_SOURCE_*") != std::string::npos);
    }
    // A row that names another secret anyway (written before this rule) is refused when used.
    f.h.query("UPDATE sources SET credentials_enc = NULL, credentials_secret = 'ADMIN_TOKEN'");
    reply r = f.sync();
    CHECK(r.status == 503);
    CHECK(r.body.find("not a PB_SOURCE_* secret") != std::string::npos);
    CHECK(r.body.find("adm\"") == std::string::npos);
    CHECK(f.up.seen.empty());
  }
}

TEST_CASE("{\"secret\":NAME} credentials: a JSON object, a bare token, or unset", "[sources][hardening][native]") {
  fixture f;
  serve(f.up, "acme/lib", {version("acme/lib", "1.0.0", "https://satis.test/a.zip", 'a')});
  REQUIRE(f.patch(R"({"credentials":{"secret":"PB_SOURCE_SATIS"}})").status == 200);
  json vars = admin_vars();
  client with{f.h, "https://broker.test", vars};

  SECTION("object") {
    vars.set("PB_SOURCE_SATIS", json(R"({"type":"basic","username":"deploy","password":"pw"})"));
    with.vars = vars;
    CHECK(with.call("POST", f.src_path() + "/sync", bearer("adm")).body_json()["result"]["status"].as_string() == "ok");
    CHECK(f.up.auth_for("https://satis.test/packages.json") == creds_header);
  }
  SECTION("bare token (Bearer)") {
    vars.set("PB_SOURCE_SATIS", json("tok-123\n"));
    with.vars = vars;
    CHECK(with.call("POST", f.src_path() + "/sync", bearer("adm")).status == 200);
    CHECK(f.up.auth_for("https://satis.test/packages.json") == "Bearer tok-123");
  }
  SECTION("unset: the sync fails naming the secret, and nothing is requested") {
    reply r = with.call("POST", f.src_path() + "/sync", bearer("adm"));
    CHECK(r.status == 503);
    CHECK(r.body.find("PB_SOURCE_SATIS") != std::string::npos);
    CHECK(f.up.seen.empty());
  }
}

TEST_CASE("package names belong to one owner", "[sources][hardening][native]") {
  fixture f;
  serve(f.up, "acme/lib", {version("acme/lib", "1.0.0", "https://satis.test/a.zip", 'a')});
  REQUIRE(f.sync().body_json()["result"]["status"].as_string() == "ok");

  SECTION("an upload into a package that belongs to a source is 409, and nothing is stored") {
    std::size_t blobs = f.h.blob_count();
    reply r = f.upload("acme/lib", "9.0.0");
    CHECK(r.status == 409);
    CHECK(r.body_json()["error"]["code"].as_string() == "conflict");
    CHECK(f.h.blob_count() == blobs);
    CHECK(f.h.query("SELECT count(*) AS n FROM versions").as_array()[0]["n"].as_int() == 1);
  }
  SECTION("a sync deletes only its own source's versions") {
    // A version that got in some other way (an upload that raced the first sync).
    f.h.query("INSERT INTO versions (package_id, version, version_normalized, stability, reference, composer_json, "
              "source, created_at) SELECT id, '0.9.0', '0.9.0.0', 'stable', 'x', '{}', 'artifact', 1 FROM packages");
    serve(f.up, "acme/lib", {version("acme/lib", "1.1.0", "https://satis.test/b.zip", 'b')});
    REQUIRE(f.sync().body_json()["result"]["status"].as_string() == "ok");
    CHECK(f.h.query("SELECT version FROM versions ORDER BY version").dump() == R"([{"version":"0.9.0"},{"version":"1.1.0"}])");
  }
}

TEST_CASE("names from sources follow the upload rule", "[sources][hardening][native]") {
  fixture f;
  REQUIRE(f.upload("acme/lib", "dev-main").status == 201);
  std::string dev_before = f.c.call("GET", "/p2/acme/lib~dev.json", basic(f.token)).body;
  serve(f.up, "acme/lib~dev", {version("acme/lib~dev", "9.9.9", "https://satis.test/evil.zip", 'e')},
        {"acme/lib~dev", "acme/Upper"});
  reply r = f.sync();
  INFO(r.body);
  CHECK(r.body.find("acme/lib~dev\\\" skipped: not a valid package name") != std::string::npos);
  CHECK(f.h.query("SELECT name FROM packages").dump() == R"([{"name":"acme/lib"}])");
  CHECK(f.c.call("GET", "/p2/acme/lib~dev.json", basic(f.token)).body == dev_before);
}

TEST_CASE("a revocation holds even with a lookup of that token in flight", "[sources][hardening][auth][native]") {
  native_host h;
  pb_reset_caches();
  client c{h, "https://broker.test", admin_vars()};
  reply t = c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"doomed"})");
  std::string secret(t.body_json()["token"].as_string());
  std::string id = std::to_string(t.body_json()["id"].as_int());
  REQUIRE(c.call("PUT", "/admin/api/artifacts/acme/w?version=1.0.0",
                 [&] { header_list hs = bearer("adm"); hs.emplace_back("content-length", std::to_string(zip_of("acme/w").size())); return hs; }(),
                 zip_of("acme/w")).status == 201);

  // A request with the token starts; its token lookup (D1) is in flight when the revocation runs.
  json start_doc = fetch_start("GET", "https://broker.test/p2/acme/w.json", basic(secret), false, admin_vars());
  std::uint32_t job = start(start_doc);
  REQUIRE(pb_state(job) == 1);
  json batch = *parse_json(output(job));
  json results = json::array();
  for (const auto& e : batch["effects"].as_array()) {  // performed now: the record still says "not revoked"
    std::optional<effect_error> err;
    json v = h.perform(e, err);
    json o = json::object();
    o.set("ok", json(true));
    o.set("value", v);
    results.push_back(o);
  }
  REQUIRE(c.call("DELETE", "/admin/api/tokens/" + id, bearer("adm")).status == 200);
  json doc = json::object();
  doc.set("results", results);
  while (resume(job, doc.dump()) == 1) {  // the rest of the in-flight request
    json more = *parse_json(output(job));
    json rs = json::array();
    for (const auto& e : more["effects"].as_array()) {
      std::optional<effect_error> err;
      json o = json::object();
      o.set("ok", json(true));
      o.set("value", h.perform(e, err));
      rs.push_back(o);
    }
    doc.set("results", rs);
  }
  pb_finish(job);
  // The stale record it read must not have gone back into the isolate's cache.
  reply after = c.call("GET", "/p2/acme/w.json", basic(secret));
  CHECK(after.status == 401);
  CHECK(after.body.find("revoked") != std::string::npos);
}

TEST_CASE("a disabled source neither syncs nor lends its credentials", "[sources][hardening][native]") {
  fixture f;
  serve(f.up, "acme/lib", {version("acme/lib", "1.0.0", "https://satis.test/a.zip", 'a')});
  std::string zip = zip_of("acme/lib");
  f.up.routes["https://satis.test/a.zip"] = {200, {{"content-length", std::to_string(zip.size())}}, zip};
  REQUIRE(f.sync().body_json()["result"]["status"].as_string() == "ok");
  std::string hook = std::string(f.source()["webhook_url"].as_string()).substr(std::string("https://broker.test").size());
  REQUIRE(f.patch(R"({"enabled":false})").status == 200);
  f.up.seen.clear();

  CHECK(f.sync().status == 409);
  f.h.query("UPDATE sources SET next_sync_at = 0");
  invoke(f.h, scheduled_start("*/15 * * * *", admin_vars()));
  CHECK(f.up.seen.empty());
  // A first download still works for a public archive, but anonymously.
  reply d = f.c.call("GET", "/dist/acme/lib/1.0.0.0/" + std::string(40, 'a') + ".zip", basic(f.token));
  CHECK(d.status == 200);
  REQUIRE(f.up.seen.size() == 1);
  CHECK(f.up.seen[0].second.empty());
  (void)hook;
}

TEST_CASE("webhooks: verified before any storage read, deliveries deduplicated", "[sources][hardening][hooks][native]") {
  fixture f;
  serve(f.up, "acme/lib", {version("acme/lib", "1.0.0", "https://satis.test/a.zip", 'a')});
  reply created = f.c.call("POST", "/admin/api/sources", bearer("adm"), R"({"type":"composer","url":"https://satis.test"})");
  std::string secret(created.body_json()["webhook_secret"].as_string());
  std::int64_t id = created.body_json()["id"].as_int();
  std::string hook = std::string(created.body_json()["webhook_url"].as_string()).substr(std::string("https://broker.test").size());
  std::string body = R"({"ref":"refs/heads/main"})";
  auto github = [&](const std::string& delivery) {
    return header_list{{"x-github-event", "push"}, {"x-github-delivery", delivery},
                       {"x-hub-signature-256", "sha256=" + hex_hmac_sha256(secret, body)}};
  };
  // Storage reads: a denied delivery may be written to the audit log (a d1.run after the check), but
  // nothing is read for it.
  auto d1_ops = [](const reply& r) {
    return std::count_if(r.ops.begin(), r.ops.end(), [](const std::string& op) {
      return op.rfind("d1.", 0) == 0 && op != "d1.run";
    });
  };

  SECTION("a wrong signature costs no storage read") {
    reply bad = f.c.call("POST", hook, {{"x-hub-signature-256", "sha256=" + std::string(64, '0')}}, body);
    CHECK(bad.status == 401);
    CHECK(d1_ops(bad) == 0);
    reply none = f.c.call("POST", hook, {}, body);
    CHECK(none.status == 401);
    CHECK(d1_ops(none) == 0);
    // A valid signature reads the source only after the check.
    reply good = f.c.call("POST", hook, github("d-1"), body);
    CHECK(good.status == 202);
    auto first_d1 = std::find_if(good.ops.begin(), good.ops.end(), [](const std::string& op) { return op.rfind("d1.", 0) == 0; });
    auto hmac = std::find(good.ops.begin(), good.ops.end(), "crypto.hmac");
    CHECK(hmac < first_d1);
  }
  SECTION("the same delivery twice syncs once, per provider header") {
    f.h.queue.clear();  // the sources' creation wake-ups
    CHECK(f.c.call("POST", hook, github("d-1"), body).status == 202);
    CHECK(deliver_queue(f.h, f.c.vars).size() == 1);  // the sync runs on the queue
    std::size_t requests = f.up.seen.size();
    CHECK(requests > 0);
    reply again = f.c.call("POST", hook, github("d-1"), body);
    CHECK(again.status == 200);
    CHECK(again.body.find("duplicate") != std::string::npos);
    CHECK(f.h.queue.empty());  // nothing queued for a redelivery
    CHECK(f.up.seen.size() == requests);
    CHECK(f.c.call("POST", hook, github("d-2"), body).status == 202);
    CHECK(deliver_queue(f.h, f.c.vars).size() == 1);
    CHECK(f.up.seen.size() > requests);
    header_list gitlab = {{"x-gitlab-token", secret}, {"x-gitlab-event-uuid", "g-1"}, {"x-gitlab-event", "Push Hook"}};
    CHECK(f.c.call("POST", hook, gitlab, body).status == 202);
    CHECK(f.c.call("POST", hook, gitlab, body).status == 200);
    header_list bitbucket = {{"x-hub-signature", "sha256=" + hex_hmac_sha256(secret, body)}, {"x-request-uuid", "b-1"},
                             {"x-event-key", "repo:push"}, {"x-hook-uuid", "h-1"}};
    CHECK(f.c.call("POST", hook, bitbucket, body).status == 202);
    CHECK(f.c.call("POST", hook, bitbucket, body).status == 200);
  }
  SECTION("a regenerated webhook retires the old URL and secret") {
    reply regen = f.c.call("POST", "/admin/api/sources/" + std::to_string(id) + "/webhook-secret", bearer("adm"));
    REQUIRE(regen.status == 200);
    std::string new_hook = std::string(regen.body_json()["webhook_url"].as_string()).substr(std::string("https://broker.test").size());
    CHECK(new_hook != hook);
    CHECK(f.c.call("POST", hook, github("d-3"), body).status == 401);
    secret = std::string(regen.body_json()["webhook_secret"].as_string());
    CHECK(f.c.call("POST", new_hook, github("d-4"), body).status == 202);
  }
  SECTION("a disabled source answers 409 and does not sync") {
    REQUIRE(f.c.call("PATCH", "/admin/api/sources/" + std::to_string(id), bearer("adm"), R"({"enabled":false})").status == 200);
    reply r = f.c.call("POST", hook, github("d-5"), body);
    CHECK(r.status == 409);
    CHECK(f.up.seen.empty());
  }
}
