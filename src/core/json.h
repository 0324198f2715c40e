// JSON for the core: `json`, an owning, order-preserving value tree (parsed with simdjson's DOM parser),
// and `json_writer`, a streaming writer that escapes strings. Both are used on the C++/JS wire and for
// Composer metadata; neither does I/O. Numbers keep their integer-ness (int64) when the input had no
// fraction or exponent, so round-trips do not turn 1 into 1.0.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"

namespace pb {

class json;
using json_array = std::vector<json>;
using json_object = std::vector<std::pair<std::string, json>>;

class json {
 public:
  enum class kind : std::uint8_t { null, boolean, integer, number, string, array, object };

  json() = default;
  json(std::nullptr_t) {}
  json(bool b) : v_(b) {}
  json(int i) : v_(std::int64_t{i}) {}
  json(std::int64_t i) : v_(i) {}
  json(double d) : v_(d) {}
  json(const char* s) : v_(std::string(s)) {}
  json(std::string s) : v_(std::move(s)) {}
  json(std::string_view s) : v_(std::string(s)) {}
  json(json_array a) : v_(std::move(a)) {}
  json(json_object o) : v_(std::move(o)) {}

  static json array() { return json(json_array{}); }
  static json object() { return json(json_object{}); }

  kind type() const { return static_cast<kind>(v_.index()); }
  bool is_null() const { return type() == kind::null; }
  bool is_bool() const { return type() == kind::boolean; }
  bool is_integer() const { return type() == kind::integer; }
  bool is_number() const { return type() == kind::integer || type() == kind::number; }
  bool is_string() const { return type() == kind::string; }
  bool is_array() const { return type() == kind::array; }
  bool is_object() const { return type() == kind::object; }

  // Typed reads with a fallback for the wrong kind; they never abort.
  bool as_bool(bool fallback = false) const;
  std::int64_t as_int(std::int64_t fallback = 0) const;
  double as_double(double fallback = 0) const;
  std::string_view as_string(std::string_view fallback = {}) const;
  const json_array& as_array() const;
  const json_object& as_object() const;
  json_array& as_array();
  json_object& as_object();

  // Object member lookup (linear: objects on the wire are small). Returns nullptr when absent or not
  // an object.
  const json* find(std::string_view key) const;
  json* find(std::string_view key);
  // Member or a shared null value.
  const json& operator[](std::string_view key) const;
  // Sets (or replaces, keeping its position) a member; turns a null into an object first.
  json& set(std::string_view key, json value);
  bool erase(std::string_view key);
  void push_back(json value);
  std::size_t size() const;

  std::string dump() const;
  friend bool operator==(const json& a, const json& b);

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, json_array, json_object> v_;
};

// Parses a complete JSON document. The error message names the simdjson error and quotes the start of
// the input. A document of more than max_json_values values (hostile metadata: millions of tiny
// values would fill the isolate's 128 MB) fails with payload_too_large; nesting deeper than
// simdjson's 1024 levels fails as invalid.
inline constexpr std::size_t max_json_values = 500'000;
result<json> parse_json(std::string_view text);
// parse_json's checks without the tree: the same error for the same text, nothing built (a reader that
// copies a valid value's text instead of rebuilding it: sources/p2_reader.cpp).
result<std::monostate> check_json(std::string_view text);
// Whether `text`, a valid JSON value (one parse_json accepts), is byte for byte what json::dump() writes
// for the value it parses to, so the text can stand for its dump: no whitespace, strings escaped as
// append_json_string escapes them, integers of at most 18 digits. Floats and anything else say false
// (the caller dumps the tree then); never true where dump() would differ (tests/native/core/test_json.cpp).
bool is_dump_form(std::string_view text);

// Streaming writer; separators are inserted automatically. key() must precede each value in an object.
class json_writer {
 public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& value(std::string_view s);
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(std::int64_t i);
  json_writer& value(int i) { return value(std::int64_t{i}); }
  json_writer& value(double d);
  json_writer& value(bool b);
  json_writer& null();
  json_writer& value(const json& j);
  // Inserts an already-serialized JSON value verbatim.
  json_writer& raw(std::string_view serialized);

  // Shorthand for key(k).value(v).
  template <class T>
  json_writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const& { return out_; }
  std::string str() && { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // one entry per open container
  bool after_key_ = false;
};

// Appends s to out as a JSON string literal (with quotes). Bytes that are not UTF-8 become U+FFFD,
// exactly as JS's TextDecoder would read them, so every document the core writes is valid JSON.
void append_json_string(std::string& out, std::string_view s);
// A byte append_json_string writes as it is: printable ASCII (DEL included) but '"' and '\\'.
inline bool json_copies_as_is(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

}  // namespace pb
