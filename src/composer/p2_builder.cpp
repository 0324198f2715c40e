#include "composer/p2_builder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <utility>

#include "composer/minifier.h"
#include "composer/p2_encode.h"
#include "composer/packagist_rules.h"
#include "core/json_view.h"
#include "core/text.h"

namespace pb::composer {

namespace {

using sv = std::string_view;

// Rules for members most versions lack or have in a form the fast paths take, built as json trees:
// out of line and small (inlined at -O2 they made version_entry 20 KB for no measurable speed).
#define PB_RARE [[gnu::noinline, clang::minsize]]

// ---------------------------------------------------------------------------------------------------
// PHP helpers (the rare rules and the string rules they share: packagist_rules.h)

using detail::ascii_lower;
using detail::bin_of;
using detail::filter_url;
using detail::funding_of;
using detail::is_container;
using detail::php_ext_of;
using detail::rewrite_stability_flags;
using detail::sanitize;
using detail::sanitize_keeps;
using detail::sanitize_leaves;
using detail::sanitized;
using detail::support_of;


// PHP trim() with its default character list " \n\r\t\v\0".
sv php_trim(sv s) {
  constexpr sv ws(" \n\r\t\v\0", 6);
  const std::size_t b = s.find_first_not_of(ws);
  if (b == sv::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}



// Whether filterUrl keeps `url` as it is: a clean http(s) URL (its scheme is what parse_url reads, and
// sanitize has nothing to remove). Most homepages and support links are: no copy for them.
bool kept_url(sv url) {
  return (url.starts_with("https://") || url.starts_with("http://")) && sanitize_keeps(url);
}

// The filter for objects whose keys are mostly distinct (a version's dozen links or more made the search
// for a duplicate quadratic: 2.7% of a mirror rewrite): `seen` (0 while the object is empty) holds a bit
// for each key's length and a few of its bytes (the last two tell "vendor/pkg-1" from "-2" and "-12");
// false when `key`'s bit is still clear: it is not in the object, no search needed.
bool maybe_seen(sv key, std::uint64_t& seen) {
  const std::size_t n = key.size();
  const auto at = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(key[i])); };
  const unsigned h = n < 2 ? static_cast<unsigned>(n) * 31u + (n ? at(0) : 0u)
                           : static_cast<unsigned>(n) + 3u * at(n - 1) + 17u * at(n - 2) + 5u * at(n / 2);
  const std::uint64_t bit = std::uint64_t{1} << (h & 63);
  const bool search = (seen & bit) != 0;
  seen |= bit;
  return search;
}










// ---------------------------------------------------------------------------------------------------
// Writing members (the rules below write each member's json_encode text straight into the entry)

using detail::encode_string;

// encode_string(sanitize(s)) without a copy when there is nothing to remove.
void put_clean(std::string& out, sv s) {
  if (sanitize_keeps(s))
    encode_string(out, s);
  else
    encode_string(out, sanitize(s));
}

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

// A string the rules keep either as a view (of the composer.json's parse or of the fields) or, when
// they changed it, as their own copy.
struct kept_text {
  sv view;
  std::string own;
  bool owned = false;
  sv get() const { return owned ? sv(own) : view; }
  void set(sv v) {
    view = v;
    owned = false;
  }
  void set(std::string s) {
    own = std::move(s);
    owned = true;
  }
  void set_clean(sv v) {  // sanitize(v)
    if (sanitize_keeps(v))
      set(v);
    else
      set(sanitize(v));
  }
};
struct kept_pair {
  kept_text key, value;
};

// assign() over kept pairs, with its filter.
void assign_pair(std::vector<kept_pair>& o, kept_pair p, std::uint64_t& seen) {
  const sv key = p.key.get();
  if (maybe_seen(key, seen))
    for (kept_pair& q : o)
      if (q.key.get() == key) {
        q.value = std::move(p.value);
        return;
      }
  o.push_back(std::move(p));
}

// A PHP array of strings: a list when its keys are "0".."n-1" (json_encode writes it as one).
void put_pairs(std::string& out, const std::vector<kept_pair>& pairs) {
  bool list = true;
  for (std::size_t i = 0; i < pairs.size() && list; ++i) list = pairs[i].key.get() == std::to_string(i);
  out += list ? '[' : '{';
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i) out += ',';
    if (!list) {
      encode_string(out, pairs[i].key.get());
      out += ':';
    }
    encode_string(out, pairs[i].value.get());
  }
  out += list ? ']' : '}';
}

bool ascii_iequal(sv a, sv b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (pb::ascii_lower(a[i]) != pb::ascii_lower(b[i])) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Fields

// keywords: ArrayLoader keeps a non-empty array (strval of each); the Updater sanitizes, drops "",
// and dedupes by mb_strtolower (the last spelling wins, at the first one's place). Case folding here
// is ASCII only.
void keywords_of(std::string& out, json_view cj) {
  const json_view kw = cj["keywords"];
  std::vector<kept_text> seen;  // spellings, by the place of their first lower-cased form
  if (is_container(kw) && kw.size() > 0) {
    kw.each_view([&](sv, json_view k) {
      kept_text s;
      if (k.is_string()) {
        s.set_clean(k.as_string());
      } else if (k.is_integer()) {
        s.set(std::to_string(k.as_int()));
      } else if (k.is_bool()) {
        s.set(sv(k.as_bool() ? "1" : ""));
      } else {
        return;  // strval() of an array/null would be "Array"/"": not a keyword
      }
      if (s.get().empty()) return;
      for (kept_text& t : seen)
        if (ascii_iequal(t.get(), s.get())) {
          t = std::move(s);
          return;
        }
      seen.push_back(std::move(s));
    });
  }
  out += '[';
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (i) out += ',';
    encode_string(out, seen[i].get());
  }
  out += ']';
}

// license: ArrayLoader wraps a non-empty string in a list; the Updater sanitizes each entry.
void license_of(std::string& out, json_view cj) {
  const json_view l = cj["license"];
  out += '[';
  if (php_truthy(l)) {
    if (l.is_string()) {
      put_clean(out, l.as_string());
    } else {
      bool sep = false;
      l.each_view([&](sv, json_view e) {
        if (!e.is_string()) return;
        if (sep) out += ',';
        sep = true;
        put_clean(out, e.as_string());
      });
    }
  }
  out += ']';
}

// authors: the Updater keeps email/name/homepage/role (trimmed, sanitized, homepage through filterUrl,
// empty ones dropped), skips authors with neither email nor name; toArray orders the keys name, email,
// homepage, role (Version::sortAuthorKeys). An author left with nothing is an empty PHP array: [].
void authors_of(std::string& out, json_view cj) {
  const json_view a = cj["authors"];
  out += '[';
  bool sep = false;
  if (is_container(a)) {
    a.each_view([&](sv, json_view author) {
      if (!author.is_object()) return;
      const bool has_email = !author["email"].is_null(), has_name = !author["name"].is_null();
      if (!has_email && !has_name) return;
      if (sep) out += ',';
      sep = true;
      out += '{';
      bool any = false;
      for (sv field : {"name", "email", "homepage", "role"}) {
        const json_view v = author[field];
        if (!v.is_string()) continue;
        kept_text s;
        s.set_clean(v.as_string());
        sv t = php_trim(s.get());
        std::string url;
        if (field == "homepage" && !kept_url(t)) t = url = filter_url(t).value_or("");
        if (t.empty()) continue;
        if (any) out += ',';
        any = true;
        encode_string(out, field);
        out += ':';
        encode_string(out, t);
      }
      if (any) {
        out += '}';
      } else {
        out.back() = '[';
        out += ']';
      }
    });
  }
  out += ']';
}






// The Updater rewrites stability flags inside multi-constraints ("<2.0@dev,>=1.0" etc.):
// preg_replace '{([><]=?\s*[^@]+?)@([a-z]+)}i' with "$1" for "stable", else "$1-$2".
bool has_stability_flags(sv constraint) { return constraint.find(',') != sv::npos && constraint.find('@') != sv::npos; }

// require & co: ArrayLoader lower-cases targets, drops links to the package itself and keeps the
// pretty constraint ("self.version" stays as written); the Updater rewrites stability flags and
// sanitizes both sides. Non-string constraints (which Composer rejects) are skipped. Every version has
// a dozen links or more: targets and constraints stay views of the parse unless a rule changes them.
// This is the general path, out of line and small with its per-link lambda: links_of tries links_plain
// first, which takes the links of almost every version (0.11 KiB of the upload).
PB_RARE void links_general(entry_out& o, json_view l, sv type, sv self_lower, std::vector<kept_pair>& pairs) {
  pairs.clear();
  std::uint64_t seen = 0;
  const bool stable = l.stable_keys();
  l.each_view([&](sv target, json_view constraint) __attribute__((noinline, minsize)) {
    if (!constraint.is_string()) return;
    kept_pair p;
    bool upper = !stable;
    for (char c : target) upper = upper || (c >= 'A' && c <= 'Z');
    if (upper) {
      std::string lower(target);
      for (char& c : lower) c = pb::ascii_lower(c);
      if (lower == self_lower) return;
      p.key.set(sanitized(std::move(lower)));
    } else {
      if (target == self_lower) return;
      p.key.set_clean(target);
    }
    const sv c = constraint.as_string();
    if (has_stability_flags(c))
      p.value.set(sanitized(rewrite_stability_flags(c)));
    else
      p.value.set_clean(c);
    assign_pair(pairs, std::move(p), seen);
  });
  if (pairs.empty()) return;
  o.begin(type);
  put_pairs(o.text(), pairs);
  o.end();
}

// The links of an object whose targets are all lower-case, clean and distinct, none of them "0" first
// (so the kept links are those targets unchanged, in order, and json_encode writes an object): written
// straight into the entry in one pass. false, with nothing written, when the list is not such an object.
bool links_plain(entry_out& o, json_view l, sv type, sv self_lower, std::vector<sv>& targets) {
  if (!l.is_object()) return false;
  std::string& out = o.text();
  const std::size_t start = out.size();
  o.begin(type);
  out += '{';
  targets.clear();
  std::uint64_t seen = 0;
  bool plain = true;
  l.each_view([&](sv target, json_view constraint) {
    if (!plain || !constraint.is_string()) return;
    bool upper = false;  // strtolower would change it
    for (char c : target) upper = upper || (c >= 'A' && c <= 'Z');
    if (upper || !sanitize_keeps(target) || (targets.empty() && target == "0")) {
      plain = false;
      return;
    }
    if (target == self_lower) return;
    if (maybe_seen(target, seen))
      for (sv t : targets)
        if (t == target) {
          plain = false;
          return;
        }
    if (!targets.empty()) out += ',';
    targets.push_back(target);
    encode_string(out, target);
    out += ':';
    const sv c = constraint.as_string();
    if (has_stability_flags(c))
      encode_string(out, sanitized(rewrite_stability_flags(c)));
    else
      put_clean(out, c);
  });
  if (!plain || targets.empty()) {
    o.drop(start);
    return plain;
  }
  out += '}';
  o.end();
  return true;
}

void links_of(entry_out& o, json_view cj, sv type, sv self_lower, std::vector<kept_pair>& pairs,
              std::vector<sv>& targets) {
  const json_view l = cj[type];
  if (!is_container(l)) return;
  if (!links_plain(o, l, type, self_lower, targets)) links_general(o, l, type, self_lower, pairs);
}

// suggest: names keep their case; a reason of "self.version" becomes the pretty version (ArrayLoader).
void suggest_of(entry_out& o, json_view cj, sv pretty_version, std::vector<kept_pair>& pairs) {
  const json_view s = cj["suggest"];
  if (!is_container(s)) return;
  pairs.clear();
  std::uint64_t seen = 0;
  const bool stable = s.stable_keys();
  s.each_view([&](sv name, json_view reason) {
    if (!reason.is_string()) return;
    kept_pair p;
    if (stable)
      p.key.set_clean(name);
    else
      p.key.set(sanitize(name));
    p.value.set_clean(php_trim(reason.as_string()) == "self.version" ? pretty_version : reason.as_string());
    assign_pair(pairs, std::move(p), seen);
  });
  if (pairs.empty()) return;
  o.begin("suggest");
  put_pairs(o.text(), pairs);
  o.end();
}

// support: an object of at most eight distinct keys whose values kept_url keeps is what
// filterSupportUrls keeps whole (support_of, packagist_rules.cpp); toV2Array ksorts it (bytewise, as
// support_of: the keys are words). Written straight from the parse; false, with nothing written, for
// any other support (support_of decides).
bool support_plain(entry_out& o, json_view cj) {
  const json_view s = cj["support"];
  if (!s.is_object()) return false;
  std::array<std::pair<sv, sv>, 8> kept;
  std::size_t n = 0;
  bool plain = true;
  s.each_view([&](sv key, json_view v) {
    if (!plain) return;
    // A key starting with a lower-case letter is never PHP's integer key; whether it is a URL key or
    // not, filterSupportUrls keeps such a value as it is.
    plain = n < kept.size() && !key.empty() && key[0] >= 'a' && key[0] <= 'z' && kept_url(v.as_string());
    for (std::size_t i = 0; plain && i < n; ++i) plain = kept[i].first != key;
    if (!plain) return;
    std::size_t at = n++;  // insertion sort by key
    for (; at > 0 && kept[at - 1].first > key; --at) kept[at] = kept[at - 1];
    kept[at] = {key, v.as_string()};
  });
  if (!plain || n == 0) return false;
  std::string& out = o.text();
  o.begin("support");
  out += '{';
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    encode_string(out, kept[i].first);
    out += ':';
    encode_string(out, kept[i].second);
  }
  out += '}';
  o.end();
  return true;
}

// Whether a member the rules pass through (sanitize_leaves, then json_encode) is written exactly as
// `text`, its text in the composer.json: `text` in json::dump's form (no whitespace, integers only, the
// only escapes \" and \\, so no control character for sanitize to remove), no U+2028/U+2029
// (json_encode escapes them, dump does not), and no object json_encode writes as a list (an empty one
// or one whose first key is "0"). Anything else goes through the tree.
bool passes_through(sv text) {
  if (text.find("{}") != sv::npos || text.find("{\"0\":") != sv::npos) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size() || (text[i + 1] != '"' && text[i + 1] != '\\')) return false;
      ++i;
    } else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' && (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      return false;
    }
  }
  return is_dump_form(text);
}

// autoload, extra, include-path: kept with their string leaves sanitized (include-path's entries each,
// the same thing); copied from the composer.json's text when passes_through says that is the result.
PB_RARE void passed_through(entry_out& o, sv key, json_view v, std::optional<sv> text) {
  if (text && passes_through(*text)) {
    o.raw(key, *text);
    return;
  }
  json t = v.tree();
  sanitize_leaves(t);
  o.tree(key, t);
}

}  // namespace

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

void version_entry(json_view cj, const member_texts& texts, const version_fields& f, encoded_entry& e) {
  // Keys in Version::toArray order. composer.json keys not listed are not part of Packagist's p2 output
  // and are dropped: version/name/time/dist/source (replaced by what the repository knows),
  // autoload-dev, minimum-stability, prefer-stable, repositories, config, scripts*, archive, readme,
  // non-feature-branches, notification-url, extra keys like "_comment".
  e.clear();
  entry_out o(e);
  std::string& out = o.text();
  o.string("name", f.name);
  const json_view descr = cj["description"];  // (string) of a sanitized non-empty string, else ""
  o.clean("description", descr.is_string() ? descr.as_string() : sv());
  o.begin("keywords");
  keywords_of(out, cj);
  o.end();
  const json_view home = cj["homepage"];  // (string) filterUrl(): "" unless http(s)
  sv home_text = home.as_string();
  std::string home_url;
  if (!kept_url(home_text)) home_text = home_url = home.is_string() ? filter_url(home_text).value_or("") : std::string();
  o.string("homepage", home_text);
  o.clean("version", f.version);
  const std::string normalized = sanitize(f.version_normalized);
  o.string("version_normalized", normalized);
  e.dev = is_dev_version(normalized);
  o.begin("license");
  license_of(out, cj);
  o.end();
  o.begin("authors");
  authors_of(out, cj);
  o.end();
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
  if (const json_view t = cj["type"]; !t.is_string()) {
    o.raw("type", "\"library\"");
  } else if (const std::string lower = ascii_lower(t.as_string()); lower.empty() || lower == "0") {
    o.raw("type", "null");
  } else {
    o.clean("type", lower);
  }
  if (!support_plain(o, cj))
    if (auto s = support_of(cj)) o.tree("support", *s);
  if (auto p = php_ext_of(cj)) o.tree("php-ext", *p);
  o.tree("funding", funding_of(cj));
  if (!f.time.empty()) o.string("time", f.time);

  const json_view autoload = cj["autoload"], extra = cj["extra"], include_path = cj["include-path"];
  const bool has_autoload = is_container(autoload) && autoload.size() > 0;
  const bool has_extra = is_container(extra) && extra.size() > 0;
  const bool has_include_path = is_container(include_path) && include_path.size() > 0;
  if (has_autoload) passed_through(o, "autoload", autoload, texts[0]);
  if (has_extra) passed_through(o, "extra", extra, texts[1]);
  if (const json_view t = cj["target-dir"]; t.is_string() && php_truthy(t)) {
    std::string dir = sanitize(t.as_string());
    if (php_truthy(json(dir))) o.string("target-dir", dir);
  }
  if (has_include_path) passed_through(o, "include-path", include_path, texts[2]);
  if (auto b = bin_of(cj)) o.tree("bin", *b);
  // default-branch: set by the VCS driver on Packagist; ArrayLoader reads "default-branch": true.
  if (const json_view db = cj["default-branch"]; db.is_bool() && db.as_bool()) o.raw("default-branch", "true");

  const std::string self_lower = ascii_lower(f.name);
  thread_local std::vector<kept_pair> pairs;  // reused: a version has several link lists
  thread_local std::vector<sv> targets;
  links_of(o, cj, "require", self_lower, pairs, targets);
  links_of(o, cj, "require-dev", self_lower, pairs, targets);
  suggest_of(o, cj, f.version, pairs);
  links_of(o, cj, "conflict", self_lower, pairs, targets);
  links_of(o, cj, "provide", self_lower, pairs, targets);
  links_of(o, cj, "replace", self_lower, pairs, targets);

  // abandoned: a package-level flag on Packagist (getReplacementPackage() ?: true); here it comes from
  // this version's composer.json as ArrayLoader reads it (true, or a replacement name; "" means true).
  if (const json_view ab = cj["abandoned"]; ab.is_bool() && ab.as_bool()) {
    o.raw("abandoned", "true");
  } else if (ab.is_string()) {
    const std::string replacement = sanitize(ab.as_string());
    if (replacement.empty())
      o.raw("abandoned", "true");
    else
      o.string("abandoned", replacement);
  }
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
