// Building blocks for the hand-written matchers that stand in for VersionParser's PCRE patterns
// (version_parser.cpp, constraint_parser.cpp): PCRE's character classes and anchors as PHP compiles them
// (no flags but /i), PHP's trim(), and VersionParser::$modifierRegex with PCRE's backtracking order.
// Internal to src/versions/.
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

namespace pb::versions::pcre {

using sv = std::string_view;
constexpr std::size_t npos = sv::npos;

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
// PCRE's \s in non-UCP mode.
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
// The characters PHP's trim() strips by default (no \f, unlike \s).
constexpr bool is_trim_char(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0' || c == '\v';
}

inline sv php_trim(sv s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_trim_char(s[b])) ++b;
  while (e > b && is_trim_char(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// PCRE `$` (no D modifier): end of subject, or just before a "\n" that ends the subject.
inline bool at_end(sv s, std::size_t p) { return p == s.size() || (p + 1 == s.size() && s[p] == '\n'); }

// Case-insensitive (ASCII) test that s has `word` at p; `word` is given in lower case.
inline bool iprefix_at(sv s, std::size_t p, sv word) {
  if (p > s.size() || s.size() - p < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (to_lower(s[p + i]) != word[i]) return false;
  }
  return true;
}

inline bool prefix_at(sv s, std::size_t p, sv word) {
  return p <= s.size() && s.size() - p >= word.size() && s.substr(p, word.size()) == word;
}

inline std::size_t digits_end(sv s, std::size_t p) {
  while (p < s.size() && is_digit(s[p])) ++p;
  return p;
}

inline std::size_t spaces_end(sv s, std::size_t p) {  // ` *`: the space character only
  while (p < s.size() && s[p] == ' ') ++p;
  return p;
}

// End of a run of characters that are neither ',' nor \s (`[^,\s]++`); `plus_too` also stops at '+'
// (`[^,\s+]++`).
inline std::size_t not_comma_space_end(sv s, std::size_t p, bool plus_too = false) {
  while (p < s.size() && s[p] != ',' && !is_space(s[p]) && !(plus_too && s[p] == '+')) ++p;
  return p;
}

// {^([^,\s]++) ++as ++([^,\s]++)$}: the part before " as " when s is an alias ("1.0 as 2.0"), else s.
inline sv strip_alias(sv s) {
  const std::size_t a = not_comma_space_end(s, 0);
  const std::size_t p = spaces_end(s, a);
  if (a == 0 || p == a || !prefix_at(s, p, "as")) return s;
  const std::size_t r = spaces_end(s, p + 2);
  const std::size_t e = not_comma_space_end(s, r);
  return (r > p + 2 && e > r && at_end(s, e)) ? s.substr(0, a) : s;
}

// ---- VersionParser::$modifierRegex ---------------------------------------------------------------
//   [._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?     (always with /i)
struct modifier {
  sv stability;  // group 1 as written ("" when absent)
  sv numbers;    // group 2
  sv dev;        // group 3
};

// The alternation in pattern order, lower-cased. `rc_at` is where "RC" sits: parseConstraint also runs
// the pattern case-sensitively on a strtolower()ed subject, where "RC" can never match.
constexpr sv k_modifier_words[] = {"stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p"};
constexpr std::size_t k_modifier_rc_at = 3;

// `(?:[.-]?\d+)*+`: possessive, so the longest run is taken and never given back.
inline std::size_t numbers_end(sv s, std::size_t p) {
  for (;;) {
    std::size_t q = p;
    if (q + 1 < s.size() && (s[q] == '.' || s[q] == '-') && is_digit(s[q + 1])) ++q;
    if (q >= s.size() || !is_digit(s[q])) return p;
    p = digits_end(s, q);
  }
}

// `([.-]?dev)?` followed by whatever `tail` accepts at the resulting position.
template <class Tail>
bool match_dev(sv s, std::size_t p, const Tail& tail, sv& dev) {
  if (p < s.size() && (s[p] == '.' || s[p] == '-') && iprefix_at(s, p + 1, "dev") && tail(p + 4)) {
    dev = s.substr(p, 4);
    return true;
  }
  if (iprefix_at(s, p, "dev") && tail(p + 3)) {
    dev = s.substr(p, 3);
    return true;
  }
  if (tail(p)) {
    dev = {};
    return true;
  }
  return false;
}

// The modifier starting exactly at p, then `tail`: the first success in PCRE's backtracking order.
// Without `rc_word` the word "RC" is left out (see k_modifier_rc_at).
template <class Tail>
bool match_modifier(sv s, std::size_t p, const Tail& tail, modifier& m, bool rc_word = true) {
  const bool has_sep = p < s.size() && (s[p] == '.' || s[p] == '_' || s[p] == '-');
  for (int take_sep = has_sep ? 1 : 0; take_sep >= 0; --take_sep) {
    const std::size_t q = p + static_cast<std::size_t>(take_sep);
    for (std::size_t w = 0; w < std::size(k_modifier_words); ++w) {
      const sv word = k_modifier_words[w];
      if ((w == k_modifier_rc_at && !rc_word) || !iprefix_at(s, q, word)) continue;
      const std::size_t r = q + word.size();
      const std::size_t u = numbers_end(s, r);
      if (match_dev(s, u, tail, m.dev)) {
        m.stability = s.substr(q, word.size());
        m.numbers = s.substr(r, u - r);
        return true;
      }
      // `(...)?` around the numbers may also be skipped; only differs when they matched something.
      if (u != r && match_dev(s, r, tail, m.dev)) {
        m.stability = s.substr(q, word.size());
        m.numbers = {};
        return true;
      }
    }
    if (match_dev(s, q, tail, m.dev)) {
      m.stability = {};
      m.numbers = {};
      return true;
    }
  }
  return false;
}

}  // namespace pb::versions::pcre
