// GET /health and the JSON 404: the exact effect sequence (scripted host) and end to end on real SQLite
// with d1/migrations applied (native host).
#include <catch2/catch_test_macros.hpp>

#include "core/version.h"
#include "host/abi.h"
#include "host/native_host.h"
#include "host/native_client.h"
#include "host/scripted_host.h"

using namespace pb;
using namespace pb::testing;

namespace {

const std::string healthy_meta = R"({"results":[{"key":"schema_version","value":")" + std::to_string(schema_version) +
                                 R"("}],"meta":{"changes":0,"last_row_id":0}})";

finished health(host& h, header_list headers = {}, std::string method = "GET") {
  return invoke(h, fetch_start(method, "http://pb.test/health", std::move(headers), false, admin_vars()));
}

// At the native host's clock, which the tests move.
finished health(native_host& h, header_list headers = {}, std::string method = "GET") {
  json doc = fetch_start(method, "http://pb.test/health", std::move(headers), false, admin_vars());
  doc.set("now_ms", json(h.clock_ms));
  return invoke(h, doc);
}

}  // namespace

TEST_CASE("GET /health asks D1, KV and R2 in one batch", "[health][scripted]") {
  scripted_host h;
  h.expect("d1.all", *parse_json(healthy_meta))
      .expect("kv.get", *parse_json(R"({"value":null,"metadata":null})"), has_field("key", json("health:probe")))
      .expect("r2.head", *parse_json(R"({"found":false})"), has_field("key", json("health/probe")));
  finished f = health(h);
  CHECK(h.failures.empty());
  CHECK(h.all_used());
  CHECK(f.batches == 1);
  CHECK(f.status() == 200);
  json body = f.body_json();
  CHECK(body["status"].as_string() == "ok");
  for (const char* c : {"db", "kv", "blob", "schema", "secrets"}) CHECK(body["checks"][c]["status"].as_string() == "ok");
  CHECK(body["checks"]["cron"]["status"].as_string() == "waiting");  // never ran: not a failure
  CHECK(body["version"].as_string() == product_version);
  CHECK(f.header("cache-control") == "no-store");
}

TEST_CASE("GET /health names the failing dependency, with its message only for the admin", "[health][scripted]") {
  for (bool admin : {false, true}) {
    scripted_host h;
    h.expect("d1.all", *parse_json(healthy_meta))
        .expect_error("kv.get", "Error", "KV GET failed: 500 Internal Server Error")
        .expect("r2.head", *parse_json(R"({"found":false})"));
    finished f = health(h, admin ? bearer("adm") : header_list{});
    CHECK(h.failures.empty());
    CHECK(f.status() == 503);
    json body = f.body_json();
    CHECK(body["status"].as_string() == "degraded");
    CHECK(body["checks"]["db"]["status"].as_string() == "ok");
    CHECK(body["checks"]["kv"]["status"].as_string() == "error");
    CHECK(body["checks"]["blob"]["status"].as_string() == "ok");
    if (admin) {
      CHECK(body["checks"]["kv"]["message"].as_string() == "Error: KV GET failed: 500 Internal Server Error");
    } else {
      CHECK(f.body().find("KV GET failed") == std::string::npos);  // no storage error text for anonymous callers
      CHECK(body["checks"]["kv"].find("message") == nullptr);
    }
  }
}

TEST_CASE("the code's schema version is the one the migrations set", "[health][native]") {
  native_host h;
  json rows = h.query("SELECT value FROM pb_meta WHERE key = 'schema_version'");
  REQUIRE(rows.size() == 1);
  CHECK(rows.as_array()[0]["value"].as_string() == std::to_string(schema_version));
}

TEST_CASE("/health end to end on SQLite", "[health][native]") {
  SECTION("migrated database with its secrets: ok") {
    native_host h;
    finished f = health(h);
    CHECK(f.status() == 200);
    json body = f.body_json();
    CHECK(body["status"].as_string() == "ok");
    for (const char* c : {"db", "kv", "blob", "schema", "secrets"}) CHECK(body["checks"][c]["status"].as_string() == "ok");
    CHECK(f.ops == std::vector<std::string>{"d1.all", "kv.get", "r2.head"});
  }
  SECTION("database without migrations: degraded, the message for the admin only") {
    native_host h(false);
    finished f = health(h, bearer("adm"));
    CHECK(f.status() == 503);
    json body = f.body_json();
    CHECK(body["checks"]["db"]["status"].as_string() == "error");
    CHECK(std::string(body["checks"]["db"]["message"].as_string()).find("no such table: pb_meta") != std::string::npos);
    native_host anonymous(false);
    finished a = health(anonymous);
    CHECK(a.status() == 503);
    CHECK(a.body().find("no such table") == std::string::npos);
  }
  SECTION("a schema older than the code's: degraded") {
    native_host h;
    h.query("UPDATE pb_meta SET value = '" + std::to_string(schema_version - 1) + "' WHERE key = 'schema_version'");
    finished f = health(h, bearer("adm"));
    CHECK(f.status() == 503);
    json body = f.body_json();
    CHECK(body["checks"]["schema"]["status"].as_string() == "outdated");
    CHECK(std::string(body["checks"]["schema"]["message"].as_string()).find("apply the migrations") != std::string::npos);
    CHECK(body["checks"]["db"]["status"].as_string() == "ok");
  }
  SECTION("a missing secret: degraded, named for the admin") {
    native_host h;
    json vars = admin_vars(false);  // ADMIN_TOKEN, no PB_ENCRYPTION_KEY
    finished f = invoke(h, fetch_start("GET", "http://pb.test/health", bearer("adm"), false, vars));
    CHECK(f.status() == 503);
    json body = f.body_json();
    CHECK(body["checks"]["secrets"]["status"].as_string() == "missing");
    CHECK(body["checks"]["secrets"]["message"].as_string() == "not set or not valid: PB_ENCRYPTION_KEY");
    native_host h2;
    finished none = invoke(h2, fetch_start("GET", "http://pb.test/health", {}, false, json::object()));
    CHECK(none.status() == 503);
    CHECK(none.body_json()["checks"]["secrets"]["status"].as_string() == "missing");
  }
  SECTION("the cron trigger: waiting, ok after a run, late after two missed intervals") {
    native_host h;
    CHECK(health(h).body_json()["checks"]["cron"]["status"].as_string() == "waiting");
    json cron = scheduled_start("*/15 * * * *", admin_vars());
    cron.set("now_ms", json(h.clock_ms));
    invoke(h, cron);
    h.clock_ms += 11'000;  // past the isolate's 10 s probe cache
    finished ran = health(h);
    CHECK(ran.status() == 200);
    CHECK(ran.body_json()["checks"]["cron"]["status"].as_string() == "ok");
    h.clock_ms += 29 * 60'000;  // 29 min 11 s after the run: within two intervals
    CHECK(health(h).body_json()["checks"]["cron"]["status"].as_string() == "ok");
    h.clock_ms += 60'000;
    finished late = health(h, bearer("adm"));
    CHECK(late.status() == 503);
    CHECK(late.body_json()["checks"]["cron"]["status"].as_string() == "late");
  }
  SECTION("frequent calls: one storage probe per isolate per 10 seconds") {
    native_host h;
    CHECK(health(h).ops.size() == 3);
    h.clock_ms += 9'000;
    finished again = health(h);
    CHECK(again.status() == 200);
    CHECK(again.ops.empty());
    h.clock_ms += 1'000;
    CHECK(health(h).ops.size() == 3);
  }
  SECTION("HEAD has no body") {
    native_host h;
    finished f = health(h, {}, "HEAD");
    CHECK(f.status() == 200);
    CHECK(f.body().empty());
  }
}

TEST_CASE("unknown paths get the JSON error shape", "[routes][native]") {
  native_host h;
  SECTION("404") {
    finished f = invoke(h, fetch_start("GET", "http://pb.test/no/such/thing?x=1"));
    CHECK(f.status() == 404);
    CHECK(f.ops.empty());
    CHECK(f.header("content-type") == "application/json");
    json body = f.body_json();
    CHECK(body["error"]["code"].as_string() == "not_found");
    CHECK(body["error"]["message"].as_string() == "no route for /no/such/thing");
  }
  SECTION("405 with Allow") {
    finished f = invoke(h, fetch_start("POST", "http://pb.test/health"));
    CHECK(f.status() == 405);
    CHECK(f.header("allow") == "GET, HEAD");
    CHECK(f.body_json()["error"]["code"].as_string() == "method_not_allowed");
  }
  SECTION("test hooks are invisible unless enabled") {
    finished f = invoke(h, fetch_start("GET", "http://pb.test/__test/trap"));
    CHECK(f.status() == 404);
  }
}

TEST_CASE("the cron trigger records its run", "[scheduled][native]") {
  native_host h;
  finished f = invoke(h, scheduled_start("*/15 * * * *"));
  CHECK(f.doc.dump() == "{}");
  json rows = h.query("SELECT value FROM pb_meta WHERE key = 'last_cron_ms'");
  REQUIRE(rows.size() == 1);
  CHECK(rows.as_array()[0]["value"].as_string() == "1767225600000");
}
