// Admin API views that change nothing: the audit log (filters, paging), download stats (grouped by
// package, version, token or day over a date range), the deployment's status (schema, cron, secrets,
// counts: what `broker doctor` checks) and the OpenAPI document (docs/openapi.json, embedded at build).
#include "core/base64.h"
#include "core/http_date.h"
#include "core/version.h"
#include "routes/admin.h"
#include "routes/json_io.h"
#include "routes/validate.h"
#include "storage/audit.h"
#include "storage/columns.h"

// Defined in the generated openapi_doc.cpp (CMakeLists.txt, cmake/embed_text.cmake).
const char* pb_openapi_document();

namespace pb::routes {

namespace {

constexpr std::int64_t day_ms = 86'400'000;
constexpr std::int64_t max_stats_days = 400;

http::response failure(const error& e) {
  if (e.code == error_code::effect_failed || e.code == error_code::protocol)
    return http::error_response(make_error(error_code::unavailable, "storage unavailable: " + e.message));
  return http::error_response(e);
}

}  // namespace

task<http::response> admin_audit(request_context& ctx) {
  const http::url& u = ctx.req.target;
  auto page = read_page(u);
  if (!page) co_return failure(page.err());
  auto before = id_cursor(*page);
  if (!before) co_return failure(before.err());
  auto since = time_param(u, "since");
  if (!since) co_return failure(since.err());
  auto until = time_param(u, "until");
  if (!until) co_return failure(until.err());
  storage::audit_query q;
  q.since_ms = *since;
  q.until_ms = *until;
  q.before_id = *before;
  q.limit = page->limit + 1;
  q.actor = u.query_param("actor").value_or("");
  q.action = u.query_param("action").value_or("");
  q.target = u.query_param("target").value_or("");
  if (q.actor.size() > 120 || q.action.size() > 60 || q.target.size() > 300)
    co_return http::error_response(error_code::bad_request, "\"actor\", \"action\" and \"target\" are limited to 120, 60 and 300 characters");
  auto entries = co_await storage::list_audit(std::move(q));
  if (!entries) co_return failure(entries.err());
  co_return json_response(200, page_json("entries", *entries, page->limit, [](const json& e) { return e; },
                                         [](const json& e) { return std::to_string(e["id"].as_int()); }));
}

task<http::response> admin_stats(request_context& ctx) {
  const http::url& u = ctx.req.target;
  std::string group = u.query_param("group").value_or("day");
  if (group != "day" && group != "package" && group != "version" && group != "token")
    co_return http::error_response(error_code::bad_request, "\"group\" must be day, package, version or token");
  auto page = read_page(u);
  if (!page) co_return failure(page.err());
  auto offset = id_cursor(*page);
  if (!offset) co_return failure(offset.err());
  auto from = time_param(u, "from");
  if (!from) co_return failure(from.err());
  auto to = time_param(u, "to");
  if (!to) co_return failure(to.err());
  std::int64_t to_ms = *to ? *to : ctx.now_ms;
  std::int64_t from_ms = *from;
  if (auto days = u.query_param("days")) {
    std::int64_t n = 0;
    bool ok = !days->empty() && days->size() <= 3;
    for (char c : *days) {
      ok = ok && c >= '0' && c <= '9';
      n = n * 10 + (c - '0');
    }
    if (!ok || n < 1 || n > max_stats_days) co_return http::error_response(error_code::bad_request, "\"days\" must be from 1 to 400");
    if (*from) co_return http::error_response(error_code::bad_request, "give either \"from\" or \"days\", not both");
    from_ms = to_ms - (n - 1) * day_ms;
  }
  if (!from_ms) from_ms = to_ms - 29 * day_ms;  // the last 30 days
  if (from_ms > to_ms) co_return http::error_response(error_code::bad_request, "\"from\" is after \"to\"");
  std::string from_day = format_day(from_ms), to_day = format_day(to_ms);

  std::string where = "d.day >= ? AND d.day <= ?";
  fx::sql_params p = {json(from_day), json(to_day)};
  if (auto pkg = u.query_param("package"); pkg && !pkg->empty()) {
    if (pkg->size() > 200) co_return http::error_response(error_code::bad_request, "\"package\" is limited to 200 characters");
    where += " AND p.name = ?";
    p.push_back(json(*pkg));
  }
  if (auto tok = u.query_param("token"); tok && !tok->empty()) {
    auto id = path_id(*tok, "token");
    if (!id) co_return http::error_response(error_code::bad_request, "\"token\" must be a token id");
    where += " AND d.token_id = ?";
    p.push_back(json(*id));
  }
  std::string key;
  if (group == "day") key = "d.day AS day";
  else if (group == "package") key = "p.name AS package";
  else if (group == "version") key = "p.name AS package, d.version_normalized AS version";
  else key = "d.token_id AS token_id, t.name AS token_name";
  // Every selected column is grouped (t.name too): PostgreSQL refuses SQLite's bare columns.
  std::string by = group == "day" ? "d.day" : group == "package" ? "p.name" : group == "version" ? "p.name, d.version_normalized"
                                                                                                  : "d.token_id, t.name";
  std::string from_clause = " FROM downloads d JOIN packages p ON p.id = d.package_id LEFT JOIN tokens t ON t.id = d.token_id WHERE " + where;
  fx::sql_params rows_params = p;
  rows_params.push_back(json(page->limit + 1));
  rows_params.push_back(json(*offset));
  auto r = co_await fx::d1_batch({
      {"SELECT " + key + ", SUM(d.count) AS downloads, SUM(d.fetches) AS fetches" + from_clause + " GROUP BY " + by +
           " ORDER BY " + by + " LIMIT ? OFFSET ?",
       std::move(rows_params)},
      {"SELECT COALESCE(SUM(d.count), 0) AS downloads, COALESCE(SUM(d.fetches), 0) AS fetches" + from_clause, std::move(p)},
  });
  if (!r) co_return failure(r.err());
  json rows = json::array();
  json next;
  for (std::size_t i = 0; i < (*r)[0].rows.size(); ++i) {
    if (static_cast<std::int64_t>(i) == page->limit) {
      next = json(std::to_string(*offset + page->limit));
      break;
    }
    rows.push_back((*r)[0].rows[i]);
  }
  json out = json::object();
  out.set("group", json(group));
  out.set("from", json(from_day));
  out.set("to", json(to_day));
  out.set("rows", std::move(rows));
  json totals = json::object();
  totals.set("downloads", json((*r)[1].rows[0]["downloads"].as_int()));
  totals.set("fetches", json((*r)[1].rows[0]["fetches"].as_int()));
  out.set("totals", std::move(totals));
  out.set("next_cursor", std::move(next));
  co_return json_response(200, out);
}

task<http::response> admin_status(request_context& ctx) {
  auto r = co_await fx::d1_batch({
      {"SELECT key, value FROM pb_meta", {}},
      {"SELECT (SELECT COUNT(*) FROM packages) AS packages, (SELECT COUNT(*) FROM versions) AS versions, "
       "(SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL) AS tokens, (SELECT COUNT(*) FROM sources) AS sources, "
       "(SELECT COUNT(*) FROM admins WHERE revoked_at IS NULL) AS admins, "
       "(SELECT COUNT(*) FROM sources WHERE last_sync_status = 'error') AS sources_failing",
       {}},
  });
  if (!r) co_return failure(r.err());
  json meta = json::object();
  for (const auto& row : (*r)[0].rows) meta.set(row["key"].as_string(), row["value"]);
  std::int64_t last_cron = 0;
  for (char c : meta["last_cron_ms"].as_string()) last_cron = (c >= '0' && c <= '9') ? last_cron * 10 + (c - '0') : last_cron;
  const settings& cfg = ctx.settings();
  std::string key_state = "missing";
  if (!cfg.encryption_key.empty()) {
    auto raw = base64_decode(cfg.encryption_key);
    key_state = raw && raw->size() == 32 ? "ok" : "invalid (must be base64 of 32 bytes)";
  }
  json out = json::object();
  out.set("version", json(product_version));
  out.set("schema_version", meta["schema_version"]);
  out.set("last_cron_at", storage::nullable_time(last_cron));
  out.set("cron_age_s", last_cron ? json((ctx.now_ms - last_cron) / 1000) : json());
  json secrets = json::object();
  secrets.set("ADMIN_TOKEN", json(cfg.admin_token.empty() ? "missing" : "ok"));
  secrets.set("PB_ENCRYPTION_KEY", json(key_state));
  out.set("secrets", std::move(secrets));
  out.set("counts", (*r)[1].rows[0]);
  json s = json::object();
  s.set("rate_limit_per_minute", json(cfg.rate_limit_per_minute));
  s.set("audit_retention_days", json(cfg.audit_retention_days));
  s.set("sync_packages_per_slice", json(cfg.sync_packages_per_slice));
  out.set("settings", std::move(s));
  co_return json_response(200, out);
}

task<http::response> admin_openapi(request_context& ctx) {
  http::response r = http::response::json_body(200, pb_openapi_document());
  r.header_list.set("cache-control", "public, max-age=300");
  co_return r;
}

}  // namespace pb::routes
