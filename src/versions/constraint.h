// Version constraints as Composer reads them ("^1.2 || ~2.0@beta", ">=7.4 <8.3", "dev-main as 1.0.x-dev"):
// port of VersionParser::parseConstraints, the constraint model of Composer\Semver\Constraint (Constraint,
// MultiConstraint with its optimisations, MatchAllConstraint, MatchNoneConstraint) and Semver::satisfies,
// composer/semver 3.3.2. Parse once, then match many times: matches_version() allocates nothing.
// Not ported: bounds/Intervals and compile() (CompilingMatcher), which Composer uses for its solver only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "versions/comparator.h"

namespace pb::versions {

// One node of a constraint tree; a value type (copying copies the tree).
class constraint {
 public:
  enum class kind : std::uint8_t {
    single,      // Constraint: an operator and a normalized version, "== 1.0.0.0"
    multi,       // MultiConstraint: two or more constraints, all (conjunctive) or any (disjunctive)
    match_all,   // MatchAllConstraint, "*"
    match_none,  // MatchNoneConstraint, "[]"
  };

  // new Constraint($operator, $version); `version` is used as given (normalize it first).
  static constraint make_single(constraint_op op, std::string version);
  // Same with an operator string: bad_request with Constraint's message for anything but
  // =, ==, <, <=, >, >=, <>, !=.
  static result<constraint> make_single(std::string_view op, std::string version);
  // new MultiConstraint($constraints, $conjunctive): fewer than two constraints is bad_request with
  // MultiConstraint's message (PHP's InvalidArgumentException). Nothing is optimised.
  static result<constraint> make_multi(std::vector<constraint> constraints, bool conjunctive = true);
  // MultiConstraint::create($constraints, $conjunctive): none -> match_all, one -> that one, else a
  // multi; a disjunction of contiguous ranges ("[>= 1 < 2] || [>= 2 < 3]") collapses into one range.
  static constraint create(std::vector<constraint> constraints, bool conjunctive = true);
  static constraint match_all();
  static constraint match_none();

  kind type() const { return kind_; }
  // A single's operator and version (meaningless for other kinds).
  constraint_op op() const { return op_; }
  const std::string& version() const { return version_; }
  // A multi's constraints (empty for other kinds); isConjunctive() / isDisjunctive().
  std::span<const constraint> constraints() const { return children_; }
  bool is_conjunctive() const { return kind_ == kind::multi && conjunctive_; }
  bool is_disjunctive() const { return kind_ == kind::multi && !conjunctive_; }

  // ConstraintInterface::matches($provider): whether the two constraints can both hold, with PHP's
  // dispatch (a single against a single is Constraint::matchSpecific without comparable branches).
  [[nodiscard]] bool matches(const constraint& provider) const;
  // matches(new Constraint('==', $normalized)) without building the provider: the per-version check.
  // `normalized` must be a normalized version (normalize()'s output or a p2 "version_normalized").
  [[nodiscard]] bool matches_version(std::string_view normalized) const;

  // __toString(): "== 1.0.0.0", "[>= 1.0.0.0-dev < 2.0.0.0-dev]", "[A || B]", "*", "[]".
  [[nodiscard]] std::string to_string() const;
  // getPrettyString(): the pretty string when set and PHP-truthy (not "" and not "0"), else to_string().
  // parse_constraints() sets it to its input.
  [[nodiscard]] std::string pretty_string() const;
  void set_pretty_string(std::string pretty) { pretty_ = std::move(pretty); }

 private:
  constraint() = default;
  void append_string(std::string& out) const;

  kind kind_ = kind::match_all;
  bool conjunctive_ = true;
  constraint_op op_ = constraint_op::eq;
  std::string version_;
  std::vector<constraint> children_;
  std::string pretty_;
};

// Constraint::matchSpecific($provider, $compareBranches) for `op version` (this) against
// `provider_op provider_version`.
[[nodiscard]] bool match_specific(constraint_op op, std::string_view version, constraint_op provider_op,
                                  std::string_view provider_version, bool compare_branches = false);

// VersionParser::parseConstraints($constraints): "||" / "|" separate alternatives, "," or spaces
// separate requirements that must all hold; each requirement is one of "*", "1.2.*", "~1.2", "^1.2",
// "1.0 - 2.0", ">=1.0" (and <, <=, >, !=, <>, =, ==, none), "dev-main", "2.x-dev", with "@stability",
// "#ref" and " as alias" suffixes. Invalid input gives bad_request with PHP's exact message, e.g.
// `Could not parse version constraint foo: Invalid version string "foo"`.
[[nodiscard]] result<constraint> parse_constraints(std::string_view constraints);

// Semver::satisfies($version, $constraints): normalizes `version` (its error first), parses
// `constraints` (its error next), then matches. Parse once with parse_constraints() and call
// matches_version() when checking many versions.
[[nodiscard]] result<bool> satisfies(std::string_view version, std::string_view constraints);

}  // namespace pb::versions
