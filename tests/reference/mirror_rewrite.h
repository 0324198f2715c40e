// The packagist mirror's rewrite as it was before the streaming reader and writer (main before issue
// 11's mirror work): the whole document parsed into a tree, every list expanded at once
// (composer::expand), each version copied to drop its row's columns, every composer.json tree held,
// and each document minified as a tree (composer::minify) and encoded whole. Kept only as the
// reference the differential test (tests/native/sources/test_p2_reader.cpp) and the p2_rewrite fuzz
// target compare the production code against, byte for byte (`production_rewrite`, `difference`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composer/minifier.h"
#include "composer/p2_builder.h"
#include "core/http_date.h"
#include "core/json.h"
#include "core/text.h"
#include "sources/p2_reader.h"
#include "sources/sync.h"
#include "storage/packages.h"
#include "versions/sort.h"

namespace pb::reference {

// sources::p2_versions over parse_json(text); nullopt where read_p2 answered "invalid JSON".
inline std::optional<std::vector<json>> p2_versions(std::string_view text, std::string_view name) {
  auto doc = parse_json(text);
  if (!doc || !doc->is_object()) return std::nullopt;
  std::vector<json> out;
  for (const auto& [key, list] : (*doc)["packages"].as_object()) {
    if (ascii_lower(key) != name || !list.is_array()) continue;
    json expanded = (*doc)["minified"].as_string() == "composer/2.0" ? composer::expand(list.as_array()) : list;
    for (auto& v : expanded.as_array()) out.push_back(std::move(v));
  }
  return out;
}

// upstream_version_row's composer_json: the version copied, its column keys erased, dumped.
inline std::string composer_json(const json& v) {
  json kept = v;
  for (const char* k : {"version", "version_normalized", "dist", "source", "notification-url", "time", "uid"}) kept.erase(k);
  return kept.dump();
}

// storage::build_documents with every composer.json tree held and build_p2 on trees.
inline composer::p2_documents build_documents(std::string_view package, const std::vector<storage::version_row>& rows) {
  std::vector<json> cjs;
  for (const auto& v : rows) {
    auto cj = parse_json(v.composer_json);
    cjs.push_back(cj ? std::move(*cj) : json::object());
  }
  std::vector<versions::dump_version> dv;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    versions::dump_version d;
    d.version = rows[i].version;
    d.version_normalized = rows[i].version_normalized;
    const json* alias = cjs[i]["extra"]["branch-alias"].find(rows[i].version_normalized);
    if (alias && alias->is_string()) d.branch_alias = alias->as_string();
    d.default_branch = cjs[i]["default-branch"].as_bool(false);
    if (rows[i].release_time) d.released_at = rows[i].release_time;
    dv.push_back(d);
  }
  json_array tagged, dev;
  for (std::size_t i : versions::sort_versions_for_dump(dv)) {
    const storage::version_row& v = rows[i];
    composer::version_fields f;
    f.name = std::string(package);
    f.version = v.version;
    f.version_normalized = v.version_normalized;
    f.reference = v.reference;
    f.dist_type = v.dist_type;
    f.dist_url = std::string(storage::origin_placeholder) + storage::dist_path(package, v.version_normalized, v.reference, v.dist_type);
    f.dist_shasum = v.dist_shasum;
    f.time = v.release_time ? format_iso8601(v.release_time) : std::string();
    json e = composer::version_entry(cjs[i], f);
    const json& vn = e["version_normalized"];
    (composer::is_dev_version(vn.is_string() ? vn.as_string() : e["version"].as_string()) ? dev : tagged).push_back(std::move(e));
  }
  const auto document = [&](const json_array& list) {
    json_object packages;
    packages.emplace_back(ascii_lower(package), composer::minify(list));
    json_object top;
    top.emplace_back("minified", json("composer/2.0"));
    top.emplace_back("packages", json(std::move(packages)));
    return composer::packagist_json_encode(json(std::move(top)));
  };
  return {document(tagged), document(dev)};
}

// The whole old path on one document: rows (composer_json as the old code wrote it) and documents.
struct rewrite {
  std::vector<storage::upstream_version> rows;
  std::vector<std::string> skipped;
  composer::p2_documents docs;
};

inline std::optional<rewrite> mirror_rewrite(std::string_view text, std::string_view name) {
  auto versions = p2_versions(text, name);
  if (!versions) return std::nullopt;
  rewrite out;
  std::vector<storage::version_row> rows;
  for (const auto& v : *versions) {
    auto row = sources::upstream_version_row(v);
    if (!row) {
      out.skipped.push_back(row.err().message);
      continue;
    }
    row->v.composer_json = composer_json(v);
    rows.push_back(row->v);
    out.rows.push_back(std::move(*row));
  }
  out.docs = reference::build_documents(name, rows);
  return out;
}

// The same through the production code: sources::read_p2_versions, upstream_version_row,
// storage::build_documents. nullopt when the reader refuses the document.
inline std::optional<rewrite> production_rewrite(std::string_view text, std::string_view name) {
  rewrite out;
  std::vector<storage::version_row> rows;
  auto read = sources::read_p2_versions(text, name, [&](const sources::p2_version& v) {
    auto row = sources::upstream_version_row(v);
    if (!row) {
      out.skipped.push_back(row.err().message);
    } else {
      rows.push_back(row->v);
      out.rows.push_back(std::move(*row));
    }
    return true;
  });
  if (!read) return std::nullopt;
  out.docs = storage::build_documents(name, rows);
  return out;
}

// The first difference between two rewrites ("" when they are the same, byte for byte).
inline std::string difference(const rewrite& a, const rewrite& b) {
  if (a.rows.size() != b.rows.size())
    return "rows: " + std::to_string(a.rows.size()) + " vs " + std::to_string(b.rows.size());
  if (a.skipped != b.skipped) return "skipped versions differ";
  for (std::size_t i = 0; i < a.rows.size(); ++i) {
    const auto &x = a.rows[i], &y = b.rows[i];
    const std::string at = "row " + std::to_string(i) + ": ";
    if (x.v.version != y.v.version || x.v.version_normalized != y.v.version_normalized) return at + "version";
    if (x.v.reference != y.v.reference || x.v.dist_type != y.v.dist_type || x.v.dist_shasum != y.v.dist_shasum)
      return at + "dist";
    if (x.upstream_dist_url != y.upstream_dist_url) return at + "upstream dist URL";
    if (x.v.release_time != y.v.release_time) return at + "time";
    if (x.stability != y.stability || x.is_dev != y.is_dev) return at + "stability";
    if (x.v.composer_json != y.v.composer_json) return at + "composer_json\n" + x.v.composer_json + "\n" + y.v.composer_json;
  }
  if (a.docs.tagged != b.docs.tagged) return "tagged document\n" + a.docs.tagged + "\n" + b.docs.tagged;
  if (a.docs.dev != b.docs.dev) return "dev document\n" + a.docs.dev + "\n" + b.docs.dev;
  return {};
}

}  // namespace pb::reference
