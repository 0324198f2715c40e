// pb_versions_cli: runs src/versions/ functions over stdin for tests/versions/differential.php, which
// runs the same operations with composer/semver and compares the output line by line.
//
// Input: one request per line, `op<TAB>arg<TAB>arg...`. Each field is escaped: "\\" "\t" "\n" "\r" and
// "\xHH" (any byte). Output: one line per request, escaped the same way; "ERR <message>" for an error.
//   normalize <v>                       VersionParser::normalize($v)
//   normalize_full <v> <full>           VersionParser::normalize($v, $full)
//   normalize_branch <v>                VersionParser::normalizeBranch($v)
//   normalize_default_branch <v>        VersionParser::normalizeDefaultBranch($v)
//   parse_stability <v>                 VersionParser::parseStability($v)
//   normalize_stability <v>             VersionParser::normalizeStability($v)
//   parse_numeric_alias_prefix <v>      VersionParser::parseNumericAliasPrefix($v); "FALSE" for false
//   version_compare <a> <b>             version_compare($a, $b): -1, 0 or 1
//   compare <a> <op> <b>                Comparator::compare($a, $op, $b): "true"/"false"
//   constraint_version_compare <a> <b> <op> <0|1>   Constraint::versionCompare($a, $b, $op, $branches)
//   sort <item>...                      usort with Package::sortVersions; prints the input indices in
//                                       order, space-separated. An item is five fields joined by \x1f
//                                       (each escaped): version, normalized, alias ("" = none, else
//                                       "=" + alias), default branch "0"/"1", released ("" = null, else
//                                       an integer).
//   parse_constraints <c>               VersionParser::parseConstraints($c): "(string) $c<TAB>getPrettyString()"
//   satisfies <v> <c>                   Semver::satisfies($v, $c): "true"/"false"
//   matches <c1> <c2>                   parseConstraints($c1)->matches(parseConstraints($c2)) (first error wins)
//   matches_version <c> <normalized>    parseConstraints($c)->matches(new Constraint('==', $normalized)); also
//                                       checks that matches_version() agrees with the generic matches()
//   match_specific <op> <v> <op2> <v2> <0|1>   (new Constraint($op, $v))->matchSpecific(new Constraint($op2, $v2), $b)
//   create <0|1> <normalized> <c>...    MultiConstraint::create(array_map(parseConstraints, $cs), $conjunctive):
//                                       "(string) $m<TAB>" and whether it matches Constraint('==', $normalized)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "versions/comparator.h"
#include "versions/constraint.h"
#include "versions/sort.h"
#include "versions/version_parser.h"

namespace {

using sv = std::string_view;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string unescape(sv s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    if (c == 'n') {
      out += '\n';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 'r') {
      out += '\r';
    } else if (c == 'x' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

void append_escaped(std::string& out, sv s) {
  static constexpr char digits[] = "0123456789abcdef";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 15];
    } else {
      out += c;
    }
  }
}

std::vector<sv> split(sv s, char sep) {
  std::vector<sv> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t p = s.find(sep, start);
    if (p == sv::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}


// "ERR <message>" when r holds an error; whether it did.
template <class T>
bool append_error(std::string& out, const pb::result<T>& r) {
  if (r.ok()) return false;
  out += "ERR ";
  append_escaped(out, r.err().message);
  return true;
}

void append_result(std::string& out, const pb::result<std::string>& r) {
  if (!append_error(out, r)) append_escaped(out, *r);
}

// Whether c matches Constraint('==', normalized), by the generic path and by the per-version one.
void append_match(std::string& out, const pb::versions::constraint& c, const std::string& normalized) {
  const bool generic = c.matches(pb::versions::constraint::make_single(pb::versions::constraint_op::eq, normalized));
  const bool fast = c.matches_version(normalized);
  if (generic != fast) {
    out += "ERR matches_version() disagrees with matches()";
    return;
  }
  out += fast ? "true" : "false";
}

void run(sv line, std::string& out) {
  const std::vector<sv> raw = split(line, '\t');
  const sv op = raw[0];
  std::vector<std::string> args;
  for (std::size_t i = 1; i < raw.size(); ++i) args.push_back(unescape(raw[i]));
  auto arity = [&](std::size_t n) { return args.size() == n; };

  namespace v = pb::versions;
  if (op == "normalize" && arity(1)) {
    append_result(out, v::normalize(args[0]));
  } else if (op == "normalize_full" && arity(2)) {
    append_result(out, v::normalize(args[0], args[1]));
  } else if (op == "normalize_branch" && arity(1)) {
    append_escaped(out, v::normalize_branch(args[0]));
  } else if (op == "normalize_default_branch" && arity(1)) {
    append_escaped(out, v::normalize_default_branch(args[0]));
  } else if (op == "parse_stability" && arity(1)) {
    append_escaped(out, v::parse_stability(args[0]));
  } else if (op == "normalize_stability" && arity(1)) {
    append_escaped(out, v::normalize_stability(args[0]));
  } else if (op == "parse_numeric_alias_prefix" && arity(1)) {
    const auto prefix = v::parse_numeric_alias_prefix(args[0]);
    if (prefix) {
      append_escaped(out, *prefix);
    } else {
      out += "FALSE";
    }
  } else if (op == "version_compare" && arity(2)) {
    out += std::to_string(v::version_compare(args[0], args[1]));
  } else if (op == "compare" && arity(3)) {
    const auto parsed = v::parse_operator(args[1]);
    if (!append_error(out, parsed)) out += v::compare(args[0], *parsed, args[2]) ? "true" : "false";
  } else if (op == "constraint_version_compare" && arity(4)) {
    const auto parsed = v::parse_operator(args[2]);
    if (!append_error(out, parsed)) {
      out += v::constraint_version_compare(args[0], args[1], *parsed, args[3] == "1") ? "true" : "false";
    }
  } else if (op == "parse_constraints" && arity(1)) {
    const auto parsed = v::parse_constraints(args[0]);
    if (!append_error(out, parsed)) {
      append_escaped(out, parsed->to_string());
      out += '\t';
      append_escaped(out, parsed->pretty_string());
    }
  } else if (op == "satisfies" && arity(2)) {
    const auto r = v::satisfies(args[0], args[1]);
    if (!append_error(out, r)) out += *r ? "true" : "false";
  } else if (op == "matches" && arity(2)) {
    const auto a = v::parse_constraints(args[0]);
    if (append_error(out, a)) return;
    const auto b = v::parse_constraints(args[1]);
    if (!append_error(out, b)) out += a->matches(*b) ? "true" : "false";
  } else if (op == "matches_version" && arity(2)) {
    const auto c = v::parse_constraints(args[0]);
    if (!append_error(out, c)) append_match(out, *c, args[1]);
  } else if (op == "match_specific" && arity(5)) {
    const auto a = v::parse_operator(args[0]);
    const auto b = v::parse_operator(args[2]);
    if (!append_error(out, a) && !append_error(out, b)) {
      out += v::match_specific(*a, args[1], *b, args[3], args[4] == "1") ? "true" : "false";
    }
  } else if (op == "create" && args.size() >= 2) {
    std::vector<v::constraint> parts;
    for (std::size_t i = 2; i < args.size(); ++i) {
      auto c = v::parse_constraints(args[i]);
      if (append_error(out, c)) return;
      parts.push_back(std::move(c).value());
    }
    const v::constraint m = v::constraint::create(std::move(parts), args[0] == "1");
    append_escaped(out, m.to_string());
    out += '\t';
    append_match(out, m, args[1]);
  } else if (op == "sort") {
    std::vector<std::vector<std::string>> fields;
    std::vector<v::dump_version> items;
    for (std::size_t i = 1; i < raw.size(); ++i) {
      std::vector<std::string> f;
      for (sv part : split(raw[i], '\x1f')) f.push_back(unescape(part));
      if (f.size() != 5) {
        out += "ERR bad sort item";
        return;
      }
      fields.push_back(std::move(f));
    }
    for (const auto& f : fields) {
      v::dump_version d;
      d.version = f[0];
      d.version_normalized = f[1];
      if (!f[2].empty()) d.branch_alias = sv(f[2]).substr(1);
      d.default_branch = f[3] == "1";
      if (!f[4].empty()) d.released_at = std::strtoll(f[4].c_str(), nullptr, 10);
      items.push_back(d);
    }
    const std::vector<std::size_t> order = v::sort_versions_for_dump(items);
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (i) out += ' ';
      out += std::to_string(order[i]);
    }
  } else {
    out += "ERR unknown request ";
    append_escaped(out, op);
  }
}

}  // namespace

int main() {
  std::string input;
  char buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, stdin);
    if (n == 0) break;
    input.append(buf, n);
  }
  std::string out;
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    run(sv(input).substr(start, end - start), out);
    out += '\n';
    start = end + 1;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
