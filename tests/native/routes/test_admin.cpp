// The administration API on the native host (real SQLite with d1/migrations): named admins and roles,
// the audit log (changes with before/after, denials folded per minute), token show/update with
// validation that rejects unknown fields and changes nothing on failure, paging, status, OpenAPI.
#include "native/routes/admin_fixture.h"

using namespace pb;
using namespace pb::testing;

TEST_CASE("named admins: roles decide what a token may do", "[admin][native]") {
  admin_fixture f;
  reply made = f.admin("POST", "/admin/api/admins", R"({"name":"vera","role":"viewer"})");
  REQUIRE(made.status == 201);
  std::string viewer(made.body_json()["token"].as_string());
  CHECK(viewer.rfind("pba_", 0) == 0);
  std::string maintainer(f.admin("POST", "/admin/api/admins", R"({"name":"max","role":"maintainer"})").body_json()["token"].as_string());
  std::string owner(f.admin("POST", "/admin/api/admins", R"({"name":"olga","role":"owner"})").body_json()["token"].as_string());
  // Only the hash is stored.
  CHECK(f.h.query("SELECT * FROM admins").dump().find(viewer) == std::string::npos);

  CHECK(f.admin("GET", "/admin/api/tokens", {}, viewer).status == 200);
  reply denied = f.admin("POST", "/admin/api/tokens", R"({"name":"x"})", viewer);
  CHECK(denied.status == 403);
  CHECK(std::string(denied.body_json()["error"]["message"].as_string()).find("maintainer") != std::string::npos);
  CHECK(f.count("SELECT COUNT(*) AS n FROM tokens") == 0);  // a denied request changes nothing

  reply ci = f.admin("POST", "/admin/api/tokens", R"({"name":"ci"})", maintainer);
  REQUIRE(ci.status == 201);
  std::string ci_secret(ci.body_json()["token"].as_string());
  CHECK(f.admin("GET", "/admin/api/admins", {}, maintainer).status == 403);
  CHECK(f.admin("POST", "/admin/api/admins", R"({"name":"eve","role":"owner"})", maintainer).status == 403);
  CHECK(f.admin("GET", "/admin/api/admins", {}, owner).body_json()["admins"].size() == 3);

  json me = f.admin("GET", "/admin/api/me", {}, maintainer).body_json();
  CHECK(me["name"].as_string() == "max");
  CHECK(me["role"].as_string() == "maintainer");
  CHECK(f.admin("GET", "/admin/api/me").body_json()["actor"].as_string() == "admin:0");

  SECTION("every change knows who made it") {
    json entries = f.audit("?action=token.create");
    REQUIRE(entries.size() == 1);
    CHECK(entries.as_array()[0]["actor_name"].as_string() == "max");
    CHECK(entries.as_array()[0]["after"]["name"].as_string() == "ci");
    CHECK(entries.dump().find(ci_secret) == std::string::npos);  // no secret, only the prefix
    json created = f.audit("?action=admin.create");
    CHECK(created.size() == 3);
    CHECK(created.dump().find(owner) == std::string::npos);
  }
  SECTION("a revoked admin token stops working at once") {
    std::int64_t id = f.admin("GET", "/admin/api/admins").body_json()["admins"].as_array()[1]["id"].as_int();
    REQUIRE(f.admin("DELETE", "/admin/api/admins/" + std::to_string(id), {}, owner).status == 200);
    reply gone = f.admin("GET", "/admin/api/tokens", {}, maintainer);
    CHECK(gone.status == 401);
    CHECK(std::string(gone.body_json()["error"]["message"].as_string()).find("revoked") != std::string::npos);
    CHECK(f.admin("GET", "/admin/api/tokens", {}, "pba_unknown").status == 401);
  }
  SECTION("bad admin bodies") {
    CHECK(f.admin("POST", "/admin/api/admins", R"({"name":"x","role":"god"})").status == 400);
    CHECK(f.admin("POST", "/admin/api/admins", R"({"name":"x","role":"viewer","extra":1})").status == 400);
    CHECK(f.admin("POST", "/admin/api/admins", R"({"name":"vera","role":"viewer"})").status == 409);
  }
}

TEST_CASE("audit log: denials are recorded and folded, filters and paging work", "[admin][audit][native]") {
  admin_fixture f;
  REQUIRE(f.upload("acme/widget", "1.0.0").status == 201);
  json t = f.token(R"({"name":"ci"})");
  std::string secret(t["token"].as_string());
  REQUIRE(f.admin("DELETE", "/admin/api/tokens/" + std::to_string(t["id"].as_int())).status == 200);

  CHECK(f.as_client(secret, "GET", "/p2/acme/widget.json").status == 401);
  CHECK(f.as_client(secret, "GET", "/p2/acme/widget.json").status == 401);  // folded into the first row
  CHECK(f.as_client("pbt_made_up", "GET", "/packages.json").status == 401);
  CHECK(f.c.call("GET", "/admin/api/tokens", bearer("wrong")).status == 401);

  json denied = f.audit("?action=access.denied");
  REQUIRE(denied.size() == 3);
  json revoked = f.audit("?action=access.denied&actor=token:" + std::to_string(t["id"].as_int()));
  REQUIRE(revoked.size() == 1);
  CHECK(revoked.as_array()[0]["path"].as_string() == "/p2/acme/widget.json");
  CHECK(std::string(revoked.as_array()[0]["reason"].as_string()).find("revoked") != std::string::npos);
  CHECK(f.audit("?actor=anonymous").size() == 2);

  // A minute later the folded count arrives with the next row.
  f.c.now_ms = 1767225600000 + 61'000;
  CHECK(f.as_client(secret, "GET", "/p2/acme/widget.json").status == 401);
  json again = f.audit("?action=access.denied&actor=token:" + std::to_string(t["id"].as_int()));
  REQUIRE(again.size() == 2);
  CHECK(again.as_array()[0]["count"].as_int() == 2);

  // Prefix filter and paging (newest first).
  CHECK(f.audit("?action=token.*").size() == 2);
  json page1 = f.admin("GET", "/admin/api/audit?limit=2").body_json();
  REQUIRE(page1["entries"].size() == 2);
  REQUIRE(page1["next_cursor"].is_string());
  json page2 = f.admin("GET", "/admin/api/audit?limit=2&cursor=" + std::string(page1["next_cursor"].as_string())).body_json();
  CHECK(page2["entries"].as_array()[0]["id"].as_int() < page1["entries"].as_array()[1]["id"].as_int());
  CHECK(f.admin("GET", "/admin/api/audit?limit=0").status == 400);
  CHECK(f.admin("GET", "/admin/api/audit?cursor=abc").status == 400);
  CHECK(f.admin("GET", "/admin/api/audit?since=yesterday").status == 400);
  CHECK(f.audit("?since=2026-01-02").size() == 0);

  SECTION("the cron trigger applies the retention setting") {
    json vars = admin_vars();
    vars.set("PB_AUDIT_RETENTION_DAYS", json("1"));
    json start = scheduled_start("*/15 * * * *", vars);
    start.set("now_ms", json(std::int64_t{1767225600000} + 2 * 86'400'000));
    (void)invoke(f.h, start);
    CHECK(f.count("SELECT COUNT(*) AS n FROM audit_log") == 0);
  }
}

TEST_CASE("tokens: show, update, validation that names the field and changes nothing", "[admin][tokens][native]") {
  admin_fixture f;
  json t = f.token(R"({"name":"customer","packages":["acme/*"],"rate_limit":50})");
  std::string id = std::to_string(t["id"].as_int());
  CHECK(t["rate_limit"].as_int() == 50);
  CHECK(t["licences"].size() == 0);

  json shown = f.admin("GET", "/admin/api/tokens/" + id).body_json();
  CHECK(shown["name"].as_string() == "customer");
  CHECK(shown.find("token") == nullptr);
  CHECK(f.admin("GET", "/admin/api/tokens/999").status == 404);

  reply up = f.admin("PATCH", "/admin/api/tokens/" + id,
                     R"({"name":"customer 2","licences":[{"packages":"acme/*","constraint":"^2.0","updates_until":"2026-06-30"}]})");
  INFO(up.body);
  REQUIRE(up.status == 200);
  json u = up.body_json();
  CHECK(u["name"].as_string() == "customer 2");
  CHECK(u["packages"].as_array()[0].as_string() == "acme/*");  // untouched
  CHECK(u["licences"].as_array()[0]["constraint"].as_string() == "^2.0");
  CHECK(u["licences"].as_array()[0]["updates_until"].as_string() == "2026-06-30T23:59:59Z");
  json entry = f.audit("?action=token.update").as_array()[0];
  CHECK(entry["before"]["name"].as_string() == "customer");
  CHECK(entry["after"]["name"].as_string() == "customer 2");
  CHECK(entry["target"].as_string() == "token:" + id);

  auto rejected = [&](const std::string& body, const std::string& names) {
    std::string before = f.h.query("SELECT * FROM tokens").dump();
    reply r = f.admin("PATCH", "/admin/api/tokens/" + id, body);
    INFO(body << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(std::string(r.body_json()["error"]["message"].as_string()).find(names) != std::string::npos);
    CHECK(f.h.query("SELECT * FROM tokens").dump() == before);
  };
  rejected(R"({"nmae":"typo"})", "\"nmae\"");
  rejected(R"({"name":""})", "\"name\"");
  rejected(R"({"name":"ok","rate_limit":-1})", "\"rate_limit\"");
  rejected(R"({"name":"ok","licences":[{"packages":"acme/*","constraint":"^^2"}]})", "licences[0]");
  rejected(R"({"licences":[{"packages":"acme/*","constraint":"^2.0","until":"2027-01-01"}]})", "\"until\"");
  rejected(R"({"licences":[{"packages":"ACME WIDGET","constraint":"^2.0"}]})", "\"packages\"");
  rejected(R"({"licences":[{"packages":"acme/*","constraint":"^2.0","updates_until":"soon"}]})", "\"updates_until\"");
  rejected(R"({"expires_at":"2027-13-01"})", "\"expires_at\"");
  CHECK(f.admin("POST", "/admin/api/tokens", R"({"name":"x","scope":["acme/*"]})").status == 400);
  CHECK(f.count("SELECT COUNT(*) AS n FROM tokens") == 1);

  SECTION("a revoked token cannot be edited") {
    REQUIRE(f.admin("DELETE", "/admin/api/tokens/" + id).status == 200);
    CHECK(f.admin("PATCH", "/admin/api/tokens/" + id, R"({"name":"again"})").status == 409);
  }
}

TEST_CASE("lists are paged with cursor and limit", "[admin][native]") {
  admin_fixture f;
  for (int i = 0; i < 5; ++i) (void)f.token("{\"name\":\"t" + std::to_string(i) + "\"}");
  for (const char* name : {"acme/a", "acme/b", "acme/c"}) REQUIRE(f.upload(name, "1.0.0").status == 201);
  std::vector<std::string> seen;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    json page = f.admin("GET", "/admin/api/tokens?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor)).body_json();
    for (const auto& t : page["tokens"].as_array()) seen.emplace_back(t["name"].as_string());
    if (page["next_cursor"].is_null()) break;
    cursor = std::string(page["next_cursor"].as_string());
  }
  CHECK(seen == std::vector<std::string>{"t0", "t1", "t2", "t3", "t4"});
  json p1 = f.admin("GET", "/admin/api/packages?limit=2").body_json();
  CHECK(p1["packages"].size() == 2);
  CHECK(p1["next_cursor"].as_string() == "acme/b");
  json p2 = f.admin("GET", "/admin/api/packages?limit=2&cursor=acme/b").body_json();
  CHECK(p2["packages"].as_array()[0]["name"].as_string() == "acme/c");
  CHECK(p2["next_cursor"].is_null());
  CHECK(f.admin("GET", "/admin/api/packages?q=b").body_json()["packages"].size() == 1);
  CHECK(f.admin("GET", "/admin/api/tokens?limit=201").status == 400);
}

TEST_CASE("status tells what doctor checks; the OpenAPI document is served", "[admin][native]") {
  admin_fixture f;
  (void)invoke(f.h, scheduled_start("*/15 * * * *", admin_vars()));
  f.c.now_ms = 1767225600000 + 90'000;
  json s = f.admin("GET", "/admin/api/status").body_json();
  CHECK(s["schema_version"].is_string());
  CHECK(s["cron_age_s"].as_int() == 90);
  CHECK(s["secrets"]["ADMIN_TOKEN"].as_string() == "ok");
  CHECK(s["secrets"]["PB_ENCRYPTION_KEY"].as_string() == "ok");
  CHECK(s["counts"]["packages"].as_int() == 0);
  reply doc = f.c.call("GET", "/admin/api/openapi.json");
  CHECK(doc.status == 200);
  CHECK(doc.body_json()["openapi"].as_string() == "3.1.0");
}

TEST_CASE("console sessions: cookie, CSRF token, sign-out, revocation", "[admin][sessions][native]") {
  admin_fixture f;
  std::string maint(f.admin("POST", "/admin/api/admins", R"({"name":"max","role":"maintainer"})").body_json()["token"].as_string());
  reply made = f.admin("POST", "/admin/api/sessions", {}, maint);
  INFO(made.body);
  REQUIRE(made.status == 201);
  std::string cookie = made.header("set-cookie");
  CHECK(cookie.find("pb_session=pbs_") == 0);
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
  CHECK(cookie.find("Secure") != std::string::npos);  // https://repo.test is not localhost
  std::string secret = cookie.substr(std::string("pb_session=").size(), cookie.find(';') - std::string("pb_session=").size());
  std::string csrf(made.body_json()["csrf_token"].as_string());
  CHECK(made.body_json()["role"].as_string() == "maintainer");
  CHECK(f.h.query("SELECT * FROM admin_sessions").dump().find(secret) == std::string::npos);  // only hashes
  CHECK(f.h.query("SELECT * FROM admin_sessions").dump().find(csrf) == std::string::npos);

  header_list with_cookie = {{"cookie", "theme=dark; pb_session=" + secret}};
  CHECK(f.c.call("GET", "/admin/api/me", with_cookie).body_json()["name"].as_string() == "max");
  // A change needs the CSRF token too: the browser sends the cookie on its own, not the header.
  CHECK(f.c.call("POST", "/admin/api/tokens", with_cookie, R"({"name":"x"})").status == 403);
  CHECK(f.count("SELECT COUNT(*) AS n FROM tokens") == 0);
  header_list with_csrf = with_cookie;
  with_csrf.emplace_back("x-csrf-token", csrf);
  with_csrf.emplace_back("content-type", "application/json");
  reply created = f.c.call("POST", "/admin/api/tokens", with_csrf, R"({"name":"from the console"})");
  CHECK(created.status == 201);
  CHECK(f.audit("?action=token.create").as_array()[0]["actor_name"].as_string() == "max");
  // The role still applies; a session cannot make another session.
  CHECK(f.c.call("GET", "/admin/api/admins", with_cookie).status == 403);
  CHECK(f.c.call("POST", "/admin/api/sessions", with_csrf).status == 400);

  SECTION("a console tab opened later gets the session's CSRF token from the cookie alone") {
    reply current = f.c.call("GET", "/admin/api/sessions/current", with_cookie);
    INFO(current.body);
    REQUIRE(current.status == 200);
    CHECK(current.body_json()["csrf_token"].as_string() == csrf);
    CHECK(current.body_json()["name"].as_string() == "max");
    CHECK(current.body_json()["expires_at"].as_string() == made.body_json()["expires_at"].as_string());
    CHECK(current.header("cache-control") == "no-store");
    // An admin token has no session to describe; a browser without the cookie is about to sign in,
    // not denied (nothing audited); another session's cookie gets its own token.
    CHECK(f.admin("GET", "/admin/api/sessions/current", {}, maint).status == 404);
    std::int64_t denials = f.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'access.denied'");
    CHECK(f.c.call("GET", "/admin/api/sessions/current").status == 404);
    CHECK(f.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'access.denied'") == denials);
    reply other = f.admin("POST", "/admin/api/sessions", {}, maint);
    std::string other_cookie = other.header("set-cookie").substr(0, other.header("set-cookie").find(';'));
    reply mine = f.c.call("GET", "/admin/api/sessions/current", {{"cookie", other_cookie}});
    CHECK(mine.body_json()["csrf_token"].as_string() == other.body_json()["csrf_token"].as_string());
    CHECK(mine.body_json()["csrf_token"].as_string() != csrf);
    header_list crossed = {{"cookie", other_cookie}, {"x-csrf-token", csrf}, {"content-type", "application/json"}};
    CHECK(f.c.call("POST", "/admin/api/tokens", crossed, R"({"name":"y"})").status == 403);
    f.c.call("DELETE", "/admin/api/sessions/current", with_csrf);
    reply ended = f.c.call("GET", "/admin/api/sessions/current", with_cookie);
    CHECK(ended.status == 401);
    CHECK(f.audit("?action=access.denied").as_array()[0]["path"].as_string() == "/admin/api/sessions/current");
  }
  SECTION("signing out ends the session and clears the cookie") {
    reply out = f.c.call("DELETE", "/admin/api/sessions/current", with_csrf);
    CHECK(out.status == 200);
    CHECK(out.header("set-cookie").find("Max-Age=0") != std::string::npos);
    CHECK(f.c.call("GET", "/admin/api/me", with_cookie).status == 401);
  }
  SECTION("revoking the admin ends its sessions") {
    std::int64_t id = f.admin("GET", "/admin/api/admins").body_json()["admins"].as_array()[0]["id"].as_int();
    REQUIRE(f.admin("DELETE", "/admin/api/admins/" + std::to_string(id)).status == 200);
    CHECK(f.c.call("GET", "/admin/api/me", with_cookie).status == 401);
  }
  SECTION("sessions expire after eight hours") {
    f.c.now_ms = 1767225600000 + 8 * 3600 * 1000 + 1;
    CHECK(f.c.call("GET", "/admin/api/me", with_cookie).status == 401);
  }
  SECTION("a wrong cookie is a 401") {
    CHECK(f.c.call("GET", "/admin/api/me", {{"cookie", "pb_session=pbs_forged"}}).status == 401);
  }
}
