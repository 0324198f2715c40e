#include "routes/advisories.h"
#include "core/text.h"

#include <algorithm>
#include <map>
#include <set>

#include "routes/authenticate.h"
#include "auth/credentials.h"
#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/http_date.h"
#include "core/sha256.h"
#include "http/url.h"
#include "sources/endpoints.h"
#include "storage/sources.h"
#include "sources/packagist.h"
#include "routes/gate.h"
#include "routes/json_io.h"
#include "routes/validate.h"

namespace pb::routes {

namespace {

// The upstream answer for a set of mirrored names is kept an hour (what packagist's own clients do).
constexpr std::int64_t advisory_cache_ttl_ms = 3600 * 1000;
// composer audit asks for every locked package at once; a few hundred is usual.
constexpr std::size_t max_names = 1000;
constexpr std::size_t max_name_length = 200;
// KV writes of this cache per UTC day, for the whole deployment (the Free plan allows 1,000 writes a
// day in all); counted in D1, so no client behaviour can exceed it. One write per request at most.
constexpr std::int64_t advisory_cache_writes_per_day = 500;

// packages[]=a&packages[]=b, or PHP http_build_query's packages[0]=a&packages[1]=b (what composer
// sends), also PURLs pkg:composer/vendor/name; from a query or a form body.
bool packages_key(std::string_view k) {
  if (k == "packages") return true;
  if (k.substr(0, 9) != "packages[" || k.back() != ']') return false;
  for (char c : k.substr(9, k.size() - 10))
    if (c < '0' || c > '9') return false;
  return true;
}

// Adds the names of an encoded query or form to out; a bad_request past the caps.
result<std::monostate> requested_names(std::string_view encoded, std::vector<std::string>& out) {
  http::url u;
  u.query = std::string(encoded);
  for (auto& [k, v] : u.query_params()) {
    if (!packages_key(k)) continue;
    if (v.size() > max_name_length)
      return make_error(error_code::bad_request, "package names are at most " + std::to_string(max_name_length) + " characters");
    if (out.size() >= max_names)
      return make_error(error_code::bad_request, "at most " + std::to_string(max_names) + " package names per request");
    std::string name = ascii_lower(v);
    if (name.rfind("pkg:composer/", 0) == 0) name = name.substr(13);
    if (auth::valid_package_name(name)) out.push_back(name);
  }
  return std::monostate{};
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

// What one source is asked: names mirrored from it (their answer is cached) and names it could still
// mirror (asked, never cached: a read token must not be able to grow the cache with made-up names).
struct upstream_ask {
  const storage::source_record* source = nullptr;
  std::vector<std::string> mirrored, possible;
};

// One more cache write today, if the day's budget allows it (an atomic conditional increment).
task<bool> take_cache_write(std::int64_t now_ms) {
  std::string day = format_day(now_ms);
  auto r = co_await fx::d1_run(
      "INSERT INTO pb_meta (key, value) VALUES ('advisory_cache_writes', ?1 || ' 1') "
      "ON CONFLICT (key) DO UPDATE SET value = CASE WHEN substr(value, 1, 10) = ?1 "
      "THEN ?1 || ' ' || (CAST(substr(value, 12) AS INTEGER) + 1) ELSE ?1 || ' 1' END "
      "WHERE substr(value, 1, 10) <> ?1 OR CAST(substr(value, 12) AS INTEGER) < ?2",
      {json(day), json(advisory_cache_writes_per_day)});
  co_return r && r->changes == 1;
}

// The source's advisories for the ask, from the cache when fresh, else upstream (recording how that
// went on the source, and caching the mirrored names' answer when allowed).
task<result<json>> ask_upstream(const settings& cfg, upstream_ask ask, std::int64_t now_ms, bool* may_write) {
  const storage::source_record& s = *ask.source;
  std::sort(ask.mirrored.begin(), ask.mirrored.end());
  std::string joined;
  for (const auto& n : ask.mirrored) joined += n + "\n";
  std::string key = "advisories:" + std::to_string(s.id) + ":" + sha256_hex(joined);
  json out = json::object();
  std::vector<std::string> names = ask.possible;
  bool cached = false;
  if (!ask.mirrored.empty()) {
    auto hit = co_await fx::kv_get(key);
    std::optional<json> doc;
    if (hit && hit->has_value())
      if (auto parsed = parse_json((*hit)->value)) doc = std::move(*parsed);
    // KV's own expiry is only a backstop: the age is checked against the stored time.
    if (doc && (*doc)["advisories"].is_object() && now_ms - (*doc)["at"].as_int() < advisory_cache_ttl_ms &&
        (*doc)["at"].as_int() <= now_ms) {
      out = (*doc)["advisories"];
      cached = true;
    } else {
      names.insert(names.end(), ask.mirrored.begin(), ask.mirrored.end());
    }
  }
  if (names.empty()) co_return out;
  auto fetched = co_await sources::upstream_advisories(cfg, s, names);
  // Failures are the source's state, shown in its admin view; composer still gets what is known.
  (void)co_await storage::record_advisories(s, fetched ? std::string() : fetched.err().message, now_ms);
  if (!fetched) co_return std::move(fetched).err();
  json mirrored_part = json::object();
  for (const auto& [name, list] : fetched->as_object()) {
    if (!list.is_array()) continue;
    bool mirrored = std::binary_search(ask.mirrored.begin(), ask.mirrored.end(), name);
    if (mirrored) mirrored_part.set(name, list);
    out.set(name, list);
  }
  if (!cached && !ask.mirrored.empty() && *may_write && co_await take_cache_write(now_ms)) {
    *may_write = false;
    json entry = json::object();
    entry.set("at", json(now_ms));
    entry.set("advisories", std::move(mirrored_part));
    (void)co_await fx::kv_put(key, entry.dump(), advisory_cache_ttl_ms / 1000);
  }
  co_return out;
}

// The recorded advisories of the names (a JSON array) and which source each known name comes from.
task<result<std::vector<fx::d1_result>>> advisory_rows(std::string names) {
  co_return co_await fx::d1_batch({
      {"SELECT * FROM advisories WHERE package_name IN (SELECT value FROM json_each(?)) ORDER BY reported_at", {json(names)}},
      {"SELECT name, source_id FROM packages WHERE name IN (SELECT value FROM json_each(?))", {json(std::move(names))}},
  });
}

}  // namespace

task<http::response> security_advisories(request_context& ctx) {
  auto auth = co_await authenticate(ctx);
  if (!auth.ok()) co_return auth.denial;
  std::vector<std::string> names;
  if (auto q = requested_names(ctx.req.target.query, names); !q) co_return http::error_response(q.err());
  if (ctx.req.method == "POST" && ctx.req.body != http::no_body) {
    auto body = co_await fx::body_text(ctx.req.body, 1024 * 1024);
    if (!body) co_return http::error_response(body.err());
    if (auto b = requested_names(*body, names); !b) co_return http::error_response(b.err());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<std::string> visible;
  for (auto& n : names)
    if (auth::may_see(*auth.token, n)) visible.push_back(std::move(n));
  if (visible.empty() && ctx.req.target.query_param("updatedSince"))
    co_return http::error_response(error_code::bad_request, "updatedSince is not supported; pass packages[]");

  json list = json::array();
  for (const auto& n : visible) list.push_back(json(n));
  // One round trip: composer waits for this answer at the end of every update (its audit).
  auto [rows, all_sources] = co_await when_all(advisory_rows(list.dump()), storage::list_sources());
  if (!rows) co_return http::error_response(make_error(error_code::unavailable, rows.err().message));
  if (!all_sources) co_return http::error_response(make_error(error_code::unavailable, all_sources.err().message));

  // Only sources that have an advisories API (packagist's, or one a Composer repository advertises).
  std::map<std::int64_t, upstream_ask> asks;
  for (const auto& src : *all_sources)
    if (src.enabled && !sources::stored_endpoints(src).advisories_url.empty()) asks[src.id].source = &src;

  json advisories = json::object();
  std::set<std::string> known;
  for (const auto& p : (*rows)[1].rows) {
    std::string name(p["name"].as_string());
    known.insert(name);
    advisories.set(name, json::array());  // a known package with no advisories: [] (Composer then stops asking)
    // A private vendor's name is never sent to packagist, even one mirrored before it was declared private.
    auto it = asks.find(p["source_id"].as_int());
    if (it != asks.end() && (it->second.source->type != "packagist" || sources::mirrorable_name(ctx.settings(), name)))
      it->second.mirrored.push_back(name);
  }
  for (const auto& a : (*rows)[0].rows) {
    std::string name(a["package_name"].as_string());
    json* slot = advisories.find(name);
    if (!slot) slot = &advisories.set(name, json::array());
    slot->push_back(advisory_json(a));
  }
  // Names no package has yet may still be mirrored later (never a private vendor's: those names must
  // not even be sent to a public service).
  for (const auto& n : visible) {
    if (known.count(n) || !sources::mirrorable_name(ctx.settings(), n)) continue;
    for (auto& [id, ask] : asks)
      if (ask.source->type == "packagist" && storage::source_allows(*ask.source, n)) {
        ask.possible.push_back(n);
        break;
      }
  }
  bool may_write = true;
  for (auto& [id, ask] : asks) {
    if (ask.mirrored.empty() && ask.possible.empty()) continue;
    auto upstream = co_await ask_upstream(ctx.settings(), std::move(ask), ctx.now_ms, &may_write);
    if (!upstream) continue;  // recorded on the source; composer still audits against the rest
    for (const auto& [name, entries] : upstream->as_object()) {
      json* slot = advisories.find(name);
      if (!slot) slot = &advisories.set(name, json::array());
      for (const auto& e : entries.as_array()) slot->push_back(e);
    }
  }
  json out = json::object();
  out.set("advisories", std::move(advisories));
  co_return json_response(200, out, "private, no-cache");
}

task<http::response> admin_create_advisory(request_context& ctx) {
  auto body = co_await read_json_object(ctx);
  if (!body) co_return http::error_response(body.err());
  if (auto ok = only_fields(*body, {"package", "title", "affected_versions", "cve", "link", "severity", "reported_at",
                                    "advisory_id"});
      !ok)
    co_return http::error_response(ok.err());
  for (auto [key, max] : {std::pair{"title", 500}, {"affected_versions", 500}, {"cve", 50}, {"link", 2000},
                          {"severity", 20}, {"advisory_id", 100}}) {
    auto v = string_field(*body, key, 1, static_cast<std::size_t>(max), true);
    if (!v) co_return http::error_response(v.err());
  }
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
  ctx.audit_target = "advisory:" + id;
  ctx.audit_after = out;
  co_return json_response(201, out, "no-store");
}

task<http::response> admin_list_advisories(request_context& ctx) {
  auto page = read_page(ctx.req.target);
  if (!page) co_return http::error_response(page.err());
  auto after = id_cursor(*page);
  if (!after) co_return http::error_response(after.err());
  auto rows = co_await fx::d1_all("SELECT * FROM advisories WHERE id > ? ORDER BY id LIMIT ?", {json(*after), json(page->limit + 1)});
  if (!rows) co_return http::error_response(make_error(error_code::unavailable, rows.err().message));
  json out = page_json(
      "advisories", rows->rows, page->limit,
      [](const json& r) {
        json a = advisory_json(r);
        a.set("id", r["id"]);
        return a;
      },
      [](const json& r) { return std::to_string(r["id"].as_int()); });
  co_return json_response(200, out, "no-store");
}

task<http::response> admin_delete_advisory(request_context& ctx) {
  auto r = co_await fx::d1_all("DELETE FROM advisories WHERE id = ? OR advisory_id = ? RETURNING *",
                               {json(ctx.params[0]), json(ctx.params[0])});
  if (!r) co_return http::error_response(make_error(error_code::unavailable, r.err().message));
  if (r->rows.empty()) co_return http::error_response(error_code::not_found, "no advisory " + ctx.params[0]);
  json out = json::object();
  out.set("deleted", json(true));
  ctx.audit_target = "advisory:" + std::string(r->rows[0]["advisory_id"].as_string());
  ctx.audit_before = advisory_json(r->rows[0]);
  co_return json_response(200, out, "no-store");
}

}  // namespace pb::routes
