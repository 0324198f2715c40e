// VersionParser::parseConstraints, parseConstraint and manipulateVersionString (composer/semver 3.3.2).
// Each PHP regex is quoted above the code that matches it, with PCRE's semantics as in
// version_parser.cpp (see pcre.h): captures come from the first success in PCRE's backtracking order.
#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "versions/constraint.h"
#include "versions/pcre.h"
#include "versions/version_parser.h"

namespace pb::versions {
namespace {

using namespace pcre;  // NOLINT: the matchers below are written in its vocabulary

// ---- VersionParser's $versionRegex (always compiled with /i) ---------------------------------------
//   v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.(\d++))?(?:<modifier>|\.([xX*][.-]?dev))(?:\+[^\s]+)?
struct version_match {
  sv numbers[4];   // groups 1-4, "" when a group took no part
  modifier mod;    // groups 5-7
  sv x_dev;        // group 8
  std::size_t end = 0;
};

constexpr bool is_wildcard(char c) { return c == 'x' || c == 'X' || c == '*'; }

// The regex at p, then `tail`. Nothing can give back: `v?` is followed by a digit, the number groups
// are possessive, and a skipped optional number group would leave ".<digit>", which nothing after it
// accepts. The build suffix's `[^\s]+` could give characters back, but every tail used here needs the
// end, a space or a final "\n" next, which only the whole run leaves.
template <class Tail>
bool match_version_regex(sv s, std::size_t p, const Tail& tail, version_match& m) {
  m = {};
  std::size_t q = p;
  if (q < s.size() && to_lower(s[q]) == 'v') ++q;
  std::size_t e = digits_end(s, q);
  if (e == q) return false;
  m.numbers[0] = s.substr(q, e - q);
  q = e;
  for (int i = 1; i < 4 && q + 1 < s.size() && s[q] == '.' && is_digit(s[q + 1]); ++i) {
    e = digits_end(s, q + 1);
    m.numbers[i] = s.substr(q + 1, e - q - 1);
    q = e;
  }
  auto build_then_tail = [&](std::size_t t) {  // (?:\+[^\s]+)? and the tail
    if (t < s.size() && s[t] == '+') {
      std::size_t f = t + 1;
      while (f < s.size() && !is_space(s[f])) ++f;
      if (f > t + 1 && tail(f)) {
        m.end = f;
        return true;
      }
    }
    if (!tail(t)) return false;
    m.end = t;
    return true;
  };
  if (match_modifier(s, q, build_then_tail, m.mod)) return true;
  m.mod = {};
  if (q + 1 < s.size() && s[q] == '.' && is_wildcard(s[q + 1])) {  // \.([xX*][.-]?dev)
    const std::size_t r = q + 2;
    if (r < s.size() && (s[r] == '.' || s[r] == '-') && iprefix_at(s, r + 1, "dev") && build_then_tail(r + 4)) {
      m.x_dev = s.substr(q + 1, 5);
      return true;
    }
    if (iprefix_at(s, r, "dev") && build_then_tail(r + 3)) {
      m.x_dev = s.substr(q + 1, 4);
      return true;
    }
  }
  return false;
}

// PHP's (string) of a float at the default precision (14): "%.14G" as zend_gcvt writes it, for the
// values that reach it here (2^63 and up, so always the exponent form: "1.0E+20", "9.2233720368548E+18",
// or "INF").
std::string php_float_string(double value) {
  if (value > DBL_MAX) return "INF";  // over ~1.8e308 digits
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.13e", value);  // d.ddddddddddddde+XX, correctly rounded like zend_dtoa
  const sv text(buf);
  const std::size_t e_at = text.find('e');
  sv fraction = text.substr(2, e_at - 2);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  std::string out(1, text[0]);
  out += '.';
  out.append(fraction.empty() ? sv("0") : fraction);
  out += 'E';
  out += text[e_at + 1];  // sign
  const int exponent = std::atoi(buf + e_at + 2);
  out += std::to_string(exponent);
  return out;
}

// `$matches[$i] += 1` on a digit string: PHP reads it as an integer when it fits a 64-bit long and as a
// float otherwise (and an overflowing + 1 gives a float too), then prints the result.
std::string php_increment(sv digits) {
  constexpr std::int64_t max = INT64_MAX;
  std::size_t z = 0;
  while (z + 1 < digits.size() && digits[z] == '0') ++z;
  const sv significant = digits.substr(z);
  std::int64_t value = 0;
  bool fits = significant.size() <= 19;
  for (std::size_t i = 0; fits && i < significant.size(); ++i) {
    const int d = significant[i] - '0';
    if (value > (max - d) / 10) {
      fits = false;
    } else {
      value = value * 10 + d;
    }
  }
  if (fits && value < max) return std::to_string(value + 1);
  const std::string copy(digits);
  return php_float_string(std::strtod(copy.c_str(), nullptr) + 1.0);
}

// VersionParser::manipulateVersionString($matches, $position, $increment) with $pad '0'. The part at
// `position` is always a matched number here, and the increment is 0 or 1, so PHP's carry on a
// negative result (and its null return) cannot happen.
std::string manipulate_version_string(const sv (&numbers)[4], int position, bool increment) {
  std::string out;
  for (int i = 1; i <= 4; ++i) {
    if (i > 1) out += '.';
    if (i > position) {
      out += '0';
    } else if (i == position && increment) {
      out += php_increment(numbers[i - 1]);
    } else {
      out.append(numbers[i - 1]);
    }
  }
  return out;
}

using constraints_t = std::vector<constraint>;

result<constraints_t> pair(constraint_op low_op, std::string low, constraint_op high_op, std::string high) {
  constraints_t out;
  out.push_back(constraint::make_single(low_op, std::move(low)));
  out.push_back(constraint::make_single(high_op, std::move(high)));
  return out;
}

result<constraints_t> one(constraint c) {
  constraints_t out;
  out.push_back(std::move(c));
  return out;
}

bool empty_modifier(const version_match& m) { return m.mod.stability.empty() && m.mod.dev.empty() && m.x_dev.empty(); }

// {^~>?<version>$}i: "~1.2" -> >= 1.2.0.0-dev < 2.0.0.0-dev (the last given number may move).
std::optional<result<constraints_t>> tilde_range(sv c) {
  if (c.empty() || c[0] != '~') return std::nullopt;
  const bool ruby = c.size() > 1 && c[1] == '>';
  version_match m;
  if (!match_version_regex(c, ruby ? 2 : 1, [&](std::size_t t) { return at_end(c, t); }, m)) return std::nullopt;
  if (ruby) {
    std::string message = "Could not parse version constraint ";
    message.append(c);
    message += ": Invalid operator \"~>\", you probably meant to use the \"~\" operator";
    return result<constraints_t>(make_error(error_code::bad_request, std::move(message)));
  }
  int position = 1;
  for (int i = 3; i >= 1; --i) {
    if (!m.numbers[i].empty()) {
      position = i + 1;
      break;
    }
  }
  // 2.x-dev and 3.0.x-dev shift the number after the last one given
  if (!m.x_dev.empty()) ++position;
  std::string low_input(c.substr(1));
  if (empty_modifier(m)) low_input += "-dev";
  auto low = normalize(low_input);
  if (!low.ok()) return result<constraints_t>(std::move(low).err());
  const int high_position = position - 1 > 1 ? position - 1 : 1;
  return pair(constraint_op::ge, std::move(*low), constraint_op::lt,
              manipulate_version_string(m.numbers, high_position, true) + "-dev");
}

// {^\^<version>($)}i: "^1.2" -> >= 1.2.0.0-dev < 2.0.0.0-dev; the left-most non-zero number is kept.
std::optional<result<constraints_t>> caret_range(sv c) {
  if (c.empty() || c[0] != '^') return std::nullopt;
  version_match m;
  if (!match_version_regex(c, 1, [&](std::size_t t) { return at_end(c, t); }, m)) return std::nullopt;
  int position = 3;
  if (m.numbers[0] != "0" || m.numbers[1].empty()) {
    position = 1;
  } else if (m.numbers[1] != "0" || m.numbers[2].empty()) {
    position = 2;
  }
  std::string low_input(c.substr(1));
  if (empty_modifier(m)) low_input += "-dev";
  auto low = normalize(low_input);
  if (!low.ok()) return result<constraints_t>(std::move(low).err());
  return pair(constraint_op::ge, std::move(*low), constraint_op::lt,
              manipulate_version_string(m.numbers, position, true) + "-dev");
}

// {^v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.[xX*])++$} (case-sensitive): "1.2.*" -> >= 1.2.0.0-dev < 1.3.0.0-dev.
std::optional<result<constraints_t>> x_range(sv c) {
  sv numbers[4];
  std::size_t q = (!c.empty() && c[0] == 'v') ? 1 : 0;
  std::size_t e = digits_end(c, q);
  if (e == q) return std::nullopt;
  numbers[0] = c.substr(q, e - q);
  q = e;
  for (int i = 1; i < 3 && q + 1 < c.size() && c[q] == '.' && is_digit(c[q + 1]); ++i) {
    e = digits_end(c, q + 1);
    numbers[i] = c.substr(q + 1, e - q - 1);
    q = e;
  }
  std::size_t wildcards = 0;
  while (q + 1 < c.size() && c[q] == '.' && is_wildcard(c[q + 1])) {
    q += 2;
    ++wildcards;
  }
  if (wildcards == 0 || !at_end(c, q)) return std::nullopt;
  const int position = !numbers[2].empty() ? 3 : (!numbers[1].empty() ? 2 : 1);
  std::string low = manipulate_version_string(numbers, position, false) + "-dev";
  std::string high = manipulate_version_string(numbers, position, true) + "-dev";
  if (low == "0.0.0.0-dev") return one(constraint::make_single(constraint_op::lt, std::move(high)));
  return pair(constraint_op::ge, std::move(low), constraint_op::lt, std::move(high));
}

// {^(?P<from><version>) +- +(?P<to><version>)($)}i: "1.0 - 2.1" -> >= 1.0.0.0-dev < 2.2.0.0-dev; a "to"
// with major.minor.patch or a stability is inclusive instead ("<= 2.1.0.0").
std::optional<result<constraints_t>> hyphen_range(sv c) {
  version_match from;
  version_match to;
  std::size_t to_start = 0;
  auto then_to = [&](std::size_t t) {
    if (t >= c.size() || c[t] != ' ') return false;
    const std::size_t dash = spaces_end(c, t);
    if (dash >= c.size() || c[dash] != '-') return false;
    to_start = spaces_end(c, dash + 1);
    if (to_start == dash + 1) return false;
    return match_version_regex(c, to_start, [&](std::size_t z) { return at_end(c, z); }, to);
  };
  if (!match_version_regex(c, 0, then_to, from)) return std::nullopt;

  auto low = normalize(c.substr(0, from.end));
  if (!low.ok()) return result<constraints_t>(std::move(low).err());
  if (empty_modifier(from)) *low += "-dev";

  const sv to_text = c.substr(to_start, to.end - to_start);
  auto high = normalize(to_text);  // validates the "to" version in either case
  if (!high.ok()) return result<constraints_t>(std::move(high).err());
  if ((!to.numbers[1].empty() && !to.numbers[2].empty()) || !to.mod.stability.empty() || !to.mod.dev.empty() ||
      !to.x_dev.empty()) {
    return pair(constraint_op::ge, std::move(*low), constraint_op::le, std::move(*high));
  }
  return pair(constraint_op::ge, std::move(*low), constraint_op::lt,
              manipulate_version_string(to.numbers, to.numbers[1].empty() ? 1 : 2, true) + "-dev");
}

// preg_match('/-' . $modifierRegex . '$/', strtolower($s)): a '-' followed by a whole modifier. On a
// lower-cased subject the case-sensitive "RC" alternative can never match.
bool ends_with_dash_modifier(sv s) {
  modifier m;
  for (std::size_t i = s.find('-'); i != npos; i = s.find('-', i + 1)) {
    if (match_modifier(s, i + 1, [&](std::size_t t) { return at_end(s, t); }, m, false)) return true;
  }
  return false;
}

// {^[0-9a-zA-Z-./]+$}
bool is_simple_branch_text(sv s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const char l = to_lower(ch);
    if (!is_digit(ch) && !(l >= 'a' && l <= 'z') && ch != '-' && ch != '.' && ch != '/') return false;
  }
  return true;
}

// {^(<>|!=|>=?|<=?|==?)?\s*(.*)}: an operator (none means "=") and a version up to the first "\n".
result<constraints_t> basic_comparator(sv c, sv stability_modifier) {
  std::size_t op_len = 0;
  if (prefix_at(c, 0, "<>") || prefix_at(c, 0, "!=")) {
    op_len = 2;
  } else if (!c.empty() && (c[0] == '>' || c[0] == '<' || c[0] == '=')) {
    op_len = (c.size() > 1 && c[1] == '=') ? 2 : 1;
  }
  const sv op_text = c.substr(0, op_len);
  std::size_t p = op_len;
  while (p < c.size() && is_space(c[p])) ++p;
  std::size_t e = c.find('\n', p);
  if (e == npos) e = c.size();
  const sv text = c.substr(p, e - p);

  auto version = normalize(text);
  if (!version.ok()) {
    // recover from an invalid constraint like foobar-dev which should be dev-foobar
    if (text.size() >= 4 && text.substr(text.size() - 4) == "-dev" && is_simple_branch_text(text)) {
      version = normalize("dev-" + std::string(text.substr(0, text.size() - 4)));
    }
    if (!version.ok()) {
      std::string message = "Could not parse version constraint ";
      message.append(c);
      message += ": ";
      message += version.err().message;
      return make_error(error_code::bad_request, std::move(message));
    }
  }

  const sv op = op_text.empty() ? sv("=") : op_text;
  std::string v = std::move(*version);
  if (op != "==" && op != "=" && !stability_modifier.empty() && parse_stability(v) == "stable") {
    v += '-';
    v.append(stability_modifier);
  } else if ((op == "<" || op == ">=") && !ends_with_dash_modifier(text) && text.substr(0, 4) != "dev-") {
    v += "-dev";
  }
  auto parsed_op = parse_operator(op);
  if (!parsed_op.ok()) return std::move(parsed_op).err();  // unreachable: the pattern only takes valid ones
  return one(constraint::make_single(*parsed_op, std::move(v)));
}

// {^([^,\s]*?)@(stable|RC|beta|alpha|dev)$}i: the position of the flag's '@', npos without one.
std::size_t stability_flag_at(sv c, sv& word) {
  static constexpr sv k_words[] = {"stable", "rc", "beta", "alpha", "dev"};
  for (std::size_t a = 0; a < c.size(); ++a) {
    if (c[a] == '@') {
      for (sv w : k_words) {
        if (iprefix_at(c, a + 1, w) && at_end(c, a + 1 + w.size())) {
          word = c.substr(a + 1, w.size());
          return a;
        }
      }
    }
    if (c[a] == ',' || is_space(c[a])) break;  // the lazy group cannot take it
  }
  return npos;
}

constexpr bool is_ref_group_char(char ch) { return ch != ',' && ch != '@' && !is_space(ch); }

// {^(dev-[^,\s@]+?|[^,\s@]+?\.x-dev)#.+$}i: the part before the "#ref", or c unchanged. `#.+$` after a
// '#' at h needs a character and no "\n" before the end (or before a final "\n").
sv strip_ref(sv c) {
  const std::size_t end = (!c.empty() && c.back() == '\n') ? c.size() - 1 : c.size();
  const std::size_t inner_newline = c.substr(0, end).rfind('\n');
  auto ref_tail = [&](std::size_t h) { return h + 1 < end && (inner_newline == npos || inner_newline < h); };
  if (iprefix_at(c, 0, "dev-")) {
    for (std::size_t i = 4; i < c.size() && is_ref_group_char(c[i]); ++i) {
      if (i + 1 < c.size() && c[i + 1] == '#' && ref_tail(i + 1)) return c.substr(0, i + 1);
    }
  }
  for (std::size_t g = 1; g <= c.size() && is_ref_group_char(c[g - 1]); ++g) {
    const std::size_t h = g + 6;
    if (iprefix_at(c, g, ".x-dev") && h < c.size() && c[h] == '#' && ref_tail(h)) return c.substr(0, h);
  }
  return c;
}

// VersionParser::parseConstraint: one requirement, as one or two constraints.
result<constraints_t> parse_constraint(sv c) {
  // strip off aliasing
  c = strip_alias(c);

  // strip @stability flags, and keep it for later use
  sv stability_modifier;
  sv flag;
  if (const std::size_t at = stability_flag_at(c, flag); at != npos) {
    c = at > 0 ? c.substr(0, at) : sv("*");
    if (flag != "stable") stability_modifier = flag;  // case-sensitive: "@STABLE" is kept
  }

  // get rid of #refs as those are used by composer only
  c = strip_ref(c);

  // {^(v)?[xX*](\.[xX*])*$}i
  {
    const std::size_t v = (!c.empty() && to_lower(c[0]) == 'v') ? 1 : 0;
    if (v < c.size() && is_wildcard(c[v])) {
      std::size_t q = v + 1;
      while (q + 1 < c.size() && c[q] == '.' && is_wildcard(c[q + 1])) q += 2;
      if (at_end(c, q)) {
        if (v == 1 || q > v + 1) return one(constraint::make_single(constraint_op::ge, "0.0.0.0-dev"));
        return one(constraint::match_all());
      }
    }
  }

  if (auto r = tilde_range(c)) return std::move(*r);
  if (auto r = caret_range(c)) return std::move(*r);
  if (auto r = x_range(c)) return std::move(*r);
  if (auto r = hyphen_range(c)) return std::move(*r);
  return basic_comparator(c, stability_modifier);
}

// preg_split('{\s*\|\|?\s*}', $s): the leftmost match starts where the whitespace before the next '|'
// starts, as no match can begin earlier.
std::vector<sv> split_or(sv s) {
  std::vector<sv> parts;
  std::size_t piece = 0;
  for (std::size_t bar = s.find('|'); bar != npos; bar = s.find('|', piece)) {
    std::size_t start = bar;
    while (start > piece && is_space(s[start - 1])) --start;
    std::size_t end = bar + 1;
    if (end < s.size() && s[end] == '|') ++end;
    while (end < s.size() && is_space(s[end])) ++end;
    parts.push_back(s.substr(piece, start - piece));
    piece = end;
  }
  parts.push_back(s.substr(piece));
  return parts;
}

// preg_split('{(?<!^|as|[=>< ,]) *(?<!-)[, ](?!-) *(?!,|as|$)}', $s): commas and spaces separate
// requirements, except around operators, "as", a leading "-" (hyphen ranges) and at the ends.
std::size_t and_separator_end(sv s, std::size_t p) {
  if (p == 0 || (p >= 2 && s[p - 2] == 'a' && s[p - 1] == 's')) return npos;
  const char before = s[p - 1];
  if (before == '=' || before == '>' || before == '<' || before == ' ' || before == ',') return npos;
  for (std::size_t k = spaces_end(s, p) + 1; k-- > p;) {  // ` *` gives back one space at a time
    if (s[k - 1] == '-' || k >= s.size() || (s[k] != ',' && s[k] != ' ')) continue;
    if (k + 1 < s.size() && s[k + 1] == '-') continue;
    for (std::size_t j = spaces_end(s, k + 1) + 1; j-- > k + 1;) {
      if ((j < s.size() && s[j] == ',') || prefix_at(s, j, "as") || at_end(s, j)) continue;
      return j;
    }
  }
  return npos;
}

std::vector<sv> split_and(sv s) {
  std::vector<sv> parts;
  std::size_t piece = 0;
  for (std::size_t p = 0; p < s.size(); ++p) {
    const std::size_t end = and_separator_end(s, p);
    if (end == npos) continue;
    parts.push_back(s.substr(piece, p - piece));
    piece = end;
    p = end - 1;
  }
  parts.push_back(s.substr(piece));
  return parts;
}

}  // namespace

result<constraint> parse_constraints(std::string_view constraints) {
  std::vector<constraint> or_groups;
  for (sv group : split_or(php_trim(constraints))) {
    std::vector<constraint> objects;
    for (sv part : split_and(group)) {
      auto parsed = parse_constraint(part);
      if (!parsed.ok()) return std::move(parsed).err();
      for (constraint& c : *parsed) objects.push_back(std::move(c));
    }
    if (objects.size() == 1) {
      or_groups.push_back(std::move(objects[0]));
    } else {
      or_groups.push_back(std::move(constraint::make_multi(std::move(objects), true)).value());
    }
  }
  constraint out = constraint::create(std::move(or_groups), false);
  out.set_pretty_string(std::string(constraints));
  return out;
}

}  // namespace pb::versions
