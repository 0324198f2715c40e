#include "composer/p2_builder.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "composer/minifier.h"
#include "composer/p2_encode.h"
#include "core/text.h"

// The writing half of p2_builder.h: PHP's json_encode as Packagist calls it, and the p2 documents
// written one version at a time (p2_writer, build_p2). Split from p2_builder.cpp, which makes the
// version objects; this file is one of the wasm build's -O2 hot files (CMakeLists.txt).
namespace pb::composer {

namespace {

using sv = std::string_view;

// ---------------------------------------------------------------------------------------------------
// json_encode

bool plain_byte(char c) {  // written as it is
  return static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\' && static_cast<unsigned char>(c) != 0xE2;
}

// How many bytes from `from` on plain_byte accepts. Eight at a time while none needs care (wasm has
// 64-bit integers: names, URLs and descriptions are mostly longer than eight bytes); the byte loop finds
// where exactly a run ends. hasless/haszero from "Bit Twiddling Hacks": exact on whether a word holds
// such a byte, which is all that is asked of them here.
std::size_t plain_run(sv s, std::size_t from) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  std::size_t n = from;
  for (; n + 8 <= s.size(); n += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + n, 8);
    const std::uint64_t control = (w - ones * 0x20) & ~w & highs;  // a byte < 0x20
    if (control | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | has_zero(w ^ (ones * 0xE2))) break;
  }
  while (n < s.size() && plain_byte(s[n])) ++n;
  return n;
}

}  // namespace

void detail::encode_string(std::string& out, sv s) {
  static constexpr char hex[] = "0123456789abcdef";
  // Most strings of a p2 document are short and need no escape: quotes and text in one append (each
  // append or push_back is a call into libc++ in wasm: encode_string was 8% of a mirror rewrite).
  std::size_t run = plain_run(s, 0);
  if (run == s.size() && run <= 254) {
    char buf[256];
    buf[0] = '"';
    if (run) std::memcpy(buf + 1, s.data(), run);  // an empty view may have no data (memcpy's null is UB)
    buf[run + 1] = '"';
    out.append(buf, run + 2);
    return;
  }
  out += '"';
  for (std::size_t i = 0;; ++i, run = plain_run(s, i)) {
    // Runs of bytes written as they are go out in one append (a call per byte is slow in wasm).
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
    }
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          // JSON_UNESCAPED_LINE_TERMINATORS is not set: U+2028/U+2029 stay escaped.
          out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

namespace {
using detail::encode_string;

// php_gcvt($d, 17, '.', 'e') with serialize_precision = -1: the shortest round-trip digits, printed
// plainly for exponents -4..16 and as "d.ddde+X" otherwise.
void encode_double(std::string& out, double d) {
  if (!std::isfinite(d)) {  // json_encode fails on these (JSON_ERROR_INF_OR_NAN); 0 is its partial output
    out += '0';
    return;
  }
  char buf[40];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  if (precision > 17) precision = 17;
  // buf = [-]d[.ddd]e[+-]XX
  sv s(buf);
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  const std::size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits += c;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exp10 = std::atoi(std::string(s.substr(e + 1)).c_str());
  int decpt = exp10 + 1;  // value = 0.DIGITS x 10^decpt
  if (digits == "0") decpt = 1;
  if (negative) out += '-';
  if (decpt < 0 ? decpt < -3 : decpt > 17) {
    out += digits[0];
    out += '.';
    out += digits.size() > 1 ? digits.substr(1) : "0";
    out += 'e';
    const int x = decpt - 1;
    out += x < 0 ? '-' : '+';
    out += std::to_string(x < 0 ? -x : x);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decpt), '0');
    out += digits;
  } else {
    for (int i = 0; i < decpt; ++i) out += static_cast<std::size_t>(i) < digits.size() ? digits[i] : '0';
    if (digits.size() > static_cast<std::size_t>(decpt)) {
      out += '.';
      out += digits.substr(static_cast<std::size_t>(decpt));
    }
  }
}

bool object_is_list(const json_object& o) {
  for (std::size_t i = 0; i < o.size(); ++i)
    if (o[i].first != std::to_string(i)) return false;
  return true;
}

}  // namespace

void detail::encode_value(std::string& out, const json& v) {
  switch (v.type()) {
    case json::kind::null: out += "null"; return;
    case json::kind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case json::kind::integer: out += std::to_string(v.as_int()); return;
    case json::kind::number: encode_double(out, v.as_double()); return;
    case json::kind::string: encode_string(out, v.as_string()); return;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json& e : v.as_array()) {
        if (!first) out += ',';
        first = false;
        encode_value(out, e);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      const auto& o = v.as_object();
      const bool list = object_is_list(o);
      out += list ? '[' : '{';
      bool first = true;
      for (const auto& [k, e] : o) {
        if (!first) out += ',';
        first = false;
        if (!list) {
          encode_string(out, k);
          out += ':';
        }
        encode_value(out, e);
      }
      out += list ? ']' : '}';
      return;
    }
  }
}

bool detail::holds_double(const json& v) {
  switch (v.type()) {
    case json::kind::number: return true;
    case json::kind::array:
      for (const json& e : v.as_array())
        if (holds_double(e)) return true;
      return false;
    case json::kind::object:
      for (const auto& kv : v.as_object())
        if (holds_double(kv.second)) return true;
      return false;
    default: return false;
  }
}

namespace {

// A top-level value of a version as the p2 writer keeps it: its json_encode text, which is also what
// php_identical compares (equal texts <=> identical values: encode is injective on PHP arrays, [] and {}
// and lists and "0".."n-1" objects alike), except for floats (1.0 encodes as 1, -0.0 and 0.0 differ),
// so a value holding one also has its tree and is compared as a tree. Both are views into the list's
// copy of the version (list::held).
struct encoded_value {
  sv text;
  const json* tree = nullptr;
};

bool encoded_identical(const encoded_value& a, const encoded_value& b) {
  if (a.tree || b.tree) return a.tree && b.tree && php_identical(*a.tree, *b.tree);
  return detail::same_bytes(a.text, b.text);
}
bool encoded_null(const encoded_value& v) { return v.text == "null"; }

// A version given as a tree, as the writer's encoded entries hold one: the members as minify() sees them
// (as_php_array in minifier.cpp; keys as they are, values json_encode'd; a scalar has none).
void encode_members(const json& version, encoded_entry& e) {
  e.clear();
  const auto add = [&](sv key, const json& v) {
    encoded_entry::member m{};
    m.key_begin = static_cast<std::uint32_t>(e.text.size());
    e.text.append(key);
    m.key_end = m.begin = static_cast<std::uint32_t>(e.text.size());
    detail::encode_value(e.text, v);
    m.end = static_cast<std::uint32_t>(e.text.size());
    m.tree = -1;
    if (detail::holds_double(v)) {
      m.tree = static_cast<int>(e.trees.size());
      e.trees.push_back(v);
    }
    e.members.push_back(m);
  };
  if (version.is_object()) {
    for (const auto& [k, v] : version.as_object()) add(k, v);
  } else if (version.is_array()) {
    const auto& a = version.as_array();
    for (std::size_t i = 0; i < a.size(); ++i) add(std::to_string(i), a[i]);
  }
}

}  // namespace

struct p2_writer::list {
  using minifier = basic_minifier<encoded_value, bool (*)(const encoded_value&, const encoded_value&),
                                  bool (*)(const encoded_value&), sv>;
  // packagist_json_encode({"minified":"composer/2.0","packages":{key: [versions...]}}), written in
  // place: the document is never copied (a key "0" makes "packages" a PHP list).
  explicit list(const std::string& key) : list_key(key == "0") {
    out = "{\"minified\":\"composer/2.0\",\"packages\":";
    if (list_key) {
      out += '[';
    } else {
      out += '{';
      encode_string(out, key);
      out += ':';
    }
  }
  bool list_key;
  std::string out;
  bool first = true;
  minifier m{encoded_identical, encoded_null};

  // The list's own copies of the last two versions it was given (text and float trees; their buffers
  // are reused): the minifier's state is views into the latest, and into the one before during next().
  // One copy of each version's text instead of one string per member (keys like "version_normalized"
  // are past wasm32 libc++'s 10 inline chars: every copy allocated).
  struct held {
    std::string text;
    std::vector<json> trees;
  };
  held kept[2];
  int latest = 0;
  member_list<encoded_value, sv> cur;  // views into kept[latest]
  encoded_entry scratch;               // add(const json&): the tree's members encoded

  void add(const json& entry) {
    encode_members(entry, scratch);
    if (write(scratch, php_truthy(entry))) detail::encode_value(out, entry);
  }

  void add(const encoded_entry& e) {
    const std::size_t n = e.members.size();
    if (!write(e, n != 0)) return;
    // Written whole: an object (a version's first key is "name", never a list), or [] when empty.
    if (n == 0) {
      out += "[]";
      return;
    }
    out += '{';
    for (std::size_t i = 0; i < n; ++i) {
      if (i) out += ',';
      encode_string(out, e.key(e.members[i]));
      out += ':';
      out += e.value(e.members[i]);
    }
    out += '}';
  }

  // Minifies `e`'s members against the previous version and writes the diff; true when the version is
  // to be written whole (the caller writes it).
  bool write(const encoded_entry& e, bool truthy) {
    latest ^= 1;
    held& h = kept[latest];
    h.text = e.text;  // the state refers to kept[latest ^ 1] until next() returns
    h.trees = e.trees;
    const sv text(h.text);
    cur.clear();
    for (const encoded_entry::member& mb : e.members)
      cur.emplace_back(text.substr(mb.key_begin, mb.key_end - mb.key_begin),
                       encoded_value{text.substr(mb.begin, mb.end - mb.begin),
                                     mb.tree >= 0 ? &h.trees[static_cast<std::size_t>(mb.tree)] : nullptr});
    out += first ? '[' : ',';
    first = false;
    const auto& step = m.next(cur, truthy);
    if (step.whole) return true;
    // The diff is a PHP array: [] when empty, a list when its keys are "0".."n-1".
    bool is_list = true;
    for (std::size_t i = 0; i < step.diff.size() && is_list; ++i) is_list = step.diff[i].first == std::to_string(i);
    out += is_list ? '[' : '{';
    bool sep = false;
    for (const auto& [k, v] : step.diff) {
      if (sep) out += ',';
      sep = true;
      if (!is_list) {
        encode_string(out, k);
        out += ':';
      }
      if (v) {
        out += v->text;
      } else {
        out += "\"__unset\"";
      }
    }
    out += is_list ? ']' : '}';
    return false;
  }

  std::string finish() && {
    out += first ? "[]" : "]";
    out += list_key ? "]}" : "}}";
    return std::move(out);
  }
};

p2_writer::p2_writer(std::string_view package_name)
    : tagged_(std::make_unique<list>(pb::ascii_lower(package_name))), dev_(std::make_unique<list>(pb::ascii_lower(package_name))) {}
p2_writer::~p2_writer() = default;

bool p2_writer::goes_to_dev(const json& entry) {
  const json& vn = entry["version_normalized"];
  return is_dev_version(vn.is_string() ? vn.as_string() : entry["version"].as_string());
}

void p2_writer::add(const json& entry) { (goes_to_dev(entry) ? *dev_ : *tagged_).add(entry); }
void p2_writer::add(const encoded_entry& entry) { (entry.dev ? *dev_ : *tagged_).add(entry); }

template <class Entry>
std::optional<std::string> p2_writer::prepend_any(const Entry& entry, const Entry& first, std::string_view entries) {
  // Both lists are written by list::add itself, so the entries are byte for byte what a full write gives.
  list alone("x"), both("x");
  const std::size_t head = alone.out.size() + 1;  // after the '[' that add() writes
  alone.add(first);
  const std::string_view first_text = std::string_view(alone.out).substr(head);
  if (entries.substr(0, first_text.size()) != first_text) return std::nullopt;
  const std::string_view rest = entries.substr(first_text.size());
  if (rest.empty() || (rest.front() != ',' && rest.front() != ']')) return std::nullopt;
  both.add(entry);
  both.add(first);
  // Every later entry was diffed against the state after `first`; equal states (same keys in the same
  // order, values identical the way the minifier compares them) mean every later diff is unchanged.
  const auto& a = alone.m.state();
  const auto& b = both.m.state();
  if (alone.m.state_truthy() != both.m.state_truthy() || a.size() != b.size()) return std::nullopt;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const encoded_value& x = a[i].second;
    const encoded_value& y = b[i].second;
    if (a[i].first != b[i].first || x.text != y.text || (x.tree != nullptr) != (y.tree != nullptr) ||
        (x.tree && !php_identical(*x.tree, *y.tree)))
      return std::nullopt;
  }
  std::string out;
  out.reserve(both.out.size() - head + rest.size());
  out.append(both.out, head);
  out.append(rest);
  return out;
}

std::optional<std::string> p2_writer::prepend(const json& entry, const json& first, std::string_view entries) {
  return prepend_any(entry, first, entries);
}
std::optional<std::string> p2_writer::prepend(const encoded_entry& entry, const encoded_entry& first, std::string_view entries) {
  return prepend_any(entry, first, entries);
}

p2_documents p2_writer::finish() && { return {std::move(*tagged_).finish(), std::move(*dev_).finish()}; }

p2_documents build_p2(std::string_view package_name, const std::vector<json>& entries) {
  p2_writer w(package_name);
  for (const json& e : entries) w.add(e);
  return std::move(w).finish();
}

std::string packagist_json_encode(const json& value) {
  std::string out;
  detail::encode_value(out, value);
  return out;
}

}  // namespace pb::composer
