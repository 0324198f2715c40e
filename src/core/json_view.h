// json_view: a read-only view of a value in simdjson's DOM with json's accessors, so code that only
// reads a document (Packagist's rules over a stored composer.json, composer/p2_builder.cpp) does so
// without building an owning tree of it: a mirror rewrite built one per version, a tenth of its time.
// A view is valid until the next parse on this thread (parse_json, check_json, parse_view share one
// parser); tree() copies what it needs to keep.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "simdjson.h"

namespace pb {

class json_view {
 public:
  json_view() = default;  // nothing: reads as null, as json's operator[] gives for a missing member
  explicit json_view(simdjson::dom::element e) : e_(e), present_(true) {}

  // The kinds of the tree parse_json would build (an integer past int64 is a number there too).
  json::kind type() const;
  bool is_null() const { return type() == json::kind::null; }
  bool is_bool() const { return type() == json::kind::boolean; }
  bool is_integer() const { return type() == json::kind::integer; }
  bool is_string() const { return type() == json::kind::string; }
  bool is_array() const { return type() == json::kind::array; }
  bool is_object() const { return type() == json::kind::object; }
  // Whether the view holds a value: false for a missing member and for nothing at all (a default view,
  // what a caller keeps for a text that did not parse), true for a JSON null.
  bool present() const { return present_; }

  // As json's, with a fallback for the wrong kind; a string views the parse's own buffer.
  bool as_bool(bool fallback = false) const;
  std::int64_t as_int(std::int64_t fallback = 0) const;
  double as_double(double fallback = 0) const;
  std::string_view as_string(std::string_view fallback = {}) const;
  std::size_t size() const;

  // The first member named `key` (as json::find), or nothing (null) when absent or not an object.
  json_view operator[](std::string_view key) const;

  // f(key, value) for each member of an object in order, f(index as text, value) for each element of an
  // array; nothing for a scalar. The key is f's own copy.
  template <class F>
  void each(F&& f) const {
    if (!present_) return;
    if (e_.type() == simdjson::dom::element_type::ARRAY) {
      std::size_t i = 0;
      for (simdjson::dom::element c : simdjson::dom::array(e_.get_array().value_unsafe())) f(std::to_string(i++), json_view(c));
    } else if (e_.type() == simdjson::dom::element_type::OBJECT) {
      for (auto field : simdjson::dom::object(e_.get_object().value_unsafe())) f(std::string(field.key), json_view(field.value));
    }
  }

  // each() without copying keys: an object's keys view the parse's own buffer (valid as long as the
  // view); an array's index keys are valid during the call only (`stable_keys` says which).
  template <class F>
  void each_view(F&& f) const {
    if (!present_) return;
    if (e_.type() == simdjson::dom::element_type::ARRAY) {
      std::size_t i = 0;
      for (simdjson::dom::element c : simdjson::dom::array(e_.get_array().value_unsafe())) {
        const std::string key = std::to_string(i++);
        f(std::string_view(key), json_view(c));
      }
    } else if (e_.type() == simdjson::dom::element_type::OBJECT) {
      for (auto field : simdjson::dom::object(e_.get_object().value_unsafe())) f(field.key, json_view(field.value));
    }
  }
  bool stable_keys() const { return is_object(); }

  // The values of an array or an object, in order (PHP's foreach over an array).
  std::vector<json_view> values() const;

  // The owning tree parse_json would have built for this value.
  json tree() const;

 private:
  simdjson::dom::element e_;
  bool present_ = false;
};

// Which keys an object may have, as 64 bits (a bit per key, from its length and three of its bytes):
// a clear bit says a key is absent, so the lookup (a walk over every member) need not be made. A set
// bit says nothing (another key may share it). For a writer that asks one object for many keys most
// of which it lacks (a version's rules: php-ext, funding, bin, conflict...); empty for a non-object.
class json_key_filter {
 public:
  json_key_filter() = default;
  explicit json_key_filter(json_view object) {
    if (object.is_object()) object.each_view([this](std::string_view key, const json_view&) { bits_ |= bit(key); });
  }
  bool may_have(std::string_view key) const { return (bits_ & bit(key)) != 0; }

 private:
  static std::uint64_t bit(std::string_view k) {
    const std::size_t n = k.size();
    const auto at = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(k[i])); };
    const unsigned h = n == 0 ? 0u : static_cast<unsigned>(n) * 7u + 3u * at(n - 1) + 5u * at(n / 2) + at(0);
    return std::uint64_t{1} << (h & 63);
  }
  std::uint64_t bits_ = 0;
};

// parse_json's verdict for `text`, as a view instead of a tree (same errors, same value limit).
result<json_view> parse_view(std::string_view text);
// parse_view of `text` with each of `blank` (values in it, as views into it, in text order, not
// overlapping) read as 0: less to parse when the caller will not read them. Each must be a whole
// JSON value (e.g. the same bytes as a value of a text that parsed); then the text parses exactly when
// `text` does (a valid value stands for a valid value), though an error may read differently.
result<json_view> parse_view(std::string_view text, std::span<const std::string_view> blank);

}  // namespace pb
