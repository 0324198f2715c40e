// Packagist-shaped p2 documents for one package: `version_entry` (one version object, as Packagist's
// App\Entity\Version::toV2Array emits it, from a composer.json and the fields the repository knows),
// `build_p2` (the <name>.json and <name>~dev.json pair, as App\Package\V2Dumper::dumpVersionsToV2File
// writes them; `p2_writer` one version at a time) and `packagist_json_encode` (PHP's json_encode with
// JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE). Pure. Sorting the versions is the caller's job
// (versions/sort.h). The version objects are made in p2_builder.cpp, member by member through the
// field rules in p2_fields.cpp (their rare paths in packagist_rules.cpp); the documents are written in
// p2_writer.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <iterator>
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

// One p2 version object as the text json_encode writes for each of its top-level members, in order
// (`version_entry` writes it; `p2_writer::add` minifies and appends it without a tree). Keys and values
// are spans of one buffer, reused from version to version (clear() keeps the capacity). A member whose
// value holds a float also keeps its tree: the minifier compares those as trees (1.0 encodes as 1).
struct encoded_entry {
  struct member {
    std::uint32_t key_begin, key_end, begin, end;
    int tree;  // index into `trees`, or -1
  };
  std::string text;
  std::vector<member> members;
  std::vector<json> trees;
  bool dev = false;  // is_dev_version of its "version_normalized": it goes to the ~dev document

  std::string_view key(const member& m) const { return std::string_view(text).substr(m.key_begin, m.key_end - m.key_begin); }
  std::string_view value(const member& m) const { return std::string_view(text).substr(m.begin, m.end - m.begin); }
  void clear() {
    text.clear();
    members.clear();
    trees.clear();
    dev = false;
  }
  // The entry as a tree (what parse_json of its text gives, floats from their trees).
  [[nodiscard]] json tree() const;
};

// One p2 version object: the keys of Version::toArray($versionData, true) + toV2Array's sorting, in
// that order, with values normalised the way Composer's ArrayLoader and Packagist's Updater do before
// storing them. `source` is omitted (artifact uploads have no VCS). See p2_builder.cpp for each key.
// The rules read the composer.json through a json_view (core/json_view.h: simdjson's DOM, no tree of
// it); the json overload writes its tree out and reads it so (uploads, tests).
// The rules write each member's encoded text into `out` (cleared first). `texts`: the texts of some
// top-level members in the text `composer_json` was parsed from (`text_keys`, the first of each). The
// members the rules pass through unchanged (the first three keys; nullopt: absent or not known) are
// copied as they are when they are already in json_encode's form; the others are entry_memo's keys
// (below). The caller finds them (the rebuild reads them in the walk that reads the dump order's fields).
inline constexpr std::string_view text_keys[] = {"autoload", "extra",    "include-path", "require",
                                                 "require-dev", "suggest", "keywords",   "authors"};
inline constexpr std::string_view passed_through_keys[] = {"autoload", "extra", "include-path"};
struct member_texts {
  std::array<std::optional<std::string_view>, std::size(text_keys)> at{};
  bool scanned = false;  // `at` holds every key's text (nullopt: absent); else only what is known
};
void version_entry(json_view composer_json, const member_texts& texts, const version_fields& f, encoded_entry& out);
[[nodiscard]] json version_entry(json_view composer_json, const version_fields& f);
[[nodiscard]] json version_entry(const json& composer_json, const version_fields& f);

// What version_entry keeps from one version to the next when a caller writes the versions of one
// package in a row. Consecutive versions mostly repeat their members, and the members keyed here
// (text_keys) are encoded from their own value alone (and the package's name; suggest from the pretty
// version too when a reason is "self.version"): one whose text is byte for byte the previous
// version's is copied from the previous entry instead of encoded again. A miss costs a length compare
// (a memcmp when the lengths match). The previous version's texts must stay valid while the memo is
// used (the rows of one rebuild). version_entry's own state; a new memo knows nothing.
struct entry_memo {
  struct span {
    std::uint32_t first = 0, end = 0;  // the members a key wrote in the previous entry
    bool reusable = false;
  };
  encoded_entry entries[2];  // this version's and the previous one's, alternately
  unsigned current = 0;
  bool known = false;  // the previous version's texts were scanned
  std::string name;    // the package name it was written for
  std::string name_lower;  // ascii_lower(name), once per name rather than once per version
  std::array<std::optional<std::string_view>, std::size(text_keys)> texts{};
  std::array<span, std::size(text_keys)> spans{};
  // copied_keys' last answer, which version_entry takes for the same texts (object) and name.
  const void* planned_texts = nullptr;
  std::string_view planned_name;
  unsigned planned_keys = 0;
};
// version_entry into one of the memo's entries (which it returns), copying the members whose text is
// the previous version's.
const encoded_entry& version_entry(json_view composer_json, const member_texts& texts, const version_fields& f,
                                   entry_memo& memo);
// The keys (bit k for text_keys[k]) whose members the next version_entry copies for a version of
// these texts and that name, if its composer.json parses (else none): their rules do not read the
// composer.json then, so the caller may parse it with those values blanked (parse_view's `blank`).
// Kept in the memo: version_entry with the same `texts` object and name compares no text again.
unsigned copied_keys(entry_memo& memo, const member_texts& texts, std::string_view name);

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
  void add(const encoded_entry& entry);
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
  [[nodiscard]] static std::optional<std::string> prepend(const encoded_entry& entry, const encoded_entry& first,
                                                          std::string_view entries);

 private:
  template <class Entry>
  static std::optional<std::string> prepend_any(const Entry& entry, const Entry& first, std::string_view entries);
  struct list;
  std::unique_ptr<list> tagged_, dev_;
};

// json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) of the PHP array that
// json_decode($json, true) would give: objects whose keys are exactly "0".."n-1" (including empty ones)
// become lists, floats print like PHP (serialize_precision -1: 1.0 -> 1, 1e25 -> 1.0e+25), U+2028 and
// U+2029 are escaped, '/' and other UTF-8 are not.
[[nodiscard]] std::string packagist_json_encode(const json& value);

}  // namespace pb::composer
