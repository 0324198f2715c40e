#include "composer/p2_fields.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "composer/minifier.h"
#include "core/simd_bytes.h"
#include "core/text.h"

// Packagist's field rules (p2_fields.h): what version_entry calls for each member of a version.
namespace pb::composer::detail {

namespace {

// Rules for members most versions lack or have in a form the fast paths take, built as json trees:
// out of line and small (inlined at -O2 they made version_entry 20 KB for no measurable speed).
#define PB_RARE [[gnu::noinline, clang::minsize]]

// PHP trim() with its default character list " \n\r\t\v\0".
sv php_trim(sv s) {
  constexpr sv ws(" \n\r\t\v\0", 6);
  const std::size_t b = s.find_first_not_of(ws);
  if (b == sv::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
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

// Scratch reused from version to version: a version has several link lists.
thread_local std::vector<kept_pair> pairs_scratch;
thread_local std::vector<sv> targets_scratch;

}  // namespace

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

namespace {

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

// What a string holds that the link rules care about, in one pass: upper-case ASCII (strtolower),
// bytes sanitize removes (0x01-0x1B, sanitize_keeps), bytes json_encode escapes or may (below 0x20,
// '"', '\\', 0xE2 of U+2028/U+2029: encode_string's plain_byte), ',' and '@' (has_stability_flags).
struct byte_kinds {
  bool upper = false, unclean = false, escaped = false, comma = false, at = false;
};
byte_kinds kinds_of(sv s) {
  // Sixteen bytes at a time (the last sixteen overlapping), a short string spread over the lanes
  // (simd::cover16): the byte loop was most of links_plain, itself 7% of a mirror rewrite.
  if (s.empty()) return {};
  using u8x16 = unsigned char __attribute__((vector_size(16)));
  const auto splat = [](unsigned char c) { return u8x16{c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c}; };
  simd::bytes16 upper{}, unclean{}, escaped{}, comma{}, at{};
  const auto add = [&](simd::bytes16 lanes) {
    const auto b = reinterpret_cast<u8x16>(lanes);
    upper |= reinterpret_cast<simd::bytes16>(b - splat('A') < splat(26));
    unclean |= reinterpret_cast<simd::bytes16>(b - splat(1) < splat(0x1B));
    escaped |= reinterpret_cast<simd::bytes16>((b < splat(0x20)) | (b == splat('"')) | (b == splat('\\')) | (b == splat(0xE2)));
    comma |= reinterpret_cast<simd::bytes16>(b == splat(','));
    at |= reinterpret_cast<simd::bytes16>(b == splat('@'));
  };
  if (s.size() <= 16) {
    add(simd::cover16(s.data(), s.size()));
  } else {
    std::size_t i = 0;
    for (; i + 16 < s.size(); i += 16) add(simd::load16(s.data() + i));
    add(simd::load16(s.data() + s.size() - 16));
  }
  return {simd::bits16(upper) != 0, simd::bits16(unclean) != 0, simd::bits16(escaped) != 0, simd::bits16(comma) != 0,
          simd::bits16(at) != 0};
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
    // One pass over each side says what strtolower, sanitize, the stability flags and json_encode
    // would do to it (a loop or a call each before; links_plain was 7% of a mirror rewrite).
    const byte_kinds t = kinds_of(target);
    if (t.upper || t.unclean || (targets.empty() && target == "0")) {
      plain = false;
      return;
    }
    if (target == self_lower) return;
    if (maybe_seen(target, seen))
      for (sv tg : targets)
        if (tg == target) {
          plain = false;
          return;
        }
    const bool sep = !targets.empty();
    targets.push_back(target);
    const sv c = constraint.as_string();
    const byte_kinds k = kinds_of(c);
    if (!t.escaped && !k.escaped && !(k.comma && k.at) && target.size() + c.size() <= 250) {
      // ,"target":"constraint" in one append: nothing in either needs an escape or a change (what
      // sanitize removes is escaped too).
      char buf[256];
      std::size_t n = 0;
      if (sep) buf[n++] = ',';
      buf[n++] = '"';
      std::memcpy(buf + n, target.data(), target.size());
      n += target.size();
      std::memcpy(buf + n, "\":\"", 3);
      n += 3;
      if (!c.empty()) std::memcpy(buf + n, c.data(), c.size());  // an empty view may have no data
      n += c.size();
      buf[n++] = '"';
      out.append(buf, n);
      return;
    }
    if (sep) out += ',';
    encode_string(out, target);
    out += ':';
    if (k.comma && k.at)  // has_stability_flags
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

}  // namespace

void links_of(entry_out& o, json_view cj, sv type, sv self_lower) {
  const json_view l = cj[type];
  if (!is_container(l)) return;
  if (!links_plain(o, l, type, self_lower, targets_scratch)) links_general(o, l, type, self_lower, pairs_scratch);
}

// suggest: names keep their case; a reason of "self.version" becomes the pretty version (ArrayLoader;
// true when one did).
bool suggest_of(entry_out& o, json_view cj, sv pretty_version) {
  const json_view s = cj["suggest"];
  if (!is_container(s)) return false;
  std::vector<kept_pair>& pairs = pairs_scratch;
  pairs.clear();
  std::uint64_t seen = 0;
  const bool stable = s.stable_keys();
  bool versioned = false;
  s.each_view([&](sv name, json_view reason) {
    if (!reason.is_string()) return;
    kept_pair p;
    if (stable)
      p.key.set_clean(name);
    else
      p.key.set(sanitize(name));
    const bool self = php_trim(reason.as_string()) == "self.version";
    versioned = versioned || self;
    p.value.set_clean(self ? pretty_version : reason.as_string());
    assign_pair(pairs, std::move(p), seen);
  });
  if (pairs.empty()) return versioned;
  o.begin("suggest");
  put_pairs(o.text(), pairs);
  o.end();
  return versioned;
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

namespace {

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

}  // namespace

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

}  // namespace pb::composer::detail
