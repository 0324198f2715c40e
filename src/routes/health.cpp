#include "routes/health.h"

#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/json.h"
#include "core/version.h"

namespace pb::routes {

namespace {

struct check {
  bool ok = false;
  std::string message;
};

check from(const error& e) { return check{false, e.message}; }

// The schema_version row exists once migration 0001 ran: a reachable but unmigrated database is not ok.
task<check> check_db() {
  auto row = co_await fx::d1_first("SELECT value FROM pb_meta WHERE key = ?", {json("schema_version")});
  if (!row) co_return from(row.err());
  if (!row->has_value()) co_return check{false, "schema_version missing: migrations not applied"};
  co_return check{true, {}};
}

task<check> check_kv() {
  auto v = co_await fx::kv_get("health:probe");
  if (!v) co_return from(v.err());
  co_return check{true, {}};
}

task<check> check_blob() {
  auto v = co_await fx::r2_head("health/probe");
  if (!v) co_return from(v.err());
  co_return check{true, {}};
}

void write_check(json_writer& w, std::string_view name, const check& c) {
  w.key(name).begin_object().field("status", c.ok ? "ok" : "error");
  if (!c.ok) w.field("message", c.message);
  w.end_object();
}

}  // namespace

task<http::response> health(request_context&) {
  auto [db, kv, blob] = co_await when_all(check_db(), check_kv(), check_blob());
  bool ok = db.ok && kv.ok && blob.ok;
  json_writer w;
  w.begin_object().field("status", ok ? "ok" : "degraded");
  w.key("checks").begin_object();
  write_check(w, "db", db);
  write_check(w, "kv", kv);
  write_check(w, "blob", blob);
  w.end_object();
  w.field("version", product_version);
  w.end_object();
  http::response r = http::response::json_body(ok ? 200 : 503, std::move(w).str());
  r.header_list.set("cache-control", "no-store");
  co_return r;
}

}  // namespace pb::routes
