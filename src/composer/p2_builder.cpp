#include "composer/p2_builder.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "composer/minifier.h"
#include "composer/p2_encode.h"
#include "composer/p2_fields.h"
#include "composer/packagist_rules.h"
#include "core/json_view.h"

// The version objects (p2_builder.h): version_entry calls the field rules (p2_fields.cpp) member by
// member, in Version::toArray's order.
namespace pb::composer {

namespace {

using sv = std::string_view;
using detail::ascii_lower;
using detail::bin_of;
using detail::encode_string;
using detail::entry_out;
using detail::filter_url;
using detail::funding_of;
using detail::is_container;
using detail::kept_url;
using detail::php_ext_of;
using detail::put_clean;
using detail::sanitize;
using detail::support_of;

// Where each key of text_keys is in member_texts::at and entry_memo.
enum key : std::size_t { autoload, extra, include_path, require, require_dev, suggest, keywords, authors };
static_assert(text_keys[autoload] == passed_through_keys[0] && text_keys[extra] == passed_through_keys[1] &&
              text_keys[include_path] == passed_through_keys[2] && text_keys[require] == "require" &&
              text_keys[require_dev] == "require-dev" && text_keys[suggest] == "suggest" &&
              text_keys[keywords] == "keywords" && text_keys[authors] == "authors" && std::size(text_keys) == authors + 1);

bool same_text(const std::optional<sv>& a, const std::optional<sv>& b) {
  if (!a || !b) return !a && !b;
  return detail::same_bytes(*a, *b);  // lengths first
}

// Appends members [first, end) of `from` to `e` (they are contiguous in its text), with their trees.
void copy_members(encoded_entry& e, const encoded_entry& from, std::uint32_t first, std::uint32_t end) {
  if (first == end) return;
  const std::uint32_t begin = from.members[first].key_begin, stop = from.members[end - 1].end;
  const auto at = static_cast<std::uint32_t>(e.text.size());
  e.text.append(from.text, begin, stop - begin);
  for (std::uint32_t i = first; i < end; ++i) {
    encoded_entry::member m = from.members[i];
    m.key_begin = m.key_begin - begin + at;
    m.key_end = m.key_end - begin + at;
    m.begin = m.begin - begin + at;
    m.end = m.end - begin + at;
    if (m.tree >= 0) {
      e.trees.push_back(from.trees[static_cast<std::size_t>(m.tree)]);
      m.tree = static_cast<int>(e.trees.size() - 1);
    }
    e.members.push_back(m);
  }
}

// entry_memo as one version_entry uses it (none: every rule runs).
class memo_use {
 public:
  memo_use(entry_memo* memo, const member_texts& texts, bool known, sv name) : memo_(memo), texts_(texts), known_(known) {
    // The same answer the caller had before the parse (copied_keys): it may have blanked these values.
    if (memo_ && known_)
      copies_ = memo_->planned_texts == &texts && memo_->planned_name == name ? memo_->planned_keys
                                                                              : copied_keys(*memo_, texts, name);
    if (memo_) memo_->planned_texts = nullptr;
  }
  // Writes key k's members: the previous entry's when its text is the previous version's and what its
  // rule wrote then may be reused, else what `rule` writes (it answers whether that may be reused). One
  // call of the rule (a rule inlined twice, with and without a memo, cost 0.7 KB of the module).
  template <class Rule>
  void keyed(key k, encoded_entry& e, Rule&& rule) {
    const auto first = static_cast<std::uint32_t>(e.members.size());
    const bool reusable = copied(k, e) || rule();
    wrote(k, e, first, reusable);
  }
  bool copied(key k, encoded_entry& e) {
    if (!(copies_ >> k & 1u)) return false;
    const entry_memo::span& s = memo_->spans[k];
    copy_members(e, memo_->entries[memo_->current ^ 1u], s.first, s.end);
    return true;
  }
  void wrote(key k, const encoded_entry& e, std::uint32_t first, bool reusable) {
    if (!memo_) return;
    memo_->spans[k] = {first, static_cast<std::uint32_t>(e.members.size()), reusable};
    memo_->texts[k] = texts_.at[k];
  }
  void done(sv name) {
    if (!memo_) return;
    memo_->known = known_;
    if (memo_->name != name || memo_->name_lower.size() != name.size()) {
      memo_->name = name;
      memo_->name_lower = ascii_lower(name);
    }
  }
  // ascii_lower(name): the memo's when it holds this name's (else computed into `own`).
  sv lower_name(sv name, std::string& own) const {
    if (memo_ && memo_->name == name && memo_->name_lower.size() == name.size()) return memo_->name_lower;
    own = ascii_lower(name);
    return own;
  }

 private:
  entry_memo* memo_;
  const member_texts& texts_;
  bool known_;
  unsigned copies_ = 0;  // copied_keys
};

// version_entry into `e`; with a memo, `e` is its current entry.
void write_entry(json_view cj, const member_texts& texts, const version_fields& f, encoded_entry& e, entry_memo* memo);

}  // namespace

unsigned copied_keys(entry_memo& memo, const member_texts& texts, sv name) {
  unsigned keys = 0;
  // Only after a version whose texts were scanned and which parsed, under the same name (self links).
  if (texts.scanned && memo.known && memo.name == name)
    for (std::size_t k = 0; k < std::size(text_keys); ++k)
      if (memo.spans[k].reusable && same_text(memo.texts[k], texts.at[k])) keys |= 1u << k;
  memo.planned_texts = &texts;
  memo.planned_name = name;
  memo.planned_keys = keys;
  return keys;
}

json encoded_entry::tree() const {
  json_object o;
  o.reserve(members.size());
  for (const member& m : members) {
    if (m.tree >= 0) {
      o.emplace_back(std::string(key(m)), trees[static_cast<std::size_t>(m.tree)]);
    } else {
      auto v = parse_json(value(m));  // the encoder's own text: valid JSON
      o.emplace_back(std::string(key(m)), v ? std::move(*v) : json());
    }
  }
  return json(std::move(o));
}

namespace {

void write_entry(json_view cj, const member_texts& texts, const version_fields& f, encoded_entry& e, entry_memo* memo) {
  // Keys in Version::toArray order. composer.json keys not listed are not part of Packagist's p2 output
  // and are dropped: version/name/time/dist/source (replaced by what the repository knows),
  // autoload-dev, minimum-stability, prefer-stable, repositories, config, scripts*, archive, readme,
  // non-feature-branches, notification-url, extra keys like "_comment".
  e.clear();
  entry_out o(e);
  std::string& out = o.text();
  // The keyed members' texts are this text's only when it was scanned and parsed.
  memo_use m(memo, texts, texts.scanned && cj.present(), f.name);
  // Most of the members looked up below are absent from most versions, and each lookup of one walked
  // every member: one walk over the keys instead, and no lookup of a key the filter rules out.
  const json_key_filter keys(cj);
  const auto member = [&](sv key) { return keys.may_have(key) ? cj[key] : json_view(); };
  o.string("name", f.name);
  const json_view descr = member("description");  // (string) of a sanitized non-empty string, else ""
  o.clean("description", descr.is_string() ? descr.as_string() : sv());
  m.keyed(keywords, e, [&] {
    o.begin("keywords");
    detail::keywords_of(out, cj);
    o.end();
    return true;
  });
  const json_view home = member("homepage");  // (string) filterUrl(): "" unless http(s)
  sv home_text = home.as_string();
  std::string home_url;
  if (!kept_url(home_text)) home_text = home_url = home.is_string() ? filter_url(home_text).value_or("") : std::string();
  o.string("homepage", home_text);
  o.clean("version", f.version);
  const std::string normalized = sanitize(f.version_normalized);
  o.string("version_normalized", normalized);
  e.dev = is_dev_version(normalized);
  o.begin("license");
  detail::license_of(out, cj);
  o.end();
  m.keyed(authors, e, [&] {
    o.begin("authors");
    detail::authors_of(out, cj);
    o.end();
    return true;
  });
  // "source": Packagist writes the VCS source (or null); artifact uploads have none, so it is omitted.
  o.begin("dist");
  if (f.dist_type.empty()) {
    out += "null";
  } else {
    out += "{\"type\":";
    put_clean(out, f.dist_type);
    out += ",\"url\":";
    put_clean(out, f.dist_url);
    out += ",\"reference\":";
    encode_string(out, f.reference);
    out += ",\"shasum\":";
    encode_string(out, f.dist_shasum);
    out += '}';
  }
  o.end();
  // type: ArrayLoader lower-cases it and defaults to "library"; the Updater stores it only when truthy
  // (else the column stays null).
  if (const json_view t = member("type"); !t.is_string()) {
    o.raw("type", "\"library\"");
  } else if (const std::string lower = ascii_lower(t.as_string()); lower.empty() || lower == "0") {
    o.raw("type", "null");
  } else {
    o.clean("type", lower);
  }
  if (!detail::support_plain(o, cj))
    if (auto s = support_of(cj)) o.tree("support", *s);
  if (keys.may_have("php-ext"))
    if (auto p = php_ext_of(cj)) o.tree("php-ext", *p);
  if (keys.may_have("funding"))
    o.tree("funding", funding_of(cj));
  else
    o.raw("funding", "[]");  // funding_of without "funding": an empty list
  if (!f.time.empty()) o.string("time", f.time);

  const auto pass_through = [&](key k) {  // written when a non-empty array or object
    return [&o, &texts, &member, k] {
      if (const json_view v = member(text_keys[k]); is_container(v) && v.size() > 0)
        detail::passed_through(o, text_keys[k], v, texts.at[k]);
      return true;
    };
  };
  m.keyed(autoload, e, pass_through(autoload));
  m.keyed(extra, e, pass_through(extra));
  if (const json_view t = member("target-dir"); t.is_string() && php_truthy(t)) {
    std::string dir = sanitize(t.as_string());
    if (php_truthy(json(dir))) o.string("target-dir", dir);
  }
  m.keyed(include_path, e, pass_through(include_path));
  if (keys.may_have("bin"))
    if (auto b = bin_of(cj)) o.tree("bin", *b);
  // default-branch: set by the VCS driver on Packagist; ArrayLoader reads "default-branch": true.
  if (const json_view db = member("default-branch"); db.is_bool() && db.as_bool()) o.raw("default-branch", "true");

  std::string own_lower;
  const sv self_lower = m.lower_name(f.name, own_lower);
  const auto links_if = [&](sv type) {
    if (keys.may_have(type)) detail::links_of(o, cj, type, self_lower);
  };
  const auto links = [&](key k) {
    return [&links_if, k] {
      links_if(text_keys[k]);
      return true;
    };
  };
  m.keyed(require, e, links(require));
  m.keyed(require_dev, e, links(require_dev));
  // A reason "self.version" became this version: not for the next one.
  m.keyed(suggest, e, [&] { return !keys.may_have("suggest") || !detail::suggest_of(o, cj, f.version); });
  links_if("conflict");
  links_if("provide");
  links_if("replace");

  // abandoned: a package-level flag on Packagist (getReplacementPackage() ?: true); here it comes from
  // this version's composer.json as ArrayLoader reads it (true, or a replacement name; "" means true).
  if (const json_view ab = member("abandoned"); ab.is_bool() && ab.as_bool()) {
    o.raw("abandoned", "true");
  } else if (ab.is_string()) {
    const std::string replacement = sanitize(ab.as_string());
    if (replacement.empty())
      o.raw("abandoned", "true");
    else
      o.string("abandoned", replacement);
  }
  m.done(f.name);
}

}  // namespace

void version_entry(json_view cj, const member_texts& texts, const version_fields& f, encoded_entry& e) {
  write_entry(cj, texts, f, e, nullptr);
}

const encoded_entry& version_entry(json_view cj, const member_texts& texts, const version_fields& f, entry_memo& memo) {
  memo.current ^= 1u;
  encoded_entry& e = memo.entries[memo.current];
  write_entry(cj, texts, f, e, &memo);
  return e;
}

json version_entry(json_view cj, const version_fields& f) {
  encoded_entry e;
  version_entry(cj, member_texts{}, f, e);
  return e.tree();
}

json version_entry(const json& composer_json, const version_fields& f) {
  // The rules read a view: a tree is written out and parsed again (uploads and tests; the mirror's rows
  // are parsed straight into a view, storage/packages.cpp). No text given: every member is encoded
  // from the view (the differential test holds the mirror's pass-through against this).
  auto view = parse_view(composer_json.dump());
  return version_entry(view ? *view : json_view(), f);
}

bool is_dev_version(std::string_view v) {
  if (const std::size_t hash = v.find('#'); hash != std::string_view::npos && hash + 1 < v.size())
    v = v.substr(0, hash);  // preg_replace('{#.+$}', '')
  return v.substr(0, 4) == "dev-" || (v.size() >= 4 && v.substr(v.size() - 4) == "-dev");
}

}  // namespace pb::composer
