// What packages.cpp (the full rebuild) and packages_splice.cpp (one version spliced into the stored
// documents) share: the version row's columns, the version entry a row becomes, its dump-order fields,
// and how a document is written (Last-Modified, the revision-guarded upsert). Internal to src/storage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bindings/effects.h"
#include "composer/p2_builder.h"
#include "core/json.h"
#include "storage/packages.h"
#include "versions/sort.h"

namespace pb::storage::detail {

// Documents above this stay out of D1 (row limit 2 MB) and go to R2.
inline constexpr std::size_t max_inline_document = 900 * 1024;

inline constexpr const char* version_columns =
    "v.id, v.version, v.version_normalized, v.reference, v.dist_type, v.dist_key, v.dist_shasum, v.dist_sha256, "
    "v.dist_size, v.release_time, v.composer_json, v.source_id, v.upstream_dist_url";

version_row from_row(const json& r);

// What Packagist's dump order needs of a version's composer.json, kept without its tree.
struct dump_hints {
  std::optional<std::string> branch_alias;
  bool default_branch = false;
};
template <class Value>  // the composer.json as a json tree or a json_view (core/json_view.h)
dump_hints hints_of(const version_row& row, const Value& composer_json) {
  dump_hints h;
  // Packagist keys the alias by the normalized version (extra.branch-alias["dev-main"]).
  const auto& alias = composer_json["extra"]["branch-alias"][row.version_normalized];
  if (alias.is_string()) h.branch_alias = std::string(alias.as_string());
  h.default_branch = composer_json["default-branch"].as_bool(false);
  return h;
}
// The dump order's hints read from the row's text without a tree, and the texts of the members
// version_entry takes as text (composer::text_keys: passed through, or its memo's keys), in one walk
// (packages.cpp). nullopt when the text does not scan as an object (then `texts` is left empty).
std::optional<dump_hints> scanned_hints(const version_row& row, composer::member_texts& texts);
// The comparator's view of a row; points into row and hints.
versions::dump_version dump_version_of(const version_row& row, const dump_hints& hints);

json parsed_composer_json(const version_row& row);
// What the row's p2 version object takes besides its composer.json (composer::version_entry), the dist
// URL under origin_placeholder.
composer::version_fields version_fields_of(std::string_view package, const version_row& v);
// The same into `f`, whose strings keep their buffers (a rebuild fills one per version).
void fill_version_fields(std::string_view package, const version_row& v, composer::version_fields& f);
// dist_path (packages.h) appended to `out`.
void append_dist_path(std::string& out, std::string_view package, std::string_view version_normalized,
                      std::string_view reference, std::string_view type);

// Last-Modified only moves when a document changes, and then strictly forward (second resolution), so a
// client holding the previous date never gets a 304 for a newer document. `previous`: "" when new.
std::string next_last_modified(bool same_body, std::string_view previous, std::int64_t now_ms);
// Stores a document built from package revision `revision`, unless one from a newer revision is stored.
fx::d1_statement upsert_document(std::string key, std::int64_t package_id, json body, json blob_key,
                                 std::string last_modified, std::int64_t revision, std::int64_t now_ms);

}  // namespace pb::storage::detail
