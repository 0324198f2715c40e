#include "sources/upstream_row.h"

#include "composer/p2_builder.h"
#include "core/http_date.h"
#include "core/sha256.h"
#include "http/web_url.h"
#include "versions/version_parser.h"

namespace pb::sources {

namespace {

bool hex_reference(std::string_view r) {
  if (r.empty()) return false;
  for (char c : r)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

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

}  // namespace pb::sources
