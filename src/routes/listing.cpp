#include "routes/listing.h"

#include "auth/credentials.h"
#include "auth/licences.h"
#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/text.h"
#include "http/url.h"
#include "routes/gate.h"
#include "routes/json_io.h"
#include "storage/packages.h"

namespace pb::routes {

namespace {

constexpr const char* listing_cache_control = "private, no-cache";
constexpr std::int64_t max_search_rows = 10'000;

http::response store_error(const error& e) {
  return http::error_response(make_error(error_code::unavailable, "storage unavailable: " + e.message));
}

// Each package with its latest version's description and type and its install count (bounded).
task<result<fx::d1_result>> search_rows() {
  co_return co_await fx::d1_all(
      "SELECT p.name, "
      "(SELECT json_extract(v.composer_json, '$.description') FROM versions v WHERE v.package_id = p.id "
      "ORDER BY v.id DESC LIMIT 1) AS description, "
      "(SELECT json_extract(v.composer_json, '$.type') FROM versions v WHERE v.package_id = p.id "
      "ORDER BY v.id DESC LIMIT 1) AS type, "
      "(SELECT COALESCE(SUM(d.count), 0) FROM downloads d WHERE d.package_id = p.id) AS downloads "
      "FROM packages p ORDER BY p.name LIMIT ?",
      {json(max_search_rows)});
}

bool contains_folded(std::string_view haystack, std::string_view lower_needle) {
  return ascii_lower(haystack).find(lower_needle) != std::string::npos;
}

}  // namespace

task<result<std::vector<std::string>>> visible_names(const storage::token_record& t, std::vector<std::string> names) {
  std::vector<std::string> in_scope;
  json restricted = json::array();
  for (auto& n : names) {
    if (!auth::may_see(t, n)) continue;
    if (auth::restricted(t.licences, n)) restricted.push_back(json(n));
    in_scope.push_back(std::move(n));
  }
  if (restricted.size() == 0) co_return in_scope;
  auto rows = co_await fx::d1_all(
      "SELECT p.name, v.version_normalized, v.release_time FROM versions v JOIN packages p ON p.id = v.package_id "
      "WHERE p.name IN (SELECT value FROM json_each(?))",
      {json(restricted.dump())});
  if (!rows) co_return std::move(rows).err();
  std::vector<std::string> licensed;
  for (const auto& r : rows->rows) {
    std::string_view name = r["name"].as_string();
    if (auth::version_visible(t.licences, name, r["version_normalized"].as_string(), r["release_time"].as_int()))
      licensed.emplace_back(name);
  }
  std::vector<std::string> out;
  for (auto& n : in_scope) {
    bool keep = !auth::restricted(t.licences, n);
    for (const auto& l : licensed) keep = keep || l == n;
    if (keep) out.push_back(std::move(n));
  }
  co_return out;
}

task<http::response> package_list(request_context& ctx) {
  if (auto denied = auth::missing_credentials(ctx.req.header_list)) co_return *denied;
  std::string filter = ascii_lower(ctx.req.target.query_param("filter").value_or(""));
  std::string vendor = ascii_lower(ctx.req.target.query_param("vendor").value_or(""));
  if (filter.size() > 200 || vendor.size() > 100)
    co_return http::error_response(error_code::bad_request, "\"filter\" and \"vendor\" are limited to 200 and 100 characters");
  auto [auth, names] = co_await when_all(authenticate(ctx), storage::list_package_names());
  if (!auth.ok()) co_return auth.denial;
  if (!names) co_return store_error(names.err());
  std::vector<std::string> wanted;
  for (auto& n : *names) {
    if (!filter.empty() && !auth::name_matches(n, filter)) continue;
    if (!vendor.empty() && n.rfind(vendor + "/", 0) != 0) continue;
    wanted.push_back(std::move(n));
  }
  auto visible = co_await visible_names(*auth.token, std::move(wanted));
  if (!visible) co_return store_error(visible.err());
  json_writer w;
  w.begin_object().key("packageNames").begin_array();
  for (const auto& n : *visible) w.value(n);
  w.end_array().end_object();
  http::response r = http::response::json_body(200, std::move(w).str());
  r.header_list.set("cache-control", listing_cache_control);
  co_return r;
}

task<http::response> package_search(request_context& ctx) {
  if (auto denied = auth::missing_credentials(ctx.req.header_list)) co_return *denied;
  std::string q = ascii_lower(ctx.req.target.query_param("q").value_or(""));
  std::string type = ctx.req.target.query_param("type").value_or("");
  if (q.size() > 200 || type.size() > 50)
    co_return http::error_response(error_code::bad_request, "\"q\" and \"type\" are limited to 200 and 50 characters");
  std::int64_t page = 1, per_page = 15;
  for (auto [key, value, max] : {std::tuple{"page", &page, 1000}, {"per_page", &per_page, 100}}) {
    auto text = ctx.req.target.query_param(key);
    if (!text) continue;
    std::int64_t n = 0;
    bool ok = !text->empty() && text->size() <= 4;
    for (char c : *text) {
      ok = ok && c >= '0' && c <= '9';
      n = n * 10 + (c - '0');
    }
    if (!ok || n < 1 || n > max)
      co_return http::error_response(error_code::bad_request, "\"" + std::string(key) + "\" must be from 1 to " + std::to_string(max));
    *value = n;
  }
  auto [auth, rows] = co_await when_all(authenticate(ctx), search_rows());
  if (!auth.ok()) co_return auth.denial;
  if (!rows) co_return store_error(rows.err());
  // Every word must appear in the name or the description (case-insensitive).
  std::vector<std::string> words;
  for (std::size_t at = 0; at < q.size();) {
    std::size_t end = q.find(' ', at);
    if (end == std::string::npos) end = q.size();
    if (end > at) words.push_back(q.substr(at, end - at));
    at = end + 1;
  }
  std::vector<std::string> names;
  std::vector<const json*> matched;
  for (const auto& r : rows->rows) {
    if (!type.empty() && r["type"].as_string("library") != type) continue;
    bool all = true;
    for (const auto& wd : words)
      all = all && (contains_folded(r["name"].as_string(), wd) || contains_folded(r["description"].as_string(), wd));
    if (!all) continue;
    names.emplace_back(r["name"].as_string());
    matched.push_back(&r);
  }
  auto visible = co_await visible_names(*auth.token, names);
  if (!visible) co_return store_error(visible.err());
  json results = json::array();
  std::int64_t total = static_cast<std::int64_t>(visible->size());
  std::int64_t first = (page - 1) * per_page;
  std::size_t vi = 0;
  std::int64_t index = 0;
  for (const json* r : matched) {
    if (vi >= visible->size() || (*visible)[vi] != r->find("name")->as_string()) continue;
    ++vi;
    if (index++ < first || static_cast<std::int64_t>(results.size()) >= per_page) continue;
    json o = json::object();
    o.set("name", (*r)["name"]);
    o.set("description", json((*r)["description"].as_string()));
    o.set("repository", json(ctx.req.target.origin()));
    o.set("downloads", json((*r)["downloads"].as_int()));
    o.set("favers", json(0));
    results.push_back(std::move(o));
  }
  json out = json::object();
  out.set("results", std::move(results));
  out.set("total", json(total));
  if (first + per_page < total) {
    std::string next = ctx.req.target.origin() + "/search.json?q=" + http::percent_encode(q) + "&page=" + std::to_string(page + 1);
    if (!type.empty()) next += "&type=" + http::percent_encode(type);
    out.set("next", json(next));
  }
  co_return json_response(200, out, listing_cache_control);
}

}  // namespace pb::routes
