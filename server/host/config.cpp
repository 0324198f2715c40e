#include "host/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "host/redis.h"
#include "runners/failure.h"

namespace pb::server {

namespace {

int number(const std::map<std::string, std::string>& env, const std::string& name, int fallback, int lo, int hi) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return fallback;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  if (*end || v < lo || v > hi)
    runners::fail("TypeError", name + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(v);
}

}  // namespace

const std::vector<std::string>& host_only_settings() {
  static const std::vector<std::string> names = {
      "PB_DATABASE_URL", "PB_DATABASE_REPLICA_URL", "PB_CACHE_URL", "PB_CACHE_CA_FILE", "PB_STORAGE_URL", "PB_LISTEN", "PB_DATA_DIR",
      "PB_UI"};
  return names;
}

host_config load_config(char** environ_list) {
  std::map<std::string, std::string> env;
  for (char** e = environ_list; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto get = [&](const std::string& k, const std::string& fallback = "") {
    auto it = env.find(k);
    return it == env.end() || it->second.empty() ? fallback : it->second;
  };
  host_config c;
  if (auto listen = get("PB_LISTEN"); !listen.empty()) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) runners::fail("TypeError", "PB_LISTEN is host:port, e.g. 0.0.0.0:8080");
    c.listen_host = listen.substr(0, colon);
    std::map<std::string, std::string> p{{"PORT", listen.substr(colon + 1)}};
    c.listen_port = number(p, "PORT", 8080, 0, 65535);
  }
  c.data_dir = get("PB_DATA_DIR", "./var");
  c.database_url = get("PB_DATABASE_URL", "sqlite://" + c.data_dir + "/package-broker.sqlite3");
  c.replica_url = get("PB_DATABASE_REPLICA_URL");
  c.cache_url = get("PB_CACHE_URL", "memory:");
  c.cache_ca_file = get("PB_CACHE_CA_FILE");
  c.storage_url = get("PB_STORAGE_URL", "file://" + c.data_dir + "/blobs");
  c.public_url = get("PB_PUBLIC_URL");
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  c.trust_forwarded = get("PB_TRUST_FORWARDED") == "1";
  c.max_body_bytes = static_cast<std::int64_t>(number(env, "PB_MAX_BODY_MB", 512, 1, 1 << 20)) << 20;
  c.header_timeout_s = number(env, "PB_HEADER_TIMEOUT_S", 30, 1, 3600);
  c.idle_timeout_s = number(env, "PB_IDLE_TIMEOUT_S", 75, 1, 3600);
  c.body_timeout_s = number(env, "PB_BODY_TIMEOUT_S", 60, 1, 3600);
  c.shutdown_grace_s = number(env, "PB_SHUTDOWN_GRACE_S", 25, 0, 3600);
  c.cron_interval_s = number(env, "PB_CRON_INTERVAL_S", 60, 0, 86400);
  c.downloads_retention_months = number(env, "PB_DOWNLOADS_RETENTION_MONTHS", 24, 0, 1200);
  c.db_threads = number(env, "PB_DB_THREADS", 2, 1, 64);
  c.cache_bytes = static_cast<std::int64_t>(number(env, "PB_CACHE_MB", 64, 0, 1 << 20)) << 20;
  std::string ui = get("PB_UI", "on");
  if (ui != "on" && ui != "off") runners::fail("TypeError", "PB_UI is on or off");
  c.serve_ui = ui == "on";
  c.log = get("PB_LOG", "requests");
  if (c.log != "requests" && c.log != "errors" && c.log != "off") runners::fail("TypeError", "PB_LOG is requests, errors or off");
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  c.instance_id = get("PB_INSTANCE_ID", std::string(host) + ":" + std::to_string(::getpid()));
  c.aws_access_key = get("AWS_ACCESS_KEY_ID");
  c.aws_secret_key = get("AWS_SECRET_ACCESS_KEY");
  if (c.database_url.rfind("sqlite://", 0) != 0 && c.database_url.rfind("postgres://", 0) != 0 &&
      c.database_url.rfind("postgresql://", 0) != 0)
    runners::fail("TypeError", "PB_DATABASE_URL is sqlite:///path or postgres://...");
  if (!c.replica_url.empty() && c.database_url.rfind("sqlite://", 0) == 0)
    runners::fail("TypeError", "PB_DATABASE_REPLICA_URL needs a PostgreSQL PB_DATABASE_URL");
  if (c.cache_url != "memory:" && !is_redis_url(c.cache_url))
    runners::fail("TypeError", "PB_CACHE_URL is memory:, redis://host:port or rediss://host:port");
  if (is_redis_url(c.cache_url)) (void)parse_redis_url(c.cache_url);  // refused here, before anything starts
  if (!c.cache_ca_file.empty() && c.cache_url.rfind("rediss://", 0) != 0)
    runners::fail("TypeError", "PB_CACHE_CA_FILE is set but PB_CACHE_URL is not rediss://");
  if (c.storage_url.rfind("file://", 0) != 0 && c.storage_url.rfind("s3://", 0) != 0)
    runners::fail("TypeError", "PB_STORAGE_URL is file:///path or s3://bucket?endpoint=...");

  const auto& own = host_only_settings();
  for (const auto& [k, v] : env) {
    bool core = k == "ADMIN_TOKEN" || k.rfind("PB_", 0) == 0;
    if (core && std::find(own.begin(), own.end(), k) == own.end()) c.core_vars.set(k, json(v));
  }
  // No platform ends the server's invocations: the core's per-invocation subrequest budget (a Workers
  // limit, PB_PLAN) does not apply, whatever a copied Worker configuration says.
  c.core_vars.set("PB_PLAN", json("self-hosted"));
  // Replicas that share a Redis hear each other's invalidations at once.
  if (is_redis_url(c.cache_url)) c.core_vars.set("PB_INVALIDATION_BROADCAST", json("1"));
  return c;
}

}  // namespace pb::server
