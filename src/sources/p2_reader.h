// Reading one package's versions out of an upstream p2 document without holding the document's tree:
// the document is split into its version entries by a small structural scanner, which reads each entry's
// members as strict JSON (simdjson checks an entry it cannot vouch for), and each entry is expanded
// (Composer's MetadataMinifier::expand) on its members' own text, so a version
// is a list of (key, text of the value) pointing into the document, handed to the caller before the
// next one is read; a tree is built only when asked for. Memory: the document's text plus one version.
// What a packagist mirror reads (sources/packagist.cpp); the benchmark's mirror rewrite measures it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "composer/minifier.h"
#include "core/json.h"
#include "core/result.h"

namespace pb::sources {

// Which lists of a package a reader takes when "packages" has several keys for it (case variants):
// every one that is a list, in order (sources::mirror_package), or only the last key, ignored when it
// is not a list (Composer's repository reader, sources/composer_repo).
enum class p2_lists { every, last };

// A place of a string in a version: a member (`inner` empty), or a member of that member's object.
struct string_place {
  std::string_view member, inner = {};
};

// A top-level member's value as the document wrote it (valid JSON: its entry was checked whole).
struct member_text {
  std::string_view text;
  // Whether `text` is what json::dump() writes for its value (is_dump_form): -1 until asked, then kept
  // for as long as the member stays in the expanded state.
  mutable std::int8_t dumped = -1;
  bool dump_form() const {
    if (dumped < 0) dumped = is_dump_form(text) ? 1 : 0;
    return dumped == 1;
  }
  // The value as a tree (parse_json cannot refuse it: see read_p2_versions).
  json tree() const;
};

// A version's members as text (keys decoded, values as the document wrote them). Keys are views: into
// the document, or, for a key written with escapes, into its decoded copy kept by the reader for the
// whole read (an owned key was an allocation per member of every entry: libc++'s inline buffer holds 10
// bytes in wasm32, shorter than "version_normalized").
using text_members = composer::member_list<member_text, std::string_view>;

// One expanded version: its members as text (in the order expand() gives them, duplicates kept), or,
// for a list the text path does not follow (an entry that is not an object, or of more than a
// megabyte), a tree. tree() is the same value either way.
class p2_version {
 public:
  explicit p2_version(const text_members* members) : members_(members) {}
  explicit p2_version(const json* tree) : tree_(tree) {}
  const text_members* members() const { return members_; }
  const json& tree() const;

  // The most places strings_at reads in one call (a bit each in its result).
  static constexpr std::size_t max_places = 32;
  // For a version read as text (members() set): the string at each of `places` into `out`, as json's
  // operator[] then as_string read it from tree() (the first of duplicate keys; a member that is not an
  // object has no inner members), read from the members' text without a tree; bit i of the result:
  // place i holds a string (else out[i] is left as it was). More than max_places does not compile.
  template <std::size_t N>
    requires(N <= max_places)
  std::uint32_t strings_at(const string_place (&places)[N], std::string (&out)[N]) const {
    return strings_at(std::span<const string_place>(places), std::span<std::string>(out));
  }
  // For a version read as text: the version's JSON without the first member named by each of `keys`,
  // as json_writer writes the tree's (each member's own text where it is that form, is_dump_form; else
  // its tree dumped).
  std::string without(std::span<const std::string_view> keys) const;

 private:
  std::uint32_t strings_at(std::span<const string_place> places, std::span<std::string> out) const;

  const text_members* members_ = nullptr;
  const json* tree_ = nullptr;
  mutable std::optional<json> built_;
};

// Calls `each` with every version of `name` (lower-case) in `doc`, in the document's order: the
// entries of the keys of "packages" whose lower-cased form is `name` (see p2_lists), expanded when
// "minified" is "composer/2.0". Each version is valid during its call only; `each`
// returns false to stop. An error (bad_request) when the document is not a JSON object, is not valid
// UTF-8, is structurally broken (unbalanced, a missing separator), or when a part that is read (a key,
// "minified", a version entry) is not valid JSON. Values that are not read (other keys, other packages)
// are only scanned for their extent, not validated: see docs/PERFORMANCE.md.
result<std::monostate> read_p2_versions(std::string_view doc, std::string_view name,
                                        const std::function<bool(const p2_version&)>& each,
                                        p2_lists which = p2_lists::every);

}  // namespace pb::sources
