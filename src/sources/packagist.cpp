#include "sources/packagist.h"
#include "core/text.h"

#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/http_date.h"
#include "http/url.h"
#include "auth/credentials.h"
#include "sources/p2_reader.h"
#include "sources/sync.h"
#include "sources/upstream.h"
#include "storage/packages.h"

namespace pb::sources {

namespace {

// One p2 file: 200 → its versions as rows (versions that cannot be mirrored are skipped, and why is
// kept), 304 → not_modified, 404 → nothing found. The document is read one version at a time
// (p2_reader.h) and its text freed once read.
struct p2_read {
  bool not_modified = false;
  bool found = false;
  std::vector<storage::upstream_version> rows;
  std::vector<std::string> skipped;  // at most 20
  std::string last_modified;
};

result<p2_read> read_p2(result<fx::fetch_response>& r, const std::string& name) {
  if (!r) return r.err();
  p2_read out;
  if (r->status == 304) {
    out.not_modified = true;
    return out;
  }
  if (r->status == 404) return out;
  if (r->status != 200) return make_error(error_code::upstream, r->url + ": HTTP " + std::to_string(r->status));
  bool too_many = false;
  auto read = read_p2_versions(r->text, name, [&](const p2_version& v) {
    auto row = upstream_version_row(v);
    if (!row) {
      if (out.skipped.size() < 20) out.skipped.push_back(name + " " + row.err().message);
      return true;
    }
    // The version set is written in one batch and rebuilt in memory: stop at the limit, not after it.
    too_many = out.rows.size() >= storage::max_versions_per_package;
    if (!too_many) out.rows.push_back(std::move(*row));
    return !too_many;
  });
  std::string().swap(r->text);
  if (!read) return make_error(error_code::upstream, r->url + ": invalid JSON");
  if (too_many)
    return make_error(error_code::unprocessable, name + ": the upstream lists more than " +
                                                     std::to_string(storage::max_versions_per_package) +
                                                     " versions, more than are mirrored per package");
  out.found = true;
  out.last_modified = std::string(r->header_list.get("last-modified").value_or(""));
  return out;
}

std::string later_date(const std::string& a, const std::string& b) {
  auto da = parse_http_date(a), db = parse_http_date(b);
  if (!da) return b;
  if (!db) return a;
  return *da >= *db ? a : b;
}

}  // namespace

task<result<std::vector<storage::source_record>>> packagist_sources() {
  fx::d1_statement st = storage::packagist_sources_statement();
  auto rows = co_await fx::d1_all(std::move(st.sql), std::move(st.params));
  if (!rows) co_return std::move(rows).err();
  co_return storage::sources_from_rows(rows->rows);
}

bool mirrorable_name(const settings& cfg, std::string_view name) {
  if (!auth::valid_package_name(name)) return false;
  std::string_view vendor = name.substr(0, name.find('/'));
  for (const auto& p : cfg.private_vendors)
    if (auth::name_matches(vendor, p)) return false;
  return true;
}

task<result<std::optional<storage::source_record>>> packagist_source_for(const settings& cfg, std::string name) {
  if (!mirrorable_name(cfg, name)) co_return std::optional<storage::source_record>{};
  auto sources = co_await packagist_sources();
  if (!sources) co_return std::move(sources).err();
  for (auto& s : *sources)
    if (storage::source_allows(s, name)) co_return std::optional<storage::source_record>{std::move(s)};
  co_return std::optional<storage::source_record>{};
}

task<std::string> take_feed_cursor(const upstream& u, const endpoints& e, std::int64_t now_ms) {
  auto r = co_await upstream_get(u, e.changes_url);
  if (r) {
    // packagist answers 400 {"error":..,"timestamp":N} without `since`; N is the cursor for now.
    auto doc = parse_json(r->text);
    if (doc && (*doc)["timestamp"].is_integer() && (*doc)["timestamp"].as_int() > 0)
      co_return std::to_string((*doc)["timestamp"].as_int());
  }
  // Its unit is 1/10,000 s; ten minutes early re-reads a little rather than miss a change.
  co_return std::to_string((now_ms - 10 * 60 * 1000) * 10);
}

task<result<mirror_outcome>> mirror_package(const settings& cfg, storage::source_record s, std::string name,
                                            bool refresh, std::int64_t now_ms, std::vector<std::string>* notes) {
  if (!refresh) {
    // Mirroring never takes over a name that is here already (an upload, another source).
    auto row = co_await fx::d1_first("SELECT source_id FROM packages WHERE name = ?", {json(name)});
    if (!row) co_return std::move(row).err();
    if (row->has_value() && (**row)["source_id"].as_int(-1) != s.id) co_return mirror_outcome::not_found;
  }
  auto u = co_await open_upstream(cfg, s);
  if (!u) co_return std::move(u).err();
  endpoints e = stored_endpoints(s);
  if (s.feed_cursor.empty()) {
    // Before the first package arrives: from here on the change feed reports every release.
    std::string cursor = co_await take_feed_cursor(*u, e, now_ms);
    auto saved = co_await storage::save_feed_cursor(s.id, cursor);
    if (!saved) co_return std::move(saved).err();
    s.feed_cursor = std::move(cursor);
  }
  auto p2_url = [&](const std::string& file) { return expand_package(e.metadata_url, file); };
  std::string since;
  if (refresh) {
    auto row = co_await fx::d1_first("SELECT upstream_last_modified FROM packages WHERE name = ? AND source_id = ?",
                                     {json(name), json(s.id)});
    if (!row) co_return std::move(row).err();
    if (row->has_value()) since = std::string((**row)["upstream_last_modified"].as_string());
  }
  auto [tagged_r, dev_r] =
      co_await when_all(upstream_get(*u, p2_url(name), since), upstream_get(*u, p2_url(name + "~dev"), since));
  auto tagged = read_p2(tagged_r, name);
  auto dev = read_p2(dev_r, name);
  if (!tagged) co_return std::move(tagged).err();
  if (!dev) co_return std::move(dev).err();
  if (tagged->not_modified && dev->not_modified) co_return mirror_outcome::unchanged;
  // One file changed: the version set is replaced whole, so read the other one afresh.
  if (tagged->not_modified) {
    auto response = co_await upstream_get(*u, p2_url(name));
    auto again = read_p2(response, name);
    if (!again) co_return std::move(again).err();
    tagged = std::move(again);
  }
  if (dev->not_modified) {
    auto response = co_await upstream_get(*u, p2_url(name + "~dev"));
    auto again = read_p2(response, name);
    if (!again) co_return std::move(again).err();
    dev = std::move(again);
  }
  if (!tagged->found && !dev->found) co_return mirror_outcome::not_found;

  std::vector<storage::upstream_version> rows = std::move(tagged->rows);
  rows.reserve(rows.size() + dev->rows.size());
  for (auto& row : dev->rows) rows.push_back(std::move(row));
  dev->rows = {};
  for (auto* read : {&*tagged, &*dev})
    for (auto& why : read->skipped)
      if (notes && notes->size() < 20) notes->push_back(std::move(why));
  auto replaced = co_await storage::replace_source_versions(name, s.id, "packagist", std::move(rows), now_ms);
  if (!replaced) co_return std::move(replaced).err();
  auto lm = co_await fx::d1_run("UPDATE packages SET upstream_last_modified = ? WHERE name = ? AND source_id = ?",
                                {json(later_date(tagged->last_modified, dev->last_modified)), json(name), json(s.id)});
  if (!lm) co_return std::move(lm).err();
  auto rebuilt = co_await storage::rebuild_documents(name, now_ms);
  if (!rebuilt) co_return std::move(rebuilt).err();
  co_return mirror_outcome::updated;
}

task<result<slice_report>> packagist_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms) {
  slice_report report;
  auto u = co_await open_upstream(cfg, s);
  if (!u) co_return std::move(u).err();
  std::vector<std::string> errors;
  auto fail = [&](std::string msg) -> task<result<slice_report>> {
    (void)co_await finish_sync(s, {"error", 0, 0, msg}, now_ms);
    report.status = "error";
    report.errors.push_back(std::move(msg));
    co_return report;
  };

  // Names still to refresh from an earlier slice, else the change feed's news.
  std::vector<std::string> pending;
  if (auto c = parse_json(s.sync_cursor); c)
    for (const auto& n : (*c)["pending"].as_array()) pending.emplace_back(n.as_string());
  if (pending.empty()) {
    // Where the feed and the rest live may change: read what the repository advertises now.
    auto found = co_await discover_endpoints(*u, s);
    if (found) {
      std::string text = endpoints_json(*found);
      if (text != s.endpoints) {
        auto saved = co_await storage::save_endpoints(s.id, text);
        if (!saved) co_return std::move(saved).err();
        s.endpoints = std::move(text);
      }
    } else {
      errors.push_back("packages.json: " + found.err().message + " (using the endpoints known before)");
    }
    endpoints e = stored_endpoints(s);
    if (s.feed_cursor.empty()) {  // a source from before cursors were taken at creation
      auto saved = co_await storage::save_feed_cursor(s.id, co_await take_feed_cursor(*u, e, now_ms));
      if (!saved) co_return std::move(saved).err();
      co_return co_await fail("the change feed's cursor was not taken yet; it is now, the next run reads the feed");
    }
    auto r = co_await upstream_get(*u, e.changes_url + (e.changes_url.find('?') == std::string::npos ? "?" : "&") +
                                           "since=" + s.feed_cursor);
    if (!r) co_return co_await fail("change feed: " + r.err().message);
    auto doc = parse_json(r->text);
    if (r->status != 200 || !doc || !(*doc)["timestamp"].is_number())
      co_return co_await fail("change feed " + e.changes_url + ": HTTP " + std::to_string(r->status) +
                              " without a change-feed timestamp");
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
    auto saved = co_await storage::save_feed_cursor(s.id, std::to_string((*doc)["timestamp"].as_int()));
    if (!saved) co_return std::move(saved).err();
  }

  std::size_t done = 0;
  for (; done < pending.size() && static_cast<std::int64_t>(done) < cfg.sync_packages_per_slice && room_for_package(); ++done) {
    auto m = co_await mirror_package(cfg, s, pending[done], true, now_ms, &errors);
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
    auto saved = co_await save_sync_cursor(s, cursor.dump(), now_ms);
    if (!saved) co_return std::move(saved).err();
    report.status = "running";
    co_return report;
  }
  std::string joined;
  for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
  report.status = errors.empty() ? "ok" : "error";
  auto finished = co_await finish_sync(s, {report.status, report.packages, 0, joined}, now_ms);
  if (!finished) co_return std::move(finished).err();
  co_return report;
}

task<result<json>> upstream_advisories(const settings& cfg, storage::source_record s, std::vector<std::string> names) {
  endpoints e = stored_endpoints(s);
  if (e.advisories_url.empty()) co_return json::object();  // the repository has no advisories API
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
  req.url = e.advisories_url;
  req.method = "POST";
  req.body = body;
  req.timeout_ms = 15000;
  req.header_list.set("content-type", "application/x-www-form-urlencoded");
  req.header_list.set("accept", "application/json");
  auto r = co_await upstream_fetch(*u, std::move(req));
  if (!r) co_return make_error(error_code::upstream, "advisories: " + r.err().message);
  if (r->status != 200)
    co_return make_error(error_code::upstream, "advisories " + e.advisories_url + ": HTTP " + std::to_string(r->status));
  auto doc = parse_json(r->text);
  if (!doc || !(*doc)["advisories"].is_object())
    co_return make_error(error_code::upstream, "advisories " + e.advisories_url + ": not an advisories document");
  co_return json((*doc)["advisories"]);
}

}  // namespace pb::sources
