// Packages, versions and their prebuilt p2 documents over D1 effects. Adding a version is one D1 batch
// (package row, version row, revision bump), and the p2 documents are rebuilt from a consistent read of
// the package and stored only if no newer revision was stored meanwhile, so a served document always
// describes a complete set of versions. The serving reads live in packages_read.cpp, the writes and
// rebuilds in packages.cpp, a version spliced into stored documents in packages_splice.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/task.h"
#include "composer/p2_builder.h"
#include "core/json.h"
#include "core/result.h"
#include "storage/sources.h"

namespace pb::storage {

// Dist URLs inside stored documents start with this; it is replaced by the request's origin when served,
// so one stored document works behind any hostname.
inline constexpr std::string_view origin_placeholder = "__PB_ORIGIN__";

struct stored_document {
  std::string body;
  std::string blob_key;  // documents too big for a D1 row live in R2
  std::string last_modified;
};

namespace hot_cache {
struct document_entry;
}

// A loaded document, shared with the isolate's hot cache (never copied on a hit); null: no such document.
struct document_ref {
  std::shared_ptr<const stored_document> doc;
  bool from_hot_cache = false;  // served from the isolate's memory (for the request log line)
  std::shared_ptr<hot_cache::document_entry> entry;  // doc's cache entry: where its served bodies are kept
};

struct version_row {
  std::int64_t id = 0;
  std::string version;
  std::string version_normalized;
  std::string reference;
  std::string dist_type;
  std::string dist_key;
  std::string dist_shasum;
  std::string dist_sha256;
  std::int64_t dist_size = 0;
  std::int64_t release_time = 0;
  std::string composer_json;  // serialized
  std::int64_t source_id = 0;      // 0: an uploaded artifact
  std::string upstream_dist_url;   // where a source's archive comes from until it is in R2
};

struct new_version {
  std::string package;  // vendor/name, lower-case
  std::string source = "artifact";
  version_row v;
  std::string stability;
  bool is_dev = false;
};

task<result<std::vector<std::string>>> list_package_names();

// What /packages.json is made of, read in one batch: the listing's change marker (pb_meta
// listing_changed_ms, which triggers move on every write that can change the listing, migration 0008)
// first, then the package names and the enabled packagist sources. The marker is read first so that it
// is never newer than the rows read with it (a newer one would date an older listing).
struct listing_inputs {
  std::optional<std::int64_t> changed_ms;  // absent while the database predates migration 0008
  std::vector<std::string> names;
  std::vector<source_record> mirrors;
};
task<result<listing_inputs>> load_listing_inputs();
// The listing's marker alone (nullopt before migration 0008): whether a catalog read earlier is still
// the listing, without reading every name again.
task<result<std::optional<std::int64_t>>> listing_marker();
// From the isolate's hot cache when fresh (no effect at all), else D1 (and R2 for big documents).
task<result<document_ref>> load_document(std::string key, std::int64_t now_ms);

struct dist_row {
  std::string package;
  version_row v;
};
// The archive for (package, reference); prefers the row whose normalized version matches `version`.
task<result<std::optional<dist_row>>> find_dist(std::string package, std::string reference, std::string version);

task<result<bool>> version_exists(std::string package, std::string version_normalized);
// True when the package exists and belongs to a source (uploads into it are refused).
task<result<bool>> belongs_to_source(std::string package);
// The error for an upload into a package that belongs to a source (409).
error source_owned(std::string_view package);
// Inserts the version (and the package if new); error_code::conflict if the version exists or the
// package belongs to a source. Returns the version's id and the package revision that its insert made.
struct added_version {
  std::int64_t id = 0;
  std::int64_t revision = 0;
};
task<result<added_version>> add_version(new_version nv, std::int64_t now_ms);
// Upstream sources: replaces the package's versions with `versions` in one D1 batch (the package
// switches to the new set whole), keeping mirrored archives whose reference did not change. The
// package must be new or already belong to this source: error_code::conflict otherwise.
// More versions than this in one package is refused (unprocessable): the version set is written in one
// D1 batch and its documents built in wasm memory. Packagist's busiest packages have ~3,000.
inline constexpr std::size_t max_versions_per_package = 5000;
struct upstream_version {
  version_row v;  // version, version_normalized, reference, dist_type, dist_shasum, release_time, composer_json
  std::string upstream_dist_url;
  std::string stability;
  bool is_dev = false;
};
task<result<std::monostate>> replace_source_versions(std::string package, std::int64_t source_id, std::string source_type,
                                                     std::vector<upstream_version> versions, std::int64_t now_ms);
// The archive row for a version, with what a fetch-through needs.
struct upstream_dist {
  std::int64_t version_id = 0;
  std::int64_t source_id = 0;
  std::string upstream_dist_url;
};
task<result<std::optional<upstream_dist>>> find_upstream_dist(std::int64_t version_id);
// Records an archive fetched from upstream and now held in R2.
task<result<std::monostate>> record_mirrored_dist(std::int64_t version_id, std::string key, std::string sha1,
                                                  std::string sha256, std::int64_t size);

// Rebuilds and stores the package's p2 documents (tagged and ~dev).
task<result<std::monostate>> rebuild_documents(std::string package, std::int64_t now_ms);
// The documents after add_version: when its insert is the last change (`added.revision`), the stored
// documents are those of the revision before it and the version goes first in its list (the common
// upload: a new highest tag, a new dev branch), the version is spliced into the stored text, reading
// one neighbour row instead of every row (packages_splice.cpp); else rebuild_documents. The result
// is byte for byte what rebuild_documents stores. True when the splice stored them.
task<result<bool>> documents_after_add(new_version nv, added_version added, std::int64_t now_ms);
// Its pure half. The normalized version a stored document's list opens with: "" when the list is
// empty, nullopt when the body is not as the p2 writer writes it.
std::optional<std::string> opening_version(std::string_view package, std::string_view body);
// `body` (the stored document of `package`, ~dev when `dev`) with `added` spliced in first; `first`:
// the row of the version the list opens with (null for an empty list). Nullopt when that is not
// exactly what build_documents would write (see documents_after_add).
std::optional<std::string> splice_first(std::string_view package, std::string_view body, bool dev,
                                        const version_row& added, const version_row* first);
// The pure half of rebuild_documents: both documents from the package's version rows (any order), with
// dist URLs under origin_placeholder. Also what the mirror-rewrite benchmark measures.
composer::p2_documents build_documents(std::string_view package, const std::vector<version_row>& rows);
// Rebuilds the documents of up to `limit` packages whose documents are behind their versions (a write
// whose rebuild failed, or was cut short by a trap); the cron trigger runs it. Returns how many.
task<result<std::int64_t>> rebuild_stale_documents(std::int64_t now_ms, std::int64_t limit);

// Admin views. Summaries: names after `after` (by name) containing `query`, at most limit, as
// {"packages":[...],"next_cursor":name|null}.
task<result<json>> package_summaries(std::string after = {}, std::int64_t limit = 1000, std::string query = {});
task<result<std::optional<json>>> package_detail(std::string package);

// "/dist/{package}/{version}/{reference}.{type}" (path only; callers prefix the origin).
std::string dist_path(std::string_view package, std::string_view version_normalized, std::string_view reference,
                      std::string_view type);
// The document key for a p2 path ("p2/acme/widget.json").
std::string document_key(std::string_view package, bool dev);

// Resolves a deferred request body: replaces origin_placeholder with the origin.
std::string with_origin(std::string_view body, std::string_view origin);

}  // namespace pb::storage
