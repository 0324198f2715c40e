#include "sources/p2_reader.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "composer/minifier.h"
#include "core/json_scan.h"
#include "core/text.h"
#include "simdjson.h"

namespace pb::sources {

using json_scan::broken;
using json_scan::go_on;

namespace {

// strings_at's walks over dist and source share core's one instantiation of json_scan::members (each of
// its own was about a kilobyte of the module); the document's walk has its own, into the values it reads
// where they stand (read_p2_versions).
result<std::monostate> members(json_scanner& sc, const json_scan::member_fn& member) {
  return json_scan::walk_members(sc, member);
}

// The tree of a version read as text: each member's text parsed (it is valid JSON: its entry was
// checked whole, and of at most a megabyte, so parse_json's value limit cannot refuse it).
json tree_of(const text_members& members) {
  json_object o;
  o.reserve(members.size());
  for (const auto& [key, value] : members) o.emplace_back(std::string(key), value.tree());
  return json(std::move(o));
}

// expand()'s "__unset" test on a member's text (the string may be written with escapes).
bool unset(const member_text& v) {
  if (v.text == "\"__unset\"") return true;
  if (v.text.front() != '"' || v.text.find('\\') == std::string_view::npos) return false;
  auto s = json_scan::string_of(v.text);
  return s && *s == "__unset";
}

// Calls f(member) for each member but the first of each of `keys` (json::erase's rule; at most 64).
template <class F>
void each_but(const text_members& members, std::span<const std::string_view> keys, F&& f) {
  std::uint64_t dropped = 0;  // a bit per key
  for (const auto& member : members) {
    bool skip = false;
    for (std::size_t i = 0; i < keys.size() && i < 64 && !skip; ++i)
      if (!(dropped >> i & 1) && member.first == keys[i]) {
        dropped |= std::uint64_t{1} << i;
        skip = true;
      }
    if (!skip) f(member);
  }
}

}  // namespace

json member_text::tree() const {
  // Most members a caller asks for by name are plain strings (a version, a time): read here, the rest
  // parsed.
  if (text.front() == '"' && json_scan::is_plain_string(text.substr(1, text.size() - 2)))
    return json(std::string(text.substr(1, text.size() - 2)));
  auto v = parse_json(text);
  return v ? std::move(*v) : json();
}

std::uint32_t p2_version::strings_at(std::span<const string_place> places, std::span<std::string> out) const {
  // One walk over the members for the outer texts, one over each object named (for all its places).
  // The public template admits at most max_places (a bit each in `found`).
  const std::size_t n = places.size();
  std::optional<std::string_view> text[max_places];
  for (const auto& [key, value] : *members_)
    for (std::size_t i = 0; i < n; ++i)
      if (!text[i] && key == places[i].member) text[i] = value.text;
  std::uint32_t inner_done = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (places[i].inner.empty() || (inner_done >> i & 1)) continue;
    std::optional<std::string_view> object = text[i];
    std::uint32_t same = 0;  // the places inside this member's object
    for (std::size_t j = i; j < n; ++j)
      if (!places[j].inner.empty() && places[j].member == places[i].member) {
        same |= std::uint32_t{1} << j;
        text[j].reset();
      }
    inner_done |= same;
    if (!object || object->front() != '{') continue;
    json_scanner sc(*object);
    (void)sources::members(sc, [&](std::string_view key, std::string_view value) -> result<go_on> {
      for (std::size_t j = i; j < n; ++j)
        if ((same >> j & 1) && !text[j] && key == places[j].inner) text[j] = value;
      return go_on{};
    });
  }
  std::uint32_t found = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (text[i] && text[i]->front() == '"')
      if (auto s = json_scan::string_of(*text[i])) {
        out[i] = std::move(*s);
        found |= std::uint32_t{1} << i;
      }
  return found;
}

std::string p2_version::without(std::span<const std::string_view> keys) const {
  // The members kept, found once (each_but's key compares) for the check, the size and the writing;
  // reused between calls, so it allocates only for a version with more members than any before.
  static thread_local std::vector<const text_members::value_type*> kept;
  kept.clear();
  std::size_t size = 1;
  bool copied = true;
  each_but(*members_, keys, [&](const text_members::value_type& m) {
    const auto& [key, value] = m;
    copied = copied && value.dump_form() &&
             std::all_of(key.begin(), key.end(), [](char c) { return json_copies_as_is(static_cast<unsigned char>(c)); });
    size += key.size() + value.text.size() + 4;  // ,"key":text
    kept.push_back(&m);
  });
  if (copied) {
    // Nearly every version: each member kept is written as its own text and its key needs no escape, so
    // the whole text is sized once and copied piece by piece (appended, it grew by doubling and every
    // separator was a call: a third of the row's cost).
    std::string out(kept.empty() ? 2 : size, '\0');
    char* o = out.data();
    *o++ = '{';
    bool first = true;
    for (const auto* m : kept) {
      const auto& [key, value] = *m;
      if (!first) *o++ = ',';
      first = false;
      *o++ = '"';
      std::memcpy(o, key.data(), key.size());
      o += key.size();
      *o++ = '"';
      *o++ = ':';
      std::memcpy(o, value.text.data(), value.text.size());
      o += value.text.size();
    }
    *o++ = '}';
    out.resize(static_cast<std::size_t>(o - out.data()));
    return out;
  }
  std::string out = "{";
  for (const auto* m : kept) {
    const auto& [key, value] = *m;
    if (out.size() > 1) out += ',';
    append_json_string(out, key);
    out += ':';
    if (value.dump_form()) {
      out += value.text;
    } else {
      out += value.tree().dump();
    }
  }
  out += '}';
  return out;
}

const json& p2_version::tree() const {
  if (tree_) return *tree_;
  if (!built_) built_ = tree_of(*members_);
  return *built_;
}

namespace {

// The entries of one package list, from the scanner's position (its '[') to past its ']': each expanded
// when `minified` and handed to `each`; `stopped` when `each` said so.
result<std::monostate> read_list(json_scanner& sc, std::string_view doc, bool minified,
                                 const std::function<bool(const p2_version&)>& each, bool& stopped) {
  // The text path: the expanded state is a list of (key, the value's text in `doc`), so nothing is
  // built or copied per value. An entry it does not follow turns the rest of the list over to the
  // tree path, which goes on from the same state.
  text_members state, data;
  // The decoded keys of members written with escapes (rare), which the state may hold to the end.
  std::deque<std::string> decoded_keys;
  bool text_path = true;
  composer::expander expander;
  if (!sc.take('[')) return broken("a list was expected");
  if (sc.take(']')) return std::monostate{};
  sc.enter();  // the values skipped inside count the list (and an entry, below) against the depth limit
  // An entry's members into `data`: their keys and texts point into the document (`dumped`: whether the
  // text is json_writer's form, -1 when not known yet).
  const auto collect = [&](std::string_view key, std::string_view member, std::int8_t dumped) -> result<go_on> {
    const auto at = reinterpret_cast<std::uintptr_t>(key.data()), from = reinterpret_cast<std::uintptr_t>(doc.data());
    const bool in_doc = at >= from && at < from + doc.size();
    data.emplace_back(in_doc ? key : std::string_view(decoded_keys.emplace_back(key)), member_text{member, dumped});
    return go_on{};
  };
  // Each member's value read as strict JSON where the walk can (json_scanner::strict_value: then its
  // form is known too), else by its extent, and `sure` is cleared: the entry is then checked whole.
  bool sure = true;
  const auto member = [&](std::string_view key, json_scanner& at) -> result<go_on> {
    const std::size_t from = at.position();
    bool dump = false;
    if (at.strict_value(dump)) return collect(key, at.since(from), dump ? 1 : 0);
    sure = false;
    auto v = at.value();
    if (!v) return json_scan::no_value_after(at, key);
    return collect(key, *v, -1);
  };
  while (true) {
    // An object entry on the text path is walked member by member where it stands, its extent known at
    // its end (skipping it first, then walking it, scanned every entry twice); anything else, or a walk
    // that fails, is read as before: its extent, then its check, so every answer stays the same.
    sc.skip_ws();
    const std::size_t start = sc.position();
    std::optional<std::string_view> text;
    bool entry_walked = false;
    if (text_path && sc.peek() == '{') {
      data.clear();
      sure = true;
      sc.enter();
      const bool walked = json_scan::members_at(sc, member).ok();
      sc.leave();
      if (walked) {
        text = sc.since(start);
        entry_walked = true;
      } else {
        sc.rewind(start);
      }
    }
    if (!entry_walked) text = sc.value();
    if (!text) return broken(sc.failure("a version entry was expected"));
    // Past a megabyte an entry may hold more values than parse_json allows: the tree path counts.
    if (text_path && (text->front() != '{' || text->size() > 2 * max_json_values)) {
      text_path = false;
      if (minified) expander.next(tree_of(state));
    }
    if (text_path) {
      // An entry whose every member read as strict JSON is JSON: simdjson's check of it was the largest
      // part of reading it (docs/PERFORMANCE.md, fourteenth round). Any other is checked whole.
      // (A walked entry has the extent value() reads, its brackets matched by the walk's own values, so
      // the check's error is the one the extent-first reading gave.)
      if (!entry_walked || !sure) {
        auto checked = check_json(*text);
        if (!checked) return std::move(checked).err();
      }
      if (!entry_walked) {  // valid JSON that the walk above refused: not expected, read as before
        data.clear();
        json_scanner entry(*text);
        const auto unknown = [&](std::string_view key, std::string_view value) { return collect(key, value, -1); };
        if (auto scanned = json_scan::members(entry, unknown); !scanned) return scanned;
      }
      if (!minified || state.empty()) {
        state.swap(data);  // taken as it is (expand(): the first entry, or the one after an empty one)
      } else {
        composer::expand_members(state, data, unset);
      }
      stopped = !each(p2_version(&state));
    } else {
      auto entry = parse_json(*text);
      if (!entry) return std::move(entry).err();
      const json& version = minified ? expander.next(std::move(*entry)) : *entry;
      stopped = !each(p2_version(&version));
    }
    if (stopped) return std::monostate{};  // (the scanner is not read again)
    if (sc.take(',')) continue;
    if (sc.take(']')) {
      sc.leave();
      return std::monostate{};
    }
    return broken("',' or ']' was expected");
  }
}

}  // namespace

result<std::monostate> read_p2_versions(std::string_view doc, std::string_view name,
                                        const std::function<bool(const p2_version&)>& each, p2_lists which) {
  if (!simdjson::validate_utf8(doc.data(), doc.size())) return broken("the document is not UTF-8");
  if (doc.substr(0, 3) == "\xEF\xBB\xBF") doc.remove_prefix(3);  // a byte order mark, which simdjson skips too
  // One walk of the document, into "packages" where it stands (skipping it whole first, then walking it,
  // then each list, scanned the document three times). "minified" decides how entries read, and it may
  // follow "packages" (Packagist writes it last): the lists are then read after the walk, as they are
  // for p2_lists::last (a later key replaces an earlier one); when it came first, every list is read
  // where it stands. As json::operator[] does, the first of duplicate keys counts.
  bool packages_seen = false, minified = false, minified_seen = false, stopped = false;
  std::vector<std::string_view> lists;  // read after the walk
  json_scanner top(doc);
  const auto package = [&](std::string_view key, json_scanner& sc) -> result<go_on> {
    if (ascii_lower(key) == name) {
      if (which == p2_lists::every && minified_seen && sc.peek() == '[') {
        if (auto r = read_list(sc, doc, minified, each, stopped); !r) return std::move(r).err();
        return go_on{stopped};
      }
      auto v = sc.value();
      if (!v) return json_scan::no_value_after(sc, key);
      if (which == p2_lists::last) lists.clear();
      lists.push_back(*v);
      return go_on{};
    }
    if (!sc.value()) return json_scan::no_value_after(sc, key);
    return go_on{};
  };
  auto walked = json_scan::members_at(top, [&](std::string_view key, json_scanner& sc) -> result<go_on> {
    if (key == "packages" && !packages_seen && sc.peek() == '{') {
      packages_seen = true;
      sc.enter();
      if (auto r = json_scan::members_at(sc, package); !r) return std::move(r).err();
      sc.leave();
      return go_on{stopped};
    }
    packages_seen = packages_seen || key == "packages";  // not an object: no package lists
    auto value = sc.value();
    if (!value) return json_scan::no_value_after(sc, key);
    if (key == "minified" && !minified_seen) {
      minified_seen = true;
      auto m = parse_json(*value);
      if (!m) return std::move(m).err();
      minified = m->as_string() == "composer/2.0";
    }
    return go_on{};
  });
  if (!walked) return walked;
  if (stopped) return std::monostate{};
  top.skip_ws();
  if (!top.at_end()) return broken("content after the document");
  for (std::string_view list : lists) {
    if (list.front() != '[') continue;
    json_scanner sc(list, 1);  // inside "packages"
    if (auto r = read_list(sc, doc, minified, each, stopped); !r || stopped) return r;
  }
  return std::monostate{};
}

}  // namespace pb::sources
