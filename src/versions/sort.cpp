// Port of App\Entity\Package::sortVersions (composer/packagist) and of the usort() V2Dumper runs it
// with (PHP 8: zend_sort plus the original position as the last tie-break).
#include "versions/sort.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "versions/comparator.h"

namespace pb::versions {
namespace {

using sv = std::string_view;
constexpr std::size_t npos = sv::npos;
constexpr sv k_branch_sort_version = "0.0.0-alpha";

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_php_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The version Package::sortVersions compares for one side:
//   branch alias:  Preg::replace('{(.x)?-dev$}', '.9999999-dev', $alias)
//   then:          Preg::replace('{^dev-.*}', '0.0.0-alpha', $version)
std::string sort_version(const dump_version& v) {
  std::string s(v.branch_alias ? *v.branch_alias : v.version_normalized);
  if (v.branch_alias) {
    // `$` matches at the end or before a final "\n"; the leftmost match wins, so "<any>x-dev" beats
    // "-dev" (`.` is any byte but "\n").
    std::size_t e = s.size();
    if (!s.empty() && s.back() == '\n') --e;
    if (e >= 4 && sv(s).substr(e - 4, 4) == "-dev") {
      std::size_t start = e - 4;
      if (e >= 6 && s[e - 6] != '\n' && s[e - 5] == 'x') start = e - 6;
      s.replace(start, e - start, ".9999999-dev");
    }
  }
  if (sv(s).substr(0, 4) == "dev-") {
    const std::size_t nl = s.find('\n');
    s.replace(0, nl == npos ? s.size() : nl, k_branch_sort_version);
  }
  return s;
}

// A numeric string as PHP 8's is_numeric_string_ex() reads it for a comparison (Zend/zend_operators.c):
// leading whitespace, a sign, then digits (leading zeros skipped) that stay a long unless they have a
// fraction, an exponent or too many digits, in which case strtod() reads the whole number; trailing
// whitespace is allowed. `overflow` is the sign of an integer too large for a 64-bit long.
struct php_number {
  bool is_double = false;
  int overflow = 0;
  std::int64_t lval = 0;
  double dval = 0;
};

constexpr sv k_long_min_digits = "9223372036854775808";

std::optional<php_number> php_numeric_string(sv s) {
  const std::size_t n = s.size();
  std::size_t p = 0;
  while (p < n && is_php_whitespace(s[p])) ++p;
  const std::size_t str = p;  // where strtod starts, sign included
  const bool negative = p < n && s[p] == '-';
  if (p < n && (s[p] == '-' || s[p] == '+')) ++p;
  php_number num;
  auto read_double = [&] {
    const std::string text(s.substr(str));
    char* end = nullptr;
    num.dval = std::strtod(text.c_str(), &end);
    p = str + static_cast<std::size_t>(end - text.c_str());
    num.is_double = true;
  };
  std::size_t digits = 0;
  std::uint64_t value = 0;
  if (p < n && is_digit(s[p])) {
    while (p < n && s[p] == '0') ++p;
    bool real = false;
    for (; digits < 20; ++digits, ++p) {
      if (p < n && is_digit(s[p])) {
        value = value * 10 + static_cast<std::uint64_t>(s[p] - '0');
        continue;
      }
      if (p < n && s[p] == '.') {
        real = true;
      } else if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        std::size_t e = p + 1;
        if (e < n && (s[e] == '-' || s[e] == '+')) p = e++;
        real = e < n && is_digit(s[e]);
      }
      break;
    }
    if (digits >= 20) {
      num.overflow = negative ? -1 : 1;
      real = true;
    }
    if (real) read_double();
  } else if (p + 1 < n && s[p] == '.' && is_digit(s[p + 1])) {
    read_double();
  } else {
    return std::nullopt;
  }
  std::size_t q = p;
  while (q < n && is_php_whitespace(s[q])) ++q;
  if (q != n) return std::nullopt;
  if (!num.is_double) {
    if (digits == 19) {
      // strcmp() of the digits, and whatever follows them, with LONG_MIN's digits
      const int cmp = s.substr(p - digits).compare(k_long_min_digits);
      if (!(cmp < 0 || (cmp == 0 && negative))) {
        num.dval = std::strtod(std::string(s.substr(str)).c_str(), nullptr);
        num.overflow = negative ? -1 : 1;
        num.is_double = true;
        return num;
      }
    }
    num.lval = negative ? static_cast<std::int64_t>(0 - value) : static_cast<std::int64_t>(value);
  }
  return num;
}

int three_way(sv a, sv b) {
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

template <class T>
int sign_of(T v) {
  return v > 0 ? 1 : (v < 0 ? -1 : 0);
}

// PHP 8's `$a <=> $b` on two strings (zendi_smart_strcmp): numerically when both are numeric strings,
// byte-wise otherwise or when a numeric comparison of overflowed values would be inexact.
int php_spaceship(sv a, sv b) {
  const auto x = php_numeric_string(a);
  const auto y = x ? php_numeric_string(b) : std::nullopt;
  if (!x || !y) return three_way(a, b);
  if (x->overflow != 0 && x->overflow == y->overflow && x->dval - y->dval == 0.) return three_way(a, b);
  if (x->is_double || y->is_double) {
    double d1 = x->dval;
    double d2 = y->dval;
    if (!x->is_double) {
      if (y->overflow) return -y->overflow;
      d1 = static_cast<double>(x->lval);
    } else if (!y->is_double) {
      if (x->overflow) return x->overflow;
      d2 = static_cast<double>(y->lval);
    } else if (d1 == d2 && !std::isfinite(d1)) {
      return three_way(a, b);
    }
    return sign_of(d1 - d2);
  }
  return x->lval > y->lval ? 1 : (x->lval < y->lval ? -1 : 0);
}

// zend_sort and zend_insert_sort (php-src Zend/zend_sort.c, PHP 7.0 to 8.x), which usort() runs, restated
// over a vector of positions. `cmp(a, b)` > 0 means a goes after b. PHP's comparator is only consistent
// for sane data (version_compare calls "01.0" and "1.0" equal while the tie-breaks look at the strings,
// which can make a cycle), so the exact sequence of comparisons and swaps is kept: with a cycle in the
// input, the order still comes out as PHP's.
template <class Cmp>
class zend_sorter {
 public:
  zend_sorter(std::vector<std::size_t>& v, const Cmp& cmp) : v_(v), cmp_(cmp) {}

  void sort(std::size_t base, std::size_t n) {
    for (;;) {
      if (n <= 16) {
        insert_sort(base, n);
        return;
      }
      const std::size_t start = base;
      const std::size_t end = base + n;
      const std::size_t offset = n >> 1;
      std::size_t pivot = start + offset;
      if (n >> 10) {
        const std::size_t delta = offset >> 1;
        sort5(start, start + delta, pivot, pivot + delta, end - 1);
      } else {
        sort3(start, pivot, end - 1);
      }
      swap(start + 1, pivot);
      pivot = start + 1;
      std::size_t i = pivot + 1;
      std::size_t j = end - 1;
      partition(pivot, i, j);
      swap(pivot, i - 1);
      if ((i - 1) - start < end - i) {
        sort(start, (i - start) - 1);
        base = i;
        n = end - i;
      } else {
        sort(i, end - i);
        base = start;
        n = (i - start) - 1;
      }
    }
  }

 private:
  int cmp(std::size_t a, std::size_t b) const { return cmp_(v_[a], v_[b]); }
  void swap(std::size_t a, std::size_t b) { std::swap(v_[a], v_[b]); }

  // The partition loop of zend_sort; leaves i one past the last element not greater than the pivot.
  void partition(std::size_t pivot, std::size_t& i, std::size_t& j) {
    for (;;) {
      while (cmp(pivot, i) > 0) {
        if (++i == j) return;
      }
      if (--j == i) return;
      while (cmp(j, pivot) > 0) {
        if (--j == i) return;
      }
      swap(i, j);
      if (++i == j) return;
    }
  }

  void sort2(std::size_t a, std::size_t b) {
    if (cmp(a, b) > 0) swap(a, b);
  }
  void sort3(std::size_t a, std::size_t b, std::size_t c) {
    if (cmp(a, b) <= 0) {
      if (cmp(b, c) <= 0) return;
      swap(b, c);
      if (cmp(a, b) > 0) swap(a, b);
      return;
    }
    if (cmp(c, b) <= 0) {
      swap(a, c);
      return;
    }
    swap(a, b);
    if (cmp(b, c) > 0) swap(b, c);
  }
  void sort4(std::size_t a, std::size_t b, std::size_t c, std::size_t d) {
    sort3(a, b, c);
    if (cmp(c, d) > 0) {
      swap(c, d);
      if (cmp(b, c) > 0) {
        swap(b, c);
        if (cmp(a, b) > 0) swap(a, b);
      }
    }
  }
  void sort5(std::size_t a, std::size_t b, std::size_t c, std::size_t d, std::size_t e) {
    sort4(a, b, c, d);
    if (cmp(d, e) > 0) {
      swap(d, e);
      if (cmp(c, d) > 0) {
        swap(c, d);
        if (cmp(b, c) > 0) {
          swap(b, c);
          if (cmp(a, b) > 0) swap(a, b);
        }
      }
    }
  }

  // Moves the element at i down to position j.
  void rotate_down(std::size_t i, std::size_t j) {
    for (std::size_t k = i; k > j; --k) swap(k, k - 1);
  }

  void insert_sort(std::size_t start, std::size_t n) {
    switch (n) {
      case 0:
      case 1: return;
      case 2: sort2(start, start + 1); return;
      case 3: sort3(start, start + 1, start + 2); return;
      case 4: sort4(start, start + 1, start + 2, start + 3); return;
      case 5: sort5(start, start + 1, start + 2, start + 3, start + 4); return;
      default: break;
    }
    const std::size_t end = start + n;
    const std::size_t sentry = start + 6;
    // the first six: plain linear insertion
    for (std::size_t i = start + 1; i < sentry; ++i) {
      std::size_t j = i - 1;
      if (cmp(j, i) <= 0) continue;
      while (j != start) {
        --j;
        if (cmp(j, i) <= 0) {
          ++j;
          break;
        }
      }
      rotate_down(i, j);
    }
    // the rest: the insertion point is searched two steps at a time
    for (std::size_t i = sentry; i < end; ++i) {
      std::size_t j = i - 1;
      if (cmp(j, i) <= 0) continue;
      for (;;) {
        j -= 2;
        if (cmp(j, i) <= 0) {
          ++j;
          if (cmp(j, i) <= 0) ++j;
          break;
        }
        if (j == start) break;
        if (j == start + 1) {
          --j;
          if (cmp(i, j) > 0) ++j;
          break;
        }
      }
      rotate_down(i, j);
    }
  }

  std::vector<std::size_t>& v_;
  const Cmp& cmp_;
};

// A version's sort version, and its numbers when it is plain dotted decimal ("1.2.3.0", each part at
// most 18 digits): what most tagged versions are. version_compare of two such is their numbers compared
// part by part (PHP reads each part with strtol; canonicalizing changes nothing), and on a common prefix
// the longer one is greater (its next part starts with a digit). Parsed once per version instead of
// canonicalized and split again on every comparison (the dump sort makes n log n of them).
struct sort_key {
  std::string text;
  std::vector<std::int64_t> numbers;  // empty: not plain dotted decimal
};

sort_key key_of(const dump_version& v) {
  sort_key k{sort_version(v), {}};
  const sv t = k.text;
  std::size_t at = 0;
  while (at < t.size()) {
    std::size_t end = at;
    std::int64_t n = 0;
    while (end < t.size() && is_digit(t[end]) && end - at < 18) n = n * 10 + (t[end++] - '0');
    const bool part_ends = end == t.size() || (t[end] == '.' && end + 1 < t.size());
    if (end == at || !part_ends) {
      k.numbers.clear();
      break;
    }
    k.numbers.push_back(n);
    at = end + 1;
  }
  return k;
}

int compare_versions(const sort_key& a, const sort_key& b) {
  if (a.numbers.empty() || b.numbers.empty()) return version_compare(a.text, b.text);
  const std::size_t n = std::min(a.numbers.size(), b.numbers.size());
  for (std::size_t i = 0; i < n; ++i)
    if (a.numbers[i] != b.numbers[i]) return a.numbers[i] < b.numbers[i] ? -1 : 1;
  return a.numbers.size() == b.numbers.size() ? 0 : (a.numbers.size() < b.numbers.size() ? -1 : 1);
}

int compare_with_keys(const dump_version& a, const sort_key& a_key, const dump_version& b, const sort_key& b_key) {
  const sv a_version = a_key.text, b_version = b_key.text;
  // sort default branch first if it is non numeric
  if (a_version == k_branch_sort_version && a.default_branch) return -1;
  if (b_version == k_branch_sort_version && b.default_branch) return 1;
  // equal versions are sorted by date (PHP: null == null, and any date > null)
  if (a_version == b_version) {
    if (a.released_at == b.released_at) return php_spaceship(a.version_normalized, b.version_normalized);
    return b.released_at > a.released_at ? 1 : -1;
  }
  // the rest is sorted by version, newest first
  return compare_versions(b_key, a_key);
}

}  // namespace

int compare_for_dump(const dump_version& a, const dump_version& b) {
  return compare_with_keys(a, key_of(a), b, key_of(b));
}

std::vector<std::size_t> sort_versions_for_dump(std::span<const dump_version> versions) {
  std::vector<sort_key> keys;
  keys.reserve(versions.size());
  for (const dump_version& v : versions) keys.push_back(key_of(v));
  std::vector<std::size_t> order(versions.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // PHP 8's usort: the user comparator, and on a tie the original position (stable_sort_fallback).
  auto cmp = [&](std::size_t a, std::size_t b) {
    const int c = compare_with_keys(versions[a], keys[a], versions[b], keys[b]);
    if (c != 0) return c;
    return a < b ? -1 : (a > b ? 1 : 0);
  };
  zend_sorter<decltype(cmp)>(order, cmp).sort(0, order.size());
  return order;
}

}  // namespace pb::versions
