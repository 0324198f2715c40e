// Packages and versions written (uploads, a source's version set, mirrored archives), their p2 documents
// built and stored, and the admin views of them (packages.h). The serving reads are in packages_read.cpp.
#include "storage/packages.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <span>

#include "auth/credentials.h"
#include "bindings/effects.h"
#include "composer/p2_builder.h"
#include "core/http_date.h"
#include "core/json_scan.h"
#include "core/json_view.h"
#include "storage/hot_cache.h"
#include "storage/packages_detail.h"
#include "versions/sort.h"
#include "storage/columns.h"

namespace pb::storage {

namespace detail {

version_row from_row(const json& r) {
  version_row v;
  v.id = r["id"].as_int();
  v.version = std::string(r["version"].as_string());
  v.version_normalized = std::string(r["version_normalized"].as_string());
  v.reference = std::string(r["reference"].as_string());
  v.dist_type = std::string(r["dist_type"].as_string("zip"));
  v.dist_key = std::string(r["dist_key"].as_string());
  v.dist_shasum = std::string(r["dist_shasum"].as_string());
  v.dist_sha256 = std::string(r["dist_sha256"].as_string());
  v.dist_size = r["dist_size"].as_int();
  v.release_time = r["release_time"].as_int();
  v.composer_json = std::string(r["composer_json"].as_string("{}"));
  v.source_id = r["source_id"].as_int();
  v.upstream_dist_url = std::string(r["upstream_dist_url"].as_string());
  return v;
}

versions::dump_version dump_version_of(const version_row& row, const dump_hints& hints) {
  versions::dump_version d;
  d.version = row.version;
  d.version_normalized = row.version_normalized;
  if (hints.branch_alias) d.branch_alias = *hints.branch_alias;
  d.default_branch = hints.default_branch;
  if (row.release_time) d.released_at = row.release_time;
  return d;
}

json parsed_composer_json(const version_row& row) {
  auto cj = parse_json(row.composer_json);
  return cj ? std::move(*cj) : json::object();
}

composer::version_fields version_fields_of(std::string_view package, const version_row& v) {
  composer::version_fields f;
  fill_version_fields(package, v, f);
  return f;
}

void fill_version_fields(std::string_view package, const version_row& v, composer::version_fields& f) {
  f.name = package;
  f.version = v.version;
  f.version_normalized = v.version_normalized;
  f.reference = v.reference;
  f.dist_type = v.dist_type;
  f.dist_url = origin_placeholder;
  append_dist_path(f.dist_url, package, v.version_normalized, v.reference, v.dist_type);
  f.dist_shasum = v.dist_shasum;
  if (v.release_time)
    f.time = format_iso8601(v.release_time);
  else
    f.time.clear();
}

std::string next_last_modified(bool same_body, std::string_view previous, std::int64_t now_ms) {
  const std::int64_t now_s = now_ms / 1000;
  if (same_body && !previous.empty()) return std::string(previous);
  auto prev = parse_http_date(previous);
  if (prev && *prev >= now_s) return format_http_date((*prev + 1) * 1000);
  return format_http_date(now_s * 1000);
}

fx::d1_statement upsert_document(std::string key, std::int64_t package_id, json body, json blob_key,
                                 std::string last_modified, std::int64_t revision, std::int64_t now_ms) {
  return {"INSERT INTO metadata_documents (key, package_id, body, blob_key, last_modified, revision, updated_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET body = excluded.body, "
          "blob_key = excluded.blob_key, last_modified = excluded.last_modified, revision = excluded.revision, "
          "updated_at = excluded.updated_at WHERE excluded.revision > metadata_documents.revision",
          {json(std::move(key)), json(package_id), std::move(body), std::move(blob_key), json(std::move(last_modified)),
           json(revision), json(now_ms)}};
}

}  // namespace detail

namespace {

using namespace detail;

// Versions in Packagist's dump order (newest first).
std::vector<std::size_t> dump_order(const std::vector<version_row>& rows, const std::vector<dump_hints>& hints) {
  std::vector<versions::dump_version> dv;
  dv.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) dv.push_back(dump_version_of(rows[i], hints[i]));
  return versions::sort_versions_for_dump(dv);
}

}  // namespace

std::string dist_path(std::string_view package, std::string_view version_normalized, std::string_view reference,
                      std::string_view type) {
  std::string p;
  detail::append_dist_path(p, package, version_normalized, reference, type);
  return p;
}

void detail::append_dist_path(std::string& p, std::string_view package, std::string_view version_normalized,
                              std::string_view reference, std::string_view type) {
  // Appended in place (a mirror rewrite builds one per version).
  p.reserve(p.size() + 8 + package.size() + version_normalized.size() + reference.size() + type.size() + 8);
  p += "/dist/";
  p += package;
  p += '/';
  for (std::size_t at = 0;;) {  // a '/' in a branch name is escaped
    const std::size_t slash = version_normalized.find('/', at);
    p += version_normalized.substr(at, slash == std::string_view::npos ? slash : slash - at);
    if (slash == std::string_view::npos) break;
    p += "%2F";
    at = slash + 1;
  }
  p += '/';
  p += reference;
  p += '.';
  p += type;
}

std::string document_key(std::string_view package, bool dev) {
  return "p2/" + std::string(package) + (dev ? "~dev.json" : ".json");
}

error source_owned(std::string_view package) {
  return make_error(error_code::conflict, std::string(package) +
                                              " comes from a source; its versions change there, not by upload");
}

task<result<bool>> belongs_to_source(std::string package) {
  auto row = co_await fx::d1_first("SELECT source_id FROM packages WHERE name = ?", {json(std::move(package))});
  if (!row) co_return std::move(row).err();
  co_return row->has_value() && !(**row)["source_id"].is_null();
}

task<result<bool>> version_exists(std::string package, std::string version_normalized) {
  auto row = co_await fx::d1_first(
      "SELECT 1 AS x FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.version_normalized = ?",
      {json(std::move(package)), json(std::move(version_normalized))});
  if (!row) co_return std::move(row).err();
  co_return row->has_value();
}

task<result<added_version>> add_version(new_version nv, std::int64_t now_ms) {
  const version_row& v = nv.v;
  std::vector<fx::d1_statement> batch;
  batch.push_back({"INSERT INTO packages (name, source, revision, created_at, updated_at) VALUES (?, ?, 0, ?, ?) "
                   "ON CONFLICT (name) DO NOTHING",
                   {json(nv.package), json(nv.source), json(now_ms), json(now_ms)}});
  batch.push_back({"INSERT INTO versions (package_id, version, version_normalized, stability, is_dev, reference, "
                   "composer_json, dist_type, dist_key, dist_shasum, dist_sha256, dist_size, release_time, source, created_at) "
                   "SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM packages WHERE name = ? AND source_id IS NULL",
                   {json(v.version), json(v.version_normalized), json(nv.stability), json(nv.is_dev ? 1 : 0),
                    json(v.reference), json(v.composer_json), json(v.dist_type),
                    v.dist_key.empty() ? json() : json(v.dist_key), v.dist_shasum.empty() ? json() : json(v.dist_shasum),
                    v.dist_sha256.empty() ? json() : json(v.dist_sha256), json(v.dist_size), json(v.release_time),
                    json(nv.source), json(now_ms), json(nv.package)}});
  batch.push_back({"UPDATE packages SET revision = revision + 1, updated_at = ? WHERE name = ? AND source_id IS NULL "
                   "RETURNING revision",
                   {json(now_ms), json(nv.package)}});
  auto r = co_await fx::d1_batch(std::move(batch));
  hot_cache::forget_catalog();  // a new package is listed at once, whether or not its rebuild succeeds
  if (!r) {
    if (r.err().message.find("UNIQUE constraint failed") != std::string::npos)
      co_return make_error(error_code::conflict, "version " + v.version + " of " + nv.package +
                                                     " already exists; versions are immutable");
    co_return std::move(r).err();
  }
  // The package belongs to a source: its versions come from there only.
  if ((*r)[1].changes == 0) co_return source_owned(nv.package);
  co_return added_version{(*r)[1].last_row_id, (*r)[2].rows.empty() ? 0 : (*r)[2].rows[0]["revision"].as_int()};
}

task<result<std::monostate>> replace_source_versions(std::string package, std::int64_t source_id, std::string source_type,
                                                     std::vector<upstream_version> versions, std::int64_t now_ms) {
  // The rule uploads follow, whatever the upstream calls its packages ("x/y~dev" would overwrite x/y's
  // dev document).
  if (!auth::valid_package_name(package))
    co_return make_error(error_code::bad_request, "\"" + package + "\" is not a valid package name");
  if (versions.size() > max_versions_per_package)
    co_return make_error(error_code::unprocessable, package + ": the upstream lists " + std::to_string(versions.size()) +
                                                        " versions, more than the " +
                                                        std::to_string(max_versions_per_package) + " mirrored per package");
  auto owner = co_await fx::d1_first("SELECT source_id FROM packages WHERE name = ?", {json(package)});
  if (!owner) co_return std::move(owner).err();
  if (owner->has_value() && (**owner)["source_id"].as_int(-1) != source_id)
    co_return make_error(error_code::conflict, package + " is provided by another source or by uploads");

  std::vector<fx::d1_statement> batch;
  batch.push_back({"INSERT INTO packages (name, source, source_id, revision, created_at, updated_at) "
                   "VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (name) DO NOTHING",
                   {json(package), json(source_type), json(source_id), json(now_ms), json(now_ms)}});
  json kept = json::array();
  // 10 parameters per row + 3 shared stay under D1's 100 bound parameters.
  constexpr std::size_t rows_per_statement = 9;
  for (std::size_t at = 0; at < versions.size(); at += rows_per_statement) {
    fx::d1_statement st;
    st.params = {json(package), json(source_id), json(now_ms)};
    std::string values;
    for (std::size_t i = at; i < versions.size() && i < at + rows_per_statement; ++i) {
      upstream_version& u = versions[i];
      if (!values.empty()) values += ", ";
      values += "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      // The composer.json moves into the statement (the rows are this batch's own): one copy of the
      // version set in memory, not two.
      for (json p : {json(u.v.version), json(u.v.version_normalized), json(u.stability), json(u.is_dev ? 1 : 0),
                     json(u.v.reference), json(std::move(u.v.composer_json)), json(u.v.dist_type),
                     u.v.dist_shasum.empty() ? json() : json(u.v.dist_shasum), json(u.upstream_dist_url),
                     json(u.v.release_time)})
        st.params.push_back(std::move(p));
      kept.push_back(json(u.v.version_normalized));
    }
    st.sql = "INSERT INTO versions (package_id, source_id, created_at, version, version_normalized, stability, is_dev, "
             "reference, composer_json, dist_type, dist_shasum, upstream_dist_url, release_time, source) "
             "SELECT p.id, ?2, ?3, x.column1, x.column2, x.column3, x.column4, x.column5, x.column6, x.column7, x.column8, "
             "x.column9, x.column10, p.source FROM (VALUES " + values + ") AS x JOIN packages p ON p.name = ?1 AND p.source_id = ?2 "
             "WHERE true "
             "ON CONFLICT (package_id, version_normalized) DO UPDATE SET version = excluded.version, "
             "stability = excluded.stability, is_dev = excluded.is_dev, composer_json = excluded.composer_json, "
             "dist_type = excluded.dist_type, upstream_dist_url = excluded.upstream_dist_url, "
             "release_time = excluded.release_time, "
             // A changed reference (a moved branch) drops the mirrored archive of the old one.
             "dist_key = CASE WHEN versions.reference = excluded.reference THEN versions.dist_key END, "
             "dist_sha256 = CASE WHEN versions.reference = excluded.reference THEN versions.dist_sha256 END, "
             "dist_size = CASE WHEN versions.reference = excluded.reference THEN versions.dist_size END, "
             "dist_shasum = CASE WHEN versions.reference = excluded.reference "
             "THEN COALESCE(excluded.dist_shasum, versions.dist_shasum) ELSE excluded.dist_shasum END, "
             "reference = excluded.reference WHERE versions.source_id = ?2";
    batch.push_back(std::move(st));
  }
  // Only this source's versions go: a version that got in by another way (an upload racing the first
  // sync) stays, and the ownership check below reports it.
  batch.push_back({"DELETE FROM versions WHERE package_id = (SELECT id FROM packages WHERE name = ? AND source_id = ?) "
                   "AND source_id = ? AND version_normalized NOT IN (SELECT value FROM json_each(?))",
                   {json(package), json(source_id), json(source_id), json(kept.dump())}});
  batch.push_back({"UPDATE packages SET revision = revision + 1, updated_at = ? WHERE name = ? AND source_id = ?",
                   {json(now_ms), json(package), json(source_id)}});
  auto r = co_await fx::d1_batch(std::move(batch));
  hot_cache::forget_catalog();
  if (!r) co_return std::move(r).err();
  // The package was taken by someone else between the check above and the batch: nothing was written.
  if (r->back().changes == 0) co_return make_error(error_code::conflict, package + " is provided by another source or by uploads");
  co_return std::monostate{};
}

task<result<std::optional<upstream_dist>>> find_upstream_dist(std::int64_t version_id) {
  auto row = co_await fx::d1_first("SELECT id, source_id, upstream_dist_url FROM versions WHERE id = ?", {json(version_id)});
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<upstream_dist>{};
  const json& r = **row;
  co_return std::optional<upstream_dist>{
      upstream_dist{r["id"].as_int(), r["source_id"].as_int(), std::string(r["upstream_dist_url"].as_string())}};
}

task<result<std::monostate>> record_mirrored_dist(std::int64_t version_id, std::string key, std::string sha1,
                                                  std::string sha256, std::int64_t size) {
  auto r = co_await fx::d1_run(
      "UPDATE versions SET dist_key = ?, dist_sha256 = ?, dist_size = ?, dist_shasum = COALESCE(dist_shasum, ?) "
      "WHERE id = ?",
      {json(std::move(key)), json(std::move(sha256)), json(size), json(std::move(sha1)), json(version_id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

// The first "default-branch" is `true`, the first "extra"'s first "branch-alias"'s first member named by
// the normalized version is a string (json::find takes the first of duplicate keys too). What the tree
// says still decides (write_documents checks every row against it).
std::optional<dump_hints> detail::scanned_hints(const version_row& row, composer::member_texts& texts) {
  dump_hints h;
  // "default-branch", then the members version_entry takes as text ("extra" among them).
  constexpr std::size_t n = std::size(composer::text_keys);
  static constexpr auto top_keys = [] {
    std::array<std::string_view, 1 + n> k{"default-branch"};
    std::copy(std::begin(composer::text_keys), std::end(composer::text_keys), k.begin() + 1);
    return k;
  }();
  static_assert(composer::text_keys[1] == "extra");
  std::array<std::optional<std::string_view>, 1 + n> top;
  std::optional<std::string_view> alias[1], named[1];
  texts = {};
  if (!json_scan::first_members(row.composer_json, top_keys, top)) return std::nullopt;
  std::copy(top.begin() + 1, top.end(), texts.at.begin());
  texts.scanned = true;
  h.default_branch = top[0] == "true";
  const std::optional<std::string_view>& extra = texts.at[1];
  constexpr std::string_view extra_keys[] = {"branch-alias"};
  const std::string_view version_key[] = {row.version_normalized};
  if (extra && extra->front() == '{' && json_scan::first_members(*extra, extra_keys, alias) && alias[0] &&
      alias[0]->front() == '{' && json_scan::first_members(*alias[0], version_key, named) && named[0] &&
      named[0]->front() == '"') {
    auto s = json_scan::string_of(*named[0]);
    if (!s) return std::nullopt;
    h.branch_alias = std::move(*s);
  }
  return h;
}

namespace {

bool same_hints(const dump_hints& a, const dump_hints& b) {
  return a.default_branch == b.default_branch && a.branch_alias == b.branch_alias;
}

// A row's composer.json read by Packagist's rules without a tree of it: valid until the next parse;
// nothing (an empty composer.json, present() false) when it does not parse, as parsed_composer_json.
json_view composer_json_view(const version_row& row) {
  auto v = parse_view(row.composer_json);
  return v ? *v : json_view();
}

// Both documents with the versions in the order `hints` give, each composer.json parsed once (here, for
// its entry, into a view). nullopt when a row's tree disagrees with its hint (a text the scanner reads otherwise than
// the parser, e.g. one that is not JSON): the order was wrong.
std::optional<composer::p2_documents> write_documents(std::string_view package, const std::vector<version_row>& rows,
                                                      const std::vector<dump_hints>& hints,
                                                      const std::vector<composer::member_texts>& texts) {
  composer::p2_writer writer(package);
  // Two buffers for every version's members, and the members the previous version (in dump order, the
  // one before in its document or the other) had the same text of (the rows outlive it).
  composer::entry_memo memo;
  composer::version_fields f;  // reused: its strings keep their buffers from version to version
  for (std::size_t i : dump_order(rows, hints)) {
    const version_row& v = rows[i];
    fill_version_fields(package, v, f);
    // The members the memo will copy are parsed as 0: their rules do not read them, and each text is
    // the previous version's, which parsed (so this row parses exactly when its whole text does). Not
    // "extra": the hints below read it.
    std::array<std::string_view, std::size(composer::text_keys)> blank;
    std::size_t n = 0;
    const unsigned copied = composer::copied_keys(memo, texts[i], f.name) & ~(1u << 1);  // text_keys[1]: "extra"
    for (std::size_t k = 0; k < blank.size(); ++k) {
      if (!(copied >> k & 1u) || !texts[i].at[k]) continue;
      const std::string_view b = *texts[i].at[k];
      std::size_t at = n++;  // in text order
      for (; at > 0 && blank[at - 1].data() > b.data(); --at) blank[at] = blank[at - 1];
      blank[at] = b;
    }
    auto parsed = parse_view(v.composer_json, std::span(blank.data(), n));
    const json_view cj = parsed ? *parsed : json_view();
    if (!same_hints(hints_of(v, cj), hints[i])) return std::nullopt;
    // Members the rules pass through are copied from the row's text when canonical (a text that did not
    // parse has no members).
    writer.add(composer::version_entry(cj, cj.present() ? texts[i] : composer::member_texts{}, f, memo));
  }
  return std::move(writer).finish();
}

}  // namespace

composer::p2_documents build_documents(std::string_view package, const std::vector<version_row>& rows) {
  // One composer.json tree at a time, and one parse per row: the order's two fields are read from the
  // text without a tree, and checked against the tree when its entry is written (holding every tree at
  // once took several times the rows' size; a second parse per row was 7% of a mirror rewrite).
  std::vector<dump_hints> hints;
  std::vector<composer::member_texts> texts(rows.size());
  hints.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto h = scanned_hints(rows[i], texts[i]);
    hints.push_back(h ? std::move(*h) : hints_of(rows[i], composer_json_view(rows[i])));
  }
  if (auto docs = write_documents(package, rows, hints, texts)) return std::move(*docs);
  // A row the scanner read otherwise: the trees decide, as before the scan (and nothing is passed
  // through from its text).
  for (std::size_t i = 0; i < rows.size(); ++i) {
    hints[i] = hints_of(rows[i], composer_json_view(rows[i]));
    texts[i] = {};
  }
  return std::move(*write_documents(package, rows, hints, texts));
}

task<result<std::monostate>> rebuild_documents(std::string package, std::int64_t now_ms) {
  // One batch = one consistent snapshot of the package, its versions and its current documents.
  auto snap = co_await fx::d1_batch({
      {"SELECT id, revision FROM packages WHERE name = ?", {json(package)}},
      {std::string("SELECT ") + version_columns +
           " FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? ORDER BY v.id",
       {json(package)}},
      {"SELECT d.key, d.body, d.last_modified FROM metadata_documents d JOIN packages p ON p.id = d.package_id "
       "WHERE p.name = ?",
       {json(package)}},
  });
  if (!snap) co_return std::move(snap).err();
  if ((*snap)[0].rows.empty()) co_return make_error(error_code::not_found, "no package " + package);
  std::int64_t package_id = (*snap)[0].rows[0]["id"].as_int();
  std::int64_t revision = (*snap)[0].rows[0]["revision"].as_int();

  std::vector<version_row> rows;
  rows.reserve((*snap)[1].rows.size());
  for (const auto& r : (*snap)[1].rows) rows.push_back(from_row(r));
  composer::p2_documents docs = build_documents(package, rows);

  std::vector<fx::d1_statement> writes;
  for (bool dev : {false, true}) {
    std::string key = document_key(package, dev);
    const std::string& body = dev ? docs.dev : docs.tagged;
    std::string last_modified = next_last_modified(false, {}, now_ms);
    for (const auto& existing : (*snap)[2].rows) {
      if (existing["key"].as_string() != key) continue;
      last_modified = next_last_modified(existing["body"].as_string() == body, existing["last_modified"].as_string(), now_ms);
    }
    json body_param = json(body);
    json blob_param;
    if (body.size() > max_inline_document) {
      std::string blob_key = "metadata/" + key + "/" + std::to_string(revision);
      fx::r2_put_args put;
      put.key = blob_key;
      put.text = body;
      put.http_metadata = json::object();
      put.http_metadata.set("contentType", json("application/json"));
      auto stored = co_await fx::r2_put(std::move(put));
      if (!stored) co_return std::move(stored).err();
      body_param = json();
      blob_param = json(blob_key);
    }
    writes.push_back(upsert_document(key, package_id, std::move(body_param), std::move(blob_param),
                                     std::move(last_modified), revision, now_ms));
  }
  auto w = co_await fx::d1_batch(std::move(writes));
  (void)co_await hot_cache::forget_everywhere(false, {document_key(package, false), document_key(package, true)});
  if (!w) co_return std::move(w).err();
  co_return std::monostate{};
}

task<result<std::int64_t>> rebuild_stale_documents(std::int64_t now_ms, std::int64_t limit) {
  // Both documents of a package carry the package revision they were built from.
  auto stale = co_await fx::d1_all(
      "SELECT p.name FROM packages p WHERE (SELECT count(*) FROM metadata_documents d "
      "WHERE d.package_id = p.id AND d.revision >= p.revision) < 2 ORDER BY p.updated_at LIMIT ?",
      {json(limit)});
  if (!stale) co_return std::move(stale).err();
  std::int64_t rebuilt = 0;
  for (const auto& row : stale->rows) {
    auto r = co_await rebuild_documents(std::string(row["name"].as_string()), now_ms);
    if (!r) co_return std::move(r).err();
    ++rebuilt;
  }
  co_return rebuilt;
}

task<result<json>> package_summaries(std::string after, std::int64_t limit, std::string query) {
  std::string like = "%" + like_pattern(query, false) + "%";
  constexpr const char* page = "SELECT id, name, source, updated_at FROM packages WHERE name > ? AND name LIKE ? ESCAPE '\\' "
                               "ORDER BY name LIMIT ?";
  auto r = co_await fx::d1_batch({
      {page, {json(after), json(like), json(limit + 1)}},
      {std::string("SELECT p.name, v.version, v.version_normalized, v.release_time FROM versions v JOIN (") + page +
           ") p ON p.id = v.package_id",
       {json(after), json(like), json(limit + 1)}},
  });
  if (!r) co_return std::move(r).err();
  json list = json::array();
  json next;
  std::int64_t n = 0;
  for (const auto& p : (*r)[0].rows) {
    if (n++ == limit) {
      next = list.as_array().back()["name"];
      break;
    }
    std::vector<version_row> rows;
    std::vector<dump_hints> cjs;
    for (const auto& v : (*r)[1].rows) {
      if (v["name"].as_string() != p["name"].as_string()) continue;
      version_row vr;
      vr.version = std::string(v["version"].as_string());
      vr.version_normalized = std::string(v["version_normalized"].as_string());
      vr.release_time = v["release_time"].as_int();
      rows.push_back(std::move(vr));
      cjs.emplace_back();
    }
    json latest;
    for (std::size_t i : dump_order(rows, cjs)) {
      if (!composer::is_dev_version(rows[i].version_normalized)) {
        latest = json(rows[i].version);
        break;
      }
    }
    json o = json::object();
    o.set("name", p["name"]);
    o.set("source", p["source"]);
    o.set("versions", json(static_cast<std::int64_t>(rows.size())));
    o.set("latest", std::move(latest));
    o.set("updated_at", nullable_time(p["updated_at"].as_int()));
    list.push_back(std::move(o));
  }
  json out = json::object();
  out.set("packages", std::move(list));
  out.set("next_cursor", std::move(next));
  co_return out;
}

task<result<std::optional<json>>> package_detail(std::string package) {
  auto r = co_await fx::d1_batch({
      {"SELECT name, source, created_at, updated_at FROM packages WHERE name = ?", {json(package)}},
      {std::string("SELECT ") + version_columns +
           " FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? ORDER BY v.id",
       {json(package)}},
  });
  if (!r) co_return std::move(r).err();
  if ((*r)[0].rows.empty()) co_return std::optional<json>{};
  const json& p = (*r)[0].rows[0];
  std::vector<version_row> rows;
  std::vector<dump_hints> cjs;
  for (const auto& row : (*r)[1].rows) {
    rows.push_back(from_row(row));
    cjs.push_back(hints_of(rows.back(), parsed_composer_json(rows.back())));
  }
  json versions = json::array();
  for (std::size_t i : dump_order(rows, cjs)) {
    const version_row& v = rows[i];
    json o = json::object();
    o.set("version", json(v.version));
    o.set("version_normalized", json(v.version_normalized));
    o.set("reference", json(v.reference));
    o.set("shasum", json(v.dist_shasum));
    o.set("sha256", json(v.dist_sha256));
    o.set("size", json(v.dist_size));
    o.set("released_at", nullable_time(v.release_time));
    o.set("dist_url", json(dist_path(package, v.version_normalized, v.reference, v.dist_type)));
    versions.push_back(std::move(o));
  }
  json out = json::object();
  out.set("name", p["name"]);
  out.set("source", p["source"]);
  out.set("created_at", nullable_time(p["created_at"].as_int()));
  out.set("updated_at", nullable_time(p["updated_at"].as_int()));
  out.set("versions", std::move(versions));
  co_return std::optional<json>{std::move(out)};
}

}  // namespace pb::storage
