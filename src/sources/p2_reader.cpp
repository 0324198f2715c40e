#include "sources/p2_reader.h"

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "composer/minifier.h"
#include "core/text.h"
#include "simdjson.h"

namespace pb::sources {

namespace {

// Why a scanner of our own next to simdjson: simdjson parses a document whole, and its indexes take
// about 6.7 bytes per byte of input (structural indexes 4, string buffer 1.7) on top of the text, so a
// 20 MB p2 document cannot be parsed at once inside a Worker's 128 MB. The scanner only finds where
// each value ends (strings, brackets); simdjson still parses every part the mirror reads.
class scanner {
 public:
  explicit scanner(std::string_view text) : s_(text) {}

  bool at_end() const { return at_ >= s_.size(); }
  char peek() const { return at_ < s_.size() ? s_[at_] : '\0'; }
  void skip_ws() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\n' || s_[at_] == '\r' || s_[at_] == '\t')) ++at_;
  }
  bool take(char c) {
    skip_ws();
    if (peek() != c) return false;
    ++at_;
    return true;
  }

  // Moves past one value (after whitespace) and returns its text; nullopt when it is unterminated,
  // its brackets do not match, it nests deeper than JSON parsing allows, or it is empty.
  std::optional<std::string_view> value() {
    skip_ws();
    const std::size_t start = at_;
    const char c = peek();
    if (c == '"') {
      if (!skip_string()) return std::nullopt;
    } else if (c == '{' || c == '[') {
      if (!skip_container()) return std::nullopt;
    } else {
      while (at_ < s_.size() && !std::strchr(" \t\r\n,]}:[{\"", s_[at_])) ++at_;
      if (at_ == start) return std::nullopt;
    }
    return s_.substr(start, at_ - start);
  }

 private:
  bool skip_string() {  // at_ on the opening quote
    const char* p = s_.data();
    const std::size_t n = s_.size();
    for (std::size_t i = at_ + 1; i < n; ++i) {
      if (p[i] == '\\') {
        ++i;
      } else if (p[i] == '"') {
        at_ = i + 1;
        return true;
      }
    }
    at_ = s_.size();
    return false;
  }

  bool skip_container() {
    std::vector<char> open;  // the closing bracket each open container expects
    while (at_ < s_.size()) {
      const char c = s_[at_];
      if (c == '"') {
        if (!skip_string()) return false;
        continue;
      }
      ++at_;
      if (c == '{' || c == '[') {
        if (open.size() >= 1024) {  // simdjson's default depth limit
          too_deep_ = true;
          return false;
        }
        open.push_back(c == '{' ? '}' : ']');
      } else if (c == '}' || c == ']') {
        if (open.empty() || open.back() != c) return false;
        open.pop_back();
        if (open.empty()) return true;
      }
    }
    return false;
  }

  std::string_view s_;
  std::size_t at_ = 0;
  bool too_deep_ = false;

 public:
  // Why value() failed, for the error message.
  std::string failure(std::string_view otherwise) const {
    return too_deep_ ? "the document is too deep: more than 1024 nested objects and arrays" : std::string(otherwise);
  }
};

error broken(std::string_view why) { return make_error(error_code::bad_request, "invalid JSON (" + std::string(why) + ")"); }

// A key's text (with quotes) as a string: most keys have no escapes and are taken as they are.
result<std::string> key_of(std::string_view quoted) {
  std::string_view inner = quoted.substr(1, quoted.size() - 2);
  bool plain = true;
  for (char c : inner) plain = plain && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
  if (plain) return std::string(inner);
  auto parsed = parse_json(quoted);
  if (!parsed) return std::move(parsed).err();
  return std::string(parsed->as_string());
}

struct go_on {
  bool stop = false;
};

// Walks the members of the object starting at the scanner's position; `member(key, value text)`.
template <class Member>
result<std::monostate> members(scanner& sc, Member&& member) {
  if (!sc.take('{')) return broken("an object was expected");
  if (sc.take('}')) return std::monostate{};
  while (true) {
    sc.skip_ws();
    if (sc.peek() != '"') return broken("a key was expected");
    auto quoted = sc.value();
    if (!quoted) return broken("an unterminated key");
    auto key = key_of(*quoted);
    if (!key) return std::move(key).err();
    if (!sc.take(':')) return broken("':' was expected");
    auto v = sc.value();
    if (!v) return broken(sc.failure("a value was expected after \"" + key->substr(0, 60) + "\""));
    auto r = member(*key, *v);
    if (!r) return std::move(r).err();
    if (r->stop) return std::monostate{};
    if (sc.take(',')) continue;
    if (sc.take('}')) return std::monostate{};
    return broken("',' or '}' was expected");
  }
}

}  // namespace

result<std::monostate> read_p2_versions(std::string_view doc, std::string_view name,
                                        const std::function<bool(const json&)>& each, p2_lists which) {
  if (!simdjson::validate_utf8(doc.data(), doc.size())) return broken("the document is not UTF-8");
  if (doc.substr(0, 3) == "\xEF\xBB\xBF") doc.remove_prefix(3);  // a byte order mark, which simdjson skips too
  // "minified" may follow "packages" (Packagist writes it last): one pass for the top-level members,
  // one for the package lists. As json::operator[] does, the first of duplicate keys counts.
  std::optional<std::string_view> packages;
  bool minified = false, minified_seen = false;
  scanner top(doc);
  auto walked = members(top, [&](const std::string& key, std::string_view value) -> result<go_on> {
    if (key == "packages" && !packages) packages = value;
    if (key == "minified" && !minified_seen) {
      minified_seen = true;
      auto m = parse_json(value);
      if (!m) return std::move(m).err();
      minified = m->as_string() == "composer/2.0";
    }
    return go_on{};
  });
  if (!walked) return walked;
  top.skip_ws();
  if (!top.at_end()) return broken("content after the document");
  if (!packages || packages->front() != '{') return std::monostate{};  // no package lists: no versions

  // The lists to read: every key of the package (as a packagist mirror reads), or the last one (as
  // Composer's repository reader keeps it: a later key replaces an earlier one, list or not).
  std::vector<std::string_view> lists;
  scanner pk(*packages);
  auto found = members(pk, [&](const std::string& key, std::string_view value) -> result<go_on> {
    if (ascii_lower(key) != name) return go_on{};
    if (which == p2_lists::last) lists.clear();
    lists.push_back(value);
    return go_on{};
  });
  if (!found) return found;
  for (std::string_view list : lists) {
    if (list.front() != '[') continue;
    composer::expander expander;
    scanner sc(list);
    sc.take('[');
    if (sc.take(']')) continue;
    while (true) {
      auto text = sc.value();
      if (!text) return broken(sc.failure("a version entry was expected"));
      auto entry = parse_json(*text);
      if (!entry) return std::move(entry).err();
      const json& version = minified ? expander.next(std::move(*entry)) : *entry;
      if (!each(version)) return std::monostate{};
      if (sc.take(',')) continue;
      if (sc.take(']')) break;
      return broken("',' or ']' was expected");
    }
  }
  return std::monostate{};
}

}  // namespace pb::sources
