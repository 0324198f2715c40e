#include "storage/sources.h"

#include "auth/credentials.h"
#include "bindings/effects.h"
#include "core/http_date.h"
#include "storage/columns.h"
#include "storage/hot_cache.h"

namespace pb::storage {

namespace {

constexpr const char* columns =
    "id, type, url, api_url, credentials_type, credentials_enc, credentials_secret, include_patterns, exclude_patterns, "
    "webhook_secret_enc, sync_interval_s, enabled, sync_cursor, next_sync_at, last_sync_status, last_sync_started_at, "
    "last_sync_finished_at, last_sync_packages, last_sync_versions, last_sync_error, created_at, updated_at, webhook_nonce, "
    "endpoints, feed_cursor, advisories_status, advisories_error, advisories_at, sync_lease_id";

std::vector<std::string> patterns(std::string_view text) {
  std::vector<std::string> out;
  if (auto j = parse_json(text); j)
    for (const auto& v : j->as_array()) out.emplace_back(v.as_string());
  return out;
}

std::string patterns_json(const std::vector<std::string>& ps) {
  json a = json::array();
  for (const auto& p : ps) a.push_back(json(p));
  return a.dump();
}

std::string str(const json& row, std::string_view key) { return std::string(row[key].as_string()); }

source_record from_row(const json& r) {
  source_record s;
  s.id = r["id"].as_int();
  s.type = str(r, "type");
  s.url = str(r, "url");
  s.api_url = str(r, "api_url");
  s.credentials_type = str(r, "credentials_type");
  s.credentials_enc = str(r, "credentials_enc");
  s.credentials_secret = str(r, "credentials_secret");
  s.include = patterns(r["include_patterns"].as_string("[]"));
  s.exclude = patterns(r["exclude_patterns"].as_string("[]"));
  s.webhook_secret_enc = str(r, "webhook_secret_enc");
  s.sync_interval_s = r["sync_interval_s"].as_int(3600);
  s.enabled = r["enabled"].as_int(1) != 0;
  s.sync_cursor = str(r, "sync_cursor");
  s.next_sync_at = r["next_sync_at"].as_int();
  s.last_sync_status = str(r, "last_sync_status");
  s.last_sync_started_at = r["last_sync_started_at"].as_int();
  s.last_sync_finished_at = r["last_sync_finished_at"].as_int();
  s.last_sync_packages = r["last_sync_packages"].as_int();
  s.last_sync_versions = r["last_sync_versions"].as_int();
  s.last_sync_error = str(r, "last_sync_error");
  s.created_at = r["created_at"].as_int();
  s.updated_at = r["updated_at"].as_int();
  s.webhook_nonce = str(r, "webhook_nonce");
  s.endpoints = str(r, "endpoints");
  s.feed_cursor = str(r, "feed_cursor");
  s.sync_lease_id = str(r, "sync_lease_id");
  s.advisories_status = str(r, "advisories_status");
  s.advisories_error = str(r, "advisories_error");
  s.advisories_at = r["advisories_at"].as_int();
  return s;
}


fx::sql_params settable_params(const source_record& s) {
  return {json(s.type), json(s.url), nullable(s.api_url), nullable(s.credentials_type), nullable(s.credentials_enc),
          nullable(s.credentials_secret), json(patterns_json(s.include)), json(patterns_json(s.exclude)),
          nullable(s.webhook_secret_enc), json(s.sync_interval_s), json(s.enabled ? 1 : 0), nullable(s.webhook_nonce),
          nullable(s.endpoints), nullable(s.feed_cursor)};
}

}  // namespace

task<result<std::optional<source_record>>> find_source(std::int64_t id) {
  auto row = co_await fx::d1_first(std::string("SELECT ") + columns + " FROM sources WHERE id = ?", {json(id)});
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<source_record>{};
  co_return std::optional<source_record>{from_row(**row)};
}

fx::d1_statement packagist_sources_statement() {
  return {std::string("SELECT ") + columns + " FROM sources WHERE type = 'packagist' AND enabled = 1 ORDER BY id", {}};
}

std::vector<source_record> sources_from_rows(const json_array& rows) {
  std::vector<source_record> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(from_row(r));
  return out;
}

task<result<std::vector<source_record>>> list_sources(std::int64_t after_id, std::int64_t limit) {
  auto rows = co_await fx::d1_all(std::string("SELECT ") + columns + " FROM sources WHERE id > ? ORDER BY id LIMIT ?",
                                  {json(after_id), json(limit)});
  if (!rows) co_return std::move(rows).err();
  co_return sources_from_rows(rows->rows);
}

task<result<std::int64_t>> next_source_id() {
  auto row = co_await fx::d1_first("SELECT COALESCE(MAX(id), 0) + 1 AS id FROM sources");
  if (!row) co_return std::move(row).err();
  co_return row->has_value() ? (**row)["id"].as_int(1) : 1;
}

task<result<source_record>> insert_source(source_record s, std::int64_t now_ms) {
  fx::sql_params p = settable_params(s);
  p.push_back(json(now_ms));
  p.push_back(json(now_ms));
  p.push_back(s.id ? json(s.id) : json());
  auto row = co_await fx::d1_first(
      std::string("INSERT INTO sources (type, url, api_url, credentials_type, credentials_enc, credentials_secret, "
                  "include_patterns, exclude_patterns, webhook_secret_enc, sync_interval_s, enabled, webhook_nonce, "
                  "endpoints, feed_cursor, created_at, updated_at, id) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ") + columns,
      std::move(p));
  (void)co_await hot_cache::forget_everywhere(false, {});  // /packages.json lists packagist sources' patterns
  if (!row) {
    if (row.err().message.find("UNIQUE constraint failed") != std::string::npos)
      co_return make_error(error_code::conflict, "source id " + std::to_string(s.id) + " was taken meanwhile");
    co_return std::move(row).err();
  }
  if (!row->has_value()) co_return make_error(error_code::internal, "source insert returned no row");
  co_return from_row(**row);
}

task<result<std::optional<source_record>>> update_source(source_record s, std::int64_t now_ms) {
  fx::sql_params p = settable_params(s);
  p.push_back(json(now_ms));
  p.push_back(json(s.id));
  auto row = co_await fx::d1_first(
      std::string("UPDATE sources SET type = ?, url = ?, api_url = ?, credentials_type = ?, credentials_enc = ?, "
                  "credentials_secret = ?, include_patterns = ?, exclude_patterns = ?, webhook_secret_enc = ?, "
                  "sync_interval_s = ?, enabled = ?, webhook_nonce = ?, endpoints = ?, feed_cursor = ?, updated_at = ? "
                  "WHERE id = ? RETURNING ") + columns,
      std::move(p));
  (void)co_await hot_cache::forget_everywhere(false, {});  // enabled, type and patterns shape /packages.json
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<source_record>{};
  co_return std::optional<source_record>{from_row(**row)};
}

task<result<json_array>> skipped_refs(std::int64_t id, std::string after, std::int64_t limit) {
  auto rows = co_await fx::d1_all("SELECT ref, reason, seen_at FROM skipped_refs WHERE source_id = ? AND ref > ? ORDER BY ref LIMIT ?",
                                  {json(id), json(std::move(after)), json(limit)});
  if (!rows) co_return std::move(rows).err();
  json_array refs;
  for (const auto& r : rows->rows) {
    json o = json::object();
    o.set("ref", r["ref"]);
    o.set("reason", r["reason"]);
    o.set("seen_at", nullable_time(r["seen_at"].as_int()));
    refs.push_back(std::move(o));
  }
  co_return refs;
}

task<result<std::monostate>> record_sync(std::int64_t id, sync_outcome o, std::int64_t now_ms) {
  std::string sql;
  fx::sql_params p;
  if (o.status == "running") {
    sql = "UPDATE sources SET last_sync_status = 'running', last_sync_started_at = ?, last_sync_finished_at = NULL, "
          "last_sync_error = NULL WHERE id = ?";
    p = {json(now_ms), json(id)};
  } else {
    sql = "UPDATE sources SET last_sync_status = ?, last_sync_finished_at = ?, last_sync_packages = ?, "
          "last_sync_versions = ?, last_sync_error = ?, next_sync_at = ? + sync_interval_s * 1000 WHERE id = ?";
    p = {json(o.status), json(now_ms), json(o.packages), json(o.versions), nullable(o.error), json(now_ms), json(id)};
  }
  auto r = co_await fx::d1_run(std::move(sql), std::move(p));
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

task<result<std::optional<source_record>>> claim_sync(std::int64_t id, std::string lease_id, std::int64_t now_ms,
                                                      std::int64_t until_ms, bool only_when_due) {
  std::string sql =
      "UPDATE sources SET sync_lease_id = ?, sync_lease_until = ? "
      "WHERE id = ? AND enabled = 1 AND (sync_lease_until IS NULL OR sync_lease_until <= ?)";
  fx::sql_params p{json(std::move(lease_id)), json(until_ms), json(id), json(now_ms)};
  if (only_when_due) {
    // The same rule as the cron trigger's selection (sources/sync.cpp run_due_syncs).
    sql += " AND (sync_cursor IS NOT NULL OR next_sync_at <= ? OR type = 'packagist')";
    p.push_back(json(now_ms));
  }
  auto row = co_await fx::d1_first(sql + " RETURNING " + columns, std::move(p));
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<source_record>{};
  co_return std::optional<source_record>{from_row(**row)};
}

task<result<std::monostate>> release_sync(const source_record& s) {
  if (s.sync_lease_id.empty()) co_return std::monostate{};
  auto r = co_await fx::d1_run("UPDATE sources SET sync_lease_id = NULL, sync_lease_until = NULL WHERE id = ? AND sync_lease_id = ?",
                               {json(s.id), json(s.sync_lease_id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

task<result<std::monostate>> save_endpoints(std::int64_t id, std::string endpoints_json) {
  auto r = co_await fx::d1_run("UPDATE sources SET endpoints = ? WHERE id = ?", {json(std::move(endpoints_json)), json(id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

task<result<std::monostate>> save_feed_cursor(std::int64_t id, std::string cursor) {
  auto r = co_await fx::d1_run("UPDATE sources SET feed_cursor = ? WHERE id = ?", {json(std::move(cursor)), json(id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

task<result<std::monostate>> record_advisories(const source_record& s, std::string error, std::int64_t now_ms) {
  std::string status = error.empty() ? "ok" : "error";
  // Every composer audit asks: write only when the state changes (or hourly), not on every request.
  if (status == s.advisories_status && error == s.advisories_error && now_ms - s.advisories_at < 3600 * 1000)
    co_return std::monostate{};
  auto r = co_await fx::d1_run("UPDATE sources SET advisories_status = ?, advisories_error = ?, advisories_at = ? WHERE id = ?",
                               {json(status), nullable(error), json(now_ms), json(s.id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

json source_to_json(const source_record& s, std::string_view origin) {
  json o = json::object();
  o.set("id", json(s.id));
  o.set("type", json(s.type));
  o.set("url", json(s.url));
  o.set("api_url", nullable(s.api_url));
  json creds;
  if (!s.credentials_secret.empty()) {
    creds = json::object();
    creds.set("secret", json(s.credentials_secret));
  } else if (!s.credentials_enc.empty()) {
    creds = json::object();
    creds.set("type", json(s.credentials_type));
  }
  o.set("credentials", std::move(creds));
  json inc = json::array(), exc = json::array();
  for (const auto& p : s.include) inc.push_back(json(p));
  for (const auto& p : s.exclude) exc.push_back(json(p));
  o.set("include", std::move(inc));
  o.set("exclude", std::move(exc));
  o.set("sync_interval_s", json(s.sync_interval_s));
  o.set("enabled", json(s.enabled));
  o.set("webhook_url", json(webhook_url(s, origin)));
  json last;
  if (!s.last_sync_status.empty()) {
    last = json::object();
    last.set("status", json(s.last_sync_status));
    last.set("started_at", nullable_time(s.last_sync_started_at));
    last.set("finished_at", nullable_time(s.last_sync_finished_at));
    last.set("packages", json(s.last_sync_packages));
    last.set("versions", json(s.last_sync_versions));
    last.set("error", nullable(s.last_sync_error));
  }
  o.set("last_sync", std::move(last));
  json advisories;  // the last upstream security-advisories call (packagist and composer sources)
  if (!s.advisories_status.empty()) {
    advisories = json::object();
    advisories.set("status", json(s.advisories_status));
    advisories.set("error", nullable(s.advisories_error));
    advisories.set("at", nullable_time(s.advisories_at));
  }
  o.set("advisories", std::move(advisories));
  auto endpoints = parse_json(s.endpoints);
  o.set("endpoints", endpoints && endpoints->is_object() ? std::move(*endpoints) : json());
  o.set("created_at", nullable_time(s.created_at));
  o.set("updated_at", nullable_time(s.updated_at));
  return o;
}

std::string webhook_url(const source_record& s, std::string_view origin) {
  return std::string(origin) + "/hooks/" + std::to_string(s.id) + "/" + s.webhook_nonce;
}

bool source_allows(const source_record& s, std::string_view package) {
  if (!s.include.empty() && !auth::any_matches(package, s.include)) return false;
  return !auth::any_matches(package, s.exclude);
}

}  // namespace pb::storage
