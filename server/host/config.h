// The server's own settings, from the environment (docs/SELF-HOSTING.md has the table). What the core
// needs (ADMIN_TOKEN, PB_ENCRYPTION_KEY, PB_DIST_REDIRECT, ...) reaches it through pb_configure as it
// does on the Worker; `core_vars` is that set: ADMIN_TOKEN and every PB_* variable except the server's
// own connection settings (a source's credentials may name a variable, and must not be able to name
// the database's password).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace pb::server {

struct host_config {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  std::string database_url;          // PB_DATABASE_URL: sqlite:///path (default under PB_DATA_DIR) or postgres://
  std::string replica_url;           // PB_DATABASE_REPLICA_URL
  std::string cache_url = "memory:";  // PB_CACHE_URL: memory: or redis[s]://[[user]:password@]host[:port][/db]
  std::string cache_ca_file;          // PB_CACHE_CA_FILE: PEM CAs trusted for rediss:// (else the system's)
  std::string storage_url;           // PB_STORAGE_URL: file:///path (default under PB_DATA_DIR) or s3://
  std::string data_dir = "./var";    // PB_DATA_DIR: where the embedded defaults keep their files
  std::string public_url;            // PB_PUBLIC_URL: the origin clients use (else Host / X-Forwarded-*)
  bool trust_forwarded = false;      // PB_TRUST_FORWARDED=1: take X-Forwarded-Proto/Host from the balancer
  std::int64_t max_body_bytes = 512ll << 20;  // PB_MAX_BODY_MB (512)
  int header_timeout_s = 30;         // PB_HEADER_TIMEOUT_S: time to send a request's header
  int idle_timeout_s = 75;           // PB_IDLE_TIMEOUT_S: keep-alive connections idle this long are closed
  int body_timeout_s = 60;           // PB_BODY_TIMEOUT_S: longest pause while a body streams
  int shutdown_grace_s = 25;         // PB_SHUTDOWN_GRACE_S: SIGTERM waits this long for in-flight work
  int cron_interval_s = 60;          // PB_CRON_INTERVAL_S: the internal cron trigger (0: off)
  int downloads_retention_months = 24;  // PB_DOWNLOADS_RETENTION_MONTHS (0: keep everything)
  int db_threads = 2;                // PB_DB_THREADS: SQLite connections / blocking-work threads
  std::int64_t cache_bytes = 64ll << 20;  // PB_CACHE_MB (64): the in-process Cache API store
  bool serve_ui = true;              // PB_UI=off: no web UI (ui/ is embedded); its paths go to the core
  std::string log = "requests";      // PB_LOG: requests (one JSON line each), errors (5xx only), off
  std::string instance_id;           // PB_INSTANCE_ID (default host:pid), in logs and leases
  std::string aws_access_key, aws_secret_key;  // AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for s3://
  json core_vars = json::object();   // handed to the core (pb_configure)
};

// Reads the environment; throws runners::failure(TypeError) for a setting that makes no sense.
host_config load_config(char** environ_list);

// Settings the server reads itself and never hands to the core.
const std::vector<std::string>& host_only_settings();

}  // namespace pb::server
