// The constraint model of composer/semver 3.3.2 (src/Constraint/*.php) and Semver::satisfies. Matching
// keeps PHP's double dispatch exactly (who calls matches() on whom decides the argument order of
// matchSpecific, and that order is visible for odd versions), so each function names what it ports.
// Parsing is in constraint_parser.cpp.
#include "versions/constraint.h"

#include <utility>

#include "versions/version_parser.h"

namespace pb::versions {
namespace {

using sv = std::string_view;

bool is_branch(sv v) { return v.substr(0, 4) == "dev-"; }

// str_replace('=', '', $transOpInt[$op]): "" for ==, "<" for < and <=, ">" for > and >=, "!" for !=.
char without_equal(constraint_op op) {
  switch (op) {
    case constraint_op::eq: return '\0';
    case constraint_op::lt:
    case constraint_op::le: return '<';
    case constraint_op::gt:
    case constraint_op::ge: return '>';
    case constraint_op::ne: return '!';
  }
  return '\0';
}

// $transOpInt[$op] === str_replace('=', '', $transOpInt[$op]): the spelling has no '='.
bool has_no_equal_sign(constraint_op op) { return op == constraint_op::lt || op == constraint_op::gt; }

// Constraint('==', v)->matches($c) for a parsed node `c`: Constraint::matches() calls matchSpecific on a
// single and hands anything else the provider (`c->matches(provider)`).
bool provider_matches(sv normalized, const constraint& c) {
  if (c.type() == constraint::kind::single) {
    return match_specific(constraint_op::eq, normalized, c.op(), c.version(), false);
  }
  return c.matches_version(normalized);
}

}  // namespace

constraint constraint::make_single(constraint_op op, std::string version) {
  constraint c;
  c.kind_ = kind::single;
  c.op_ = op;
  c.version_ = std::move(version);
  return c;
}

result<constraint> constraint::make_single(std::string_view op, std::string version) {
  auto parsed = parse_operator(op);
  if (!parsed.ok()) return std::move(parsed).err();
  return make_single(*parsed, std::move(version));
}

result<constraint> constraint::make_multi(std::vector<constraint> constraints, bool conjunctive) {
  if (constraints.size() < 2) {
    return make_error(error_code::bad_request,
                      "Must provide at least two constraints for a MultiConstraint. Use the regular Constraint class "
                      "for one constraint only or MatchAllConstraint for none. You may use MultiConstraint::create() "
                      "which optimizes and handles those cases automatically.");
  }
  constraint c;
  c.kind_ = kind::multi;
  c.conjunctive_ = conjunctive;
  c.children_ = std::move(constraints);
  return c;
}

constraint constraint::match_all() { return constraint(); }

constraint constraint::match_none() {
  constraint c;
  c.kind_ = kind::match_none;
  return c;
}

// MultiConstraint::create and optimizeConstraints. The collapse test reads the children's strings the
// way PHP does ("[>= A < B] || [>= B < C]" -> "[>= A < C]"), so it is done on the same strings.
constraint constraint::create(std::vector<constraint> constraints, bool conjunctive) {
  if (constraints.empty()) return match_all();
  if (constraints.size() == 1) return std::move(constraints[0]);

  if (!conjunctive) {
    auto range_parts = [](const constraint& c, std::string& low, std::string& high) {
      if (c.kind_ != kind::multi || !c.conjunctive_ || c.children_.size() != 2) return false;
      low = c.children_[0].to_string();
      high = c.children_[1].to_string();
      return low.size() >= 2 && low[0] == '>' && low[1] == '=' && !high.empty() && high[0] == '<';
    };
    // PHP's substr($s, $n): "" when $n is past the end
    auto tail = [](const std::string& s, std::size_t n) { return n < s.size() ? sv(s).substr(n) : sv(); };

    std::vector<constraint> merged;
    bool optimized = false;
    constraint left = std::move(constraints[0]);
    std::string left0, left1, right0, right1;
    for (std::size_t i = 1; i < constraints.size(); ++i) {
      constraint& right = constraints[i];
      if (range_parts(left, left0, left1) && range_parts(right, right0, right1) &&
          tail(left1, 2) == tail(right0, 3)) {
        optimized = true;
        std::vector<constraint> pair;
        pair.push_back(std::move(left.children_[0]));
        pair.push_back(std::move(right.children_[1]));
        left = std::move(make_multi(std::move(pair), true)).value();
      } else {
        merged.push_back(std::move(left));
        left = std::move(right);
      }
    }
    if (optimized) {
      merged.push_back(std::move(left));
      if (merged.size() == 1) return std::move(merged[0]);
      return std::move(make_multi(std::move(merged), false)).value();
    }
    // not optimized: every element was moved into `merged` or `left`, in order
    merged.push_back(std::move(left));
    constraints = std::move(merged);
  }
  return std::move(make_multi(std::move(constraints), conjunctive)).value();
}

// Constraint::matchSpecific.
bool match_specific(constraint_op op, std::string_view version, constraint_op provider_op,
                    std::string_view provider_version, bool compare_branches) {
  const bool is_equal_op = op == constraint_op::eq;
  const bool is_non_equal_op = op == constraint_op::ne;
  const bool is_provider_equal_op = provider_op == constraint_op::eq;
  const bool is_provider_non_equal_op = provider_op == constraint_op::ne;

  // '!=' matches unless the other side is '==' the same version; such comparisons always have a solution
  if (is_non_equal_op || is_provider_non_equal_op) {
    if (is_non_equal_op && !is_provider_non_equal_op && !is_provider_equal_op && is_branch(provider_version)) {
      return false;
    }
    if (is_provider_non_equal_op && !is_non_equal_op && !is_equal_op && is_branch(version)) return false;
    if (!is_equal_op && !is_provider_equal_op) return true;
    return constraint_version_compare(provider_version, version, constraint_op::ne, compare_branches);
  }

  // e.g. <= 2.0 & < 1.0: always a solution, unless a branch is involved
  if (!is_equal_op && without_equal(op) == without_equal(provider_op)) {
    return !(is_branch(version) || is_branch(provider_version));
  }

  const sv version1 = is_equal_op ? version : provider_version;
  const sv version2 = is_equal_op ? provider_version : version;
  const constraint_op compare_op = is_equal_op ? provider_op : op;
  if (constraint_version_compare(version1, version2, compare_op, compare_branches)) {
    // require >= 1.0 and provide < 1.0: 1.0 >= 1.0, but 1.0 is outside the provided interval
    return !(has_no_equal_sign(provider_op) && !has_no_equal_sign(op) &&
             version_compare(provider_version, version) == 0);
  }
  return false;
}

// Constraint::matches, MultiConstraint::matches, MatchAllConstraint::matches, MatchNoneConstraint::matches.
bool constraint::matches(const constraint& provider) const {
  switch (kind_) {
    case kind::match_all: return true;
    case kind::match_none: return false;
    case kind::single:
      if (provider.kind_ == kind::single) {
        return match_specific(op_, version_, provider.op_, provider.version_, false);
      }
      return provider.matches(*this);  // turn matching around to find a match
    case kind::multi:
      if (!conjunctive_) {
        for (const constraint& c : children_) {
          if (provider.matches(c)) return true;
        }
        return false;
      }
      // [>1 and <2] against [<1 or >2]: iterate over the disjunctive one, or each of its parts would
      // match some part of this one
      if (provider.kind_ == kind::multi && !provider.conjunctive_) return provider.matches(*this);
      for (const constraint& c : children_) {
        if (!provider.matches(c)) return false;
      }
      return true;
  }
  return false;
}

// matches() with `provider` = Constraint('==', normalized), unrolled so nothing is built or copied.
bool constraint::matches_version(std::string_view normalized) const {
  switch (kind_) {
    case kind::match_all: return true;
    case kind::match_none: return false;
    case kind::single: return match_specific(op_, version_, constraint_op::eq, normalized, false);
    case kind::multi:
      // a single provider is never a disjunctive multi, so both branches ask provider->matches(child)
      for (const constraint& c : children_) {
        if (provider_matches(normalized, c) != conjunctive_) return !conjunctive_;
      }
      return conjunctive_;
  }
  return false;
}

void constraint::append_string(std::string& out) const {
  switch (kind_) {
    case kind::match_all: out += '*'; return;
    case kind::match_none: out += "[]"; return;
    case kind::single:
      out.append(operator_string(op_));
      out += ' ';
      out.append(version_);
      return;
    case kind::multi:
      out += '[';
      for (std::size_t i = 0; i < children_.size(); ++i) {
        if (i) out.append(conjunctive_ ? " " : " || ");
        children_[i].append_string(out);
      }
      out += ']';
      return;
  }
}

std::string constraint::to_string() const {
  std::string out;
  append_string(out);
  return out;
}

std::string constraint::pretty_string() const {
  if (!pretty_.empty() && pretty_ != "0") return pretty_;
  return to_string();
}

result<bool> satisfies(std::string_view version, std::string_view constraints) {
  auto normalized = normalize(version);
  if (!normalized.ok()) return std::move(normalized).err();
  auto parsed = parse_constraints(constraints);
  if (!parsed.ok()) return std::move(parsed).err();
  return parsed->matches_version(*normalized);
}

}  // namespace pb::versions
