#include "routes/health.h"

#include <climits>

#include "routes/authenticate.h"
#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/base64.h"
#include "core/http_date.h"
#include "core/json.h"
#include "core/version.h"
#include "storage/hot_cache.h"

namespace pb::routes {

namespace {

// Each probe: null when reachable, else the error text.
task<result<fx::d1_result>> read_meta() {
  co_return co_await fx::d1_all("SELECT key, value FROM pb_meta WHERE key IN ('schema_version', 'last_cron_ms', 'cron_interval_ms')");
}
task<json> probe_kv() {
  auto v = co_await fx::kv_get("health:probe");
  co_return v ? json() : json(v.err().message);
}
task<json> probe_blob() {
  auto v = co_await fx::r2_head("health/probe");
  co_return v ? json() : json(v.err().message);
}

// The storage side of a health check, as JSON so the isolate's hot cache can keep it: db/kv/blob are null
// (reachable) or the error text; schema_version, last_cron_ms, cron_interval_ms are 0 when absent.
task<json> probe_storage() {
  auto [meta, kv, blob] = co_await when_all(read_meta(), probe_kv(), probe_blob());
  json p = json::object();
  p.set("db", meta ? json() : json(meta.err().message));
  p.set("kv", std::move(kv));
  p.set("blob", std::move(blob));
  for (const char* k : {"schema_version", "last_cron_ms", "cron_interval_ms"}) p.set(k, json(std::int64_t{0}));
  if (meta)
    for (const auto& row : meta->rows) {
      std::int64_t n = 0;
      for (char c : row["value"].as_string())
        if (c >= '0' && c <= '9' && n < INT64_MAX / 10) n = n * 10 + (c - '0');
      p.set(std::string(row["key"].as_string()), json(n));
    }
  co_return p;
}

// One check: its status word, and for the admin a message.
struct check {
  std::string_view status;
  bool ok = true;
  std::string message;
};

check storage_check(const json& error) {
  if (error.is_null()) return {"ok", true, {}};
  return {"error", false, std::string(error.as_string())};
}

check schema_check(const json& p) {
  if (!p["db"].is_null()) return {"unknown", false, "the database is unreachable"};
  std::int64_t applied = p["schema_version"].as_int();
  if (applied >= schema_version) return {"ok", true, {}};
  return {"outdated", false,
          "schema " + std::to_string(applied) + " is older than " + std::to_string(schema_version) +
              ", which this code needs: apply the migrations (scripts/deploy does on Cloudflare; the server at start)"};
}

// Late after two missed intervals; "waiting" until the first run (a fresh deployment, or `wrangler dev`).
check cron_check(const json& p, std::int64_t now_ms) {
  if (!p["db"].is_null()) return {"unknown", false, "the database is unreachable"};
  std::int64_t last = p["last_cron_ms"].as_int();
  std::int64_t interval = p["cron_interval_ms"].as_int();
  if (last == 0) return {"waiting", true, "the cron trigger has not run yet"};
  if (interval <= 0) interval = 24LL * 3600 * 1000;
  if (now_ms - last <= 2 * interval) return {"ok", true, "last run " + format_iso8601_utc(last)};
  return {"late", false, "the cron trigger last ran " + format_iso8601_utc(last) + ", more than two intervals ago: check the Worker's triggers (the server's PB_CRON_INTERVAL_S)"};
}

check secrets_check(const settings& cfg) {
  std::string missing;
  auto add = [&](std::string_view what) { missing += (missing.empty() ? "" : ", ") + std::string(what); };
  if (cfg.admin_token.empty()) add("ADMIN_TOKEN");
  auto key = base64_decode(cfg.encryption_key);
  if (!key || key->size() != 32) add("PB_ENCRYPTION_KEY");
  if (missing.empty()) return {"ok", true, {}};
  return {"missing", false, "not set or not valid: " + missing};
}

void write_check(json_writer& w, std::string_view name, const check& c, bool detailed) {
  w.key(name).begin_object().field("status", c.status);
  if (detailed && !c.message.empty()) w.field("message", c.message);
  w.end_object();
}

}  // namespace

task<http::response> health(request_context& ctx) {
  const settings& cfg = ctx.settings();
  std::optional<json> cached = storage::hot_cache::health_probe(ctx.now_ms);
  json p = cached ? std::move(*cached) : co_await probe_storage();
  if (!cached) storage::hot_cache::put_health_probe(p, ctx.now_ms);

  check checks[] = {storage_check(p["db"]), storage_check(p["kv"]), storage_check(p["blob"]),
                    schema_check(p), cron_check(p, ctx.now_ms), secrets_check(cfg)};
  const char* names[] = {"db", "kv", "blob", "schema", "cron", "secrets"};
  bool ok = true;
  for (const auto& c : checks) ok = ok && c.ok;
  // Messages may carry storage error text: only the admin sees them; anyone else gets status words.
  bool detailed = !auth::check_admin(cfg, ctx.req.header_list).has_value();

  json_writer w;
  w.begin_object().field("status", ok ? "ok" : "degraded");
  w.key("checks").begin_object();
  for (std::size_t i = 0; i < std::size(checks); ++i) write_check(w, names[i], checks[i], detailed);
  w.end_object();
  w.field("version", product_version);
  w.end_object();
  http::response r = http::response::json_body(ok ? 200 : 503, std::move(w).str());
  r.header_list.set("cache-control", "no-store");
  co_return r;
}

}  // namespace pb::routes
