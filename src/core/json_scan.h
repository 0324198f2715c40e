// A structural JSON scanner: finds where each value ends (strings and brackets only) without building
// anything, and walks an object's members as (key, value text). For reading a few parts of a large
// document (sources/p2_reader.cpp) or a few fields of many small ones (the dump order's hints in
// storage/packages.cpp) without a tree. value() checks the structure only; a caller that needs a valid
// value reads it with strict_value (which vouches for common JSON and says when it cannot) or parses the
// text it reads (parse_json). Header-only so the -O2 hot files inline it, but for the member walk most
// callers share and the strict reading (walk_members, first_members, strict_value: compiled once, in
// json_scan.cpp).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "core/simd_bytes.h"

namespace pb {

// Why a scanner of our own next to simdjson: simdjson parses a document whole, and its indexes take
// about 6.7 bytes per byte of input (structural indexes 4, string buffer 1.7) on top of the text, so a
// 20 MB p2 document cannot be parsed at once inside a Worker's 128 MB; and a tree built only to read
// two fields costs more than the walk.
class json_scanner {
 public:
  // `outer`: the containers `text` sits inside in its document, which count against the depth limit.
  explicit json_scanner(std::string_view text, std::size_t outer = 0) : s_(text), outer_(outer) {}
  // A reader that walks into a container where it stands (json_scan::members_at) enters it, so the values
  // it skips inside count it, as a skip of the whole container did.
  void enter() { ++outer_; }
  void leave() { --outer_; }

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

  // The value at the scanner's position (after whitespace) read as strict JSON, for a reader that would
  // otherwise check it with simdjson: true when it is certainly valid, and then the scanner is past it
  // (where value() ends it) and `dump` says whether it is json_writer's form (is_dump_form's answer);
  // false, the scanner not moved past the whitespace, when it cannot tell: JSON it does not follow (a
  // \u escape of a surrogate, a fraction or an exponent, an integer of more than 18 digits, nesting past
  // the limit) or not JSON. So what it accepts simdjson accepts (tests compare the two on random
  // values), given valid UTF-8, which it does not check (the p2 reader checks the whole document first).
  bool strict_value(bool& dump);  // (json_scan.cpp, at the hot files' -O2: one copy for every caller)

  // The position of the first '"' or '\\' at or after `i` (n when none): eight bytes at a time (most of
  // a p2 document's bytes are inside strings; a byte at a time was the scanner's whole cost).
  static std::size_t next_quote_or_backslash(const char* p, std::size_t i, std::size_t n) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      const std::uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
      // A zero byte in q or b: the lowest flagged byte is exact (little-endian: wasm, and x86/arm hosts).
      const std::uint64_t hit = ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs);
      if (hit) return i + static_cast<std::size_t>(__builtin_ctzll(hit) / 8);
    }
    for (; i < n; ++i)
      if (p[i] == '"' || p[i] == '\\') return i;
    return n;
  }

  // Why value() failed, for the error message.
  std::string failure(std::string_view otherwise) const {
    return too_deep_ ? "the document is too deep: more than 1024 nested objects and arrays" : std::string(otherwise);
  }

 private:
  bool skip_string() {  // at_ on the opening quote
    const char* p = s_.data();
    const std::size_t n = s_.size();
    std::size_t i = at_ + 1;
    while (i < n) {
      i = next_quote_or_backslash(p, i, n);
      if (i >= n) break;
      if (p[i] == '"') {
        at_ = i + 1;
        return true;
      }
      i += 2;  // a backslash and the character it escapes
    }
    at_ = s_.size();
    return false;
  }

  // The container at at_ (its opening bracket) in 64-byte blocks: masks of quotes, backslashes and
  // brackets, the strings' extent from the quotes by a prefix XOR, then only the brackets outside strings
  // visited one by one (the byte loop's walk outside strings made json_scanner::value 13.5% of a mirror
  // rewrite; 8.5% so, docs/PERFORMANCE.md, twelfth round). The same answers as skip_container_bytes (which tests compare it with) on every
  // input: a block assumes each backslash escapes the next byte, as it does inside strings; a backslash
  // outside one (never in valid JSON) hands the whole container to the byte loop.
  bool skip_container() {
    const char* p = s_.data();
    const std::size_t n = s_.size(), start = at_;
    char open[max_depth];  // the closing bracket each open container expects
    std::size_t depth = 0;
    std::uint64_t in_string = 0;  // all ones when the block starts inside a string
    bool escaped = false;         // the block's first byte is escaped (a backslash ended the last one)
    char tail[64];
    for (std::size_t base = start; base < n; base += 64) {
      const char* block = p + base;
      if (n - base < 64) {  // the last block from a copy padded with spaces (neither quote nor bracket)
        std::memset(tail, ' ', sizeof tail);
        std::memcpy(tail, block, n - base);
        block = tail;
      }
      const simd::block_masks m = simd::masks64(block);
      std::uint64_t escapes = escaped ? 1 : 0;  // the bytes a backslash escapes
      escaped = false;
      for (std::uint64_t b = m.backslash & ~escapes; b;) {
        const int i = __builtin_ctzll(b);
        if (i == 63) {
          escaped = true;
          break;
        }
        escapes |= std::uint64_t{1} << (i + 1);
        b &= ~(std::uint64_t{3} << i);  // this backslash and the one it escapes, if it is one
      }
      const std::uint64_t strings = simd::prefix_xor(m.quote & ~escapes) ^ in_string;
      if (m.backslash & ~escapes & ~strings) {  // a backslash outside a string
        at_ = start;
        return skip_container_bytes();
      }
      in_string = static_cast<std::uint64_t>(static_cast<std::int64_t>(strings) >> 63);
      for (std::uint64_t b = m.bracket & ~strings; b; b &= b - 1) {
        const std::size_t i = base + static_cast<std::size_t>(__builtin_ctzll(b));
        const char c = p[i];
        if (c == '{' || c == '[') {
          if (depth >= limit()) {
            at_ = i + 1;
            too_deep_ = true;
            return false;
          }
          open[depth++] = c == '{' ? '}' : ']';
        } else {
          at_ = i + 1;
          if (depth == 0 || open[depth - 1] != c) return false;
          if (--depth == 0) return true;
        }
      }
    }
    at_ = n;
    return false;
  }

 public:
  // skip_container a byte at a time: the reference the block loop is tested against, and its path for
  // text that is not JSON.
  bool skip_container_bytes() {
    char open[max_depth];
    std::size_t depth = 0;
    while (at_ < s_.size()) {
      const char c = s_[at_];
      if (c == '"') {
        if (!skip_string()) return false;
        continue;
      }
      ++at_;
      if (c == '{' || c == '[') {
        if (depth >= limit()) {
          too_deep_ = true;
          return false;
        }
        open[depth++] = c == '{' ? '}' : ']';
      } else if (c == '}' || c == ']') {
        if (depth == 0 || open[depth - 1] != c) return false;
        if (--depth == 0) return true;
      }
    }
    return false;
  }
  // Where the scanner stands, and whether the last value failed on depth (tests compare the two loops).
  std::size_t position() const { return at_; }
  // The text from a position seen before (position()) to where the scanner stands.
  std::string_view since(std::size_t start) const { return s_.substr(start, at_ - start); }
  // Back to a position seen before (position()), to read the same text another way.
  void rewind(std::size_t at) {
    at_ = at;
    too_deep_ = false;
  }
  bool too_deep() const { return too_deep_; }

 private:
  std::size_t limit() const { return outer_ < max_depth ? max_depth - outer_ : 0; }

  static constexpr std::size_t max_depth = 1024;  // simdjson's default depth limit
  std::string_view s_;
  std::size_t outer_ = 0;
  std::size_t at_ = 0;
  bool too_deep_ = false;
};

namespace json_scan {

inline error broken(std::string_view why) {
  return make_error(error_code::bad_request, "invalid JSON (" + std::string(why) + ")");
}

// A string's text (with quotes) as a string: most have no escapes and are taken as they are.
// Whether a string's inner text is its value (no escapes, no control characters to refuse).
// Sixteen bytes at a time over printable ASCII (most keys, versions and URLs: every key of every member
// walk passes here), then a byte at a time from the first other byte (UTF-8 is plain too).
inline bool is_plain_string(std::string_view inner) {
  const char* p = inner.data();
  const std::size_t n = inner.size();
  for (std::size_t i = simd::plain_ascii_end(p, 0, n); i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == '\\' || c < 0x20) return false;
  }
  return true;
}

inline result<std::string> string_of(std::string_view quoted) {
  std::string_view inner = quoted.substr(1, quoted.size() - 2);
  if (is_plain_string(inner)) return std::string(inner);
  auto parsed = parse_json(quoted);
  if (!parsed) return std::move(parsed).err();
  return std::string(parsed->as_string());
}

struct go_on {
  bool stop = false;
};

// Walks the members of the object starting at the scanner's position, each value read where it stands:
// `member(key, sc)` is called with the scanner on the value (after its whitespace) and must move it past
// the value, returning result<go_on>. For a reader that walks into a large value instead of skipping it
// first (sources/p2_reader.cpp: "packages" and its lists). The key is a view into the text unless it has
// escapes (then into a decoded copy), valid during the call.
template <class Member>
result<std::monostate> members_at(json_scanner& sc, Member&& member) {
  if (!sc.take('{')) return broken("an object was expected");
  if (sc.take('}')) return std::monostate{};
  std::string decoded;
  while (true) {
    sc.skip_ws();
    if (sc.peek() != '"') return broken("a key was expected");
    auto quoted = sc.value();
    if (!quoted) return broken("an unterminated key");
    std::string_view key = quoted->substr(1, quoted->size() - 2);
    if (!is_plain_string(key)) {
      auto k = string_of(*quoted);
      if (!k) return std::move(k).err();
      decoded = std::move(*k);
      key = decoded;
    }
    if (!sc.take(':')) return broken("':' was expected");
    sc.skip_ws();
    auto r = member(key, sc);
    if (!r) return std::move(r).err();
    if (r->stop) return std::monostate{};
    if (sc.take(',')) continue;
    if (sc.take('}')) return std::monostate{};
    return broken("',' or '}' was expected");
  }
}

// The error of a value the scanner could not read after `key`.
inline error no_value_after(const json_scanner& sc, std::string_view key) {
  return broken(sc.failure("a value was expected after \"" + std::string(key.substr(0, 60)) + "\""));
}

// Walks the members of the object starting at the scanner's position; `member(key, value text)`
// returns result<go_on>. The key is a view into the text unless it has escapes (then into a decoded
// copy), valid during the call.
template <class Member>
result<std::monostate> members(json_scanner& sc, Member&& member) {
  return members_at(sc, [&](std::string_view key, json_scanner& at) -> result<go_on> {
    auto v = at.value();
    if (!v) return no_value_after(at, key);
    return member(key, *v);
  });
}

// members() as one out-of-line instantiation at the hot files' -O2 (json_scan.cpp) for the callers that walk
// many objects (the p2 reader's dist and source, first_members): each instantiation of its own was about a kilobyte of
// the module, and at an -Oz caller's every scanner step is a call.
using member_fn = std::function<result<go_on>(std::string_view key, std::string_view value)>;
result<std::monostate> walk_members(json_scanner& sc, const member_fn& member);

// The first value of each of `keys` among the members of the object `object` (json::find's rule for
// duplicates) into `found` (same size; nullopt: absent), in one walk that stops when all are found.
// false when `object` does not scan as an object. Through walk_members: the dump order walks every
// row's composer.json with it (9% of a mirror rewrite when it was instantiated at packages.cpp's -Oz).
bool first_members(std::string_view object, std::span<const std::string_view> keys,
                   std::span<std::optional<std::string_view>> found);

}  // namespace json_scan

}  // namespace pb
