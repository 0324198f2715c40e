#include "sources/sync.h"

#include "auth/credentials.h"
#include "bindings/effects.h"
#include "composer/minifier.h"
#include "composer/p2_builder.h"
#include "core/http_date.h"
#include "core/sha256.h"
#include "core/text.h"
#include "http/web_url.h"
#include "sources/composer_repo.h"
#include "sources/packagist.h"
#include "sources/vcs.h"
#include "sources/upstream.h"
#include "storage/packages.h"
#include "versions/version_parser.h"

namespace pb::sources {

namespace {

bool hex_reference(std::string_view r) {
  if (r.empty()) return false;
  for (char c : r)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

bool room_for_package() { return fx::subrequests_left() >= package_subrequests + slice_closing_subrequests; }
bool room_for_slice() { return fx::subrequests_left() >= 2 + package_subrequests + slice_closing_subrequests; }

namespace {

// The keys a row keeps in columns (or drops), not in its composer.json: the first of duplicate keys,
// as json::erase removes it.
constexpr std::string_view column_keys[] = {"version", "version_normalized", "dist", "source", "notification-url", "time", "uid"};

// What row_columns reads of a version: the string at each of these places, as json's operator[] then
// as_string reads it (the first of duplicate keys), from a tree or, for a version read as text, from the
// members' text without a tree (p2_version::strings_at, in the reader's -O2 file). Bit i of `found`:
// place i holds a string.
enum field : unsigned { f_version, f_normalized, f_time, f_dist_url, f_dist_reference, f_dist_type, f_dist_shasum, f_source_reference, f_count };
constexpr string_place column_places[f_count] = {{"version"},      {"version_normalized"}, {"time"},          {"dist", "url"},
                                                 {"dist", "reference"}, {"dist", "type"},   {"dist", "shasum"}, {"source", "reference"}};
struct row_fields {
  std::string s[f_count];
  std::uint32_t found = 0;
  bool has(field i) const { return found >> i & 1; }
};

row_fields fields_of(const json& v) {
  row_fields f;
  for (unsigned i = 0; i < f_count; ++i) {
    const auto& p = column_places[i];
    const json& j = p.inner.empty() ? v[p.member] : v[p.member][p.inner];
    if (j.is_string()) {
      f.s[i] = j.as_string();
      f.found |= 1u << i;
    }
  }
  return f;
}

row_fields fields_of(const p2_version& v) {
  row_fields f;
  f.found = v.strings_at(column_places, f.s);
  return f;
}

// Everything of the row but its composer.json.
result<storage::upstream_version> row_columns(row_fields&& f) {
  if (!f.has(f_version)) return make_error(error_code::bad_request, "a version without \"version\"");
  std::string& version = f.s[f_version];
  std::string& normalized = f.s[f_normalized];  // empty when there is none
  if (normalized.empty()) {
    auto n = versions::normalize(version);
    if (!n) return make_error(error_code::bad_request, version + ": " + n.err().message);
    normalized = std::move(*n);
  }
  // (No url string: no dist object, or one without a url.)
  const std::string& url = f.s[f_dist_url];
  if (url.empty())
    return make_error(error_code::bad_request, version + ": no dist archive (source-only versions are not mirrored)");
  // The archive is fetched from this URL later (with the source's credentials when it is the source's
  // own origin): only a valid absolute http(s) URL, without credentials in it, is kept.
  auto dist_url = http::parse_web_url(url);
  if (!dist_url) return make_error(error_code::bad_request, version + ": dist URL skipped: " + dist_url.err().message);
  if (dist_url->has_userinfo) return make_error(error_code::bad_request, version + ": dist URL skipped: it carries a user name or password");
  std::string& reference = f.s[f_dist_reference];
  if (reference.empty()) reference = std::move(f.s[f_source_reference]);
  // Composer's mirror URLs carry %reference% only when it is hex (else its md5): keep references hex.
  if (!hex_reference(reference)) reference = sha256_hex(reference + "|" + url).substr(0, 40);

  storage::upstream_version u;
  u.v.version = std::move(version);
  u.v.version_normalized = std::move(normalized);
  u.v.reference = std::move(reference);
  u.v.dist_type = f.has(f_dist_type) ? std::move(f.s[f_dist_type]) : "zip";
  u.v.dist_shasum = std::move(f.s[f_dist_shasum]);
  u.upstream_dist_url = std::move(dist_url->href);
  if (auto t = parse_iso8601(f.s[f_time]); t) u.v.release_time = *t;
  u.stability = std::string(versions::parse_stability(u.v.version_normalized));
  u.is_dev = composer::is_dev_version(u.v.version_normalized);
  return u;
}

}  // namespace

result<storage::upstream_version> upstream_version_row(const json& v) {
  auto u = row_columns(fields_of(v));
  if (!u) return u;
  // The version minus what the row keeps in columns (the first of duplicate keys, as json::erase),
  // written without copying the version.
  bool dropped[std::size(column_keys)] = {};
  json_writer w;
  w.begin_object();
  for (const auto& [key, value] : v.as_object()) {
    bool column = false;
    for (std::size_t i = 0; i < std::size(column_keys) && !column; ++i)
      if (!dropped[i] && key == column_keys[i]) column = dropped[i] = true;
    if (!column) w.key(key).value(value);
  }
  w.end_object();
  u->v.composer_json = std::move(w).str();
  return u;
}

result<storage::upstream_version> upstream_version_row(const p2_version& v) {
  if (!v.members()) return upstream_version_row(v.tree());
  // The columns read from the members' text (no tree); the composer.json from the members' own text
  // where it is json_writer's form, so most values are copied, not parsed and written again: the same
  // bytes as the tree's (the differential test and the p2_rewrite fuzz target compare them).
  auto u = row_columns(fields_of(v));
  if (!u) return u;
  u->v.composer_json = v.without(column_keys);
  return u;
}

namespace {

struct cursor {
  std::vector<std::string> names;
  std::int64_t next = 0;
  std::int64_t packages = 0, versions = 0;
  std::vector<std::string> errors;
};

cursor read_cursor(const std::string& text) {
  cursor c;
  auto j = parse_json(text);
  if (!j) return c;
  for (const auto& n : (*j)["names"].as_array()) c.names.emplace_back(n.as_string());
  c.next = (*j)["next"].as_int();
  c.packages = (*j)["packages"].as_int();
  c.versions = (*j)["versions"].as_int();
  for (const auto& e : (*j)["errors"].as_array()) c.errors.emplace_back(e.as_string());
  return c;
}

std::string write_cursor(const cursor& c) {
  json_writer w;
  w.begin_object().key("names").begin_array();
  for (const auto& n : c.names) w.value(n);
  w.end_array().field("next", c.next).field("packages", c.packages).field("versions", c.versions);
  w.key("errors").begin_array();
  for (const auto& e : c.errors) w.value(e);
  w.end_array().end_object();
  return std::move(w).str();
}

}  // namespace

namespace {

error lease_lost(std::int64_t id) {
  return make_error(error_code::conflict, "the sync of source " + std::to_string(id) +
                                              " was taken over by another invocation (this one's claim expired)");
}

}  // namespace

task<result<std::monostate>> save_sync_cursor(const storage::source_record& s, std::string text, std::int64_t now_ms) {
  auto r = co_await fx::d1_run(
      "UPDATE sources SET sync_cursor = ?, last_sync_status = 'running', "
      "last_sync_started_at = COALESCE(CASE WHEN last_sync_status = 'running' THEN last_sync_started_at END, ?), "
      "last_sync_finished_at = NULL, next_sync_at = ?, sync_lease_id = NULL, sync_lease_until = NULL "
      "WHERE id = ? AND COALESCE(sync_lease_id, '') = ?",
      {text.empty() ? json() : json(std::move(text)), json(now_ms), json(now_ms), json(s.id), json(s.sync_lease_id)});
  if (!r) co_return std::move(r).err();
  if (r->changes == 0) co_return lease_lost(s.id);
  co_return std::monostate{};
}

task<result<std::monostate>> finish_sync(const storage::source_record& s, storage::sync_outcome outcome, std::int64_t now_ms) {
  auto cleared = co_await fx::d1_run(
      "UPDATE sources SET sync_cursor = NULL, sync_lease_id = NULL, sync_lease_until = NULL "
      "WHERE id = ? AND COALESCE(sync_lease_id, '') = ?",
      {json(s.id), json(s.sync_lease_id)});
  if (!cleared) co_return std::move(cleared).err();
  if (cleared->changes == 0) co_return lease_lost(s.id);
  co_return co_await storage::record_sync(s.id, std::move(outcome), now_ms);
}

namespace {

// Syncs one package of a composer source; returns the number of versions written.
task<result<std::int64_t>> sync_composer_package(const upstream& u, const composer_root& root, storage::source_record s,
                                                 std::string name, std::int64_t now_ms, std::vector<std::string>* notes) {
  // Each version becomes its row as it is read: the versions themselves are never all held.
  std::vector<storage::upstream_version> rows;
  std::vector<std::string> skipped;
  auto found = co_await read_composer_package(u, root, name, [&](const json& v) {
    auto row = upstream_version_row(v);
    if (!row) {
      if (skipped.size() < 20) skipped.push_back(name + " " + row.err().message);
      return;
    }
    rows.push_back(std::move(*row));
  });
  if (!found) co_return std::move(found).err();
  if (!*found) co_return make_error(error_code::not_found, name + ": the repository has no such package");
  for (auto& why : skipped)
    if (notes->size() < 20) notes->push_back(std::move(why));
  std::int64_t count = static_cast<std::int64_t>(rows.size());
  auto replaced = co_await storage::replace_source_versions(name, s.id, s.type, std::move(rows), now_ms);
  if (!replaced) co_return std::move(replaced).err();
  auto rebuilt = co_await storage::rebuild_documents(name, now_ms);
  if (!rebuilt) co_return std::move(rebuilt).err();
  co_return count;
}

task<result<slice_report>> composer_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms) {
  auto u = co_await open_upstream(cfg, s);
  if (!u) co_return std::move(u).err();
  auto root = co_await read_composer_root(*u, s.url);
  cursor c = read_cursor(s.sync_cursor);
  if (!root) {
    // The upstream is down or broken: everything served so far stays as it was.
    (void)co_await finish_sync(s, {"error", c.packages, c.versions, root.err().message}, now_ms);
    slice_report r;
    r.status = "error";
    r.errors.push_back(root.err().message);
    co_return r;
  }
  if (c.names.empty() || s.sync_cursor.empty()) {
    c = cursor{};
    for (const auto& n : root->names) {
      if (!storage::source_allows(s, n)) continue;
      // The rule uploads follow: "x/y~dev" must never reach x/y's dev document.
      if (!auth::valid_package_name(n)) {
        if (c.errors.size() < 20) c.errors.push_back("\"" + n + "\" skipped: not a valid package name");
        continue;
      }
      c.names.push_back(n);
    }
    std::string advertised = endpoints_json(root->advertised);
    if (advertised != s.endpoints) {
      auto saved = co_await storage::save_endpoints(s.id, std::move(advertised));
      if (!saved) co_return std::move(saved).err();
    }
  }
  slice_report report;
  std::int64_t end =
      std::min<std::int64_t>(c.next + cfg.sync_packages_per_slice, static_cast<std::int64_t>(c.names.size()));
  for (; c.next < end && room_for_package(); ++c.next) {
    const std::string& name = c.names[static_cast<std::size_t>(c.next)];
    auto written = co_await sync_composer_package(*u, *root, s, name, now_ms, &c.errors);
    if (!written) {
      if (c.errors.size() < 20) c.errors.push_back(written.err().message);
      continue;
    }
    ++report.packages;
    report.versions += *written;
  }
  c.packages += report.packages;
  c.versions += report.versions;
  report.remaining = static_cast<std::int64_t>(c.names.size()) - c.next;
  report.errors = c.errors;
  if (report.remaining > 0) {
    report.status = "running";
    auto saved = co_await save_sync_cursor(s, write_cursor(c), now_ms);
    if (!saved) co_return std::move(saved).err();
    co_return report;
  }
  std::string joined;
  for (const auto& e : c.errors) joined += (joined.empty() ? "" : "; ") + e;
  report.status = c.errors.empty() ? "ok" : "error";
  auto done = co_await finish_sync(s, {report.status, c.packages, c.versions, joined}, now_ms);
  if (!done) co_return std::move(done).err();
  co_return report;
}

}  // namespace

task<result<slice_report>> run_sync_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms) {
  // A disabled source talks to nobody: no sync from the admin API, a webhook or the cron trigger.
  if (!s.enabled) co_return make_error(error_code::conflict, "source " + std::to_string(s.id) + " is disabled");
  if (s.type == "composer") co_return co_await composer_slice(cfg, std::move(s), now_ms);
  if (s.type == "github" || s.type == "gitlab" || s.type == "bitbucket") co_return co_await vcs_slice(cfg, std::move(s), now_ms);
  if (s.type == "packagist") co_return co_await packagist_slice(cfg, std::move(s), now_ms);
  co_return make_error(error_code::unprocessable, "unknown source type " + s.type);
}

json slice_to_json(const slice_report& r) {
  json o = json::object();
  o.set("status", json(r.status));
  o.set("packages", json(r.packages));
  o.set("versions", json(r.versions));
  o.set("remaining", json(r.remaining));
  json errs = json::array();
  for (const auto& e : r.errors) errs.push_back(json(e));
  o.set("errors", std::move(errs));
  return o;
}

}  // namespace pb::sources
