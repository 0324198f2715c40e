// documents_after_add: an uploaded version spliced into the package's stored p2 documents instead of
// rebuilding them from every row (issue 11: at 1,000 versions a rebuild costs ~100 ms of CPU per upload,
// the Free plan allows 10). Composer's minified lists store the first entry whole and every later one
// as a diff against the one before, so a version that goes first in its list changes only the list's
// first two entries: the new one, written whole, and the old first, now a diff against it. The rest of
// the stored text is copied. Anything else falls back to rebuild_documents.
#include <optional>
#include <string>
#include <string_view>

#include "composer/p2_builder.h"
#include "core/json_view.h"
#include "storage/hot_cache.h"
#include "storage/packages.h"
#include "storage/packages_detail.h"
#include "versions/sort.h"

namespace pb::storage {

namespace {

using namespace detail;

// The writer's document opens with this, then the entries, then "]}}" (package names need no escaping).
std::string document_head(std::string_view package) {
  return "{\"minified\":\"composer/2.0\",\"packages\":{\"" + std::string(package) + "\":[";
}

// The row's entry as the rebuild writes it (write_documents in packages.cpp).
void encoded_entry_of(std::string_view package, const version_row& row, composer::encoded_entry& out) {
  composer::member_texts texts;
  scanned_hints(row, texts);
  auto view = parse_view(row.composer_json);
  composer::version_entry(view ? *view : json_view(), view ? texts : composer::member_texts{}, version_fields_of(package, row), out);
}

}  // namespace

std::optional<std::string> opening_version(std::string_view package, std::string_view body) {
  const std::string head = document_head(package);
  if (body.substr(0, head.size()) != head) return std::nullopt;
  const std::string_view entries = body.substr(head.size());
  if (entries == "]}}") return std::string();
  // The list's first entry is written whole, its "version_normalized" before any nested object. A wrong
  // guess cannot do harm: p2_writer::prepend checks that the text is that row's entry.
  constexpr std::string_view marker = "\"version_normalized\":\"";
  const std::size_t at = entries.find(marker);
  const std::size_t end = at == std::string_view::npos ? at : entries.find('"', at + marker.size());
  if (end == std::string_view::npos) return std::nullopt;
  std::string v(entries.substr(at + marker.size(), end - at - marker.size()));
  if (v.empty() || v.find('\\') != std::string::npos) return std::nullopt;
  return v;
}

std::optional<std::string> splice_first(std::string_view package, std::string_view body, bool dev,
                                        const version_row& added, const version_row* first) {
  const std::string head = document_head(package);
  if (body.substr(0, head.size()) != head) return std::nullopt;
  const std::string_view entries = body.substr(head.size());
  const json added_cj = parsed_composer_json(added);
  const dump_hints added_hints = hints_of(added, added_cj);
  // Two non-numeric default branches make Package::sortVersions inconsistent: the order then depends
  // on the sort's path, which one more version changes. Such packages are rebuilt.
  if (added_hints.default_branch) return std::nullopt;
  composer::encoded_entry entry, first_entry;
  encoded_entry_of(package, added, entry);
  if (entry.dev != dev) return std::nullopt;
  if (!first) {
    // The first version of its kind: the list is this entry alone.
    if (entries != "]}}") return std::nullopt;
    composer::p2_writer w(package);
    w.add(entry);
    composer::p2_documents docs = std::move(w).finish();
    return std::move(dev ? docs.dev : docs.tagged);
  }
  const json first_cj = parsed_composer_json(*first);
  const dump_hints first_hints = hints_of(*first, first_cj);
  // First in the dump order: strictly before the list's current first (which is before the rest of its
  // list, and the comparator is a consistent order once default branches are ruled out).
  const versions::dump_version a = dump_version_of(added, added_hints);
  const versions::dump_version b = dump_version_of(*first, first_hints);
  if (first_hints.default_branch || versions::compare_for_dump(a, b) >= 0 || versions::compare_for_dump(b, a) <= 0)
    return std::nullopt;
  encoded_entry_of(package, *first, first_entry);
  auto text = composer::p2_writer::prepend(entry, first_entry, entries);
  if (!text) return std::nullopt;
  std::string out;
  out.reserve(head.size() + text->size());
  out += head;
  out += *text;
  return out;
}

namespace {

// True when it stored both documents; false when this is not the simple case (nothing written).
task<result<bool>> splice(const new_version& nv, std::int64_t revision, std::int64_t now_ms) {
  const std::string& package = nv.package;
  if (revision < 2) co_return false;  // the package's first version: there is nothing to splice into
  const bool dev = composer::is_dev_version(nv.v.version_normalized);
  const std::string key = document_key(package, dev);
  const std::string other_key = document_key(package, !dev);

  // The package as the insert left it, and the documents: only the body of the one that changes.
  auto snap = co_await fx::d1_batch({
      {"SELECT id, revision, source_id FROM packages WHERE name = ?", {json(package)}},
      {"SELECT d.key, d.revision, d.last_modified, d.blob_key, CASE WHEN d.key = ? THEN d.body END AS body, "
       "CASE WHEN d.body LIKE '%\"default-branch\":true%' THEN 1 ELSE 0 END AS has_default "
       "FROM metadata_documents d JOIN packages p ON p.id = d.package_id WHERE p.name = ?",
       {json(key), json(package)}},
  });
  if (!snap) co_return std::move(snap).err();
  if ((*snap)[0].rows.empty()) co_return false;
  const json& pkg = (*snap)[0].rows[0];
  // Another write since the insert (or a package of a source): the stored documents plus this version
  // would not be the current set.
  if (!pkg["source_id"].is_null() || pkg["revision"].as_int() != revision) co_return false;
  const std::int64_t package_id = pkg["id"].as_int();
  const json* stored = nullptr;
  bool other_ok = false;
  for (const auto& d : (*snap)[1].rows) {
    // Both documents must describe the revision just before the insert, in D1 (R2 ones are rebuilt),
    // with no default branch (see splice_first).
    if (d["revision"].as_int() != revision - 1 || !d["blob_key"].as_string().empty() || d["has_default"].as_int() != 0)
      co_return false;
    if (d["key"].as_string() == key) stored = &d;
    if (d["key"].as_string() == other_key) other_ok = true;
  }
  if (!stored || !other_ok || !(*stored)["body"].is_string()) co_return false;
  const std::string_view body = (*stored)["body"].as_string();

  std::optional<std::string> spliced;
  auto opening = opening_version(package, body);
  if (!opening) co_return false;
  if (opening->empty()) {
    spliced = splice_first(package, body, dev, nv.v, nullptr);
  } else {
    // The one neighbour row the splice needs, and the revision again (rows only change with it).
    auto rows = co_await fx::d1_batch({
        {"SELECT revision FROM packages WHERE name = ?", {json(package)}},
        {std::string("SELECT ") + version_columns +
             " FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.version_normalized = ?",
         {json(package), json(*opening)}},
    });
    if (!rows) co_return std::move(rows).err();
    if ((*rows)[0].rows.empty() || (*rows)[0].rows[0]["revision"].as_int() != revision || (*rows)[1].rows.empty())
      co_return false;
    const version_row first = from_row((*rows)[1].rows[0]);
    spliced = splice_first(package, body, dev, nv.v, &first);
  }
  if (!spliced || spliced->size() > max_inline_document) co_return false;

  // What rebuild_documents writes: the changed document, and the unchanged one (same body, same
  // Last-Modified) at the new revision.
  std::string last_modified = next_last_modified(false, (*stored)["last_modified"].as_string(), now_ms);
  auto w = co_await fx::d1_batch({
      upsert_document(key, package_id, json(std::move(*spliced)), json(), std::move(last_modified), revision, now_ms),
      {"UPDATE metadata_documents SET revision = ?, updated_at = ? WHERE key = ? AND revision < ?",
       {json(revision), json(now_ms), json(other_key), json(revision)}},
  });
  (void)co_await hot_cache::forget_everywhere(false, {document_key(package, false), document_key(package, true)});
  if (!w) co_return std::move(w).err();
  co_return true;
}

}  // namespace

task<result<bool>> documents_after_add(new_version nv, added_version added, std::int64_t now_ms) {
  // A failed effect is this write's one attempt (the upload retries with a rebuild), as a failed rebuild was.
  auto spliced = co_await splice(nv, added.revision, now_ms);
  if (!spliced) co_return std::move(spliced).err();
  if (*spliced) co_return true;
  auto rebuilt = co_await rebuild_documents(nv.package, now_ms);
  if (!rebuilt) co_return std::move(rebuilt).err();
  co_return false;
}

}  // namespace pb::storage
