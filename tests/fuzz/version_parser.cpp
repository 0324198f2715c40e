// src/versions on lines of text: line 1 is normalized, stability-parsed, branch-normalized and compared
// with line 2; every line goes into Packagist's dump sort. Invariants are the ones composer/semver
// guarantees (it is the reference: a broken one here is checked against PHP before it counts): the
// full version only changes the error message; stabilities come from the closed list; version_compare
// is -1/0/1, and on versions made of alphanumeric parts joined by single . - _ + it is reflexive and
// antisymmetric with Comparator's < and > mirroring each other (PHP's own version_compare is neither
// outside that domain: version_compare("1.*", "1.*") is -1); the sort permutes.
#include <algorithm>

#include "fuzz.h"
#include "versions/comparator.h"
#include "versions/sort.h"
#include "versions/version_parser.h"

using namespace pb;
using namespace pb::versions;

namespace {
bool known_stability(std::string_view s) {
  return s == "stable" || s == "RC" || s == "beta" || s == "alpha" || s == "dev";
}

bool alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// ^[0-9A-Za-z]+([.\-_+][0-9A-Za-z]+)*$ : where PHP's version_compare is a consistent comparison
// (checked with PHP 8.2 on 140,000 random pairs).
bool plain_version(std::string_view s) {
  if (s.empty() || !alnum(s.front()) || !alnum(s.back())) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (alnum(s[i])) continue;
    if (s[i] != '.' && s[i] != '-' && s[i] != '_' && s[i] != '+') return false;
    if (!alnum(s[i + 1])) return false;  // s.back() is alphanumeric, so i + 1 is in range
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto lines = fuzz::split(fuzz::as_text(data, size), '\n', 24);
  const std::string_view a = lines[0];
  const std::string_view b = lines.size() > 1 ? lines[1] : std::string_view("1.0.0");
  const std::string ab = std::string(a) + " | " + std::string(b);

  auto n = normalize(a);
  auto n_full = normalize(a, b);
  fuzz::check(n.ok() == n_full.ok(), "the full version changed whether a version is valid", ab);
  if (n) {
    fuzz::check(!n->empty(), "normalize gave an empty version", a);
    fuzz::check(*n == *n_full, "the full version changed the normalized version", ab);
    fuzz::check(known_stability(parse_stability(*n)), "unknown stability of a normalized version", *n);
  } else {
    fuzz::check(!n.err().message.empty() && !n_full.err().message.empty(), "an error without a message", a);
  }
  fuzz::check(known_stability(parse_stability(a)), "unknown stability", a);
  fuzz::check(!normalize_branch(a).empty(), "normalize_branch gave nothing", a);
  (void)normalize_default_branch(a);
  (void)normalize_stability(a);
  if (auto prefix = parse_numeric_alias_prefix(a))
    fuzz::check(!prefix->empty() && prefix->back() == '.', "an alias prefix without its final dot", a);

  const int ab_cmp = version_compare(a, b);
  fuzz::check(ab_cmp >= -1 && ab_cmp <= 1, "version_compare out of range", ab);
  (void)compare(a, b, a);  // an arbitrary operator string
  if (plain_version(a) && plain_version(b)) {
    fuzz::check(version_compare(b, a) == -ab_cmp, "version_compare is not antisymmetric", ab);
    fuzz::check(version_compare(a, a) == 0, "version_compare(a, a) != 0", a);
    fuzz::check(compare(a, constraint_op::lt, b) == compare(b, constraint_op::gt, a), "a < b is not b > a", ab);
    fuzz::check(compare(a, constraint_op::le, b) == compare(b, constraint_op::ge, a), "a <= b is not b >= a", ab);
  }

  // Dump order: fields taken from the lines themselves.
  std::vector<dump_version> list;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    dump_version d;
    d.version = lines[i];
    d.version_normalized = lines[i];
    if (i % 3 == 1) d.branch_alias = lines[(i + 1) % lines.size()];
    d.default_branch = i % 4 == 2;
    if (i % 2 == 0) d.released_at = static_cast<std::int64_t>(lines[i].size());
    list.push_back(d);
  }
  auto order = sort_versions_for_dump(list);
  fuzz::check(order.size() == list.size(), "the sort lost or added versions", ab);
  std::sort(order.begin(), order.end());
  for (std::size_t i = 0; i < order.size(); ++i) fuzz::check(order[i] == i, "the sort is not a permutation", ab);
  return 0;
}
