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
#include "core/json_view.h"
#include "core/text.h"

namespace pb::composer {

namespace {

using sv = std::string_view;

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


// $array[$key] = $value: replaces in place (a duplicate key keeps its first place) or appends.
// `seen`, for objects whose keys are mostly distinct (a version's dozen links or more made the search
// quadratic: 2.7% of a mirror rewrite), is a filter the caller keeps for `o` (0 while `o` is empty): a
// bit for each key's length and a few of its bytes (the last two tell "vendor/pkg-1" from "-2" and
// "-12"); a key whose bit is still clear is not in `o` and is appended without a search.
void assign(json_object& o, std::string key, json value, std::uint64_t* seen = nullptr) {
  bool search = true;
  if (seen) {
    const std::size_t n = key.size();
    const auto at = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(key[i])); };
    const unsigned h = n < 2 ? static_cast<unsigned>(n) * 31u + (n ? at(0) : 0u)
                             : static_cast<unsigned>(n) + 3u * at(n - 1) + 17u * at(n - 2) + 5u * at(n / 2);
    const std::uint64_t bit = std::uint64_t{1} << (h & 63);
    search = (*seen & bit) != 0;
    *seen |= bit;
  }
  for (std::size_t i = 0; search && i < o.size(); ++i) {
    if (o[i].first == key) {
      o[i].second = std::move(value);
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

std::string sanitize(sv s) {
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
void sanitize_leaves(json& v) {
  if (v.is_string()) {
    v = json(sanitize(v.as_string()));
  } else if (v.is_array()) {
    for (json& e : v.as_array()) sanitize_leaves(e);
  } else if (v.is_object()) {
    for (auto& kv : v.as_object()) sanitize_leaves(kv.second);
  }
}

// The scheme parse_url() would report, lower-cased; "" when it sees none ("host:8080" is a port).
std::string url_scheme(sv url) {
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
std::optional<std::string> filter_url(sv url, std::initializer_list<sv> allowed = {"http", "https"}) {
  if (url.empty()) return std::string();
  std::string clean = sanitize(url);
  if (clean.empty()) return clean;
  const std::string scheme = url_scheme(clean);
  for (sv a : allowed)
    if (scheme == a) return clean;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------
// Fields

// keywords: ArrayLoader keeps a non-empty array (strval of each); the Updater sanitizes, drops "",
// and dedupes by mb_strtolower (the last spelling wins, at the first one's place). Case folding here
// is ASCII only.
json keywords_of(json_view cj) {
  const json_view kw = cj["keywords"];
  json_object seen;  // lower => spelling
  if (is_container(kw) && kw.size() > 0) {
    for (const json_view k : kw.values()) {
      std::string s;
      if (k.is_string()) {
        s = std::string(k.as_string());
      } else if (k.is_integer()) {
        s = std::to_string(k.as_int());
      } else if (k.is_bool()) {
        s = k.as_bool() ? "1" : "";
      } else {
        continue;  // strval() of an array/null would be "Array"/"": not a keyword
      }
      s = sanitize(s);
      if (s.empty()) continue;
      const std::string key = ascii_lower(s);
      bool replaced = false;
      for (auto& [lk, spelling] : seen) {
        if (lk == key) {
          spelling = json(s);
          replaced = true;
        }
      }
      if (!replaced) seen.emplace_back(key, json(s));
    }
  }
  json_array out;
  for (auto& kv : seen) out.push_back(std::move(kv.second));
  return json(std::move(out));
}

// license: ArrayLoader wraps a non-empty string in a list; the Updater sanitizes each entry.
json license_of(json_view cj) {
  const json_view l = cj["license"];
  json_array out;
  if (!php_truthy(l)) return json(std::move(out));
  if (l.is_string()) {
    out.push_back(json(sanitize(l.as_string())));
  } else {
    for (const json_view e : l.values())
      if (e.is_string()) out.push_back(json(sanitize(e.as_string())));
  }
  return json(std::move(out));
}

// authors: the Updater keeps email/name/homepage/role (trimmed, sanitized, homepage through filterUrl,
// empty ones dropped), skips authors with neither email nor name; toArray orders the keys name, email,
// homepage, role (Version::sortAuthorKeys).
json authors_of(json_view cj) {
  const json_view a = cj["authors"];
  json_array out;
  if (!is_container(a)) return json(std::move(out));
  for (const json_view author : a.values()) {
    if (!author.is_object()) continue;
    const bool has_email = !author["email"].is_null(), has_name = !author["name"].is_null();
    if (!has_email && !has_name) continue;
    json_object clean;
    for (sv field : {"name", "email", "homepage", "role"}) {
      const json_view v = author[field];
      if (!v.is_string()) continue;
      std::string s(php_trim(sanitize(v.as_string())));
      if (field == "homepage") s = filter_url(s).value_or("");
      if (!s.empty()) clean.emplace_back(std::string(field), json(std::move(s)));
    }
    out.push_back(json(std::move(clean)));
  }
  return json(std::move(out));
}

// type: ArrayLoader lower-cases it and defaults to "library"; the Updater stores it only when truthy
// (else the column stays null).
json type_of(json_view cj) {
  const json_view t = cj["type"];
  if (!t.is_string()) return json("library");
  const std::string lower = ascii_lower(t.as_string());
  if (lower.empty() || lower == "0") return json();
  return json(sanitize(lower));
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
std::optional<json> support_of(json_view cj) {
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
json funding_of(json_view cj) {
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
std::optional<json> php_ext_of(json_view cj) {
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
std::optional<json> bin_of(json_view cj) {
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
std::string rewrite_stability_flags(sv constraint) {
  if (constraint.find(',') == sv::npos || constraint.find('@') == sv::npos) return std::string(constraint);
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
// sanitizes both sides. Non-string constraints (which Composer rejects) are skipped.
std::optional<json> links_of(json_view cj, sv type, const std::string& self_lower) {
  const json_view l = cj[type];
  if (!is_container(l)) return std::nullopt;
  json_object out;
  // Every version has a dozen links or more: each target is copied once and lower-cased in place, and
  // sanitized without a copy when clean.
  out.reserve(l.size());
  std::uint64_t seen = 0;
  l.each([&](std::string target, json_view constraint) {
    if (!constraint.is_string()) return;
    for (char& c : target) c = pb::ascii_lower(c);
    if (target == self_lower) return;
    assign(out, sanitized(std::move(target)), json(sanitized(rewrite_stability_flags(constraint.as_string()))), &seen);
  });
  if (out.empty()) return std::nullopt;
  return json(std::move(out));
}

// suggest: names keep their case; a reason of "self.version" becomes the pretty version (ArrayLoader).
std::optional<json> suggest_of(json_view cj, sv pretty_version) {
  const json_view s = cj["suggest"];
  if (!is_container(s)) return std::nullopt;
  json_object out;
  std::uint64_t seen = 0;
  s.each([&](std::string name, json_view reason) {
    if (!reason.is_string()) return;
    const sv r = php_trim(reason.as_string()) == "self.version" ? pretty_version : reason.as_string();
    assign(out, sanitized(std::move(name)), json(sanitize(r)), &seen);
  });
  if (out.empty()) return std::nullopt;
  return json(std::move(out));
}

}  // namespace


json version_entry(json_view cj, const version_fields& f) {
  // Keys in Version::toArray order. composer.json keys not listed are not part of Packagist's p2 output
  // and are dropped: version/name/time/dist/source (replaced by what the repository knows),
  // autoload-dev, minimum-stability, prefer-stable, repositories, config, scripts*, archive, readme,
  // non-feature-branches, notification-url, extra keys like "_comment".
  json_object o;
  o.emplace_back("name", json(f.name));
  const json_view descr = cj["description"];  // (string) of a sanitized non-empty string, else ""
  o.emplace_back("description", json(descr.is_string() ? sanitize(descr.as_string()) : std::string()));
  o.emplace_back("keywords", keywords_of(cj));
  const json_view home = cj["homepage"];  // (string) filterUrl(): "" unless http(s)
  o.emplace_back("homepage", json(home.is_string() ? filter_url(home.as_string()).value_or("") : std::string()));
  o.emplace_back("version", json(sanitize(f.version)));
  o.emplace_back("version_normalized", json(sanitize(f.version_normalized)));
  o.emplace_back("license", license_of(cj));
  o.emplace_back("authors", authors_of(cj));
  // "source": Packagist writes the VCS source (or null); artifact uploads have none, so it is omitted.
  if (f.dist_type.empty()) {
    o.emplace_back("dist", json());
  } else {
    json_object dist;
    dist.emplace_back("type", json(sanitize(f.dist_type)));
    dist.emplace_back("url", json(sanitize(f.dist_url)));
    dist.emplace_back("reference", json(f.reference));
    dist.emplace_back("shasum", json(f.dist_shasum));
    o.emplace_back("dist", json(std::move(dist)));
  }
  o.emplace_back("type", type_of(cj));
  if (auto s = support_of(cj)) o.emplace_back("support", std::move(*s));
  if (auto p = php_ext_of(cj)) o.emplace_back("php-ext", std::move(*p));
  o.emplace_back("funding", funding_of(cj));
  if (!f.time.empty()) o.emplace_back("time", json(f.time));
  if (const json_view a = cj["autoload"]; is_container(a) && a.size() > 0) {
    json autoload = a.tree();
    sanitize_leaves(autoload);
    o.emplace_back("autoload", std::move(autoload));
  }
  if (const json_view e = cj["extra"]; is_container(e) && e.size() > 0) {
    json extra = e.tree();
    sanitize_leaves(extra);
    o.emplace_back("extra", std::move(extra));
  }
  if (const json_view t = cj["target-dir"]; t.is_string() && php_truthy(t)) {
    std::string dir = sanitize(t.as_string());
    if (php_truthy(json(dir))) o.emplace_back("target-dir", json(std::move(dir)));
  }
  if (const json_view ip = cj["include-path"]; is_container(ip) && ip.size() > 0) {
    json paths = ip.tree();
    if (paths.is_array())
      for (json& e : paths.as_array()) sanitize_leaves(e);
    else
      for (auto& kv : paths.as_object()) sanitize_leaves(kv.second);
    o.emplace_back("include-path", std::move(paths));
  }
  if (auto b = bin_of(cj)) o.emplace_back("bin", std::move(*b));
  // default-branch: set by the VCS driver on Packagist; ArrayLoader reads "default-branch": true.
  if (const json_view db = cj["default-branch"]; db.is_bool() && db.as_bool()) o.emplace_back("default-branch", json(true));

  const std::string self_lower = ascii_lower(f.name);
  if (auto l = links_of(cj, "require", self_lower)) o.emplace_back("require", std::move(*l));
  if (auto l = links_of(cj, "require-dev", self_lower)) o.emplace_back("require-dev", std::move(*l));
  if (auto s = suggest_of(cj, f.version)) o.emplace_back("suggest", std::move(*s));
  if (auto l = links_of(cj, "conflict", self_lower)) o.emplace_back("conflict", std::move(*l));
  if (auto l = links_of(cj, "provide", self_lower)) o.emplace_back("provide", std::move(*l));
  if (auto l = links_of(cj, "replace", self_lower)) o.emplace_back("replace", std::move(*l));

  // abandoned: a package-level flag on Packagist (getReplacementPackage() ?: true); here it comes from
  // this version's composer.json as ArrayLoader reads it (true, or a replacement name; "" means true).
  if (const json_view ab = cj["abandoned"]; ab.is_bool() && ab.as_bool()) {
    o.emplace_back("abandoned", json(true));
  } else if (ab.is_string()) {
    std::string replacement = sanitize(ab.as_string());
    o.emplace_back("abandoned", replacement.empty() ? json(true) : json(std::move(replacement)));
  }
  return json(std::move(o));
}

json version_entry(const json& composer_json, const version_fields& f) {
  // The rules read a view: a tree is written out and parsed again (uploads and tests; the mirror's rows
  // are parsed straight into a view, storage/packages.cpp).
  auto view = parse_view(composer_json.dump());
  return version_entry(view ? *view : json_view(), f);
}

bool is_dev_version(std::string_view v) {
  if (const std::size_t hash = v.find('#'); hash != std::string_view::npos && hash + 1 < v.size())
    v = v.substr(0, hash);  // preg_replace('{#.+$}', '')
  return v.substr(0, 4) == "dev-" || (v.size() >= 4 && v.substr(v.size() - 4) == "-dev");
}

}  // namespace pb::composer
