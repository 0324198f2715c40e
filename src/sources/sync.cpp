#include "sources/sync.h"

#include "auth/credentials.h"
#include "bindings/effects.h"
#include "core/text.h"
#include "sources/composer_repo.h"
#include "sources/packagist.h"
#include "sources/vcs.h"
#include "sources/upstream.h"
#include "storage/packages.h"

namespace pb::sources {

bool room_for_package() { return fx::subrequests_left() >= package_subrequests + slice_closing_subrequests; }
bool room_for_slice() { return fx::subrequests_left() >= 2 + package_subrequests + slice_closing_subrequests; }

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
