// GET /health and the JSON 404: the exact effect sequence (scripted host) and end to end on real SQLite
// with d1/migrations applied (native host).
#include <catch2/catch_test_macros.hpp>

#include "core/version.h"
#include "host/abi.h"
#include "host/native_host.h"
#include "host/scripted_host.h"

using namespace pb;
using namespace pb::testing;

TEST_CASE("GET /health asks D1, KV and R2 in one batch", "[health][scripted]") {
  scripted_host h;
  h.expect("d1.first", *parse_json(R"({"row":{"value":"1"}})"), has_field("params", *parse_json(R"(["schema_version"])")))
      .expect("kv.get", *parse_json(R"({"value":null,"metadata":null})"), has_field("key", json("health:probe")))
      .expect("r2.head", *parse_json(R"({"found":false})"), has_field("key", json("health/probe")));
  finished f = invoke(h, fetch_start("GET", "http://pb.test/health"));
  CHECK(h.failures.empty());
  CHECK(h.all_used());
  CHECK(f.batches == 1);
  CHECK(f.status() == 200);
  json body = f.body_json();
  CHECK(body["status"].as_string() == "ok");
  CHECK(body["version"].as_string() == product_version);
  CHECK(f.header("cache-control") == "no-store");
}

TEST_CASE("GET /health reports the failing dependency and answers 503", "[health][scripted]") {
  scripted_host h;
  h.expect("d1.first", *parse_json(R"({"row":{"value":"1"}})"))
      .expect_error("kv.get", "Error", "KV GET failed: 500 Internal Server Error")
      .expect("r2.head", *parse_json(R"({"found":false})"));
  finished f = invoke(h, fetch_start("GET", "http://pb.test/health"));
  CHECK(h.failures.empty());
  CHECK(f.status() == 503);
  json body = f.body_json();
  CHECK(body["status"].as_string() == "degraded");
  CHECK(body["checks"]["db"]["status"].as_string() == "ok");
  CHECK(body["checks"]["kv"]["status"].as_string() == "error");
  CHECK(body["checks"]["kv"]["message"].as_string() == "Error: KV GET failed: 500 Internal Server Error");
  CHECK(body["checks"]["blob"]["status"].as_string() == "ok");
}

TEST_CASE("/health end to end on SQLite", "[health][native]") {
  SECTION("migrated database: ok") {
    native_host h;
    finished f = invoke(h, fetch_start("GET", "http://pb.test/health"));
    CHECK(f.status() == 200);
    json body = f.body_json();
    CHECK(body["status"].as_string() == "ok");
    for (const char* c : {"db", "kv", "blob"}) CHECK(body["checks"][c]["status"].as_string() == "ok");
    CHECK(f.ops == std::vector<std::string>{"d1.first", "kv.get", "r2.head"});
  }
  SECTION("database without migrations: degraded") {
    native_host h(false);
    finished f = invoke(h, fetch_start("GET", "http://pb.test/health"));
    CHECK(f.status() == 503);
    json body = f.body_json();
    CHECK(body["checks"]["db"]["status"].as_string() == "error");
    CHECK(std::string(body["checks"]["db"]["message"].as_string()).find("no such table: pb_meta") != std::string::npos);
  }
  SECTION("injected R2 failure: degraded") {
    native_host h;
    h.fail_op("r2.head", "Error", "R2 is down");
    finished f = invoke(h, fetch_start("GET", "http://pb.test/health"));
    CHECK(f.status() == 503);
    CHECK(f.body_json()["checks"]["blob"]["message"].as_string() == "Error: R2 is down");
  }
  SECTION("HEAD has no body") {
    native_host h;
    finished f = invoke(h, fetch_start("HEAD", "http://pb.test/health"));
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
