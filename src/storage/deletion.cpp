#include "storage/deletion.h"

#include <algorithm>

#include "bindings/effects.h"
#include "storage/hot_cache.h"
#include "storage/packages.h"
#include "versions/version_parser.h"

namespace pb::storage {

namespace {

// R2's delete takes at most 1000 keys per call.
constexpr std::size_t r2_delete_batch = 1000;

void collect(const fx::d1_result& rows, std::string_view column, std::vector<std::string>& out) {
  for (const auto& r : rows.rows)
    if (r[column].is_string() && !r[column].as_string().empty()) out.emplace_back(r[column].as_string());
}

task<std::monostate> remove_objects(deletion& d, std::vector<std::string> keys) {
  for (std::size_t at = 0; at < keys.size(); at += r2_delete_batch) {
    std::vector<std::string> chunk(keys.begin() + static_cast<std::ptrdiff_t>(at),
                                   keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), at + r2_delete_batch)));
    auto r = co_await fx::r2_delete(chunk);
    if (!r) r = co_await fx::r2_delete(chunk);  // one retry
    for (auto& k : chunk) (r ? d.objects : d.leftover).push_back(std::move(k));
  }
  co_return std::monostate{};
}

// Drops the packages' documents from the hot cache here and, on a host that broadcasts invalidations,
// in its other instances too, so a deleted package stops being served everywhere at once.
task<std::monostate> forget_documents(std::vector<std::string> packages) {
  std::vector<std::string> keys;
  for (const auto& package : packages)
    for (bool dev : {false, true}) keys.push_back(document_key(package, dev));
  co_return co_await hot_cache::forget_everywhere(false, std::move(keys));
}

}  // namespace

task<result<std::optional<deletion>>> delete_package(std::string package, std::int64_t now_ms) {
  auto detail = co_await package_detail(package);
  if (!detail) co_return std::move(detail).err();
  if (!detail->has_value()) co_return std::optional<deletion>{};
  auto keys = co_await fx::d1_batch({
      {"SELECT v.dist_key FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ?", {json(package)}},
      {"SELECT d.blob_key FROM metadata_documents d JOIN packages p ON p.id = d.package_id WHERE p.name = ?", {json(package)}},
  });
  if (!keys) co_return std::move(keys).err();
  // Versions, documents and download counts go with the package row (ON DELETE CASCADE).
  auto gone = co_await fx::d1_run("DELETE FROM packages WHERE name = ?", {json(package)});
  (void)co_await forget_documents({package});
  if (!gone) co_return std::move(gone).err();
  deletion d;
  d.removed = std::move(**detail);
  std::vector<std::string> objects;
  collect((*keys)[0], "dist_key", objects);
  collect((*keys)[1], "blob_key", objects);
  (void)co_await remove_objects(d, std::move(objects));
  (void)now_ms;
  co_return std::optional<deletion>{std::move(d)};
}

task<result<std::optional<deletion>>> delete_version(std::string package, std::string version, std::int64_t now_ms) {
  auto normalized = versions::normalize(version);
  std::string alt = normalized ? *normalized : version;
  auto found = co_await fx::d1_batch({
      {"SELECT v.id, v.version, v.version_normalized, v.reference, v.dist_key, v.dist_shasum, v.dist_sha256, v.dist_size, "
       "v.release_time, v.source FROM versions v JOIN packages p ON p.id = v.package_id "
       "WHERE p.name = ? AND (v.version_normalized = ? OR v.version_normalized = ? OR v.version = ?) "
       "ORDER BY (v.version = ?) DESC LIMIT 1",
       {json(package), json(version), json(alt), json(version), json(version)}},
      {"SELECT COUNT(*) AS n FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ?", {json(package)}},
      {"SELECT d.blob_key FROM metadata_documents d JOIN packages p ON p.id = d.package_id WHERE p.name = ?", {json(package)}},
  });
  if (!found) co_return std::move(found).err();
  if ((*found)[0].rows.empty()) co_return std::optional<deletion>{};
  const json& row = (*found)[0].rows[0];
  deletion d;
  d.removed.set("package", json(package));
  for (const char* k : {"version", "version_normalized", "reference", "dist_shasum", "dist_sha256", "dist_size", "source"})
    d.removed.set(k, row[k]);
  if ((*found)[1].rows[0]["n"].as_int() <= 1) {
    // The last version: the package goes too, so packages.json stops listing it.
    auto whole = co_await delete_package(package, now_ms);
    if (!whole) co_return std::move(whole).err();
    if (!whole->has_value()) co_return std::optional<deletion>{};
    (*whole)->removed = std::move(d.removed);
    (*whole)->removed.set("package_deleted", json(true));
    co_return whole;
  }
  auto gone = co_await fx::d1_batch({
      {"DELETE FROM versions WHERE id = ?", {row["id"]}},
      {"UPDATE packages SET revision = revision + 1, updated_at = ? WHERE name = ?", {json(now_ms), json(package)}},
  });
  if (!gone) co_return std::move(gone).err();
  auto rebuilt = co_await rebuild_documents(package, now_ms);
  if (!rebuilt) rebuilt = co_await rebuild_documents(package, now_ms);  // one retry
  if (!rebuilt)
    co_return make_error(error_code::unavailable, "the version was deleted but the metadata could not be rebuilt: " +
                                                      rebuilt.err().message);
  std::vector<std::string> objects;
  if (row["dist_key"].is_string()) objects.emplace_back(row["dist_key"].as_string());
  // Big documents live in R2 per revision: the ones the rebuild replaced go as well.
  auto now_blobs = co_await fx::d1_all(
      "SELECT d.blob_key FROM metadata_documents d JOIN packages p ON p.id = d.package_id WHERE p.name = ?", {json(package)});
  std::vector<std::string> before, current;
  collect((*found)[2], "blob_key", before);
  if (now_blobs) collect(*now_blobs, "blob_key", current);
  for (auto& b : before)
    if (now_blobs && std::find(current.begin(), current.end(), b) == current.end()) objects.push_back(std::move(b));
  (void)co_await remove_objects(d, std::move(objects));
  co_return std::optional<deletion>{std::move(d)};
}

task<result<std::optional<deletion>>> delete_source_and_packages(std::int64_t source_id, json source_view) {
  auto found = co_await fx::d1_batch({
      {"SELECT id FROM sources WHERE id = ?", {json(source_id)}},
      {"SELECT name FROM packages WHERE source_id = ? ORDER BY name", {json(source_id)}},
      {"SELECT v.dist_key FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.source_id = ?", {json(source_id)}},
      {"SELECT d.blob_key FROM metadata_documents d JOIN packages p ON p.id = d.package_id WHERE p.source_id = ?",
       {json(source_id)}},
  });
  if (!found) co_return std::move(found).err();
  if ((*found)[0].rows.empty()) co_return std::optional<deletion>{};
  auto gone = co_await fx::d1_batch({
      {"DELETE FROM packages WHERE source_id = ?", {json(source_id)}},
      {"DELETE FROM sources WHERE id = ?", {json(source_id)}},
  });
  json names = json::array();
  std::vector<std::string> packages;
  hot_cache::forget_catalog();  // the source's packagist patterns leave /packages.json too
  for (const auto& r : (*found)[1].rows) {
    packages.emplace_back(r["name"].as_string());
    names.push_back(r["name"]);
  }
  (void)co_await forget_documents(std::move(packages));
  if (!gone) co_return std::move(gone).err();
  deletion d;
  d.removed = std::move(source_view);
  d.removed.set("packages", std::move(names));
  std::vector<std::string> objects;
  collect((*found)[2], "dist_key", objects);
  collect((*found)[3], "blob_key", objects);
  (void)co_await remove_objects(d, std::move(objects));
  co_return std::optional<deletion>{std::move(d)};
}

}  // namespace pb::storage
