// /packages.json's Last-Modified and its 304s (issue 11: `composer update` revalidates the root file
// with If-Modified-Since): the change marker the migrations' triggers keep in pb_meta, on SQLite and
// (in the PostgreSQL run of this suite) PostgreSQL alike; when a listing is dated and for which tokens;
// and the pin on the listing's fields that keeps listing_shape_s honest.
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <string>

#include "core/http_date.h"
#include "core/json.h"
#include "core/sha256.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"
#include "routes/composer.h"

using namespace pb;
using namespace pb::testing;

namespace {

// The triggers write the database's own (real) time, so these requests run on the real clock too.
std::int64_t real_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct fixture {
  native_host h;
  client c{h, "https://repo.test", admin_vars()};
  std::string all, scoped, licensed;

  fixture() {
    h.set_upstream([](const json&) { return upstream_response{404, {}, "{}"}; });
    c.now_ms = real_now_ms();
    all = token(R"({"name":"all"})");
    scoped = token(R"({"name":"acme only","packages":["acme/*"]})");
    licensed = token(R"({"name":"customer","licences":[{"packages":"acme/*","constraint":"^1.0"}]})");
    REQUIRE(upload("acme/one", "1.0.0").status == 201);
    // As if the last change were two minutes old. The requests below move their clock ahead of the
    // database's (to expire the isolate's catalog, or to wait out a second): the listing's rule holds
    // only when the database's clock is not behind the requests' by more than listing_clock_skew_ms, so
    // every write below must still land in a later second than the listing already dated.
    h.query("UPDATE pb_meta SET value = '" + std::to_string(real_now_ms() - 120'000) + "' WHERE key = 'listing_changed_ms'");
  }
  std::string token(const std::string& body) {
    reply r = c.call("POST", "/admin/api/tokens", bearer("adm"), body);
    REQUIRE(r.status == 201);
    return std::string(r.body_json()["token"].as_string());
  }
  reply upload(const std::string& name, const std::string& version) {
    std::string zip = make_zip({{"composer.json", R"({"name":")" + name + R"(","type":"library"})"}}, name + version);
    header_list hs = bearer("adm");
    hs.emplace_back("content-length", std::to_string(zip.size()));
    return c.call("PUT", "/admin/api/artifacts/" + name + "?version=" + version, hs, zip);
  }
  std::int64_t marker() {
    json rows = h.query("SELECT value FROM pb_meta WHERE key = 'listing_changed_ms'");
    REQUIRE(rows.size() == 1);
    return std::stoll(std::string(rows.as_array()[0]["value"].as_string()));
  }
  // The first instant at which a listing read with this marker is dated.
  static std::int64_t sealed_at(std::int64_t marker_ms) {
    return (std::max(marker_ms / 1000, routes::listing_shape_s) + 1) * 1000 + routes::listing_clock_skew_ms;
  }
  reply listing(const std::string& tok, const std::string& since = "") {
    header_list hs = basic(tok);
    if (!since.empty()) hs.emplace_back("if-modified-since", since);
    return c.call("GET", "/packages.json", hs);
  }
};

}  // namespace

TEST_CASE("listing_modified_s: dated only once no other listing can get the same second", "[composer][listing]") {
  using routes::listing_clock_skew_ms;
  using routes::listing_modified_s;
  using routes::listing_shape_s;
  const std::int64_t m = (listing_shape_s + 100) * 1000 + 250;  // a marker after the shape's date
  CHECK(listing_modified_s(std::nullopt, m + 3'600'000) == 0);  // a database before migration 0008
  CHECK(listing_modified_s(0, m + 3'600'000) == 0);
  const std::int64_t sealed = (listing_shape_s + 101) * 1000 + listing_clock_skew_ms;
  CHECK(listing_modified_s(m, sealed - 1) == 0);
  CHECK(listing_modified_s(m, sealed) == listing_shape_s + 100);
  // Older than the listing's fields in this code: dated by the shape, so older copies are sent again.
  CHECK(listing_modified_s(1000, (listing_shape_s + 1) * 1000 + listing_clock_skew_ms) == listing_shape_s);
  CHECK(listing_modified_s(1000, (listing_shape_s + 1) * 1000 + listing_clock_skew_ms - 1) == 0);
}

TEST_CASE("packages.json: Last-Modified and 304 for a whole-scope token, never for a narrower one", "[composer][listing][native]") {
  fixture f;
  const std::int64_t m1 = f.marker();
  const std::int64_t s1 = std::max(m1 / 1000, routes::listing_shape_s);

  // Read before the marker's second is over (plus the skew): undated, and a 304 is never given.
  f.c.now_ms = fixture::sealed_at(m1) - 1;
  reply early = f.listing(f.all, format_http_date((s1 + 60) * 1000));
  CHECK(early.status == 200);
  CHECK(early.header("last-modified").empty());

  // A fresh read after it (the catalog of the read above has expired): dated.
  f.c.now_ms = real_now_ms();
  REQUIRE(f.c.now_ms > fixture::sealed_at(m1) + 10'000);
  reply first = f.listing(f.all);
  REQUIRE(first.status == 200);
  const std::string lm = first.header("last-modified");
  REQUIRE(lm == format_http_date(s1 * 1000));
  CHECK(first.header("cache-control") == "private, no-cache");
  CHECK(first.body_json()["available-packages"].dump() == R"(["acme/one"])");

  SECTION("the copy's own date, or a later one, is confirmed with an empty 304; an earlier one is not") {
    reply same = f.listing(f.all, lm);
    CHECK(same.status == 304);
    CHECK(same.body.empty());
    CHECK(same.header("last-modified") == lm);
    CHECK(same.header("cache-control") == "private, no-cache");
    CHECK(f.listing(f.all, format_http_date((s1 + 5) * 1000)).status == 304);
    reply older = f.listing(f.all, format_http_date((s1 - 1) * 1000));
    CHECK(older.status == 200);
    CHECK(older.body == first.body);
    CHECK(f.listing(f.all, "yesterday").status == 200);
  }
  SECTION("scoped and licensed tokens get the body, undated, whatever they send") {
    for (const std::string* tok : {&f.scoped, &f.licensed}) {
      reply r = f.listing(*tok, lm);
      CHECK(r.status == 200);
      CHECK(r.header("last-modified").empty());
      CHECK_FALSE(r.body.empty());
    }
    // A whole-scope token in this isolate is still confirmed (the catalog is shared).
    CHECK(f.listing(f.all, lm).status == 304);
  }
  SECTION("a new package in this isolate: the old copy is sent again, with a later date") {
    REQUIRE(f.upload("acme/two", "1.0.0").status == 201);
    const std::int64_t m2 = f.marker();
    REQUIRE(m2 > m1);
    f.c.now_ms = std::max(f.c.now_ms, fixture::sealed_at(m2));
    reply r = f.listing(f.all, lm);
    REQUIRE(r.status == 200);
    CHECK(r.body_json()["available-packages"].dump() == R"(["acme/one","acme/two"])");
    CHECK(parse_http_date(r.header("last-modified")).value_or(0) > s1);
  }
  SECTION("a new version of a listed package leaves the listing's date alone") {
    REQUIRE(f.upload("acme/one", "1.1.0").status == 201);
    CHECK(f.marker() == m1);
    CHECK(f.listing(f.all, lm).status == 304);
  }
  SECTION("a package added elsewhere (direct SQL, as another isolate's write) is sent within 10 s") {
    f.h.query("INSERT INTO packages (name, source, revision, created_at, updated_at) VALUES ('acme/elsewhere', 'artifact', 1, 0, 0)");
    CHECK(f.listing(f.all, lm).status == 304);  // this isolate's catalog is still the one it read
    f.c.now_ms = std::max(f.c.now_ms + 10'001, fixture::sealed_at(f.marker()));
    reply r = f.listing(f.all, lm);
    REQUIRE(r.status == 200);
    CHECK(r.body.find("acme/elsewhere") != std::string::npos);
  }
  SECTION("a packagist source turns the names into patterns: sent again") {
    REQUIRE(f.c.call("POST", "/admin/api/sources", bearer("adm"),
                     R"({"type":"packagist","url":"https://packagist.test","include":["psr/*"]})").status == 201);
    f.c.now_ms = std::max(f.c.now_ms, fixture::sealed_at(f.marker()));
    reply r = f.listing(f.all, lm);
    REQUIRE(r.status == 200);
    CHECK(r.body.find("psr/*") != std::string::npos);
  }
}

TEST_CASE("the listing's marker moves with every write that can change the listing, and only those", "[composer][listing][native]") {
  fixture f;
  std::int64_t last = f.marker();
  auto moved = [&] {
    std::int64_t now = f.marker();
    bool m = now > last;
    last = now;
    return m;
  };
  f.h.query("INSERT INTO packages (name, source, revision, created_at, updated_at) VALUES ('acme/x', 'artifact', 0, 0, 0)");
  CHECK(moved());
  f.h.query("UPDATE packages SET revision = revision + 1, updated_at = 5 WHERE name = 'acme/x'");
  CHECK_FALSE(moved());
  f.h.query("UPDATE packages SET name = 'acme/y' WHERE name = 'acme/x'");
  CHECK(moved());
  f.h.query("DELETE FROM packages WHERE name = 'acme/y'");
  CHECK(moved());
  f.h.query("INSERT INTO sources (type, url, created_at, updated_at) VALUES ('packagist', 'https://packagist.test', 0, 0)");
  CHECK(moved());
  f.h.query("UPDATE sources SET last_sync_status = 'ok', last_sync_finished_at = 9, feed_cursor = '7'");
  CHECK_FALSE(moved());
  f.h.query("UPDATE sources SET include_patterns = '[\"psr/*\"]'");
  CHECK(moved());
  f.h.query("UPDATE sources SET enabled = 0");
  CHECK(moved());
  f.h.query("DELETE FROM sources");
  CHECK(moved());

  // Several rows in one statement: strictly later again, and never behind its last value even when
  // that value is ahead of the clock (a long batch of inserts, or a clock set back).
  const std::int64_t ahead = real_now_ms() + 3'600'000;
  f.h.query("UPDATE pb_meta SET value = '" + std::to_string(ahead) + "' WHERE key = 'listing_changed_ms'");
  f.h.query("INSERT INTO packages (name, source, revision, created_at, updated_at) VALUES "
            "('acme/a', 'artifact', 0, 0, 0), ('acme/b', 'artifact', 0, 0, 0), ('acme/c', 'artifact', 0, 0, 0)");
  CHECK(f.marker() >= ahead + 3);
}

TEST_CASE("the listing's fields are pinned: changing them means moving listing_shape_s", "[composer][listing][native]") {
  native_host h;
  client c{h, "https://repo.test", admin_vars()};
  reply t = c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"all"})");
  REQUIRE(t.status == 201);
  std::string zip = make_zip({{"composer.json", R"({"name":"acme/widget","type":"library"})"}}, "pin");
  header_list hs = bearer("adm");
  hs.emplace_back("content-length", std::to_string(zip.size()));
  REQUIRE(c.call("PUT", "/admin/api/artifacts/acme/widget?version=1.0.0", hs, zip).status == 201);
  reply r = c.call("GET", "/packages.json", basic(std::string(t.body_json()["token"].as_string())));
  REQUIRE(r.status == 200);
  INFO("the listing is now: " << r.body);
  INFO("if its fields changed on purpose, set routes::listing_shape_s to now and listing_shape_sha256 to "
       << sha256_hex(r.body) << " (src/routes/composer.h), so clients' older copies are sent again");
  CHECK(sha256_hex(r.body) == routes::listing_shape_sha256);
}
