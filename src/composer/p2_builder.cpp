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
#include "core/json_view.h"
#include "core/text.h"

namespace pb::composer {

namespace {

using sv = std::string_view;

// Rules for members most versions lack or have in a form the fast paths take, built as json trees:
// out of line and small (inlined at -O2 they made version_entry 20 KB for no measurable speed).
#define PB_RARE [[gnu::noinline, clang::minsize]]

// ---------------------------------------------------------------------------------------------------
// PHP helpers

std::string ascii_lower(sv s) {  // strtolower() (locale-insensitive since PHP 8.2)
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// PHP trim() with its default character list " \n\r\t\v\0".
sv php_trim(sv s) {
  constexpr sv ws(" \n\r\t\v\0", 6);
  const std::size_t b = s.find_first_not_of(ws);
  if (b == sv::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Whether json_decode(..., true) turns this object key into an integer key ("0", "12", "-3").
bool is_php_int_key(sv k) {
  sv digits = k;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 19) return false;
  if (digits.front() == '0' && (digits.size() > 1 || k.front() == '-')) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  if (digits.size() == 19) {  // must fit in int64
    const sv limit = k.front() == '-' ? "9223372036854775808" : "9223372036854775807";
    if (digits > limit) return false;
  }
  return true;
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

// $array[$key] = $value: replaces in place (a duplicate key keeps its first place) or appends.
void assign(json_object& o, std::string key, json value) {
  for (auto& kv : o) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  o.emplace_back(std::move(key), std::move(value));
}

template <class Value>
bool is_container(const Value& v) { return v.is_array() || v.is_object(); }

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Composer\IO\ConsoleIO::sanitize($s, false), which Packagist's Updater applies to stored strings:
// removes ANSI escape sequences (CSI "ESC [ params intermediates final", OSC "ESC ] ... (ESC \ | BEL)",
// any other "ESC <char>") and the control characters 0x01-0x1A (so newlines and tabs too).
bool sanitize_keeps(sv s) {  // sanitize(s) == s
  bool clean = true;
  for (char ch : s) clean = clean && !(static_cast<unsigned char>(ch) >= 0x01 && static_cast<unsigned char>(ch) <= 0x1B);
  return clean;
}

PB_RARE std::string sanitize(sv s) {
  // Most strings have nothing to remove: one copy, no per-byte appends.
  if (sanitize_keeps(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  const auto in = [&](std::size_t j, unsigned lo, unsigned hi) {
    return j < s.size() && static_cast<unsigned char>(s[j]) >= lo && static_cast<unsigned char>(s[j]) <= hi;
  };
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1B && i + 1 < s.size()) {
      if (s[i + 1] == '[') {  // CSI
        std::size_t j = i + 2;
        while (in(j, 0x30, 0x3F)) ++j;
        while (in(j, 0x20, 0x2F)) ++j;
        if (in(j, 0x40, 0x7E)) {
          i = j + 1;
          continue;
        }
      } else if (s[i + 1] == ']') {  // OSC, shortest match, '.' does not cross a newline
        std::size_t end = 0;
        for (std::size_t j = i + 2; j < s.size() && s[j] != '\n';) {
          if (s[j] == '\x1B' && j + 1 < s.size() && s[j + 1] == '\\') {
            end = j + 2;
            break;
          }
          if (s[j] == '\x07') {
            end = j + 1;
            break;
          }
          j += utf8_length(static_cast<unsigned char>(s[j]));
        }
        if (end) {
          i = end;
          continue;
        }
      }
      if (s[i + 1] != '\n') {  // ESC followed by any one character
        i += 1 + utf8_length(static_cast<unsigned char>(s[i + 1]));
        continue;
      }
    }
    if (c >= 0x01 && c <= 0x1A) {
      ++i;
      continue;
    }
    out += s[i++];
  }
  return out;
}

// sanitize() of a string the caller gives up: the same string when there is nothing to remove (no copy).
std::string sanitized(std::string s) { return sanitize_keeps(s) ? std::move(s) : sanitize(s); }

// array_walk_recursive($x, sanitizeStringLeaf): sanitizes string leaves, leaves keys alone.
PB_RARE void sanitize_leaves(json& v) {
  if (v.is_string()) {
    v = json(sanitize(v.as_string()));
  } else if (v.is_array()) {
    for (json& e : v.as_array()) sanitize_leaves(e);
  } else if (v.is_object()) {
    for (auto& kv : v.as_object()) sanitize_leaves(kv.second);
  }
}

// The scheme parse_url() would report, lower-cased; "" when it sees none ("host:8080" is a port).
PB_RARE std::string url_scheme(sv url) {
  const std::size_t colon = url.find(':');
  if (colon == sv::npos || colon == 0) return {};
  for (char c : url.substr(0, colon)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
                    c == '-' || c == '.';
    if (!ok) return {};
  }
  sv rest = url.substr(colon + 1);
  if (rest.substr(0, 2) != "//") {
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits > 0 && (digits == rest.size() || rest[digits] == '/')) return {};
  }
  return ascii_lower(url.substr(0, colon));
}

// Updater::filterUrl: null (nullopt) unless the scheme is allowed; "" stays "".
PB_RARE std::optional<std::string> filter_url(sv url, std::initializer_list<sv> allowed = {"http", "https"}) {
  if (url.empty()) return std::string();
  std::string clean = sanitize(url);
  if (clean.empty()) return clean;
  const std::string scheme = url_scheme(clean);
  for (sv a : allowed)
    if (scheme == a) return clean;
  return std::nullopt;
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
        if (field == "homepage") t = url = filter_url(t).value_or("");
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

// Stable sort of (key, value) pairs by key, bytewise: support's ksort, funding's type.url order and
// php-ext's configure-options by name all use this one instantiation (each lambda of its own made
// std::stable_sort's merge code once more: about 10 KB of the module).
void stable_sort_by_key(json_object& pairs) {
  std::stable_sort(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
}

// support: Updater::filterSupportUrls keeps string keys with string values (sanitized) and drops URL
// keys whose scheme is not allowed; toV2Array ksort()s it (bytewise here; PHP compares numeric-looking
// keys numerically). Emitted only when non-empty.
PB_RARE std::optional<json> support_of(json_view cj) {
  const json_view s = cj["support"];
  if (!s.is_object()) return std::nullopt;
  json_object out;
  s.each([&](std::string k, json_view v) {
    if (is_php_int_key(k) || !v.is_string()) return;
    std::string value = sanitize(v.as_string());
    bool keep = true;
    if (k == "issues" || k == "forum" || k == "wiki" || k == "source" || k == "docs" || k == "rss" ||
        k == "security")
      keep = filter_url(value).has_value();
    else if (k == "chat" || k == "irc")
      keep = filter_url(value, {"http", "https", "irc", "ircs"}).has_value();
    if (!keep) return;
    assign(out, std::move(k), json(std::move(value)));
  });
  if (out.empty()) return std::nullopt;
  stable_sort_by_key(out);
  return json(std::move(out));
}

// funding: CompletePackage defaults it to [], so Packagist always emits it. Updater::filterFundingUrls
// keeps array entries, with a string type (sanitized) and a string url that passes filterUrl;
// Version::getFundingSorted orders them by type.url (stable).
PB_RARE json funding_of(json_view cj) {
  const json_view f = cj["funding"];
  json_object entries;  // (type.url, entry)
  if (is_container(f) && f.size() > 0) {
    for (const json_view e : f.values()) {
      if (!is_container(e)) continue;
      json_object clean;
      const json_view type = e["type"];
      const json_view url = e["url"];
      if (type.is_string()) clean.emplace_back("type", json(sanitize(type.as_string())));
      if (url.is_string())
        if (auto u = filter_url(url.as_string())) clean.emplace_back("url", json(std::move(*u)));
      std::string key;
      for (const auto& kv : clean) key += kv.second.as_string();
      entries.emplace_back(std::move(key), json(std::move(clean)));
    }
  }
  stable_sort_by_key(entries);
  json_array out;
  for (auto& e : entries) out.push_back(std::move(e.second));
  return json(std::move(out));
}

// php-ext: stored when present (string leaves sanitized); toV2Array sorts configure-options by name.
PB_RARE std::optional<json> php_ext_of(json_view cj) {
  const json_view p = cj["php-ext"];
  if (!is_container(p)) return std::nullopt;
  json out = p.tree();
  sanitize_leaves(out);
  if (json* opts = out.find("configure-options"); opts && is_container(*opts)) {
    json_object by_name;
    const json& options = *opts;
    if (options.is_array())
      for (const json& o : options.as_array()) by_name.emplace_back(o["name"].as_string(""), o);
    else
      for (const auto& kv : options.as_object()) by_name.emplace_back(kv.second["name"].as_string(""), kv.second);
    stable_sort_by_key(by_name);
    json_array list;
    for (auto& e : by_name) list.push_back(std::move(e.second));
    *opts = json(std::move(list));
  }
  return out;
}

// bin: a string becomes a one-entry list; each entry ltrim'ed of '/' (ArrayLoader) and sanitized.
PB_RARE std::optional<json> bin_of(json_view cj) {
  const json_view b = cj["bin"];
  if (b.is_null()) return std::nullopt;
  json out;
  if (b.is_string()) {
    out = json(json_array{b.tree()});
  } else if (is_container(b)) {
    out = b.tree();
  } else {
    return std::nullopt;
  }
  auto fix = [](json& e) {
    if (!e.is_string()) return;
    sv s = e.as_string();
    while (!s.empty() && s.front() == '/') s.remove_prefix(1);
    e = json(sanitize(s));
  };
  if (out.is_array())
    for (json& e : out.as_array()) fix(e);
  else
    for (auto& kv : out.as_object()) fix(kv.second);
  if (!php_truthy(out)) return std::nullopt;
  return out;
}

// The Updater rewrites stability flags inside multi-constraints ("<2.0@dev,>=1.0" etc.):
// preg_replace '{([><]=?\s*[^@]+?)@([a-z]+)}i' with "$1" for "stable", else "$1-$2".
bool has_stability_flags(sv constraint) { return constraint.find(',') != sv::npos && constraint.find('@') != sv::npos; }
PB_RARE std::string rewrite_stability_flags(sv constraint) {
  std::string out;
  std::size_t i = 0;
  const auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  while (i < constraint.size()) {
    if (constraint[i] == '<' || constraint[i] == '>') {
      const std::size_t at = constraint.find('@', i + 1);
      if (at != sv::npos && at - i >= 2 && at + 1 < constraint.size() && is_alpha(constraint[at + 1])) {
        std::size_t end = at + 1;
        while (end < constraint.size() && is_alpha(constraint[end])) ++end;
        const sv group1 = constraint.substr(i, at - i), flag = constraint.substr(at + 1, end - at - 1);
        out += group1;
        if (flag != "stable") {
          out += '-';
          out += flag;
        }
        i = end;
        continue;
      }
    }
    out += constraint[i++];
  }
  return out;
}

// require & co: ArrayLoader lower-cases targets, drops links to the package itself and keeps the
// pretty constraint ("self.version" stays as written); the Updater rewrites stability flags and
// sanitizes both sides. Non-string constraints (which Composer rejects) are skipped. Every version has
// a dozen links or more: targets and constraints stay views of the parse unless a rule changes them.
void links_of(entry_out& o, json_view cj, sv type, sv self_lower, std::vector<kept_pair>& pairs) {
  const json_view l = cj[type];
  if (!is_container(l)) return;
  pairs.clear();
  std::uint64_t seen = 0;
  const bool stable = l.stable_keys();
  l.each_view([&](sv target, json_view constraint) {
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
  o.string("homepage", home.is_string() ? filter_url(home.as_string()).value_or("") : std::string());
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
  links_of(o, cj, "require", self_lower, pairs);
  links_of(o, cj, "require-dev", self_lower, pairs);
  suggest_of(o, cj, f.version, pairs);
  links_of(o, cj, "conflict", self_lower, pairs);
  links_of(o, cj, "provide", self_lower, pairs);
  links_of(o, cj, "replace", self_lower, pairs);

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
