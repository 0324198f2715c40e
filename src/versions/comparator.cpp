// PHP's version_compare (re-implemented from the behaviour of php-src ext/standard/versioning.c) and
// composer/semver's Comparator / Constraint::versionCompare on top of it.
#include "versions/comparator.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace pb::versions {
namespace {

using sv = std::string_view;
constexpr std::size_t npos = sv::npos;

// <ctype.h> in the "C" locale, which is what PHP 8 runs with (it no longer inherits LC_CTYPE).
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_special_separator(char c) { return c == '-' || c == '_' || c == '+'; }
constexpr bool is_non_digit(char c) { return !is_digit(c) && c != '.'; }

// Working memory for a canonicalized version: inline for the usual short strings.
class scratch {
 public:
  char* reserve(std::size_t n) {
    if (n <= sizeof(inline_)) return inline_;
    heap_.resize(n);
    return heap_.data();
  }

 private:
  char inline_[96];
  std::string heap_;
};

// php_canonicalize_version: the first byte is kept as is; '-', '_', '+' and other non-alphanumerics
// become a single '.', and a '.' is inserted wherever a digit meets a non-digit (the byte after such a
// transition is kept even if it is not alphanumeric). Output is at most twice the input.
sv canonicalize(sv in, scratch& buf) {
  char* out = buf.reserve(in.size() * 2);
  std::size_t q = 0;
  char prev = in[0];
  out[q++] = prev;
  for (std::size_t i = 1; i < in.size(); ++i) {
    const char c = in[i];
    const char last_out = out[q - 1];
    if (is_special_separator(c)) {
      if (last_out != '.') out[q++] = '.';
    } else if ((is_non_digit(prev) && is_digit(c)) || (is_digit(prev) && is_non_digit(c))) {
      if (last_out != '.') out[q++] = '.';
      out[q++] = c;
    } else if (!is_alnum(c)) {
      if (last_out != '.') out[q++] = '.';
    } else {
      out[q++] = c;
    }
    prev = c;
  }
  return sv(out, q);
}

// compare_special_version_forms: the rank of the first listed name the part starts with
// (dev < alpha = a < beta = b < RC = rc < # < pl = p), -1 when none.
int special_rank(sv part) {
  struct form {
    sv name;
    int rank;
  };
  static constexpr form forms[] = {{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2}, {"RC", 3},
                                   {"rc", 3},  {"#", 4},     {"pl", 5}, {"p", 5}};
  for (const form& f : forms) {
    if (part.substr(0, f.name.size()) == f.name) return f.rank;
  }
  return -1;
}

constexpr int sign(std::int64_t v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

// strtol(part, NULL, 10) on a part that starts with a digit; saturates like a 64-bit long does.
std::int64_t leading_number(sv part) {
  constexpr std::int64_t max = INT64_MAX;
  std::int64_t v = 0;
  for (char c : part) {
    if (!is_digit(c)) break;
    const int d = c - '0';
    if (v > (max - d) / 10) return max;
    v = v * 10 + d;
  }
  return v;
}

constexpr sv k_number_form = "#N#";  // how php_version_compare names "a number" against a word

int compare_parts(sv p1, sv p2) {
  const bool d1 = !p1.empty() && is_digit(p1[0]);
  const bool d2 = !p2.empty() && is_digit(p2[0]);
  if (d1 && d2) return sign(leading_number(p1) - leading_number(p2));
  if (!d1 && !d2) return sign(special_rank(p1) - special_rank(p2));
  if (d1) return sign(special_rank(k_number_form) - special_rank(p2));
  return sign(special_rank(p1) - special_rank(k_number_form));
}

bool apply(int cmp, constraint_op op) {
  switch (op) {
    case constraint_op::eq: return cmp == 0;
    case constraint_op::lt: return cmp == -1;
    case constraint_op::le: return cmp != 1;
    case constraint_op::gt: return cmp == 1;
    case constraint_op::ge: return cmp != -1;
    case constraint_op::ne: return cmp != 0;
  }
  return false;
}

bool is_branch(sv v) { return v.substr(0, 4) == "dev-"; }

}  // namespace

result<constraint_op> parse_operator(std::string_view op) {
  if (op == "=" || op == "==") return constraint_op::eq;
  if (op == "<") return constraint_op::lt;
  if (op == "<=") return constraint_op::le;
  if (op == ">") return constraint_op::gt;
  if (op == ">=") return constraint_op::ge;
  if (op == "<>" || op == "!=") return constraint_op::ne;
  std::string message = "Invalid operator \"";
  message.append(op);
  message += "\" given, expected one of: =, ==, <, <=, >, >=, <>, !=";
  return make_error(error_code::bad_request, std::move(message));
}

std::string_view operator_string(constraint_op op) {
  switch (op) {
    case constraint_op::eq: return "==";
    case constraint_op::lt: return "<";
    case constraint_op::le: return "<=";
    case constraint_op::gt: return ">";
    case constraint_op::ge: return ">=";
    case constraint_op::ne: return "!=";
  }
  return "==";
}

// php_version_compare. When one side runs out of parts, PHP recurses on the other side's rest against
// "#N#"; that tail call is the loop here. The rest is re-canonicalized like PHP does, into the other
// buffer of its side so it never overlaps the text it is read from.
int version_compare(std::string_view a, std::string_view b) {
  a = a.substr(0, a.find('\0'));
  b = b.substr(0, b.find('\0'));
  scratch buf1[2];
  scratch buf2[2];
  int next1 = 0;
  int next2 = 0;
  for (;;) {
    if (a.empty() || b.empty()) {
      if (a.empty() && b.empty()) return 0;
      return a.empty() ? -1 : 1;
    }
    sv v1 = a;
    if (a[0] != '#') {
      v1 = canonicalize(a, buf1[next1]);
      next1 ^= 1;
    }
    sv v2 = b;
    if (b[0] != '#') {
      v2 = canonicalize(b, buf2[next2]);
      next2 ^= 1;
    }

    std::size_t p1 = 0;
    std::size_t p2 = 0;
    bool more1 = true;  // PHP's n1 != NULL: a '.' ended the last part
    bool more2 = true;
    int cmp = 0;
    while (p1 < v1.size() && p2 < v2.size() && more1 && more2) {
      std::size_t e1 = v1.find('.', p1);
      if (e1 == npos) {
        more1 = false;
        e1 = v1.size();
      }
      std::size_t e2 = v2.find('.', p2);
      if (e2 == npos) {
        more2 = false;
        e2 = v2.size();
      }
      cmp = compare_parts(v1.substr(p1, e1 - p1), v2.substr(p2, e2 - p2));
      if (cmp != 0) return cmp;
      if (more1) p1 = e1 + 1;
      if (more2) p2 = e2 + 1;
    }
    if (more1) {
      if (p1 < v1.size() && is_digit(v1[p1])) return 1;
      a = v1.substr(p1);
      b = k_number_form;
      continue;
    }
    if (more2) {
      if (p2 < v2.size() && is_digit(v2[p2])) return -1;
      a = k_number_form;
      b = v2.substr(p2);
      continue;
    }
    return 0;
  }
}

std::optional<bool> version_compare(std::string_view a, std::string_view b, std::string_view op) {
  const int cmp = version_compare(a, b);
  if (op == "<" || op == "lt") return cmp == -1;
  if (op == "<=" || op == "le") return cmp != 1;
  if (op == ">" || op == "gt") return cmp == 1;
  if (op == ">=" || op == "ge") return cmp != -1;
  if (op == "==" || op == "=" || op == "eq") return cmp == 0;
  if (op == "!=" || op == "<>" || op == "ne") return cmp != 0;
  return std::nullopt;
}

bool constraint_version_compare(std::string_view a, std::string_view b, constraint_op op, bool compare_branches) {
  const bool a_is_branch = is_branch(a);
  const bool b_is_branch = is_branch(b);
  if (op == constraint_op::ne && (a_is_branch || b_is_branch)) return a != b;
  if (a_is_branch && b_is_branch) return op == constraint_op::eq && a == b;
  // when branches are not comparable, dev branches never match anything
  if (!compare_branches && (a_is_branch || b_is_branch)) return false;
  return apply(version_compare(a, b), op);
}

// Comparator::compare builds Constraint($operator, $version2) and asks matchSpecific() whether
// Constraint('==', $version1) satisfies it with branches comparable; for a provider with '==' that
// reduces to one versionCompare call, with the operands swapped for '=='.
bool compare(std::string_view version1, constraint_op op, std::string_view version2) {
  if (op == constraint_op::eq) return constraint_version_compare(version2, version1, op, true);
  return constraint_version_compare(version1, version2, op, true);
}

bool compare(std::string_view version1, std::string_view op, std::string_view version2) {
  auto parsed = parse_operator(op);
  return parsed.ok() && compare(version1, *parsed, version2);
}

}  // namespace pb::versions
