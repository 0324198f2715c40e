// Port of Composer\Semver\VersionParser (composer/semver 3.3.2). Each PHP regex is quoted above the
// code that matches it. Matching follows PCRE semantics without flags other than /i: `$` matches at
// the end or before a final "\n", `.` does not match "\n", `\s` is [ \t\n\v\f\r], `\d` is [0-9], and
// where a pattern can backtrack the alternatives are tried in PCRE's order (greedy first, alternation
// left to right), because the captured groups decide the output.
#include "versions/version_parser.h"

#include <cstddef>

#include "versions/pcre.h"

namespace pb::versions {
namespace {

using namespace pcre;  // NOLINT: the matchers below are written in its vocabulary

// VersionParser::expandStability, on a word matched by the modifier (any case).
sv expand_stability(sv word) {
  auto is = [word](sv w) { return word.size() == w.size() && iprefix_at(word, 0, w); };
  if (is("a") || is("alpha")) return "alpha";
  if (is("b") || is("beta")) return "beta";
  if (is("p") || is("pl") || is("patch")) return "patch";
  if (is("rc")) return "RC";
  return "stable";
}

// ---- classical versioning --------------------------------------------------------------------------
//   {^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?<modifier>$}i
// Nothing after group 1 can match a digit, so \d{1,5} must take the whole digit run; likewise an
// optional (\.\d++) group that is skipped leaves ".<digit>", which nothing else matches.
bool match_classical(sv s, std::string& out, modifier& m) {
  std::size_t p = (!s.empty() && to_lower(s[0]) == 'v') ? 1 : 0;
  const std::size_t major_end = digits_end(s, p);
  if (major_end == p || major_end - p > 5) return false;
  sv parts[3];
  std::size_t q = major_end;
  for (sv& part : parts) {
    if (q + 1 < s.size() && s[q] == '.' && is_digit(s[q + 1])) {
      const std::size_t e = digits_end(s, q + 1);
      part = s.substr(q, e - q);
      q = e;
    } else {
      break;
    }
  }
  if (!match_modifier(s, q, [&](std::size_t t) { return at_end(s, t); }, m)) return false;
  out.assign(s.substr(p, major_end - p));
  for (sv part : parts) out.append(part.empty() ? sv(".0") : part);
  return true;
}

// ---- date(time) based versioning -------------------------------------------------------------------
//   {^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)<modifier>$}i
constexpr bool is_date_sep(char c) { return c == '.' || c == ':' || c == '-'; }

bool all_digits(sv s, std::size_t p, std::size_t n) {
  if (p > s.size() || s.size() - p < n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(s[p + i])) return false;
  }
  return true;
}

// After `count` iterations of (?:[.:-]?\d{2}) ending at pos: more iterations first (greedy), then the
// optional tail (?:[.:-]?\d{1,3})? with \d{1,3} greedy, then the modifier up to `$`.
bool match_date_from(sv s, std::size_t start, std::size_t pos, int count, sv& group, modifier& m) {
  if (count < 6) {
    std::size_t q = pos;
    if (q < s.size() && is_date_sep(s[q])) ++q;
    if (all_digits(s, q, 2) && match_date_from(s, start, q + 2, count + 1, group, m)) return true;
  }
  if (count == 0) return false;
  auto finish = [&](std::size_t e) {
    if (!match_modifier(s, e, [&](std::size_t t) { return at_end(s, t); }, m)) return false;
    group = s.substr(start, e - start);
    return true;
  };
  if (pos < s.size() && is_date_sep(s[pos])) {
    for (std::size_t k = 3; k >= 1; --k) {
      if (all_digits(s, pos + 1, k) && finish(pos + 1 + k)) return true;
    }
  }
  for (std::size_t k = 3; k >= 1; --k) {
    if (all_digits(s, pos, k) && finish(pos + k)) return true;
  }
  return finish(pos);
}

bool match_date(sv s, sv& group, modifier& m) {
  const std::size_t p = (!s.empty() && to_lower(s[0]) == 'v') ? 1 : 0;
  if (!all_digits(s, p, 4)) return false;
  return match_date_from(s, p, p + 4, 0, group, m);
}

// ---- error message hints -----------------------------------------------------------------------------
constexpr sv k_flag_suffixes[] = {"", "@stable", "@RC", "@beta", "@alpha", "@dev"};

// {ws+as +<quoted version>(?:@(?:stable|RC|beta|alpha|dev))?$}  (case-sensitive, unanchored)
bool is_alias_target(sv full, sv version) {
  for (int final_newline = 0; final_newline < 2; ++final_newline) {
    std::size_t e = full.size();
    if (final_newline) {
      if (full.empty() || full.back() != '\n') continue;
      --e;
    }
    for (sv suffix : k_flag_suffixes) {
      const std::size_t len = version.size() + suffix.size();
      if (e < len) continue;
      const std::size_t start = e - len;
      if (full.substr(start, version.size()) != version || full.substr(start + version.size(), suffix.size()) != suffix) {
        continue;
      }
      std::size_t j = start;
      while (j > 0 && full[j - 1] == ' ') --j;
      if (j == start || j < 3 || full.substr(j - 2, 2) != "as" || full[j - 3] != ' ') continue;
      return true;
    }
  }
  return false;
}

// {^<quoted version>(?:@(?:stable|RC|beta|alpha|dev))? +as +}  (case-sensitive)
bool is_alias_source(sv full, sv version) {
  if (!prefix_at(full, 0, version)) return false;
  std::size_t p = version.size();
  for (sv suffix : k_flag_suffixes) {
    if (!suffix.empty() && prefix_at(full, p, suffix)) {
      p += suffix.size();
      break;
    }
  }
  const std::size_t spaces = p;
  while (p < full.size() && full[p] == ' ') ++p;
  if (p == spaces || !prefix_at(full, p, "as")) return false;
  p += 2;
  return p < full.size() && full[p] == ' ';
}

result<std::string> normalize_impl(sv input, const sv* full_version) {
  sv version = php_trim(input);
  const sv orig_version = version;
  const sv full = full_version ? *full_version : version;

  // strip off aliasing: {^([^,\s]++) ++as ++([^,\s]++)$}
  version = strip_alias(version);

  // strip off stability flag: {@(?:stable|RC|beta|alpha|dev)$}i, leftmost '@' that matches
  for (std::size_t at = version.find('@'); at != npos; at = version.find('@', at + 1)) {
    bool stripped = false;
    for (sv word : {sv("stable"), sv("rc"), sv("beta"), sv("alpha"), sv("dev")}) {
      if (iprefix_at(version, at + 1, word) && at_end(version, at + 1 + word.size())) {
        version = version.substr(0, version.size() - (1 + word.size()));
        stripped = true;
        break;
      }
    }
    if (stripped) break;
  }

  // master/trunk/default become dev-*, and branch-like requirements keep their full name
  if (version == "master" || version == "trunk" || version == "default") return "dev-" + std::string(version);
  if (iprefix_at(version, 0, "dev-")) return "dev-" + std::string(version.substr(4));

  // strip off build metadata: {^([^,\s+]++)\+[^\s]++$}
  {
    const std::size_t a = not_comma_space_end(version, 0, true);
    if (a > 0 && a < version.size() && version[a] == '+') {
      std::size_t e = a + 1;
      while (e < version.size() && !is_space(version[e])) ++e;
      if (e > a + 1 && at_end(version, e)) version = version.substr(0, a);
    }
  }

  std::string out;
  modifier m;
  bool matched = match_classical(version, out, m);
  if (!matched) {
    sv group;
    if (match_date(version, group, m)) {
      // preg_replace('{\D}', '.', $matches[1])
      out.assign(group);
      for (char& c : out) {
        if (!is_digit(c)) c = '.';
      }
      matched = true;
    }
  }
  if (matched) {
    if (!m.stability.empty()) {
      if (m.stability == "stable") return out;  // case-sensitive in PHP: "STABLE" falls through
      out += '-';
      out.append(expand_stability(m.stability));
      sv numbers = m.numbers;
      while (!numbers.empty() && (numbers.front() == '.' || numbers.front() == '-')) numbers.remove_prefix(1);
      out.append(numbers);
    }
    if (!m.dev.empty()) out += "-dev";
    return out;
  }

  // match dev branches: {(.*?)[.-]?dev$}i. The match must end at `$`, so only two group ends are
  // possible (before "[.-]dev" or before "dev"); the group starts after the last "\n" before its end,
  // since `.` cannot cross one, and the lazy group prefers the earlier end from the same start.
  {
    std::size_t e = version.size();
    if (!version.empty() && version.back() == '\n') --e;
    std::size_t group_end = npos;
    if (e >= 4 && (version[e - 4] == '.' || version[e - 4] == '-') && iprefix_at(version, e - 3, "dev")) {
      group_end = e - 4;
    } else if (e >= 3 && iprefix_at(version, e - 3, "dev")) {
      group_end = e - 3;
    }
    if (group_end != npos) {
      const std::size_t nl = version.substr(0, group_end).rfind('\n');
      const std::size_t group_start = nl == npos ? 0 : nl + 1;
      std::string normalized = normalize_branch(version.substr(group_start, group_end - group_start));
      // a branch ending with -dev is only valid if it is numeric
      if (normalized.find("dev-") == npos) return normalized;
    }
  }

  std::string message = "Invalid version string \"";
  message.append(orig_version);
  message += '"';
  if (is_alias_target(full, version)) {
    message += " in \"";
    message.append(full);
    message += "\", the alias must be an exact version";
  } else if (is_alias_source(full, version)) {
    message += " in \"";
    message.append(full);
    message += "\", the alias source must be an exact version, if it is a branch name you should prefix it with dev-";
  }
  return make_error(error_code::bad_request, std::move(message));
}

}  // namespace

result<std::string> normalize(std::string_view version) { return normalize_impl(version, nullptr); }

result<std::string> normalize(std::string_view version, std::string_view full_version) {
  return normalize_impl(version, &full_version);
}

// {^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$}i
std::string normalize_branch(std::string_view input) {
  const sv name = php_trim(input);
  const std::size_t p = (!name.empty() && to_lower(name[0]) == 'v') ? 1 : 0;
  const std::size_t major_end = digits_end(name, p);
  if (major_end > p) {
    sv parts[3];
    std::size_t q = major_end;
    for (sv& part : parts) {
      if (q + 1 >= name.size() || name[q] != '.') break;
      const char c = name[q + 1];
      if (is_digit(c)) {
        const std::size_t e = digits_end(name, q + 1);
        part = name.substr(q, e - q);
        q = e;
      } else if (c == 'x' || c == 'X' || c == '*') {
        part = name.substr(q, 2);
        q += 2;
      } else {
        break;
      }
    }
    if (at_end(name, q)) {
      // unmatched groups become ".x", then every x (and X, *) becomes 9999999
      std::string out(name.substr(p, major_end - p));
      for (sv part : parts) {
        if (part.empty()) {
          out += ".9999999";
        } else if (!is_digit(part[1])) {
          out += ".9999999";
        } else {
          out.append(part);
        }
      }
      out += "-dev";
      return out;
    }
  }
  return "dev-" + std::string(name);
}

std::string normalize_default_branch(std::string_view name) {
  if (name == "dev-master" || name == "dev-default" || name == "dev-trunk") return "9999999-dev";
  return std::string(name);
}

std::string_view parse_stability(std::string_view input) {
  // The common normalized form ("1.2.3.0"): digits and dots hold no "#ref", no dev marker and no
  // modifier word, so the patterns below would all come out empty (a mirror asks once per version).
  if (!input.empty() && input.find_first_not_of("0123456789.") == npos) return "stable";
  // preg_replace('{#.+$}', '', $version): the first '#' whose `.+` can reach `$`.
  sv version = input;
  std::string with_newline;  // only when the removed part stops before a final "\n"
  for (std::size_t h = input.find('#'); h != npos; h = input.find('#', h + 1)) {
    std::size_t j = input.find('\n', h + 1);
    if (j == npos) j = input.size();
    if (j < h + 2) continue;
    if (j == input.size()) {
      version = input.substr(0, h);
      break;
    }
    if (j + 1 == input.size()) {
      with_newline.assign(input.substr(0, h));
      with_newline += '\n';
      version = with_newline;
      break;
    }
  }

  if (prefix_at(version, 0, "dev-") || (version.size() >= 4 && version.substr(version.size() - 4) == "-dev")) {
    return "dev";
  }

  // preg_match('{<modifier>(?:\+.*)?$}i', strtolower($version)): matching is case-insensitive here
  // already, so the lower-casing only matters for the captured word, which is compared lower-cased.
  const std::size_t n = version.size();
  std::size_t inner_newline = npos;  // the last "\n" that is not the final character
  if (n >= 2) {
    const std::size_t k = version.substr(0, n - 1).rfind('\n');
    if (k != npos) inner_newline = k;
  }
  auto tail = [&](std::size_t t) {
    if (at_end(version, t)) return true;
    return t < n && version[t] == '+' && (inner_newline == npos || inner_newline < t);
  };
  modifier m;
  for (std::size_t start = 0; start <= n; ++start) {
    if (match_modifier(version, start, tail, m)) break;
  }
  if (!m.dev.empty()) return "dev";
  const sv w = m.stability;
  if (w.size() == 1 && to_lower(w[0]) == 'b') return "beta";
  if (w.size() == 4 && iprefix_at(w, 0, "beta")) return "beta";
  if (w.size() == 1 && to_lower(w[0]) == 'a') return "alpha";
  if (w.size() == 5 && iprefix_at(w, 0, "alpha")) return "alpha";
  if (w.size() == 2 && iprefix_at(w, 0, "rc")) return "RC";
  return "stable";
}

std::string normalize_stability(std::string_view stability) {
  std::string out(stability);
  for (char& c : out) c = to_lower(c);
  if (out == "rc") out = "RC";
  return out;
}

// {^(?P<version>(\d++\.)*\d++)(?:\.x)?-dev$}i: the version is the longest dotted run of digit groups.
std::optional<std::string> parse_numeric_alias_prefix(std::string_view branch) {
  std::size_t p = digits_end(branch, 0);
  if (p == 0) return std::nullopt;
  while (p + 1 < branch.size() && branch[p] == '.' && is_digit(branch[p + 1])) p = digits_end(branch, p + 1);
  std::size_t q = p;
  if (q + 1 < branch.size() && branch[q] == '.' && to_lower(branch[q + 1]) == 'x') q += 2;
  if (!iprefix_at(branch, q, "-dev") || !at_end(branch, q + 4)) return std::nullopt;
  std::string out(branch.substr(0, p));
  out += '.';
  return out;
}

}  // namespace pb::versions
