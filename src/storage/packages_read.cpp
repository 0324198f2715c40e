// The reads the serving routes make of packages (packages.h): /packages.json's inputs and its change
// marker, a p2 document (through the isolate's hot cache, revalidated by the documents' marker), an
// archive row for /dist, and the origin put into a stored document as it is served. The writes, the
// document rebuilds and the admin views are in packages.cpp.
#include <charconv>

#include "bindings/effects.h"
#include "storage/hot_cache.h"
#include "storage/packages.h"
#include "storage/packages_detail.h"

namespace pb::storage {

using detail::from_row;
using detail::version_columns;

std::string with_origin(std::string_view body, std::string_view origin) {
  // One pass, one copy: the document goes straight from the cache into the response body.
  std::string out;
  out.reserve(body.size() + 64);
  std::size_t at = 0;
  for (std::size_t hit; (hit = body.find(origin_placeholder, at)) != std::string_view::npos;
       at = hit + origin_placeholder.size()) {
    out.append(body, at, hit - at);
    out += origin;
  }
  out.append(body, at, std::string_view::npos);
  return out;
}

namespace {
constexpr const char* package_names_sql = "SELECT name FROM packages ORDER BY name";
constexpr const char* listing_marker_sql = "SELECT value FROM pb_meta WHERE key = 'listing_changed_ms'";

std::vector<std::string> names_of(const json_array& rows) {
  std::vector<std::string> names;
  names.reserve(rows.size());
  for (const auto& r : rows) names.emplace_back(r["name"].as_string());
  return names;
}

// A pb_meta change marker's value (decimal text, written by migration 0008's triggers); nullopt when the
// row is absent (a database before that migration) or holds anything else.
std::optional<std::int64_t> marker_of(const json_array& rows) {
  if (rows.empty()) return std::nullopt;
  std::string_view text = rows[0]["value"].as_string();
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}
}  // namespace

task<result<std::vector<std::string>>> list_package_names() {
  auto rows = co_await fx::d1_all(package_names_sql);
  if (!rows) co_return std::move(rows).err();
  co_return names_of(rows->rows);
}

task<result<std::optional<std::int64_t>>> listing_marker() {
  auto r = co_await fx::d1_all(listing_marker_sql);
  if (!r) co_return std::move(r).err();
  co_return marker_of(r->rows);
}

task<result<listing_inputs>> load_listing_inputs() {
  // One batch runs its statements in order in one transaction (D1; the native host likewise).
  auto r = co_await fx::d1_batch({{listing_marker_sql, {}},
                                  {package_names_sql, {}},
                                  packagist_sources_statement()});
  if (!r) co_return std::move(r).err();
  listing_inputs in;
  in.changed_ms = marker_of((*r)[0].rows);
  in.names = names_of((*r)[1].rows);
  in.mirrors = sources_from_rows((*r)[2].rows);
  co_return in;
}

task<result<document_ref>> load_document(std::string key, std::int64_t now_ms) {
  // A miss is counted by the lookup after the marker read (one request, one count).
  if (auto hot = hot_cache::document(key, now_ms, false)) co_return document_ref{hot->doc, true, hot};
  // The documents' marker first, so it is never newer than the row read with it; one round trip.
  auto read = co_await fx::d1_batch({{"SELECT value FROM pb_meta WHERE key = 'documents_changed_ms'", {}},
                                     {"SELECT body, blob_key, last_modified FROM metadata_documents WHERE key = ?", {json(key)}}});
  if (!read) co_return std::move(read).err();
  const std::int64_t marker = marker_of((*read)[0].rows).value_or(0);
  hot_cache::confirm_documents(marker, now_ms);
  // No document has changed since the cached copy was read: it stays, with the bodies served from it
  // (and every other cached document is current again too).
  if (auto kept = hot_cache::document(key, now_ms)) co_return document_ref{kept->doc, true, kept};
  if ((*read)[1].rows.empty()) co_return document_ref{};
  const json& r = (*read)[1].rows[0];
  auto d = std::make_shared<stored_document>(stored_document{
      std::string(r["body"].as_string()), std::string(r["blob_key"].as_string()), std::string(r["last_modified"].as_string())});
  if (!d->blob_key.empty()) {
    auto obj = co_await fx::r2_get(d->blob_key, fx::body_read::text);
    if (!obj) co_return std::move(obj).err();
    if (!obj->has_value()) co_return make_error(error_code::internal, "metadata blob " + d->blob_key + " is missing");
    d->body = std::move((*obj)->text);
  }
  auto entry = hot_cache::put_document(key, d, now_ms, marker);
  co_return document_ref{std::move(d), false, std::move(entry)};
}

task<result<std::optional<dist_row>>> find_dist(std::string package, std::string reference, std::string version) {
  auto row = co_await fx::d1_first(std::string("SELECT ") + version_columns +
                                       " FROM versions v JOIN packages p ON p.id = v.package_id "
                                       "WHERE p.name = ? AND v.reference = ? ORDER BY (v.version_normalized = ?) DESC LIMIT 1",
                                   {json(package), json(std::move(reference)), json(std::move(version))});
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<dist_row>{};
  co_return std::optional<dist_row>{dist_row{std::move(package), from_row(**row)}};
}

}  // namespace pb::storage
