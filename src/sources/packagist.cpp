#include "sources/packagist.h"
#include "core/text.h"

#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "composer/minifier.h"
#include "core/http_date.h"
#include "http/url.h"
#include "sources/upstream.h"
#include "storage/packages.h"

namespace pb::sources {

namespace {

std::string base_of(const storage::source_record& s) {
  std::string b = s.url;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b;
}

std::string p2_url(const storage::source_record& s, const std::string& file) { return base_of(s) + "/p2/" + file + ".json"; }

// One p2 file: 200 → its versions (expanded), 304 → nullopt, 404 → empty.
struct p2_read {
  bool not_modified = false;
  bool found = false;
  std::vector<json> versions;
  std::string last_modified;
};

result<p2_read> read_p2(const result<fx::fetch_response>& r, const std::string& name) {
  if (!r) return r.err();
  p2_read out;
  if (r->status == 304) {
    out.not_modified = true;
    return out;
  }
  if (r->status == 404) return out;
  if (r->status != 200) return make_error(error_code::upstream, r->url + ": HTTP " + std::to_string(r->status));
  auto doc = parse_json(r->text);
  if (!doc || !doc->is_object()) return make_error(error_code::upstream, r->url + ": invalid JSON");
  out.found = true;
  out.last_modified = std::string(r->header_list.get("last-modified").value_or(""));
  for (const auto& [key, list] : (*doc)["packages"].as_object()) {
    if (ascii_lower(key) != name || !list.is_array()) continue;
    // Never edit minified entries in place: expand first, the builder re-minifies.
    json expanded = (*doc)["minified"].as_string() == "composer/2.0" ? composer::expand(list.as_array()) : list;
    for (auto& v : expanded.as_array()) out.versions.push_back(std::move(v));
  }
  return out;
}

std::string later_date(const std::string& a, const std::string& b) {
  auto da = parse_http_date(a), db = parse_http_date(b);
  if (!da) return b;
  if (!db) return a;
  return *da >= *db ? a : b;
}

task<result<std::monostate>> set_meta(std::string key, std::string value) {
  auto r = co_await fx::d1_run("INSERT INTO pb_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                               {json(std::move(key)), json(std::move(value))});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

}  // namespace

task<result<std::vector<storage::source_record>>> packagist_sources() {
  auto all = co_await storage::list_sources();
  if (!all) co_return std::move(all).err();
  std::vector<storage::source_record> out;
  for (auto& s : *all)
    if (s.type == "packagist" && s.enabled) out.push_back(std::move(s));
  co_return out;
}

task<result<std::optional<storage::source_record>>> packagist_source_for(std::string name) {
  auto sources = co_await packagist_sources();
  if (!sources) co_return std::move(sources).err();
  for (auto& s : *sources)
    if (storage::source_allows(s, name)) co_return std::optional<storage::source_record>{std::move(s)};
  co_return std::optional<storage::source_record>{};
}

task<result<mirror_outcome>> mirror_package(const settings& cfg, storage::source_record s, std::string name,
                                            bool refresh, std::int64_t now_ms) {
  auto u = co_await open_upstream(cfg, s);
  if (!u) co_return std::move(u).err();
  std::string since;
  if (refresh) {
    auto row = co_await fx::d1_first("SELECT upstream_last_modified FROM packages WHERE name = ? AND source_id = ?",
                                     {json(name), json(s.id)});
    if (!row) co_return std::move(row).err();
    if (row->has_value()) since = std::string((**row)["upstream_last_modified"].as_string());
  }
  auto [tagged_r, dev_r] =
      co_await when_all(upstream_get(*u, p2_url(s, name), since), upstream_get(*u, p2_url(s, name + "~dev"), since));
  auto tagged = read_p2(tagged_r, name);
  auto dev = read_p2(dev_r, name);
  if (!tagged) co_return std::move(tagged).err();
  if (!dev) co_return std::move(dev).err();
  if (tagged->not_modified && dev->not_modified) co_return mirror_outcome::unchanged;
  // One file changed: the version set is replaced whole, so read the other one afresh.
  if (tagged->not_modified) {
    auto again = read_p2(co_await upstream_get(*u, p2_url(s, name)), name);
    if (!again) co_return std::move(again).err();
    tagged = std::move(again);
  }
  if (dev->not_modified) {
    auto again = read_p2(co_await upstream_get(*u, p2_url(s, name + "~dev")), name);
    if (!again) co_return std::move(again).err();
    dev = std::move(again);
  }
  if (!tagged->found && !dev->found) co_return mirror_outcome::not_found;

  std::vector<storage::upstream_version> rows;
  for (auto* list : {&tagged->versions, &dev->versions}) {
    for (const auto& v : *list) {
      auto row = upstream_version_row(v);
      if (row) rows.push_back(std::move(*row));
    }
  }
  auto replaced = co_await storage::replace_source_versions(name, s.id, "packagist", std::move(rows), now_ms);
  if (!replaced) co_return std::move(replaced).err();
  auto lm = co_await fx::d1_run("UPDATE packages SET upstream_last_modified = ? WHERE name = ?",
                                {json(later_date(tagged->last_modified, dev->last_modified)), json(name)});
  if (!lm) co_return std::move(lm).err();
  auto rebuilt = co_await storage::rebuild_documents(name, now_ms);
  if (!rebuilt) co_return std::move(rebuilt).err();
  co_return mirror_outcome::updated;
}

task<result<slice_report>> packagist_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms) {
  slice_report report;
  auto u = co_await open_upstream(cfg, s);
  if (!u) co_return std::move(u).err();
  std::string since_key = "packagist_since:" + std::to_string(s.id);
  auto since_row = co_await fx::d1_first("SELECT value FROM pb_meta WHERE key = ?", {json(since_key)});
  if (!since_row) co_return std::move(since_row).err();

  // Names still to refresh from an earlier slice, else the change feed's news.
  std::vector<std::string> pending;
  if (auto c = parse_json(s.sync_cursor); c)
    for (const auto& n : (*c)["pending"].as_array()) pending.emplace_back(n.as_string());
  if (pending.empty()) {
    std::string feed = base_of(s) + "/metadata/changes.json";
    std::string since = since_row->has_value() ? std::string((**since_row)["value"].as_string()) : std::string();
    auto r = co_await upstream_get(*u, since.empty() ? feed : feed + "?since=" + since);
    if (!r) {
      (void)co_await finish_sync(s.id, {"error", 0, 0, r.err().message}, now_ms);
      report.status = "error";
      report.errors.push_back(r.err().message);
      co_return report;
    }
    auto doc = parse_json(r->text);
    if (!doc || !(*doc)["timestamp"].is_number()) {
      std::string msg = feed + ": HTTP " + std::to_string(r->status) + " without a change-feed timestamp";
      (void)co_await finish_sync(s.id, {"error", 0, 0, msg}, now_ms);
      report.status = "error";
      report.errors.push_back(msg);
      co_return report;
    }
    bool resync = false;
    json names = json::array();
    for (const auto& a : (*doc)["actions"].as_array()) {
      if (a["type"].as_string() == "resync") resync = true;
      std::string name(a["package"].as_string());
      if (name.size() > 4 && name.substr(name.size() - 4) == "~dev") name.resize(name.size() - 4);
      names.push_back(json(name));
    }
    // Only packages already mirrored from this source are refreshed; others are fetched on demand.
    auto mirrored = resync ? co_await fx::d1_all("SELECT name FROM packages WHERE source_id = ?", {json(s.id)})
                           : co_await fx::d1_all("SELECT name FROM packages WHERE source_id = ? AND name IN "
                                                 "(SELECT value FROM json_each(?))",
                                                 {json(s.id), json(names.dump())});
    if (!mirrored) co_return std::move(mirrored).err();
    for (const auto& row : mirrored->rows) pending.emplace_back(row["name"].as_string());
    auto saved = co_await set_meta(since_key, std::to_string((*doc)["timestamp"].as_int()));
    if (!saved) co_return std::move(saved).err();
  }

  std::vector<std::string> errors;
  std::size_t done = 0;
  for (; done < pending.size() && static_cast<std::int64_t>(done) < cfg.sync_packages_per_slice && room_for_package(); ++done) {
    auto m = co_await mirror_package(cfg, s, pending[done], true, now_ms);
    if (!m) {
      errors.push_back(pending[done] + ": " + m.err().message);
      continue;
    }
    if (*m == mirror_outcome::updated) ++report.packages;
  }
  report.errors = errors;
  report.remaining = static_cast<std::int64_t>(pending.size() - done);
  if (report.remaining > 0) {
    json rest = json::array();
    for (std::size_t i = done; i < pending.size(); ++i) rest.push_back(json(pending[i]));
    json cursor = json::object();
    cursor.set("pending", std::move(rest));
    auto saved = co_await save_sync_cursor(s.id, cursor.dump(), now_ms);
    if (!saved) co_return std::move(saved).err();
    report.status = "running";
    co_return report;
  }
  std::string joined;
  for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
  report.status = errors.empty() ? "ok" : "error";
  auto finished = co_await finish_sync(s.id, {report.status, report.packages, 0, joined}, now_ms);
  if (!finished) co_return std::move(finished).err();
  co_return report;
}

task<result<json>> upstream_advisories(const settings& cfg, storage::source_record s, std::vector<std::string> names) {
  auto u = co_await open_upstream(cfg, s);
  if (!u) co_return std::move(u).err();
  std::string body;
  for (const auto& n : names) {
    if (!body.empty()) body += '&';
    body += "packages%5B%5D=";
    for (char c : n) {
      bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      if (plain) {
        body += c;
      } else {
        static constexpr char hex[] = "0123456789ABCDEF";
        body += '%';
        body += hex[static_cast<unsigned char>(c) >> 4];
        body += hex[static_cast<unsigned char>(c) & 15];
      }
    }
  }
  fx::fetch_request req;
  req.url = base_of(s) + "/api/security-advisories/";
  req.method = "POST";
  req.body = body;
  req.header_list.set("content-type", "application/x-www-form-urlencoded");
  req.header_list.set("accept", "application/json");
  if (!u->authorization.empty() && same_host(*u, req.url)) req.header_list.set("authorization", u->authorization);
  auto r = co_await fx::http_fetch(std::move(req));
  if (!r) co_return make_error(error_code::upstream, "advisories: " + r.err().message);
  if (r->status != 200) co_return make_error(error_code::upstream, "advisories: HTTP " + std::to_string(r->status));
  auto doc = parse_json(r->text);
  if (!doc) co_return make_error(error_code::upstream, "advisories: invalid JSON");
  co_return json((*doc)["advisories"]);
}

}  // namespace pb::sources
