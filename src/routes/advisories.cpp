#include "routes/advisories.h"
#include "core/text.h"

#include <map>
#include <set>

#include "auth/authenticate.h"
#include "auth/credentials.h"
#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/http_date.h"
#include "http/url.h"
#include "sources/packagist.h"
#include "routes/json_io.h"

namespace pb::routes {

namespace {

constexpr std::int64_t advisory_cache_ttl_s = 3600;
constexpr std::size_t max_names = 1000;

// packages[]=a&packages[]=b, or PHP http_build_query's packages[0]=a&packages[1]=b (what composer
// sends), also PURLs pkg:composer/vendor/name; from a query or a form body.
bool packages_key(std::string_view k) {
  if (k == "packages") return true;
  if (k.substr(0, 9) != "packages[" || k.back() != ']') return false;
  for (char c : k.substr(9, k.size() - 10))
    if (c < '0' || c > '9') return false;
  return true;
}

std::vector<std::string> requested_names(std::string_view encoded) {
  http::url u;
  u.query = std::string(encoded);
  std::vector<std::string> out;
  for (auto& [k, v] : u.query_params()) {
    if (!packages_key(k)) continue;
    std::string name = ascii_lower(v);
    if (name.rfind("pkg:composer/", 0) == 0) name = name.substr(13);
    if (auth::valid_package_name(name) && out.size() < max_names) out.push_back(name);
  }
  return out;
}

json advisory_json(const json& row) {
  json a = json::object();
  a.set("advisoryId", row["advisory_id"]);
  a.set("packageName", row["package_name"]);
  a.set("remoteId", row["advisory_id"]);
  a.set("title", row["title"]);
  a.set("link", row["link"]);
  a.set("cve", row["cve"]);
  a.set("affectedVersions", row["affected_versions"]);
  a.set("source", json("package-broker"));
  a.set("reportedAt", json(format_iso8601(row["reported_at"].as_int())));
  a.set("composerRepository", json("package-broker"));
  a.set("severity", row["severity"]);
  json src = json::object();
  src.set("name", json("package-broker"));
  src.set("remoteId", row["advisory_id"]);
  a.set("sources", json(json_array{src}));
  return a;
}

task<result<json>> cached_upstream(const settings& cfg, storage::source_record s, std::vector<std::string> names) {
  std::vector<task<result<std::optional<fx::kv_value>>>> reads;
  for (const auto& n : names) reads.push_back([](std::string key) -> task<result<std::optional<fx::kv_value>>> {
    co_return co_await fx::kv_get(std::move(key));
  }("advisories:" + std::to_string(s.id) + ":" + n));
  auto cached = co_await when_all(std::move(reads));
  json out = json::object();
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (cached[i] && cached[i]->has_value()) {
      if (auto j = parse_json((*cached[i])->value); j) {
        out.set(names[i], std::move(*j));
        continue;
      }
    }
    missing.push_back(names[i]);
  }
  if (missing.empty()) co_return out;
  auto fetched = co_await sources::upstream_advisories(cfg, s, missing);
  if (!fetched) co_return std::move(fetched).err();
  std::vector<task<result<std::monostate>>> writes;
  for (const auto& n : missing) {
    const json* list = fetched->find(n);
    json value = list && list->is_array() ? *list : json::array();
    writes.push_back([](std::string key, std::string v) -> task<result<std::monostate>> {
      co_return co_await fx::kv_put(std::move(key), std::move(v), advisory_cache_ttl_s);
    }("advisories:" + std::to_string(s.id) + ":" + n, value.dump()));
    out.set(n, std::move(value));
  }
  (void)co_await when_all(std::move(writes));
  co_return out;
}

}  // namespace

task<http::response> security_advisories(request_context& ctx) {
  auto auth = co_await auth::authenticate_client(ctx.req.header_list, ctx.now_ms);
  if (!auth.ok()) co_return auth.denial;
  std::vector<std::string> names = requested_names(ctx.req.target.query);
  if (ctx.req.method == "POST" && ctx.req.body != http::no_body) {
    auto body = co_await fx::body_text(ctx.req.body, 1024 * 1024);
    if (!body) co_return http::error_response(body.err());
    for (auto& n : requested_names(*body))
      if (names.size() < max_names) names.push_back(std::move(n));
  }
  std::vector<std::string> visible;
  for (auto& n : names)
    if (auth::may_see(*auth.token, n)) visible.push_back(std::move(n));
  if (visible.empty() && ctx.req.target.query_param("updatedSince"))
    co_return http::error_response(error_code::bad_request, "updatedSince is not supported; pass packages[]");

  json list = json::array();
  for (const auto& n : visible) list.push_back(json(n));
  auto rows = co_await fx::d1_batch({
      {"SELECT * FROM advisories WHERE package_name IN (SELECT value FROM json_each(?)) ORDER BY reported_at", {json(list.dump())}},
      {"SELECT name, source_id FROM packages WHERE name IN (SELECT value FROM json_each(?))", {json(list.dump())}},
  });
  if (!rows) co_return http::error_response(make_error(error_code::unavailable, rows.err().message));

  json advisories = json::object();
  std::map<std::int64_t, std::vector<std::string>> by_source;
  std::set<std::string> known;
  for (const auto& p : (*rows)[1].rows) {
    std::string name(p["name"].as_string());
    known.insert(name);
    advisories.set(name, json::array());  // a known package with no advisories: [] (Composer then stops asking)
    if (p["source_id"].as_int()) by_source[p["source_id"].as_int()].push_back(name);
  }
  for (const auto& a : (*rows)[0].rows) {
    std::string name(a["package_name"].as_string());
    json* slot = advisories.find(name);
    if (!slot) slot = &advisories.set(name, json::array());
    slot->push_back(advisory_json(a));
  }
  // Names no package has yet may still be mirrored later; ask the packagist source about them too.
  auto mirrors = co_await sources::packagist_sources();
  if (mirrors) {
    for (const auto& n : visible) {
      if (known.count(n)) continue;
      for (const auto& m : *mirrors)
        if (storage::source_allows(m, n)) {
          by_source[m.id].push_back(n);
          break;
        }
    }
    for (auto& [source_id, group] : by_source) {
      const storage::source_record* src = nullptr;
      for (const auto& m : *mirrors)
        if (m.id == source_id) src = &m;
      if (!src) continue;  // not a packagist source: only locally recorded advisories
      auto upstream = co_await cached_upstream(ctx.settings(), *src, group);
      if (!upstream) continue;  // the source is down: serve what we know, composer still audits the rest
      for (const auto& [name, entries] : upstream->as_object()) {
        json* slot = advisories.find(name);
        if (!slot) slot = &advisories.set(name, json::array());
        for (const auto& e : entries.as_array()) slot->push_back(e);
      }
    }
  }
  json out = json::object();
  out.set("advisories", std::move(advisories));
  co_return json_response(200, out, "private, no-cache");
}

task<http::response> admin_create_advisory(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto body = co_await read_json_object(ctx);
  if (!body) co_return http::error_response(body.err());
  std::string package = ascii_lower(std::string((*body)["package"].as_string()));
  if (!auth::valid_package_name(package))
    co_return http::error_response(error_code::bad_request, "\"package\" must be a package name (vendor/name)");
  if (!(*body)["title"].is_string() || !(*body)["affected_versions"].is_string())
    co_return http::error_response(error_code::bad_request, "\"title\" and \"affected_versions\" (a constraint) are required");
  std::int64_t reported = ctx.now_ms;
  if (const json* r = body->find("reported_at"); r && !r->is_null()) {
    auto ms = parse_iso8601(r->as_string());
    if (!ms) co_return http::error_response(error_code::bad_request, "\"reported_at\" must be an ISO 8601 time");
    reported = *ms;
  }
  std::string id(body->find("advisory_id") ? (*body)["advisory_id"].as_string() : std::string_view());
  if (id.empty()) {
    auto random = co_await fx::crypto_random_hex(8);
    if (!random) co_return http::error_response(make_error(error_code::unavailable, random.err().message));
    id = "PBSA-" + *random;
  }
  auto opt = [&](const char* k) { const json* v = body->find(k); return v && v->is_string() ? *v : json(); };
  auto row = co_await fx::d1_first(
      "INSERT INTO advisories (package_name, advisory_id, title, affected_versions, cve, link, severity, reported_at, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
      {json(package), json(id), (*body)["title"], (*body)["affected_versions"], opt("cve"), opt("link"), opt("severity"),
       json(reported), json(ctx.now_ms)});
  if (!row) {
    if (row.err().message.find("UNIQUE") != std::string::npos)
      co_return http::error_response(error_code::conflict, "advisory " + id + " exists");
    co_return http::error_response(make_error(error_code::unavailable, row.err().message));
  }
  json out = advisory_json(**row);
  out.set("id", (**row)["id"]);
  co_return json_response(201, out, "no-store");
}

task<http::response> admin_list_advisories(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto rows = co_await fx::d1_all("SELECT * FROM advisories ORDER BY id");
  if (!rows) co_return http::error_response(make_error(error_code::unavailable, rows.err().message));
  json list = json::array();
  for (const auto& r : rows->rows) {
    json a = advisory_json(r);
    a.set("id", r["id"]);
    list.push_back(std::move(a));
  }
  json out = json::object();
  out.set("advisories", std::move(list));
  co_return json_response(200, out, "no-store");
}

task<http::response> admin_delete_advisory(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto r = co_await fx::d1_run("DELETE FROM advisories WHERE id = ? OR advisory_id = ?", {json(ctx.params[0]), json(ctx.params[0])});
  if (!r) co_return http::error_response(make_error(error_code::unavailable, r.err().message));
  if (r->changes == 0) co_return http::error_response(error_code::not_found, "no advisory " + ctx.params[0]);
  json out = json::object();
  out.set("deleted", json(true));
  co_return json_response(200, out, "no-store");
}

}  // namespace pb::routes
