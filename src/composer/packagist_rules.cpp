#include "composer/packagist_rules.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "composer/minifier.h"

// The rare half of Packagist's rules (packagist_rules.h): what the fast paths of p2_builder.cpp and
// p2_fields.cpp hand over.
namespace pb::composer::detail {

namespace {

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
void assign(json_object& o, std::string key, json value) {
  for (auto& kv : o) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  o.emplace_back(std::move(key), std::move(value));
}

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
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

// Stable sort of (key, value) pairs by key, bytewise: support's ksort, funding's type.url order and
// php-ext's configure-options by name all use this one instantiation (each lambda of its own made
// std::stable_sort's merge code once more: about 10 KB of the module).
void stable_sort_by_key(json_object& pairs) {
  std::stable_sort(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
}

}  // namespace

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

// Updater::filterUrl: null (nullopt) unless the scheme is allowed; "" stays "".
std::optional<std::string> filter_url(sv url, std::initializer_list<sv> allowed) {
  if (url.empty()) return std::string();
  std::string clean = sanitize(url);
  if (clean.empty()) return clean;
  const std::string scheme = url_scheme(clean);
  for (sv a : allowed)
    if (scheme == a) return clean;
  return std::nullopt;
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

// preg_replace '{([><]=?\s*[^@]+?)@([a-z]+)}i' with "$1" for "stable", else "$1-$2" (p2_fields.cpp
// calls it only for constraints with both ',' and '@').
std::string rewrite_stability_flags(sv constraint) {
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

}  // namespace pb::composer::detail
