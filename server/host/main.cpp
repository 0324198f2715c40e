// package-broker's self-hosted server: the core (linked natively, no wasm) behind an HTTP/1.1 server,
// with its effects on SQLite or PostgreSQL, a file store or S3, and an in-process cache or Redis, all
// chosen by URL settings (docs/SELF-HOSTING.md). One event loop runs the core and every effect; a few
// threads take the blocking work (SQLite, fsync). Logs are JSON lines on stdout (requests) and stderr.
#include <curl/curl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>

#include "bindings/abi.h"
#include "bindings/wire.h"
#include "core/version.h"
#include "host/config.h"
#include "host/cron.h"
#include "host/http_server.h"
#include "host/invocation.h"
#include "host/sync_queue.h"
#include "runners/failure.h"
#include "runners/postgres_database.h"
#include "runners/s3_sign.h"

extern char** environ;

using namespace pb;
using namespace pb::server;

namespace {

void log_line(const std::string& level, const std::string& msg, std::initializer_list<std::pair<std::string, std::string>> fields) {
  json_writer w;
  w.begin_object().field("level", level).field("msg", msg);
  for (const auto& [k, v] : fields) w.field(k, v);
  w.end_object();
  std::cerr << std::move(w).str() << std::endl;
}

bool configure_core(const json& vars) {
  json doc = json::object();
  doc.set("v", json(wire::protocol_version));
  doc.set("vars", vars);
  std::string text = doc.dump();
  return pb_configure(text.data(), static_cast<std::uint32_t>(text.size())) == 1;
}

// Gauges read from the database every 15 s for /metrics: each source's time since its last finished
// sync and how overdue its next one is, and the last cron run.
awaitable<void> watch_sync_lag(services& s, std::string& out, bool& stopping) {
  asio::steady_timer t(s.io);
  while (!stopping) {
    try {
      bool wrote = false;
      json e = json::object();
      e.set("op", json("d1.batch"));
      json st = json::array();
      for (const char* sql : {"SELECT id, type, last_sync_finished_at, next_sync_at FROM sources WHERE enabled = 1",
                              "SELECT value FROM pb_meta WHERE key = 'last_cron_ms'"}) {
        json one = json::object();
        one.set("sql", json(sql));
        one.set("params", json::array());
        st.push_back(std::move(one));
      }
      e.set("statements", std::move(st));
      json r = co_await s.sql.run(std::move(e), true, wrote);
      std::int64_t now = now_ms();
      std::string text =
          "# HELP pb_source_sync_lag_seconds Time since each enabled source's last finished sync.\n"
          "# TYPE pb_source_sync_lag_seconds gauge\n";
      std::string overdue =
          "# HELP pb_source_sync_overdue_seconds How long each enabled source's next sync is overdue (0 when not due).\n"
          "# TYPE pb_source_sync_overdue_seconds gauge\n";
      for (const auto& row : r["results"].as_array()[0]["results"].as_array()) {
        std::string labels = "{source=\"" + row["id"].dump() + "\",type=\"" + std::string(row["type"].as_string()) + "\"}";
        std::int64_t finished = row["last_sync_finished_at"].as_int(0);
        text += "pb_source_sync_lag_seconds" + labels + " " + std::to_string(finished ? (now - finished) / 1000 : -1) + "\n";
        overdue += "pb_source_sync_overdue_seconds" + labels + " " +
                   std::to_string(std::max<std::int64_t>(0, now - row["next_sync_at"].as_int(now)) / 1000) + "\n";
      }
      const auto& cron_rows = r["results"].as_array()[1]["results"].as_array();
      std::string last_cron = cron_rows.empty() ? "0" : std::string(cron_rows[0]["value"].as_string("0"));
      out = text + overdue +
            "# HELP pb_cron_last_run_timestamp_seconds When any replica last ran the cron trigger.\n"
            "# TYPE pb_cron_last_run_timestamp_seconds gauge\n"
            "pb_cron_last_run_timestamp_seconds " + std::to_string(std::atoll(last_cron.c_str()) / 1000) + "\n";
    } catch (...) {
    }
    t.expires_after(std::chrono::seconds(15));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

int run() {
  host_config cfg = load_config(environ);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  asio::io_context io(1);
  asio::thread_pool blocking(static_cast<std::size_t>(cfg.db_threads) + 1);
  metrics stats;

  auto sql = open_sql_service(io, blocking, cfg.database_url, cfg.replica_url, stats, cfg.db_threads);
  curl_engine http(io);
  std::unique_ptr<blob_store> blobs;
  if (cfg.storage_url.rfind("file://", 0) == 0) blobs = make_file_store(cfg.storage_url.substr(7), blocking);
  else blobs = make_s3_store(runners::parse_s3_url(cfg.storage_url, cfg.aws_access_key, cfg.aws_secret_key), http);

  std::unique_ptr<redis_client> redis, subscriber;
  std::unique_ptr<kv_store> kv;
  if (is_redis_url(cfg.cache_url)) {
    redis = std::make_unique<redis_client>(io, cfg.cache_url, cfg.cache_ca_file);
    sql_service* sqlp = sql.get();
    std::string me = cfg.instance_id;
    subscriber = std::make_unique<redis_client>(
        io, cfg.cache_url, cfg.cache_ca_file, "pb:invalidate",
        [&stats, sqlp, me](const std::string& message) {
          auto m = parse_json(message);
          if (!m || (*m)["from"].as_string() == me) return;
          std::string doc = m->dump();
          pb_invalidate(doc.data(), static_cast<std::uint32_t>(doc.size()));
          sqlp->saw_remote_write();
          ++stats.invalidations_received;
        },
        [] { pb_reset_caches(); });  // messages may have been missed while disconnected
    redis->start();
    subscriber->start();
    kv = make_redis_kv(*redis);
  } else {
    kv = make_memory_kv();
  }
  cache_store cache(cfg.cache_bytes);
  if (!configure_core(cfg.core_vars)) throw std::runtime_error("the core refused its configuration");
  if (cfg.core_vars["ADMIN_TOKEN"].as_string().empty())
    log_line("warn", "ADMIN_TOKEN is not set: the admin API answers 401 to everything", {});

  services s{io, blocking, cfg, stats, *sql, *blobs, *kv, cache, http, redis.get()};
  std::string sync_gauges;
  bool stopping = false;
  http_server server(s, [&sync_gauges] { return sync_gauges; });
  server.start();
  sync_queue queue(s, server);
  s.queue = &queue;
  cron_timer cron(s, server);
  cron.start();
  sql->start();
  asio::co_spawn(io, watch_sync_lag(s, sync_gauges, stopping), asio::detached);

  log_line("info", "listening",
           {{"url", "http://" + cfg.listen_host + ":" + std::to_string(server.port())},
            {"version", std::string(product_version)},
            {"database", sql->describe()},
            {"storage", blobs->describe()},
            {"cache", redis ? redis->redacted() : "memory"},
            {"instance", cfg.instance_id}});

  // SIGTERM/SIGINT: stop accepting, let in-flight work finish (bounded by PB_SHUTDOWN_GRACE_S), exit 0.
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    log_line("info", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}, {"in_flight", std::to_string(server.in_flight())}});
    stopping = true;
    cron.stop();
    // Waiting sync queue messages are dropped: the cron trigger (any replica's) continues their syncs.
    if (std::size_t dropped = queue.stop()) log_line("info", "sync queue messages dropped", {{"count", std::to_string(dropped)}});
    server.stop_accepting();
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          asio::steady_timer grace(io);
          grace.expires_after(std::chrono::seconds(cfg.shutdown_grace_s));
          grace.async_wait([&](boost::system::error_code e) {
            if (!e) {
              log_line("warn", "grace period over", {{"in_flight", std::to_string(server.in_flight())}});
              server.drained().set();
            }
          });
          co_await server.drained().wait();
          grace.cancel();
          sql->stop();
          if (redis) redis->stop();
          if (subscriber) subscriber->stop();
          io.stop();
        },
        asio::detached);
  });
  std::signal(SIGPIPE, SIG_IGN);
  io.run();
  log_line("info", "stopped", {});
  return 0;
}

}  // namespace

// `pb_server health [URL]`: the container's health check (GET /health, exit 0 on 200), no curl needed.
int health(const char* url_arg) {
  std::string url = url_arg ? url_arg : "";
  if (url.empty()) {
    host_config cfg = load_config(environ);
    std::string host = cfg.listen_host == "0.0.0.0" || cfg.listen_host == "::" ? "127.0.0.1" : cfg.listen_host;
    url = "http://" + host + ":" + std::to_string(cfg.listen_port) + "/health";
  }
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char*, std::size_t s, std::size_t n, void*) { return s * n; });
  long status = 0;
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK || status != 200) {
    std::cerr << "unhealthy: " << (rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status)) << std::endl;
    return 1;
  }
  return 0;
}

// `pb_server check-config`: reads the settings and every URL in them without connecting to anything.
int check_config() {
  host_config cfg = load_config(environ);
  if (cfg.database_url.rfind("sqlite://", 0) != 0) runners::parse_postgres_url(cfg.database_url);
  if (!cfg.replica_url.empty()) runners::parse_postgres_url(cfg.replica_url);
  if (cfg.storage_url.rfind("s3://", 0) == 0) runners::parse_s3_url(cfg.storage_url, cfg.aws_access_key, cfg.aws_secret_key);
  if (is_redis_url(cfg.cache_url)) {
    asio::io_context io;
    redis_client probe(io, cfg.cache_url, cfg.cache_ca_file);
  }
  std::cout << "configuration ok" << std::endl;
  return 0;
}

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "health") == 0) return health(argc > 2 ? argv[2] : nullptr);
    if (argc > 1 && std::strcmp(argv[1], "check-config") == 0) return check_config();
    if (argc > 1) {
      std::cerr << "usage: pb_server [health [URL] | check-config]   (settings come from the environment)" << std::endl;
      return 2;
    }
    return run();
  } catch (const runners::failure& f) {
    log_line("error", "cannot start", {{"error", f.name + ": " + f.message}});
  } catch (const std::exception& e) {
    log_line("error", "cannot start", {{"error", e.what()}});
  }
  return 1;
}
