#include "auth/credentials.h"
#include "core/text.h"

#include "core/base64.h"

#include <cstdint>

namespace pb::auth {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool starts_with_scheme(std::string_view v, std::string_view scheme) {
  if (v.size() <= scheme.size() || v[scheme.size()] != ' ') return false;
  return http::iequals(v.substr(0, scheme.size()), scheme);
}

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'; }
}  // namespace

std::optional<std::string> presented_token(const http::headers& h) {
  auto v = h.get("authorization");
  if (!v) return std::nullopt;
  std::string_view value = trim(*v);
  if (starts_with_scheme(value, "Bearer")) return std::string(trim(value.substr(7)));
  if (starts_with_scheme(value, "Basic")) {
    auto decoded = base64_decode(trim(value.substr(6)));
    if (!decoded) return std::string();
    std::size_t colon = decoded->find(':');
    if (colon == std::string::npos) return std::string();
    // The token is the password; tools that put it in the username with an empty password work too.
    if (colon + 1 == decoded->size()) return decoded->substr(0, colon);
    return decoded->substr(colon + 1);
  }
  return std::string();
}

bool name_matches(std::string_view name, std::string_view pattern) {
  // Iterative glob with backtracking to the last '*'.
  std::size_t n = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && ascii_lower(pattern[p]) == ascii_lower(name[n])) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool any_matches(std::string_view name, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns)
    if (name_matches(name, p)) return true;
  return false;
}

namespace {
// Both decisions walk the two patterns together, memoized on (i, j) positions: patterns are at most
// a few hundred characters, so the table stays small. seen: 0 unknown, 1 false, 2 true.
struct pattern_walk {
  std::string_view a, b;
  bool covers;  // false: a and b intersect; true: a covers b (a's '*' absorbs b's characters and stars)
  std::vector<std::uint8_t> seen;

  pattern_walk(std::string_view x, std::string_view y, bool c)
      : a(x), b(y), covers(c), seen((x.size() + 1) * (y.size() + 1), 0) {}

  bool at(std::size_t i, std::size_t j) {
    std::uint8_t& memo = seen[i * (b.size() + 1) + j];
    if (memo) return memo == 2;
    bool r = step(i, j);
    memo = r ? 2 : 1;
    return r;
  }
  bool step(std::size_t i, std::size_t j) {
    bool a_end = i == a.size(), b_end = j == b.size();
    if (a_end && b_end) return true;
    if (!a_end && a[i] == '*') {
      // a's star matches nothing more, or one more symbol of b (a literal, or in `covers` also b's star).
      if (at(i + 1, j)) return true;
      if (!b_end && at(i, j + 1)) return true;
      return false;
    }
    if (!b_end && b[j] == '*') {
      if (covers) return false;  // a literal of a cannot stand for everything b's star matches
      return at(i, j + 1) || (!a_end && at(i + 1, j));
    }
    if (a_end || b_end) return false;
    return ascii_lower(a[i]) == ascii_lower(b[j]) && at(i + 1, j + 1);
  }
};
}  // namespace

bool patterns_intersect(std::string_view a, std::string_view b) { return pattern_walk(a, b, false).at(0, 0); }

bool pattern_covers(std::string_view outer, std::string_view inner) { return pattern_walk(outer, inner, true).at(0, 0); }

bool valid_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > 200) return false;
  for (char c : pattern)
    if (!is_name_char(c) && c != '/' && c != '*') return false;
  return true;
}

bool valid_package_name(std::string_view name) {
  // ^[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$
  std::size_t slash = name.find('/');
  if (slash == std::string_view::npos || name.find('/', slash + 1) != std::string_view::npos) return false;
  auto part_ok = [](std::string_view part, bool allow_double_dash) {
    if (part.empty()) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(part.front()) || !alnum(part.back())) return false;
    std::size_t run = 0;
    char prev = 0;
    for (char c : part) {
      if (alnum(c)) {
        run = 0;
      } else if (c == '_' || c == '.' || c == '-') {
        ++run;
        bool ok = run == 1 || (allow_double_dash && run == 2 && c == '-' && prev == '-');
        if (!ok) return false;
      } else {
        return false;
      }
      prev = c;
    }
    return true;
  };
  return part_ok(name.substr(0, slash), false) && part_ok(name.substr(slash + 1), true);
}

}  // namespace pb::auth
