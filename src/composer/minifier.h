// Composer's "composer/2.0" minified version lists: port of Composer\MetadataMinifier\MetadataMinifier
// (composer/metadata-minifier src/MetadataMinifier.php, as Packagist's V2Dumper and Composer's
// ComposerRepository call it). Also `php_identical`, PHP's === on json_decode($x, true) values, which
// the port needs. Both directions also exist one version at a time (`expander`, `basic_minifier`), so a
// streaming reader or writer holds one version, not the list; minify() and expand() are their loops.
// Pure; no Packagist-specific field handling (that is p2_builder.h).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/json.h"

namespace pb::composer {

// PHP's $a === $b after both sides went through json_decode(..., true): objects and arrays are PHP
// arrays, equal when they have the same keys in the same order with identical values (so [] equals {}
// and ["a"] equals {"0":"a"}); 1 and 1.0 differ; strings compare bytewise.
[[nodiscard]] bool php_identical(const json& a, const json& b);
// PHP truthiness of a decoded JSON value (`!$x` is false); for a json tree or a json_view alike.
template <class Value>
[[nodiscard]] bool php_truthy(const Value& v) {
  switch (v.type()) {
    case json::kind::null: return false;
    case json::kind::boolean: return v.as_bool();
    case json::kind::integer: return v.as_int() != 0;
    case json::kind::number: return v.as_double() != 0.0;
    case json::kind::string: return !v.as_string().empty() && v.as_string() != "0";
    case json::kind::array:
    case json::kind::object: return v.size() != 0;
  }
  return false;
}

// MetadataMinifier::minify($versions): the first version complete, each later one only with the
// top-level keys whose value changed (compared with !==, nested values wholesale) and "__unset" for keys
// that disappeared. PHP quirks kept on purpose: a key whose value is null is never "set" (isset), so in
// a later version it comes out as "__unset"; an empty version makes the next one complete again; new
// keys are appended to the running state while changed keys keep their place. JSON arrays used as
// versions are treated as PHP lists (keys "0", "1", ...); scalars as versions iterate as empty.
[[nodiscard]] json minify(const json_array& versions);

// MetadataMinifier::expand($versions): replays the diffs. The first non-empty entry is taken as is;
// each later one sets its keys (in place when present, else appended) and removes keys whose value is
// the string "__unset".
[[nodiscard]] json expand(const json_array& minified);

// minify()'s loop body over any representation of a version's top-level members, so the p2 writer can
// run it on encoded values (p2_builder.cpp) and minify() on json trees, with one algorithm. A version is
// a list of (key, Value); `identical` is PHP's !== negated, `is_null` PHP's !isset.
template <class Value, class Key = std::string>
using member_list = std::vector<std::pair<Key, Value>>;

// One step of expand() on a state that is a non-empty PHP array, over any representation of a
// version's members (json trees in `expander`, the document's own text in sources/p2_reader.cpp): each
// member of `data` is set in `state` (in place when present, else appended) or, when `is_unset` says
// its value is "__unset", removed. `data` is consumed.
template <class Value, class Key, class IsUnset>
void expand_members(member_list<Value, Key>& state, member_list<Value, Key>& data, IsUnset is_unset) {
  for (auto& [key, val] : data) {
    auto it = state.begin();
    while (it != state.end() && it->first != key) ++it;
    if (is_unset(val)) {
      if (it != state.end()) state.erase(it);
    } else if (it != state.end()) {
      it->second = std::move(val);
    } else {
      state.emplace_back(std::move(key), std::move(val));
    }
  }
}

// expand() one entry at a time: next() gives the expanded form of each entry in turn (valid until the
// following call). Values of the entry are moved into the running state, never copied.
class expander {
 public:
  const json& next(json data);

 private:
  json expanded_;  // $expandedVersion, starts null
};


// Keys and values may be owning (json trees and std::string keys: minify()) or views into the caller's
// copy of each version (string_view keys, a trivially copyable Value: the p2 writer, which then copies
// no member, only each version's text once). With views, every member the state keeps is re-pointed at
// the version just given (its value is identical there, or it was replaced), so the state never refers
// to a version older than the last one: the caller keeps that one, and the one before it during next().
template <class Value, class Identical, class IsNull, class Key = std::string>
class basic_minifier {
  static constexpr bool views = std::is_same_v<Key, std::string_view> && std::is_trivially_copyable_v<Value>;

 public:
  // What to write for one version: whole (the first one, or after an empty one) or as a diff whose
  // members point into `current` (nullptr: "__unset"); valid until the next call.
  struct step {
    bool whole = false;
    member_list<const Value*, Key> diff;
  };

  basic_minifier(Identical identical, IsNull is_null) : identical_(identical), is_null_(is_null) {}

  // `truthy`: PHP truthiness of the version itself (a scalar version has no members but may be truthy).
  const step& next(const member_list<Value, Key>& current, bool truthy) {
    step_.diff.clear();
    if (!last_known_truthy_) {
      last_known_ = current;
      last_known_truthy_ = truthy;
      known_distinct_ = distinct(last_known_);
      step_.whole = true;
      return step_;
    }
    step_.whole = false;
    touched_.assign(last_known_.size(), 0);
    // Consecutive versions mostly list the same keys in the same order, so each search starts after the
    // last one found (`hint`): one compare instead of half the list. Only over a list whose keys are
    // distinct, where the match found is the only one, so the first one as find() gives. last_known_
    // stays distinct (a key is appended only when absent); current is when no member of last_known_ is
    // met twice below.
    bool current_distinct = known_distinct_;
    std::size_t hint = 0;
    // add any changes from the previous version
    for (const auto& member : current) {
      const auto& [key, val] = member;
      auto* known = known_distinct_ ? find_from(last_known_, key, hint) : find(last_known_, key);
      if (!known) {
        step_.diff.emplace_back(key, &val);
        last_known_.emplace_back(key, val);
        touched_.push_back(1);
        hint = last_known_.size();
      } else {
        if (is_null_(known->second) || !identical_(known->second, val)) {
          assign(step_.diff, key, &val);
          known->second = val;
        } else if constexpr (views) {
          known->second = val;  // the same text, in the version just given
        }
        if constexpr (views) known->first = key;
        const auto at = static_cast<std::size_t>(known - last_known_.data());
        if (touched_[at]) current_distinct = false;  // a key current has twice
        touched_[at] = 1;
        hint = at + 1;
      }
    }
    // store any deletions from the previous version for keys missing in current one
    [[maybe_unused]] std::size_t i = 0;  // it's index before this loop's erasures (views)
    hint = 0;
    for (auto it = last_known_.begin(); it != last_known_.end(); ++i) {
      const auto* now = current_distinct ? find_from(current, it->first, hint) : find(current, it->first);
      if (now) hint = static_cast<std::size_t>(now - current.data()) + 1;
      if (!now || is_null_(now->second)) {
        assign(step_.diff, it->first, nullptr);
        it = last_known_.erase(it);
      } else {
        // A member find() did not reach (a second one of the same key, from a version with duplicate
        // keys written whole) still views the previous version: only its key is ever read, so any
        // member of that key in this version will do.
        if constexpr (views)
          if (!touched_[i]) *it = *now;
        ++it;
      }
    }
    last_known_truthy_ = !last_known_.empty();
    return step_;
  }

  // $lastKnownVersionData after the last next(): what the following version is diffed against (the
  // p2 writer compares it to splice a version into a stored list).
  const member_list<Value, Key>& state() const { return last_known_; }
  bool state_truthy() const { return last_known_truthy_; }

 private:
  template <class List>
  static auto find(List& list, std::string_view key) -> decltype(&list.front()) {
    for (auto& kv : list)
      if (kv.first == key) return &kv;
    return nullptr;
  }
  // A member of `key` searched from `from` to the end, then from the start: find()'s answer when the
  // list's keys are distinct.
  template <class List>
  static auto find_from(List& list, std::string_view key, std::size_t from) -> decltype(&list.front()) {
    const std::size_t n = list.size();
    if (from > n) from = n;
    for (std::size_t k = from; k < n; ++k)
      if (list[k].first == key) return &list[k];
    for (std::size_t k = 0; k < from; ++k)
      if (list[k].first == key) return &list[k];
    return nullptr;
  }
  template <class List>
  static bool distinct(const List& list) {
    for (std::size_t a = 0; a < list.size(); ++a)
      for (std::size_t b = a + 1; b < list.size(); ++b)
        if (list[a].first == list[b].first) return false;
    return true;
  }
  // $array[$key] = $value: replaces in place or appends.
  static void assign(member_list<const Value*, Key>& list, const Key& key, const Value* v) {
    for (auto& kv : list) {
      if (kv.first == key) {
        kv.second = v;
        return;
      }
    }
    list.emplace_back(key, v);
  }

  Identical identical_;
  IsNull is_null_;
  member_list<Value, Key> last_known_;  // $lastKnownVersionData; empty means "null or []" (both falsy)
  std::vector<char> touched_;           // which members of last_known_ next() met (views: re-pointed)
  bool last_known_truthy_ = false;
  bool known_distinct_ = true;          // no two members of last_known_ have the same key
  step step_;
};

}  // namespace pb::composer
