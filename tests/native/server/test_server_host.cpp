// Pieces of the self-hosted server that need no service: its settings (and which of them reach the
// core), the download partitions' upkeep plan, the in-process Cache API store, body streams (tee
// hands both readers every byte, in step), the web UI's static files (_headers, trailing-slash
// spellings), the file store's r2.put bounds, and what the sync queue does with a delivered message. The server as a whole is tested with its services in
// tests/server/server.test.mjs.
#include <catch2/catch_test_macros.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "host/async.h"
#include "host/config.h"
#include "host/redis.h"
#include "host/cron.h"
#include "host/static_files.h"
#include "host/stores.h"
#include "host/streams.h"
#include "host/sync_queue.h"
#include "runners/blob_files.h"
#include "runners/failure.h"

using namespace pb;
using namespace pb::server;

namespace {

host_config config_of(std::vector<std::string> env) {
  std::vector<char*> ptrs;
  for (auto& e : env) ptrs.push_back(e.data());
  ptrs.push_back(nullptr);
  return load_config(ptrs.data());
}

template <class T>
T run_on_loop(awaitable<T> a) {
  asio::io_context io;
  std::optional<T> out;
  std::exception_ptr err;
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    err = e;
    if (!e) out = std::move(v);
  });
  io.run();
  if (err) std::rethrow_exception(err);
  return std::move(*out);
}

}  // namespace

TEST_CASE("server settings: defaults, URLs, and what reaches the core", "[server][host]") {
  host_config d = config_of({});
  CHECK(d.listen_host == "127.0.0.1");
  CHECK(d.listen_port == 8080);
  CHECK(d.database_url == "sqlite://./var/package-broker.sqlite3");
  CHECK(d.storage_url == "file://./var/blobs");
  CHECK(d.cache_url == "memory:");

  host_config c = config_of({"PB_LISTEN=0.0.0.0:9000", "PB_DATABASE_URL=postgres://u:secret@db/pb", "PB_CACHE_URL=redis://r:6379",
                             "PB_STORAGE_URL=s3://bucket?endpoint=http://s3:9000", "ADMIN_TOKEN=adm", "PB_DIST_REDIRECT=presigned",
                             "PATH=/usr/bin", "AWS_SECRET_ACCESS_KEY=k"});
  CHECK(c.listen_host == "0.0.0.0");
  CHECK(c.listen_port == 9000);
  CHECK(c.core_vars["ADMIN_TOKEN"].as_string() == "adm");
  CHECK(c.core_vars["PB_DIST_REDIRECT"].as_string() == "presigned");
  CHECK(c.core_vars["PB_INVALIDATION_BROADCAST"].as_string() == "1");  // replicas share a Redis
  // The Workers' subrequest budget is not the server's, whatever a copied Worker configuration says.
  CHECK(d.core_vars["PB_PLAN"].as_string() == "self-hosted");
  CHECK(config_of({"PB_PLAN=free"}).core_vars["PB_PLAN"].as_string() == "self-hosted");
  CHECK(d.serve_ui);
  CHECK_FALSE(config_of({"PB_UI=off"}).serve_ui);
  // A source's credentials may name a variable: connection settings and foreign variables are not there.
  for (const char* hidden : {"PB_DATABASE_URL", "PB_CACHE_URL", "PB_STORAGE_URL", "PATH", "AWS_SECRET_ACCESS_KEY", "PB_LISTEN"})
    CHECK(c.core_vars.find(hidden) == nullptr);

  CHECK_THROWS_AS(config_of({"PB_DATABASE_URL=mysql://x"}), runners::failure);
  CHECK_THROWS_AS(config_of({"PB_DATABASE_REPLICA_URL=postgres://r/pb"}), runners::failure);  // a replica of SQLite?
  CHECK_THROWS_AS(config_of({"PB_CRON_INTERVAL_S=-1"}), runners::failure);
  CHECK_THROWS_AS(config_of({"PB_LOG=verbose"}), runners::failure);
  CHECK_THROWS_AS(config_of({"PB_LISTEN=8080"}), runners::failure);
  CHECK_THROWS_AS(config_of({"PB_UI=no"}), runners::failure);
}

TEST_CASE("PB_CACHE_URL: redis:// and rediss://, users, IPv6, databases; the rest refused", "[server][host][redis]") {
  redis_url a = parse_redis_url("redis://127.0.0.1:6380/2");
  CHECK_FALSE(a.tls);
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 6380);
  CHECK(a.db == 2);
  CHECK(a.user.empty());
  CHECK(a.password.empty());
  redis_url b = parse_redis_url("rediss://pb%40app:s%3Acret@cache.example.com");
  CHECK(b.tls);
  CHECK(b.host == "cache.example.com");
  CHECK(b.port == 6379);
  CHECK(b.db == 0);
  CHECK(b.user == "pb@app");
  CHECK(b.password == "s:cret");
  CHECK(b.redacted() == "rediss://cache.example.com:6379/0");  // never the password
  redis_url c = parse_redis_url("redis://:only@[::1]:7000/");
  CHECK(c.host == "::1");
  CHECK(c.port == 7000);
  CHECK(c.user.empty());
  CHECK(c.password == "only");
  CHECK(c.redacted() == "redis://[::1]:7000/0");
  CHECK(parse_redis_url("redis://legacy@h").password == "legacy");  // the password alone, as before ACL users
  CHECK(is_redis_url("rediss://h"));
  CHECK_FALSE(is_redis_url("memory:"));
  for (const char* bad : {"http://h:6379", "redis://", "redis://:pw@", "redis://h:0", "redis://h:65536", "redis://h:x",
                          "redis://h:", "redis://h/db", "redis://h/-1", "redis://h?ssl=true", "redis://user:@h",
                          "redis://[::1", "redis://[::1]x"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_redis_url(bad), runners::failure);
  }
  try {
    (void)parse_redis_url("redis://user:hunter2@h:bad");
    FAIL("accepted");
  } catch (const runners::failure& f) {
    CHECK(f.message.find("hunter2") == std::string::npos);
  }
  // Settings: rediss:// broadcasts invalidations like redis://; a CA file only with rediss://.
  CHECK(config_of({"PB_CACHE_URL=rediss://r:6380"}).core_vars["PB_INVALIDATION_BROADCAST"].as_string() == "1");
  CHECK(config_of({"PB_CACHE_URL=rediss://r:6380", "PB_CACHE_CA_FILE=/etc/ca.pem"}).cache_ca_file == "/etc/ca.pem");
  CHECK(config_of({"PB_CACHE_URL=rediss://r:6380", "PB_CACHE_CA_FILE=/etc/ca.pem"}).core_vars.find("PB_CACHE_CA_FILE") == nullptr);
  CHECK_THROWS_AS(config_of({"PB_CACHE_URL=redis://r", "PB_CACHE_CA_FILE=/etc/ca.pem"}), runners::failure);
  CHECK_THROWS_AS(config_of({"PB_CACHE_URL=redis://r:x"}), runners::failure);
}

namespace {
std::string header_of(const core_response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<none>";
}
}  // namespace

TEST_CASE("static files: canonical paths, trailing-slash redirects and _headers rules", "[server][host]") {
  static_files ui(static_files::file_list{
      {"_headers", "# comment\n/*\n  X-A: all\n  X-B: all\n/docs/*\n  ! X-B\n  X-A: docs\n/:page.txt\n  X-C: top-level\n"},
      {"index.html", "<p>home"},
      {"docs/index.html", "<p>docs"},
      {"about.html", "<p>about"},
      {"docs/a.txt", "a"},
      {"b.txt", "b"}});
  auto get = [&](std::string_view target) { return ui.answer("GET", target, ""); };
  REQUIRE(get("/"));
  CHECK(get("/")->body == "<p>home");
  CHECK(header_of(*get("/"), "content-type") == "text/html; charset=utf-8");
  CHECK(get("/docs/")->body == "<p>docs");
  CHECK(get("/about")->body == "<p>about");
  for (auto [from, to] : {std::pair{"/index.html", "/"}, {"/docs", "/docs/"}, {"/docs/index.html", "/docs/"}, {"/about.html", "/about"},
                          {"/about/", "/about"}, {"/docs?q=1", "/docs/?q=1"}}) {
    auto r = get(from);
    REQUIRE(r);
    CHECK(r->status == 307);
    CHECK(header_of(*r, "location") == to);
  }
  CHECK_FALSE(get("/_headers"));  // configuration, not content
  CHECK_FALSE(get("/missing"));   // the core answers
  CHECK(ui.answer("POST", "/", "")->status == 405);       // as Workers' assets answer
  CHECK(ui.answer("PUT", "/docs", "")->status == 405);     // a spelling of a page too
  CHECK(header_of(*ui.answer("DELETE", "/b.txt", ""), "X-A") == "all");
  CHECK_FALSE(ui.answer("POST", "/missing", ""));
  // Rules combine in file order; "! X-B" drops what "/*" set; ":page" is one path segment.
  CHECK(header_of(*get("/b.txt"), "X-A") == "all");
  CHECK(header_of(*get("/b.txt"), "X-C") == "top-level");
  CHECK(header_of(*get("/docs/a.txt"), "X-A") == "all, docs");
  CHECK(header_of(*get("/docs/a.txt"), "X-B") == "<none>");
  CHECK(header_of(*get("/docs/a.txt"), "X-C") == "<none>");
  std::string etag = header_of(*get("/b.txt"), "etag");
  CHECK(ui.answer("GET", "/b.txt", etag)->status == 304);
  CHECK(ui.answer("GET", "/b.txt", "\"x\"")->status == 200);

  CHECK_THROWS_AS(static_files(static_files::file_list{{"_headers", "  X-A: before any path\n"}}), runners::failure);
  CHECK_THROWS_AS(static_files(static_files::file_list{{"_headers", "https://example.com/*\n  X-A: 1\n"}}), runners::failure);
  CHECK_THROWS_AS(static_files(static_files::file_list{{"_headers", "/*\n  no colon\n"}}), runners::failure);
  // The embedded ui/ has the console and the customer page.
  static_files embedded(embedded_ui_files());
  CHECK(embedded.answer("GET", "/admin/", ""));
  CHECK(embedded.answer("GET", "/", ""));
}

TEST_CASE("download partitions: this month and the next two made ahead, months past retention dropped", "[server][host]") {
  std::time_t dec_15_2026 = 1797292800;  // 2026-12-15T00:00:00Z
  auto plan = partition_upkeep({"downloads_default", "downloads_2025_11", "downloads_2025_12", "downloads_2026_12"}, dec_15_2026, 12);
  std::vector<std::string> firsts;
  for (const auto& step : plan) firsts.push_back(step.front());
  REQUIRE(plan.size() == 4);
  CHECK(firsts[0] == "CREATE TABLE IF NOT EXISTS downloads_2027_01 (LIKE downloads INCLUDING DEFAULTS)");
  CHECK(plan[0][1].find("DELETE FROM downloads_default WHERE day >= '2027-01-01' AND day < '2027-02-01'") != std::string::npos);
  CHECK(plan[0][2] == "ALTER TABLE downloads ATTACH PARTITION downloads_2027_01 FOR VALUES FROM ('2027-01-01') TO ('2027-02-01')");
  CHECK(firsts[1] == "CREATE TABLE IF NOT EXISTS downloads_2027_02 (LIKE downloads INCLUDING DEFAULTS)");
  CHECK(firsts[2] == "DROP TABLE IF EXISTS downloads_2025_11");  // 2025-12 is within 12 months
  CHECK(firsts[3] == "DELETE FROM downloads_default WHERE day < '2025-12-01'");
  CHECK(partition_upkeep({"downloads_2026_12", "downloads_2027_01", "downloads_2027_02"}, dec_15_2026, 0).empty());
}

TEST_CASE("the in-process Cache API store honours Cache-Control and its byte bound", "[server][host]") {
  cache_store c(8 * 4096);
  auto entry = [](std::string cc, std::size_t size) {
    cache_store::entry e;
    e.headers = json::array();
    if (!cc.empty()) e.headers.push_back(json(json_array{json("Cache-Control"), json(cc)}));
    e.body.assign(size, 'x');
    return e;
  };
  c.put("https://h/a", entry("public, max-age=60", 100), 0);
  c.put("https://h/private", entry("private, max-age=60", 100), 0);
  c.put("https://h/nostore", entry("no-store", 100), 0);
  CHECK(c.match("https://h/a", 59'000));
  CHECK_FALSE(c.match("https://h/a", 61'000));  // expired
  CHECK_FALSE(c.match("https://h/private", 0));
  CHECK_FALSE(c.match("https://h/nostore", 0));
  c.put("https://h/huge", entry("max-age=60", 8 * 4096), 0);  // over an eighth of the store
  CHECK_FALSE(c.match("https://h/huge", 0));
  for (int i = 0; i < 20; ++i) c.put("https://h/" + std::to_string(i), entry("max-age=600", 3000), 0);
  CHECK_FALSE(c.match("https://h/0", 1));  // the least recently used went first
  CHECK(c.match("https://h/19", 1));
}

TEST_CASE("body streams: tee gives both readers every byte in step; collect bounds; file ranges", "[server][host]") {
  std::string data(700'000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  // Two readers at different paces: both get every byte, and the fast one is never more than one chunk
  // ahead of the slow one (PROTOCOL.md body.tee: a slow reader holds the other back).
  std::string both = run_on_loop([](std::string d) -> awaitable<std::string> {
    auto ex = co_await asio::this_coro::executor;
    auto [a, b] = tee(std::make_shared<memory_source>(d), ex);
    auto x = std::make_shared<std::string>(), y = std::make_shared<std::string>();
    auto fast_chunks = std::make_shared<int>(0), slow_chunks = std::make_shared<int>(0), max_lead = std::make_shared<int>(0);
    auto done = std::make_shared<int>(0);
    event finished(ex);
    asio::co_spawn(ex, [&, a = a]() -> awaitable<void> {
      for (std::string c = co_await a->next(); !c.empty(); c = co_await a->next()) {
        *x += c;
        *max_lead = std::max(*max_lead, ++*fast_chunks - *slow_chunks);
      }
      if (++*done == 2) finished.set();
    }, asio::detached);
    asio::co_spawn(ex, [&, b = b]() -> awaitable<void> {
      asio::steady_timer t(ex);
      for (std::string c = co_await b->next(); !c.empty(); c = co_await b->next()) {
        *y += c;
        ++*slow_chunks;
        t.expires_after(std::chrono::milliseconds(1));
        co_await t.async_wait(use_awaitable);
      }
      if (++*done == 2) finished.set();
    }, asio::detached);
    co_await finished.wait();
    CHECK(*fast_chunks > 2);
    CHECK(*max_lead <= 1);
    co_return *x + "|" + *y;
  }(data));
  CHECK(both == data + "|" + data);

  // A branch dropped early does not hold the other back.
  std::string alone = run_on_loop([](std::string d) -> awaitable<std::string> {
    auto [a, b] = tee(std::make_shared<memory_source>(d), co_await asio::this_coro::executor);
    (void)co_await b->next();
    b.reset();
    std::string x;
    for (std::string c = co_await a->next(); !c.empty(); c = co_await a->next()) x += c;
    co_return x;
  }(data));
  CHECK(alone == data);

  CHECK_THROWS_AS(run_on_loop(collect(std::make_shared<memory_source>(data), 1000)), runners::failure);
  CHECK(run_on_loop(collect(std::make_shared<memory_source>("abc"), 3)) == "abc");

  char path[] = "/tmp/pb-stream-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  ::unlink(path);
  CHECK(run_on_loop(collect(std::make_shared<file_source>(fd, 10, 300'000), 1 << 20)) == data.substr(10, 300'000));
}

TEST_CASE("the file store's r2.put: BadBody for another length, PayloadTooLarge past max_bytes, nothing stored", "[server][host]") {
  char dir[] = "/tmp/pb-blobs-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  runners::file_blob_store files{std::filesystem::path(dir)};
  auto failure_name = [&](std::string_view data, json effect) -> std::string {
    try {
      files.put("k", data, effect, 0);
    } catch (const runners::failure& f) {
      return f.name;
    }
    return "stored";
  };
  auto put_args = [](const char* name, std::int64_t n) {
    json e = json::object();
    e.set(name, json(n));
    return e;
  };
  CHECK(failure_name("abc", put_args("expected_size", 4)) == "BadBody");  // short
  CHECK(failure_name("abcde", put_args("expected_size", 4)) == "BadBody");  // long
  CHECK(failure_name("abcde", put_args("max_bytes", 4)) == "PayloadTooLarge");
  CHECK_FALSE(files.head("k"));
  // A streamed put checks each chunk before writing it.
  auto w = files.begin_put("k", json::object(), json::object(), false, false, -1, 4);
  w.append("abc");
  CHECK_THROWS_AS(w.append("de"), runners::failure);
  CHECK(failure_name("abcd", put_args("max_bytes", 4)) == "stored");
  CHECK(files.head("k")->size == 4);
  std::filesystem::remove_all(dir);
}

TEST_CASE("sync queue: a message handed back comes again after its delay, until its retries are used up", "[server][host]") {
  auto finish = [](std::string_view text) { return *parse_json(text); };
  json handed_back = finish(R"({"retry":[{"id":"m1","delay_s":20}]})");
  // Acknowledged: no retry list (a slice that ran or found nothing to do), or one naming other messages.
  CHECK(after_delivery(finish("{}"), "m1", 1).what == redelivery::acknowledged);
  CHECK(after_delivery(finish(R"({"retry":[]})"), "m1", 1).what == redelivery::acknowledged);
  CHECK(after_delivery(handed_back, "m2", 1).what == redelivery::acknowledged);
  // Handed back: again after the core's delay, as Queues' message.retry({delaySeconds}) does.
  redelivery next = after_delivery(handed_back, "m1", 1);
  CHECK(next.what == redelivery::again);
  CHECK(next.delay_s == 20);
  CHECK(after_delivery(handed_back, "m1", sync_queue::max_retries).what == redelivery::again);
  // The first delivery and max_retries more, then dropped (the cron trigger continues the sync).
  CHECK(after_delivery(handed_back, "m1", sync_queue::max_retries + 1).what == redelivery::dropped);
  // A delay out of range is clamped to what Queues accepts.
  CHECK(after_delivery(finish(R"({"retry":[{"id":"m1","delay_s":-5}]})"), "m1", 1).delay_s == 0);
  CHECK(after_delivery(finish(R"({"retry":[{"id":"m1","delay_s":99999999}]})"), "m1", 1).delay_s == sync_queue::max_delay_s);
}
