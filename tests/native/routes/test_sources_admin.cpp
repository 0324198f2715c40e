// Admin API for sources on the native host: validation, sealed credentials (never returned, never
// stored in clear), the one-time webhook secret, PATCH and DELETE.
#include <catch2/catch_test_macros.hpp>

#include "host/native_client.h"
#include "host/native_host.h"

using namespace pb;
using namespace pb::testing;

TEST_CASE("sources: create, read, update, delete", "[sources][native]") {
  native_host h;
  client c{h, "https://repo.test", admin_vars()};
  header_list adm = bearer("adm");

  reply created = c.call("POST", "/admin/api/sources", adm,
                         R"({"type":"composer","url":"https://satis.example.com","include":["acme/*"],
                             "credentials":{"type":"basic","username":"deploy","password":"s3cret-pass"}})");
  REQUIRE(created.status == 201);
  json s = created.body_json();
  std::int64_t id = s["id"].as_int();
  CHECK(s["type"].as_string() == "composer");
  CHECK(s["credentials"]["type"].as_string() == "basic");
  CHECK(s["credentials"].find("password") == nullptr);
  std::string hook_prefix = "https://repo.test/hooks/" + std::to_string(id) + "/";
  CHECK(s["webhook_url"].as_string().substr(0, hook_prefix.size()) == hook_prefix);
  CHECK(s["webhook_url"].as_string().size() == hook_prefix.size() + 32);
  CHECK(s["webhook_secret"].as_string().size() == 48);
  CHECK(s["last_sync"].is_null());
  CHECK(created.body.find("s3cret-pass") == std::string::npos);

  // Nothing secret is stored in clear.
  json row = h.query("SELECT * FROM sources").as_array()[0];
  CHECK(row.dump().find("s3cret-pass") == std::string::npos);
  CHECK(row.dump().find(std::string(s["webhook_secret"].as_string())) == std::string::npos);

  reply shown = c.call("GET", "/admin/api/sources/" + std::to_string(id), adm);
  CHECK(shown.status == 200);
  CHECK(shown.body.find("webhook_secret\"") == std::string::npos);
  CHECK(shown.body.find("s3cret") == std::string::npos);
  CHECK(c.call("GET", "/admin/api/sources", adm).body_json()["sources"].size() == 1);

  reply patched = c.call("PATCH", "/admin/api/sources/" + std::to_string(id), adm,
                         R"({"exclude":["acme/legacy"],"credentials":{"secret":"PB_SOURCE_SATIS_AUTH"},"sync_interval_s":600})");
  REQUIRE(patched.status == 200);
  CHECK(patched.body_json()["credentials"]["secret"].as_string() == "PB_SOURCE_SATIS_AUTH");
  CHECK(patched.body_json()["exclude"].as_array()[0].as_string() == "acme/legacy");
  CHECK(patched.body_json()["include"].as_array()[0].as_string() == "acme/*");
  CHECK(patched.body_json()["sync_interval_s"].as_int() == 600);
  CHECK(h.query("SELECT credentials_enc FROM sources").as_array()[0]["credentials_enc"].is_null());

  CHECK(c.call("PATCH", "/admin/api/sources/" + std::to_string(id), adm, R"({"type":"github"})").status == 400);
  CHECK(c.call("DELETE", "/admin/api/sources/" + std::to_string(id), adm).status == 200);
  CHECK(c.call("GET", "/admin/api/sources/" + std::to_string(id), adm).status == 404);
  CHECK(c.call("DELETE", "/admin/api/sources/" + std::to_string(id), adm).status == 404);
}

TEST_CASE("sources: defaults and validation", "[sources][native]") {
  native_host h;
  client c{h, "https://repo.test", admin_vars()};
  header_list adm = bearer("adm");
  reply p = c.call("POST", "/admin/api/sources", adm, R"({"type":"packagist","exclude":["evil/*"]})");
  REQUIRE(p.status == 201);
  CHECK(p.body_json()["url"].as_string() == "https://repo.packagist.org");

  auto rejects = [&](const std::string& body, const std::string& says) {
    reply r = c.call("POST", "/admin/api/sources", adm, body);
    INFO(body << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(std::string(r.body_json()["error"]["message"].as_string()).find(says) != std::string::npos);
  };
  rejects(R"({"url":"https://x.test"})", "\"type\" is required");
  rejects(R"({"type":"svn","url":"https://x.test"})", "\"type\" must be");
  rejects(R"({"type":"composer"})", "\"url\" is required");
  rejects(R"({"type":"composer","url":"ftp://x.test"})", "http(s) URL");
  rejects(R"({"type":"composer","url":"https:evil.example/x://satis.test"})", "no \"//\" after its scheme");
  rejects(R"({"type":"composer","url":"https://user:pw@satis.test"})", "must not carry a user name or password");
  rejects(R"({"type":"composer","url":"https://satis.test","api_url":"https://exa mple.test"})", "\"api_url\" must be an http(s) URL");
  rejects(R"({"type":"github","url":"https://github.com/acme"})", "owner/repo");
  rejects(R"({"type":"gitlab","url":"https://gitlab.com/solo"})", "group/project");
  rejects(R"({"type":"composer","url":"https://x.test","include":["Bad Pattern"]})", "invalid package pattern");
  rejects(R"({"type":"composer","url":"https://x.test","credentials":{"type":"basic","username":"u"}})", "password");
  rejects(R"({"type":"composer","url":"https://x.test","credentials":{"type":"ntlm"}})", "credentials");
  rejects(R"({"type":"composer","url":"https://x.test","credentials":{"secret":"lower-case"}})", "Worker secret");
  rejects(R"({"type":"composer","url":"https://x.test","sync_interval_s":5})", "sync_interval_s");

  reply gh = c.call("POST", "/admin/api/sources", adm,
                    R"({"type":"github","url":"https://ghe.example.com/acme/widget.git","api_url":"https://ghe.example.com/api/v3","credentials":{"type":"bearer","token":"ghp_x"}})");
  CHECK(gh.status == 201);
  CHECK(c.call("POST", "/admin/api/sources", bearer("wrong"), R"({"type":"packagist"})").status == 401);
}

TEST_CASE("sources: sealing needs PB_ENCRYPTION_KEY", "[sources][native]") {
  native_host h;
  client c{h, "https://repo.test", admin_vars(false)};
  reply r = c.call("POST", "/admin/api/sources", bearer("adm"),
                   R"({"type":"composer","url":"https://x.test","credentials":{"type":"bearer","token":"t"}})");
  CHECK(r.status == 503);
  CHECK(std::string(r.body_json()["error"]["message"].as_string()).find("PB_ENCRYPTION_KEY") != std::string::npos);
  CHECK(h.query("SELECT count(*) AS n FROM sources").as_array()[0]["n"].as_int() == 0);
}
