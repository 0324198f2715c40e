// The isolate's hot cache on the serving paths: /packages.json answered from the isolate's catalog
// (no D1 read when warm), changes in this isolate visible at once, changes made elsewhere (another
// isolate: direct SQL here) within the 10 s the cache keeps anything; p2 bodies as served per origin.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>

#include "bindings/wire.h"
#include "core/json.h"
#include "host/abi.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"
#include "storage/hot_cache.h"

using namespace pb;
using namespace pb::testing;

namespace {

constexpr std::int64_t t0 = 1767225600000;  // the harness's clock (2026-01-01T00:00:00Z)

struct fixture {
  native_host h;
  client c{h, "https://broker.test", admin_vars()};
  std::string token;

  fixture() {
    h.set_upstream([](const json&) { return upstream_response{404, {}, "{}"}; });
    c.now_ms = t0;
    token = std::string(c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"ci"})").body_json()["token"].as_string());
    REQUIRE(upload("acme/one", "1.0.0").status == 201);
  }
  reply upload(const std::string& name, const std::string& version) {
    std::string zip = make_zip({{"composer.json", R"({"name":")" + name + R"(","type":"library"})"}}, name + version);
    header_list hs = bearer("adm");
    hs.emplace_back("content-length", std::to_string(zip.size()));
    return c.call("PUT", "/admin/api/artifacts/" + name + "?version=" + version, hs, zip);
  }
  json listing(client& with) { return with.call("GET", "/packages.json", basic(token)).body_json(); }
  std::vector<std::string> names(client& with) {
    std::vector<std::string> out;
    json root = listing(with);  // kept: the loop below reads into it
    for (const auto& n : root["available-packages"].as_array()) out.emplace_back(n.as_string());
    return out;
  }
};

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST_CASE("packages.json: a warm isolate answers from memory, changes reach it in time", "[composer][hot_cache][native]") {
  fixture f;
  reply first = f.c.call("GET", "/packages.json", basic(f.token));
  REQUIRE(first.status == 200);
  CHECK(first.header("cache-control").find("private") == 0);
  reply warm = f.c.call("GET", "/packages.json", basic(f.token));
  CHECK(warm.status == 200);
  CHECK(warm.body == first.body);
  CHECK(warm.ops.empty());  // no D1 read: catalog and rendered body from the isolate

  SECTION("an upload in this isolate is listed at once") {
    REQUIRE(f.upload("acme/two", "1.0.0").status == 201);
    CHECK(has(f.names(f.c), "acme/two"));
  }
  SECTION("a package added elsewhere is listed within 10 s") {
    f.h.query("INSERT INTO packages (name, source, revision, created_at, updated_at) VALUES ('acme/elsewhere', 'artifact', 1, 0, 0)");
    f.c.now_ms = t0 + 10'001;
    CHECK(has(f.names(f.c), "acme/elsewhere"));
  }
  SECTION("a package deleted elsewhere leaves the list within 10 s") {
    f.h.query("DELETE FROM packages WHERE name = 'acme/one'");
    f.c.now_ms = t0 + 10'001;
    CHECK_FALSE(has(f.names(f.c), "acme/one"));
  }
  SECTION("a packagist source added in this isolate turns the list into patterns at once") {
    REQUIRE(f.c.call("POST", "/admin/api/sources", bearer("adm"),
                     R"({"type":"packagist","url":"https://packagist.test","include":["psr/*"]})").status == 201);
    json root = f.listing(f.c);
    CHECK(root["available-package-patterns"].dump().find("psr/*") != std::string::npos);
  }
  SECTION("a revoked token is refused at once, from a warm cache") {
    std::string id = std::to_string(f.h.query("SELECT id FROM tokens").as_array()[0]["id"].as_int());
    REQUIRE(f.c.call("DELETE", "/admin/api/tokens/" + id, bearer("adm")).status == 200);
    CHECK(f.c.call("GET", "/packages.json", basic(f.token)).status == 401);
  }
  SECTION("another origin gets its own URLs") {
    client other{f.h, "https://mirror.example", admin_vars()};
    other.now_ms = t0;
    json root = f.listing(other);
    CHECK(root["notify-batch"].as_string() == "https://mirror.example/downloads");
    CHECK(f.listing(f.c)["notify-batch"].as_string() == "https://broker.test/downloads");
  }
}

TEST_CASE("packages.json past 10 s: an unchanged listing costs one marker read, a licensed listing is made again",
          "[composer][hot_cache][native]") {
  fixture f;
  std::string licensed = std::string(f.c.call("POST", "/admin/api/tokens", bearer("adm"),
                                              R"({"name":"customer","licences":[{"packages":"acme/*","constraint":"^2.0"}]})")
                                         .body_json()["token"].as_string());
  reply first = f.c.call("GET", "/packages.json", basic(f.token));
  REQUIRE(first.status == 200);
  reply narrow = f.c.call("GET", "/packages.json", basic(licensed));
  REQUIRE(narrow.status == 200);
  CHECK(narrow.body_json()["available-packages"].dump() == "[]");  // acme/one has no 2.x yet

  // Another isolate adds acme/one 2.0.0 (direct SQL: no invalidation here; the listing's marker stays).
  f.h.query("INSERT INTO versions (package_id, version, version_normalized, stability, is_dev, reference, composer_json, "
            "release_time, created_at) SELECT id, '2.0.0', '2.0.0.0', 'stable', 0, 'abc', '{}', 0, 0 FROM packages "
            "WHERE name = 'acme/one'");
  f.c.now_ms = t0 + 10'001;
  reply again = f.c.call("GET", "/packages.json", basic(f.token));
  CHECK(again.status == 200);
  CHECK(again.body == first.body);
  CHECK(std::count(again.ops.begin(), again.ops.end(), "d1.batch") == 0);  // not the names and sources again
  CHECK(std::count(again.ops.begin(), again.ops.end(), "d1.all") == 1);    // the marker
  reply later = f.c.call("GET", "/packages.json", basic(licensed));
  CHECK(later.status == 200);
  CHECK(later.body_json()["available-packages"].dump() == R"(["acme/one"])");
}

TEST_CASE("packages.json: each token scope gets its own list from the same warm catalog", "[composer][hot_cache][native]") {
  fixture f;
  REQUIRE(f.upload("other/pkg", "1.0.0").status == 201);
  std::string scoped = std::string(
      f.c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"acme only","packages":["acme/*"]})").body_json()["token"].as_string());
  std::vector<std::string> all = f.names(f.c);
  CHECK(has(all, "other/pkg"));
  reply narrow = f.c.call("GET", "/packages.json", basic(scoped));
  REQUIRE(narrow.status == 200);
  // Its token record (and its first-use stamp) only: the package list came from the warm catalog.
  CHECK(std::count(narrow.ops.begin(), narrow.ops.end(), "d1.all") == 0);
  std::string listed = narrow.body_json()["available-packages"].dump();
  CHECK(listed.find("acme/one") != std::string::npos);
  CHECK(listed.find("other/pkg") == std::string::npos);
  CHECK(has(f.names(f.c), "other/pkg"));  // the first token's rendering is untouched
}

TEST_CASE("p2 bodies as served: per origin, and a new version replaces them", "[composer][hot_cache][native]") {
  fixture f;
  client other{f.h, "https://mirror.example", admin_vars()};
  other.now_ms = t0;
  auto dist_url = [&](client& with) {
    json doc = with.call("GET", "/p2/acme/one.json", basic(f.token)).body_json();
    return std::string(doc["packages"]["acme/one"].as_array()[0]["dist"]["url"].as_string());
  };
  for (int i = 0; i < 2; ++i) {  // cold, then warm
    CHECK(dist_url(f.c).rfind("https://broker.test/dist/acme/one/", 0) == 0);
    CHECK(dist_url(other).rfind("https://mirror.example/dist/acme/one/", 0) == 0);
  }
  REQUIRE(f.upload("acme/one", "1.1.0").status == 201);
  json doc = other.call("GET", "/p2/acme/one.json", basic(f.token)).body_json();
  CHECK(doc["packages"]["acme/one"].size() == 2);
  // HEAD: the same headers, no body, from the shared buffer too.
  reply head = f.c.call("HEAD", "/p2/acme/one.json", basic(f.token));
  CHECK(head.status == 200);
  CHECK(head.body.empty());
}

TEST_CASE("p2 documents past 10 s: one read of the documents' marker revalidates them all, a change elsewhere does not",
          "[composer][hot_cache][native]") {
  fixture f;
  REQUIRE(f.upload("acme/two", "1.0.0").status == 201);
  reply one = f.c.call("GET", "/p2/acme/one.json", basic(f.token));
  reply two = f.c.call("GET", "/p2/acme/two.json", basic(f.token));
  REQUIRE(one.status == 200);
  REQUIRE(two.status == 200);
  f.c.now_ms = t0 + 10'001;  // both documents (and the token) past the cache's 10 s

  SECTION("nothing changed: the first request reads the marker (with its row), the second reads nothing") {
    const auto before = storage::hot_cache::stats();
    reply again = f.c.call("GET", "/p2/acme/one.json", basic(f.token));
    CHECK(again.status == 200);
    CHECK(again.body == one.body);
    CHECK(std::count(again.ops.begin(), again.ops.end(), "d1.batch") == 1);
    // Served from the cached copy after the marker read: one request, counted once, as a hit.
    const auto after = storage::hot_cache::stats();
    CHECK(after.document_hits == before.document_hits + 1);
    CHECK(after.document_misses == before.document_misses);
    reply other = f.c.call("GET", "/p2/acme/two.json", basic(f.token));
    CHECK(other.status == 200);
    CHECK(other.body == two.body);
    CHECK(other.ops.empty());
    // And it lasts 10 s from that read, no longer.
    f.c.now_ms = t0 + 20'002;
    CHECK_FALSE(f.c.call("GET", "/p2/acme/two.json", basic(f.token)).ops.empty());
  }
  SECTION("a document changed by another isolate (direct SQL): read again, even though another read confirmed first") {
    f.h.query("UPDATE metadata_documents SET last_modified = 'Fri, 02 Jan 2026 00:00:00 GMT' WHERE key = 'p2/acme/two.json'");
    REQUIRE(f.c.call("GET", "/p2/acme/one.json", basic(f.token)).status == 200);  // reads the moved marker
    const auto before = storage::hot_cache::stats();
    reply other = f.c.call("GET", "/p2/acme/two.json", basic(f.token));
    CHECK(other.status == 200);
    // The token is warm again, so the warm path looked too, and then the long path twice: one miss.
    const auto after = storage::hot_cache::stats();
    CHECK(after.document_misses == before.document_misses + 1);
    CHECK(after.document_hits == before.document_hits);
    CHECK(other.header("last-modified") == "Fri, 02 Jan 2026 00:00:00 GMT");
    CHECK(std::count(other.ops.begin(), other.ops.end(), "d1.batch") == 1);
  }
  SECTION("a document deleted by another isolate: a 404 after the next read, not the cached copy") {
    f.h.query("DELETE FROM packages WHERE name = 'acme/two'");  // its documents go by ON DELETE CASCADE
    const auto before = storage::hot_cache::stats();
    CHECK(f.c.call("GET", "/p2/acme/two.json", basic(f.token)).status == 404);
    // The warm path's lookup and the long path's two: one miss for the one request.
    const auto after = storage::hot_cache::stats();
    CHECK(after.document_misses == before.document_misses + 1);
    CHECK(after.document_hits == before.document_hits);
  }
}

TEST_CASE("confirm_documents: the latest read wins, an older one that completes later does not", "[hot_cache]") {
  namespace hc = storage::hot_cache;
  hc::clear();
  auto doc = std::make_shared<const storage::stored_document>(storage::stored_document{"{}", "", "Thu, 01 Jan 2026 00:00:00 GMT"});
  hc::put_document("p2/a/b.json", doc, 1'000, 5);
  hc::put_document("p2/a/unknown.json", doc, 1'000, 0);  // read before migration 0008: never revalidated
  const std::int64_t later = 1'000 + hc::ttl_ms + 1;
  CHECK(hc::document("p2/a/b.json", later) == nullptr);
  hc::confirm_documents(5, later);
  CHECK(hc::document("p2/a/b.json", later) != nullptr);
  CHECK(hc::document("p2/a/unknown.json", later) == nullptr);
  hc::confirm_documents(0, later + 1);  // a database without the marker confirms nothing
  CHECK(hc::document("p2/a/b.json", later + 1) != nullptr);
  hc::confirm_documents(4, later - 1);  // started earlier, completed now: ignored
  CHECK(hc::document("p2/a/b.json", later + 1) != nullptr);
  hc::confirm_documents(6, later + 2);  // a document changed since
  CHECK(hc::document("p2/a/b.json", later + 2) == nullptr);
  hc::confirm_documents(5, later + 3);  // not possible from one database (markers only grow), but still the latest read
  CHECK(hc::document("p2/a/b.json", later + 3) != nullptr);
  CHECK(hc::document("p2/a/b.json", later + 3 + hc::ttl_ms + 1) == nullptr);
  hc::clear();
}

TEST_CASE("dist: a warm download reads no D1 row; a version deleted elsewhere is a 404 within 10 s", "[composer][hot_cache][native]") {
  fixture f;
  reply up = f.upload("acme/one", "1.1.0");
  REQUIRE(up.status == 201);
  std::string path = std::string(up.body_json()["dist_url"].as_string()).substr(std::string("https://broker.test").size());
  client wd{f.h, "https://pb.example.workers.dev", admin_vars()};  // no edge cache there: the R2 path
  wd.now_ms = t0;
  REQUIRE(wd.call("GET", path, basic(f.token)).status == 200);  // cold: its row read from D1, kept
  reply warm = wd.call("GET", path, basic(f.token));
  CHECK(warm.status == 200);
  CHECK(std::count(warm.ops.begin(), warm.ops.end(), "d1.first") == 0);  // no row lookup; the stats write stays
  CHECK(std::count(warm.ops.begin(), warm.ops.end(), "r2.get") == 1);

  SECTION("deleted by another isolate: 404, not a 500 about a missing archive") {
    std::string key(f.h.query("SELECT dist_key FROM versions WHERE version = '1.1.0'").as_array()[0]["dist_key"].as_string());
    f.h.query("DELETE FROM versions WHERE version = '1.1.0'");
    f.h.remove_blob(key);
    REQUIRE_FALSE(f.h.blob_exists(key));
    CHECK(wd.call("GET", path, basic(f.token)).status == 404);
    wd.now_ms = t0 + 10'001;
    CHECK(wd.call("GET", path, basic(f.token)).status == 404);
  }
  SECTION("deleted in this isolate: 404 at once") {
    REQUIRE(f.c.call("DELETE", "/admin/api/packages/acme/one/versions/1.1.0.0", bearer("adm")).status == 200);
    CHECK(wd.call("GET", path, basic(f.token)).status == 404);
  }
}

TEST_CASE("p2 warm hit: answered without an effect, exactly as the cold path answers; the rest takes the long way",
          "[composer][hot_cache][native]") {
  fixture f;
  std::string limited = std::string(f.c.call("POST", "/admin/api/tokens", bearer("adm"),
                                             R"({"name":"three a minute","packages":["acme/*"],"rate_limit":3})")
                                        .body_json()["token"].as_string());
  reply cold = f.c.call("GET", "/p2/acme/one.json", basic(limited));  // token and document read from D1
  REQUIRE(cold.status == 200);
  REQUIRE_FALSE(cold.ops.empty());
  reply warm = f.c.call("GET", "/p2/acme/one.json", basic(limited));
  CHECK(warm.status == 200);
  CHECK(warm.ops.empty());
  CHECK(warm.batches == 0);
  CHECK(warm.body == cold.body);
  for (const char* h : {"cache-control", "content-type", "last-modified", "x-ratelimit-limit", "x-ratelimit-reset"})
    CHECK(warm.header(h) == cold.header(h));
  CHECK(cold.header("x-ratelimit-remaining") == "2");
  CHECK(warm.header("x-ratelimit-remaining") == "1");

  SECTION("304 and HEAD warm") {
    reply not_modified = f.c.call("GET", "/p2/acme/one.json", [&] {
      header_list h = basic(limited);
      h.emplace_back("if-modified-since", cold.header("last-modified"));
      return h;
    }());
    CHECK(not_modified.status == 304);
    CHECK(not_modified.body.empty());
    CHECK(not_modified.ops.empty());
    CHECK(not_modified.header("x-ratelimit-remaining") == "0");
    // Over the limit: the 429 of the coroutine path (audited), and the denial is not counted twice.
    reply over = f.c.call("HEAD", "/p2/acme/one.json", basic(limited));
    CHECK(over.status == 429);
    CHECK(over.header("retry-after") != "");
    CHECK(over.header("x-ratelimit-remaining") == "0");
    CHECK(std::count(over.ops.begin(), over.ops.end(), "d1.run") + std::count(over.ops.begin(), over.ops.end(), "d1.batch") >= 1);
  }
  SECTION("HEAD warm: the headers, no body") {
    reply head = f.c.call("HEAD", "/p2/acme/one.json", basic(limited));
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.ops.empty());
    CHECK(head.header("last-modified") == cold.header("last-modified"));
  }
  SECTION("a package outside the token's scope: the 404 of an unknown package, from a warm token") {
    REQUIRE(f.upload("other/pkg", "1.0.0").status == 201);
    REQUIRE(f.c.call("GET", "/p2/other/pkg.json", basic(f.token)).status == 200);  // the document is warm too
    CHECK(f.c.call("GET", "/p2/other/pkg.json", basic(limited)).status == 404);
  }
  SECTION("revoked in this isolate: 401 at once") {
    std::string id = std::to_string(f.h.query("SELECT id FROM tokens WHERE name = 'three a minute'").as_array()[0]["id"].as_int());
    REQUIRE(f.c.call("DELETE", "/admin/api/tokens/" + id, bearer("adm")).status == 200);
    CHECK(f.c.call("GET", "/p2/acme/one.json", basic(limited)).status == 401);
  }
  SECTION("an hour later the token's last use is recorded again (the long way), then warm again") {
    f.c.now_ms = t0 + 3600'000;
    reply later = f.c.call("GET", "/p2/acme/one.json", basic(limited));
    CHECK(later.status == 200);
    CHECK(std::count(later.ops.begin(), later.ops.end(), "d1.run") == 1);  // UPDATE tokens SET last_used_at
    reply again = f.c.call("GET", "/p2/acme/one.json", basic(limited));
    CHECK(again.status == 200);
    CHECK(again.ops.empty());
  }
}

TEST_CASE("a partial start (the warm paths' headers only): a warm answer, else 0 and no job", "[abi][hot_cache][native]") {
  fixture f;
  REQUIRE(f.c.call("GET", "/packages.json", basic(f.token)).status == 200);  // the token's hourly touch
  reply warm = f.c.call("GET", "/packages.json", basic(f.token));
  REQUIRE(warm.ops.empty());  // token, catalog and rendered body in the isolate
  auto start_partial = [&](const std::string& path, const header_list& hs) {
    wire::fetch_start s;
    s.now_ms = t0;
    s.method = "GET";
    s.url = "https://broker.test" + path;
    s.partial = true;
    for (const auto& [k, v] : hs) s.headers.add(k, v);
    std::string doc = wire::encode_fetch_start(s);
    return pb_start(doc.data(), static_cast<std::uint32_t>(doc.size()));
  };
  std::uint32_t id = start_partial("/packages.json", basic(f.token));
  REQUIRE(id != 0);
  REQUIRE(pb_state(id) == 0);
  CHECK(std::string(pb_out_body_ptr(id), pb_out_body_len(id)) == warm.body);
  CHECK(wire::read_finish(std::string(pb_out_ptr(id), pb_out_len(id))).value()["response"]["status"].as_int() == 200);
  pb_finish(id);
  // No warm path answers these: the host must start again with every header (the handler may read any).
  CHECK(start_partial("/health", {}) == 0);
  CHECK(start_partial("/packages.json", {}) == 0);  // the 401 is the handler's
  CHECK(start_partial("/packages.json", basic("pb_unknown")) == 0);
}
