#include "core/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/json_scan.h"
#include "core/json_view.h"
#include "simdjson.h"

namespace pb {

namespace {
const json& null_json() {
  static const json n;
  return n;
}
const json_array& empty_array() {
  static const json_array a;
  return a;
}
const json_object& empty_object() {
  static const json_object o;
  return o;
}

// Counts down the values a document may still have: the owning tree costs tens of bytes per value, so
// a document of many tiny values ([0,0,0,...]) is refused before it fills the isolate's memory.
struct value_budget {
  std::size_t left;
  bool exhausted() const { return left == 0; }
  bool take() {
    if (left == 0) return false;
    --left;
    return true;
  }
};

json from_dom(simdjson::dom::element e, value_budget& budget) {
  if (!budget.take()) return json();
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE: return json();
    case simdjson::dom::element_type::BOOL: return json(bool(e.get_bool().value_unsafe()));
    case simdjson::dom::element_type::INT64: return json(e.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64: {
      std::uint64_t u = e.get_uint64().value_unsafe();
      return json(static_cast<double>(u));
    }
    case simdjson::dom::element_type::DOUBLE: return json(e.get_double().value_unsafe());
    case simdjson::dom::element_type::STRING: return json(std::string(e.get_string().value_unsafe()));
    case simdjson::dom::element_type::ARRAY: {
      json_array a;
      simdjson::dom::array arr = e.get_array().value_unsafe();  // a named local: the loop must not outlive it
      a.reserve(std::min(arr.size(), budget.left));  // no regrowth; never more than the budget allows
      for (simdjson::dom::element child : arr) {
        if (budget.exhausted()) break;
        a.push_back(from_dom(child, budget));
      }
      return json(std::move(a));
    }
    case simdjson::dom::element_type::OBJECT: {
      json_object o;
      simdjson::dom::object obj = e.get_object().value_unsafe();
      o.reserve(std::min(obj.size(), budget.left));
      for (auto field : obj) {
        if (budget.exhausted()) break;
        o.emplace_back(std::string(field.key), from_dom(field.value, budget));
      }
      return json(std::move(o));
    }
  }
  return json();
}

void dump_to(const json& j, std::string& out);
}  // namespace

bool json::as_bool(bool fallback) const { return is_bool() ? std::get<bool>(v_) : fallback; }
std::int64_t json::as_int(std::int64_t fallback) const {
  if (is_integer()) return std::get<std::int64_t>(v_);
  if (type() == kind::number) {
    double d = std::get<double>(v_);
    if (std::isfinite(d) && d >= -9.2e18 && d <= 9.2e18) return static_cast<std::int64_t>(d);
  }
  return fallback;
}
double json::as_double(double fallback) const {
  if (is_integer()) return static_cast<double>(std::get<std::int64_t>(v_));
  if (type() == kind::number) return std::get<double>(v_);
  return fallback;
}
std::string_view json::as_string(std::string_view fallback) const {
  return is_string() ? std::string_view(std::get<std::string>(v_)) : fallback;
}
const json_array& json::as_array() const { return is_array() ? std::get<json_array>(v_) : empty_array(); }
const json_object& json::as_object() const { return is_object() ? std::get<json_object>(v_) : empty_object(); }
json_array& json::as_array() {
  if (!is_array()) v_ = json_array{};
  return std::get<json_array>(v_);
}
json_object& json::as_object() {
  if (!is_object()) v_ = json_object{};
  return std::get<json_object>(v_);
}

const json* json::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<json_object>(v_))
    if (k == key) return &v;
  return nullptr;
}
json* json::find(std::string_view key) {
  if (!is_object()) return nullptr;
  for (auto& [k, v] : std::get<json_object>(v_))
    if (k == key) return &v;
  return nullptr;
}
const json& json::operator[](std::string_view key) const {
  const json* j = find(key);
  return j ? *j : null_json();
}
json& json::set(std::string_view key, json value) {
  if (json* existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  auto& o = as_object();
  o.emplace_back(std::string(key), std::move(value));
  return o.back().second;
}
bool json::erase(std::string_view key) {
  if (!is_object()) return false;
  auto& o = std::get<json_object>(v_);
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (it->first == key) {
      o.erase(it);
      return true;
    }
  }
  return false;
}
void json::push_back(json value) { as_array().push_back(std::move(value)); }
std::size_t json::size() const {
  if (is_array()) return std::get<json_array>(v_).size();
  if (is_object()) return std::get<json_object>(v_).size();
  return 0;
}

bool operator==(const json& a, const json& b) {
  if (a.is_number() && b.is_number() && a.type() != b.type()) return a.as_double() == b.as_double();
  return a.v_ == b.v_;
}

std::string json::dump() const {
  std::string out;
  dump_to(*this, out);
  return out;
}

namespace {
void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  // Shortest representation that round-trips.
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  out += buf;
  // Keep a double recognisable as one (JSON readers that care about 1 vs 1.0).
  std::string_view s(buf);
  if (s.find_first_of(".eEn") == std::string_view::npos) out += ".0";
}

void dump_to(const json& j, std::string& out) {
  switch (j.type()) {
    case json::kind::null: out += "null"; return;
    case json::kind::boolean: out += j.as_bool() ? "true" : "false"; return;
    case json::kind::integer: out += std::to_string(j.as_int()); return;
    case json::kind::number: append_double(out, j.as_double()); return;
    case json::kind::string: append_json_string(out, j.as_string()); return;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& v : j.as_array()) {
        if (!first) out += ',';
        first = false;
        dump_to(v, out);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : j.as_object()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, k);
        out += ':';
        dump_to(v, out);
      }
      out += '}';
      return;
    }
  }
}
}  // namespace

namespace {
// simdjson's DOM of `text`, valid until the next call (both parsers' buffers are reused), or parse_json's
// error for it.
result<simdjson::dom::element> parse_dom(std::string_view text, std::optional<simdjson::dom::parser>& own,
                                         std::string& own_copy, std::span<const std::string_view> blank = {}) {
  // simdjson's DOM parser holds about 14 bytes per byte of input (tape, strings, structural indexes):
  // small documents share one parser per thread (per isolate in wasm; the native server parses on its
  // event loop and, rarely, on its blocking-work threads) that keeps its buffers; a large one gets its
  // own, freed right after, so one big document does not pin that memory.
  constexpr std::size_t shared_parser_bytes = 1024 * 1024;
  static thread_local simdjson::dom::parser shared;
  simdjson::dom::parser& parser = text.size() <= shared_parser_bytes ? shared : own.emplace();
  // The padded copy simdjson reads: small documents reuse one buffer (a mirror parses three small
  // documents per version), a large one gets its own.
  static std::string shared_copy;
  std::string& copy = text.size() <= shared_parser_bytes ? shared_copy : own_copy;
  copy.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  if (blank.empty()) {
    copy.assign(text);
  } else {  // the text with each blanked value as 0 (parse_view), copied piece by piece in place
    copy.resize(text.size() + blank.size());  // room for a 0 even in place of an empty view
    char* to = copy.data();
    const char* at = text.data();
    for (std::string_view b : blank) {
      const auto n = static_cast<std::size_t>(b.data() - at);
      std::memcpy(to, at, n);
      to += n;
      *to++ = '0';
      at = b.data() + b.size();
    }
    const auto n = static_cast<std::size_t>(text.data() + text.size() - at);
    std::memcpy(to, at, n);
    copy.resize(static_cast<std::size_t>(to + n - copy.data()));
  }
  simdjson::dom::element root;
  auto err = parser.parse(simdjson::padded_string_view(copy.data(), copy.size(), copy.capacity())).get(root);
  if (err) {
    std::string quoted(text.substr(0, 60));
    return make_error(error_code::bad_request,
                      std::string("invalid JSON (") + simdjson::error_message(err) + ") in \"" + quoted +
                          (text.size() > 60 ? "...\"" : "\""));
  }
  return root;
}
}  // namespace

result<json> parse_json(std::string_view text) {
  std::optional<simdjson::dom::parser> own;
  std::string own_copy;
  auto root = parse_dom(text, own, own_copy);
  if (!root) return std::move(root).err();
  value_budget budget{max_json_values + 1};  // exhausted = more than max_json_values
  json out = from_dom(*root, budget);
  if (budget.exhausted())
    return make_error(error_code::payload_too_large,
                      "the JSON document has more than " + std::to_string(max_json_values) + " values");
  return out;
}

result<std::monostate> check_json(std::string_view text) {
  // A value takes at least two bytes but the last (a separator or a bracket each), so a text of at most
  // 2 * max_json_values bytes cannot hold more than max_json_values: only a longer one is counted.
  if (text.size() > 2 * max_json_values) {
    auto tree = parse_json(text);
    if (!tree) return std::move(tree).err();
    return std::monostate{};
  }
  std::optional<simdjson::dom::parser> own;
  std::string own_copy;
  auto root = parse_dom(text, own, own_copy);
  if (!root) return std::move(root).err();
  return std::monostate{};
}

result<json_view> parse_view(std::string_view text) { return parse_view(text, {}); }

result<json_view> parse_view(std::string_view text, std::span<const std::string_view> blank) {
  // A large text's parser outlives the call (the view points into it) until the next parse_view.
  static thread_local std::optional<simdjson::dom::parser> own;
  static thread_local std::string own_copy;
  own.reset();
  std::string().swap(own_copy);
  if (text.size() > 2 * max_json_values) {  // may hold too many values: parse_json counts them (rare)
    if (auto checked = check_json(text); !checked) return std::move(checked).err();
    blank = {};  // the whole text then, so the value limit is the text's
  }
  auto root = parse_dom(text, own, own_copy, blank);
  if (!root) return std::move(root).err();
  return json_view(*root);
}

json::kind json_view::type() const {
  if (!present_) return json::kind::null;
  switch (e_.type()) {
    case simdjson::dom::element_type::NULL_VALUE: return json::kind::null;
    case simdjson::dom::element_type::BOOL: return json::kind::boolean;
    case simdjson::dom::element_type::INT64: return json::kind::integer;
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return json::kind::number;
    case simdjson::dom::element_type::STRING: return json::kind::string;
    case simdjson::dom::element_type::ARRAY: return json::kind::array;
    case simdjson::dom::element_type::OBJECT: return json::kind::object;
  }
  return json::kind::null;
}

bool json_view::as_bool(bool fallback) const { return is_bool() ? e_.get_bool().value_unsafe() : fallback; }
std::int64_t json_view::as_int(std::int64_t fallback) const {
  if (is_integer()) return e_.get_int64().value_unsafe();
  if (type() == json::kind::number) return json(as_double()).as_int(fallback);  // json's rule for floats
  return fallback;
}
double json_view::as_double(double fallback) const {
  if (!present_) return fallback;
  switch (e_.type()) {
    case simdjson::dom::element_type::INT64: return static_cast<double>(e_.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64: return static_cast<double>(e_.get_uint64().value_unsafe());
    case simdjson::dom::element_type::DOUBLE: return e_.get_double().value_unsafe();
    default: return fallback;
  }
}
std::string_view json_view::as_string(std::string_view fallback) const {
  return is_string() ? e_.get_string().value_unsafe() : fallback;
}
std::size_t json_view::size() const {
  if (is_array()) return simdjson::dom::array(e_.get_array().value_unsafe()).size();
  if (is_object()) return simdjson::dom::object(e_.get_object().value_unsafe()).size();
  return 0;
}
json_view json_view::operator[](std::string_view key) const {
  if (!is_object()) return {};
  for (auto field : simdjson::dom::object(e_.get_object().value_unsafe()))
    if (field.key == key) return json_view(field.value);
  return {};
}
std::vector<json_view> json_view::values() const {
  std::vector<json_view> out;
  if (is_array()) {
    for (simdjson::dom::element c : simdjson::dom::array(e_.get_array().value_unsafe())) out.emplace_back(c);
  } else if (is_object()) {
    for (auto field : simdjson::dom::object(e_.get_object().value_unsafe())) out.emplace_back(field.value);
  }
  return out;
}

json json_view::tree() const {
  if (!present_) return json();
  value_budget budget{static_cast<std::size_t>(-1)};
  return from_dom(e_, budget);
}

bool is_dump_form(std::string_view text) {
  const char* p = text.data();
  const std::size_t n = text.size();
  const auto hex_digit = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  for (std::size_t i = 0; i < n;) {
    const char c = p[i];
    if (c == '"') {
      for (++i;;) {
        i = json_scanner::next_quote_or_backslash(p, i, n);
        if (i >= n) return false;
        if (p[i] == '"') break;
        // An escape append_json_string writes: the short ones, else \u00xx (lower-case) for the other
        // control characters. \/, \u00e9, \u2028 and the like are valid JSON it never writes.
        if (i + 1 >= n) return false;
        const char e = p[i + 1];
        if (e == '"' || e == '\\' || e == 'n' || e == 'r' || e == 't' || e == 'b' || e == 'f') {
          i += 2;
          continue;
        }
        if (e != 'u' || i + 5 >= n || p[i + 2] != '0' || p[i + 3] != '0' || (p[i + 4] != '0' && p[i + 4] != '1') ||
            !hex_digit(p[i + 5]))
          return false;
        const int code = (p[i + 4] - '0') * 16 + (p[i + 5] <= '9' ? p[i + 5] - '0' : p[i + 5] - 'a' + 10);
        if (code == '\b' || code == '\t' || code == '\n' || code == '\f' || code == '\r') return false;
        i += 6;
      }
      ++i;
    } else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':') {
      ++i;
    } else if (c == 't' || c == 'n') {
      i += 4;  // true, null (the text is valid JSON)
    } else if (c == 'f') {
      i += 5;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      // An integer as std::to_string writes it; at most 18 digits always fits int64. "-0", fractions
      // and exponents are left to the tree.
      if (c == '-') ++i;
      const std::size_t digits = i;
      while (i < n && p[i] >= '0' && p[i] <= '9') ++i;
      if (i - digits == 0 || i - digits > 18 || (p[digits] == '0' && (i - digits > 1 || c == '-'))) return false;
      if (i < n && (p[i] == '.' || p[i] == 'e' || p[i] == 'E')) return false;
    } else {
      return false;  // whitespace
    }
  }
  return true;
}

namespace {
constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

// Appends the bytes of s from `from` that form valid UTF-8 sequences, each maximal invalid subpart
// replaced by U+FFFD: the WHATWG UTF-8 decoder's rule (what TextDecoder does on the JS side), so what
// JS reads is unchanged and the document stays valid JSON. Returns where the ASCII resumes.
std::size_t append_non_ascii(std::string& out, std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  std::size_t need = 0;
  unsigned char lower = 0x80, upper = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) lower = 0xA0;  // no overlong forms
    if (lead == 0xED) upper = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) lower = 0x90;  // no overlong forms
    if (lead == 0xF4) upper = 0x8F;  // nothing past U+10FFFF
  } else {
    out += replacement_character;
    return i + 1;
  }
  std::size_t k = i + 1;
  for (std::size_t seen = 0; seen < need; ++seen, ++k) {
    if (k >= s.size() || byte(k) < lower || byte(k) > upper) {
      out += replacement_character;  // the bytes so far are the maximal subpart; k is read again
      return k;
    }
    lower = 0x80;
    upper = 0xBF;
  }
  out.append(s.substr(i, k - i));
  return k;
}
}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  // Grow geometrically: libc++ reserves exactly what is asked, so reserving size + s.size() before every
  // string made dumping a document of many strings quadratic in wasm (minutes for a few MB).
  if (std::size_t need = out.size() + s.size() + 2; need > out.capacity()) out.reserve(std::max(need, 2 * out.capacity()));
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    // Characters that need nothing go in one append per run, not one push_back each (header names and
    // values, keys and most text are such runs: this loop runs in every finish document).
    std::size_t run = i;
    while (run < s.size() && json_copies_as_is(static_cast<unsigned char>(s[run]))) ++run;
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      i = append_non_ascii(out, s, i);
      continue;
    }
    ++i;
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
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void json_writer::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

json_writer& json_writer::begin_object() {
  separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}
json_writer& json_writer::end_object() {
  out_ += '}';
  first_.pop_back();
  return *this;
}
json_writer& json_writer::begin_array() {
  separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}
json_writer& json_writer::end_array() {
  out_ += ']';
  first_.pop_back();
  return *this;
}
json_writer& json_writer::key(std::string_view k) {
  separate();
  append_json_string(out_, k);
  out_ += ':';
  after_key_ = true;
  return *this;
}
json_writer& json_writer::value(std::string_view s) {
  separate();
  append_json_string(out_, s);
  return *this;
}
json_writer& json_writer::value(std::int64_t i) {
  separate();
  out_ += std::to_string(i);
  return *this;
}
json_writer& json_writer::value(double d) {
  separate();
  append_double(out_, d);
  return *this;
}
json_writer& json_writer::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  return *this;
}
json_writer& json_writer::null() {
  separate();
  out_ += "null";
  return *this;
}
json_writer& json_writer::value(const json& j) {
  separate();
  dump_to(j, out_);
  return *this;
}
json_writer& json_writer::raw(std::string_view serialized) {
  separate();
  out_ += serialized;
  return *this;
}

}  // namespace pb
