// Packagist's field rules as version_entry (p2_builder.cpp) calls them, one member of a version at a
// time: each writes that member's json_encode text straight into the entry through `entry_out`
// (keywords, license, authors, the link lists, suggest, support, and the members passed through:
// autoload, extra, include-path). Made in p2_fields.cpp, split from p2_builder.cpp along the seam
// between the rules and the entry they fill; the rules' own rare paths are in packagist_rules.cpp.
// Internal to src/composer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "composer/p2_builder.h"
#include "composer/p2_encode.h"
#include "composer/packagist_rules.h"
#include "core/json_view.h"

namespace pb::composer::detail {

// Whether filterUrl keeps `url` as it is: a clean http(s) URL (its scheme is what parse_url reads, and
// sanitize has nothing to remove). Most homepages and support links are: no copy for them.
inline bool kept_url(sv url) {
  return (url.starts_with("https://") || url.starts_with("http://")) && sanitize_keeps(url);
}

// encode_string(sanitize(s)) without a copy when there is nothing to remove.
inline void put_clean(std::string& out, sv s) {
  if (sanitize_keeps(s))
    encode_string(out, s);
  else
    encode_string(out, sanitize(s));
}

// Writes members into an encoded_entry: begin(key) ... end() around each member's value text.
class entry_out {
 public:
  explicit entry_out(encoded_entry& e) : e_(e) {}
  std::string& text() { return e_.text; }
  void begin(sv key) {
    const std::uint32_t k = at();
    e_.text.append(key);
    e_.members.push_back({k, at(), at(), 0, -1});
  }
  void end() { e_.members.back().end = at(); }
  void drop(std::size_t text_size) {  // undoes the last begin(), which started at `text_size`
    e_.members.pop_back();
    e_.text.resize(text_size);
  }
  void string(sv key, sv value) {
    begin(key);
    encode_string(e_.text, value);
    end();
  }
  void clean(sv key, sv value) {
    begin(key);
    put_clean(e_.text, value);
    end();
  }
  void raw(sv key, sv text) {
    begin(key);
    e_.text.append(text);
    end();
  }
  void tree(sv key, const json& v) {
    begin(key);
    detail::encode_value(e_.text, v);
    end();
    if (detail::holds_double(v)) {
      e_.members.back().tree = static_cast<int>(e_.trees.size());
      e_.trees.push_back(v);
    }
  }

 private:
  std::uint32_t at() const { return static_cast<std::uint32_t>(e_.text.size()); }
  encoded_entry& e_;
};

// The rules: each reads its member of the composer.json `cj` and writes it into the entry (or nothing
// when the version has none, unless a rule says otherwise). `self_lower`: the package's name
// lower-cased (links to the package itself are dropped); `pretty_version` replaces suggest's
// "self.version" reasons.
void keywords_of(std::string& out, json_view cj);  // the list's text only: the caller writes the key
void license_of(std::string& out, json_view cj);   // the same
void authors_of(std::string& out, json_view cj);   // the same
void links_of(entry_out& o, json_view cj, sv type, sv self_lower);
bool suggest_of(entry_out& o, json_view cj, sv pretty_version);  // true: a reason became pretty_version
// support written straight from the parse when filterSupportUrls keeps it whole; false, with nothing
// written, otherwise (support_of decides).
bool support_plain(entry_out& o, json_view cj);
// autoload, extra, include-path: kept with their string leaves sanitized; `text` (the member's text in
// the composer.json, when known) copied as it is when that is already the result.
void passed_through(entry_out& o, sv key, json_view v, std::optional<sv> text);

}  // namespace pb::composer::detail
