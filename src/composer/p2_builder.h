// Packagist-shaped p2 documents for one package: `version_entry` (one version object, as Packagist's
// App\Entity\Version::toV2Array emits it, from a composer.json and the fields the repository knows),
// `build_p2` (the <name>.json and <name>~dev.json pair, as App\Package\V2Dumper::dumpVersionsToV2File
// writes them; `p2_writer` one version at a time) and `packagist_json_encode` (PHP's json_encode with
// JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE). Pure. Sorting the versions is the caller's job
// (versions/sort.h). The version objects are made in p2_builder.cpp, the documents written in p2_writer.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace pb {
class json_view;
}

namespace pb::composer {

// What the repository knows about a version beyond its composer.json.
struct version_fields {
  std::string name;                // package name as displayed (Version::getName()); the key uses it lower-cased
  std::string version;             // pretty version, e.g. "v1.2.0" or "dev-main"
  std::string version_normalized;  // e.g. "1.2.0.0" or "dev-main"
  std::string reference;           // dist reference (commit or content id)
  std::string dist_type;           // "zip"; empty = no dist ("dist": null, as Packagist)
  std::string dist_url;
  std::string dist_shasum;         // hex SHA-1 of the archive, or "" (Composer: don't check)
  std::string time;                // ISO 8601 ("2026-11-29T01:02:03+00:00") or empty (no "time" key)
};

// One p2 version object: the keys of Version::toArray($versionData, true) + toV2Array's sorting, in
// that order, with values normalised the way Composer's ArrayLoader and Packagist's Updater do before
// storing them. `source` is omitted (artifact uploads have no VCS). See p2_builder.cpp for each key.
// The rules read the composer.json through a json_view (core/json_view.h: simdjson's DOM, no tree of
// it); the json overload writes its tree out and reads it so (uploads, tests).
[[nodiscard]] json version_entry(json_view composer_json, const version_fields& f);
[[nodiscard]] json version_entry(const json& composer_json, const version_fields& f);

// Whether a normalized version is a dev branch (VersionParser::parseStability(...) === 'dev' for the
// normalized forms: "dev-*" or "*-dev", ignoring a "#ref" suffix). Such versions go to <name>~dev.json.
[[nodiscard]] bool is_dev_version(std::string_view version_normalized);

struct p2_documents {
  std::string tagged;  // body of p2/<name>.json
  std::string dev;     // body of p2/<name>~dev.json
};

// Splits `entries` (version_entry objects, already in Packagist's dump order) by is_dev_version of
// their "version_normalized", minifies each list and serializes
// {"minified":"composer/2.0","packages":{"<lower-cased name>":[...]}} like V2Dumper. An empty list
// gives "packages":{"<name>":[]}. Packagist's "security-advisories" key (tagged file) is not written:
// this repository has no advisory data, and an empty list would claim there are none.
[[nodiscard]] p2_documents build_p2(std::string_view package_name, const std::vector<json>& entries);

// build_p2 one version at a time: add() the entries in dump order, then finish(). Each entry is
// encoded once, minified against the previous one of its list on the encoded values and appended to
// its document, so memory is the two documents plus one version (build_p2 is this loop).
class p2_writer {
 public:
  explicit p2_writer(std::string_view package_name);
  p2_writer(const p2_writer&) = delete;
  p2_writer& operator=(const p2_writer&) = delete;
  ~p2_writer();
  void add(const json& entry);
  [[nodiscard]] p2_documents finish() &&;

  // Whether add() puts `entry` into the ~dev document (by its "version_normalized").
  [[nodiscard]] static bool goes_to_dev(const json& entry);

  // Splicing one version in front of a written list, without the rest of it: `entries` is the text of
  // a non-empty list as add() wrote it, after its '[' ("<first>,<second diff>,...]}}"), and `first` the
  // entry it opens with. Returns that text with `entry` written whole first and `first` as its diff,
  // the rest copied: what add()-ing entry, first, second... writes. Nullopt when that cannot be told
  // from the two entries (the text does not open with `first` written whole, or the minifier's state
  // after `first` differs from what it was with `first` whole, so later diffs could change).
  [[nodiscard]] static std::optional<std::string> prepend(const json& entry, const json& first, std::string_view entries);

 private:
  struct list;
  std::unique_ptr<list> tagged_, dev_;
};

// json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) of the PHP array that
// json_decode($json, true) would give: objects whose keys are exactly "0".."n-1" (including empty ones)
// become lists, floats print like PHP (serialize_precision -1: 1.0 -> 1, 1e25 -> 1.0e+25), U+2028 and
// U+2029 are escaped, '/' and other UTF-8 are not.
[[nodiscard]] std::string packagist_json_encode(const json& value);

}  // namespace pb::composer
