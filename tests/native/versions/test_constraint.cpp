// Constraint port: composer/semver's own VersionParserTest / ConstraintTest / MultiConstraintTest / SemverTest
// tables (tests/data/versions/constraints.json), then the corners of PHP the port has to reproduce.
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <utility>
#include <vector>

#include "test_data.h"
#include "versions/constraint.h"

using namespace pb::versions;
using pb::json;

namespace {

constraint parsed(std::string_view text) {
  auto c = parse_constraints(text);
  INFO("parse_constraints(\"" << text << "\")");
  if (!c.ok()) FAIL(c.err().message);
  return std::move(c).value();
}

constraint single(std::string_view op, std::string version) {
  auto c = constraint::make_single(op, std::move(version));
  REQUIRE(c.ok());
  return std::move(c).value();
}

constraint multi(std::vector<constraint> parts, bool conjunctive = true) {
  auto c = constraint::make_multi(std::move(parts), conjunctive);
  REQUIRE(c.ok());
  return std::move(c).value();
}

}  // namespace

TEST_CASE("parse_constraints: VersionParserTest and MultiConstraintTest parse tables", "[versions][constraint]") {
  const json doc = test::load_data("constraints.json");
  struct table_size {
    const char* name;
    std::size_t at_least;
  };
  const table_size tables[] = {{"simpleConstraints", 31},          {"wildcardConstraints", 14},
                               {"tildeConstraints", 19},           {"caretConstraints", 22},
                               {"hyphenConstraints", 14},          {"constraintProvider", 23},
                               {"multiConstraintProvider", 10},    {"multiConstraintProvider2", 3},
                               {"otherParseTests", 11},            {"multiConstraintOptimizations", 9}};
  std::size_t total = 0;
  for (const table_size& t : tables) {
    for (const json& c : test::table(doc, t.name, t.at_least)) {
      const std::string input(c["input"].as_string());
      INFO(t.name << ": \"" << input << '"');
      const constraint p = parsed(input);
      CHECK(p.to_string() == c["expected"].as_string());
      CHECK(p.pretty_string() == input);  // no input in these tables is "" or "0"
      ++total;
    }
  }
  CHECK(total == 156);
}

TEST_CASE("parse_constraints: VersionParserTest::failingConstraints with PHP's messages", "[versions][constraint]") {
  const json doc = test::load_data("constraints.json");
  for (const json& c : test::table(doc, "failingConstraints", 42)) {
    INFO(c["name"].as_string() << ": \"" << c["input"].as_string() << '"');
    auto r = parse_constraints(c["input"].as_string());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == pb::error_code::bad_request);
    CHECK(r.err().http_status() == 400);
    CHECK(r.err().message == c["message"].as_string());
  }
}

TEST_CASE("Constraint::matches: ConstraintTest version matches, both ways", "[versions][constraint]") {
  const json doc = test::load_data("constraints.json");
  for (const char* name : {"successfulVersionMatches", "failingVersionMatches"}) {
    const bool expected = std::string_view(name) == "successfulVersionMatches";
    for (const json& c : test::table(doc, name, 89)) {
      const auto& row = c.as_array();
      INFO(name << ": " << row[0].as_string() << ' ' << row[1].as_string() << " vs " << row[2].as_string() << ' '
                << row[3].as_string());
      const constraint require = single(row[0].as_string(), std::string(row[1].as_string()));
      const constraint provide = single(row[2].as_string(), std::string(row[3].as_string()));
      CHECK(require.matches(provide) == expected);
      CHECK(provide.matches(require) == expected);  // the operation is commutative
    }
  }
}

TEST_CASE("Constraint::matches: ConstraintTest::matrix (results from PHP)", "[versions][constraint]") {
  const json doc = test::load_data("constraints.json");
  std::size_t trues = 0;
  for (const json& c : test::table(doc, "matrix", 1296)) {
    const auto& row = c.as_array();
    INFO(row[0].as_string() << ' ' << row[1].as_string() << " vs " << row[2].as_string() << ' ' << row[3].as_string());
    const constraint require = single(row[0].as_string(), std::string(row[1].as_string()));
    const constraint provide = single(row[2].as_string(), std::string(row[3].as_string()));
    CHECK(require.matches(provide) == row[4].as_bool());
    if (row[4].as_bool()) ++trues;
    if (provide.op() == constraint_op::eq) CHECK(require.matches_version(provide.version()) == row[4].as_bool());
  }
  CHECK(trues > 300);
  CHECK(trues < 1000);
}

TEST_CASE("Semver::satisfies: SemverTest providers", "[versions][constraint][satisfies]") {
  const json doc = test::load_data("constraints.json");
  for (const char* name : {"satisfiesProviderPositive", "satisfiesProviderNegative"}) {
    const bool expected = std::string_view(name) == "satisfiesProviderPositive";
    for (const json& c : test::table(doc, name, 45)) {
      INFO(name << ": " << c["version"].as_string() << " in \"" << c["constraint"].as_string() << '"');
      auto r = satisfies(c["version"].as_string(), c["constraint"].as_string());
      REQUIRE(r.ok());
      CHECK(*r == expected);
    }
  }
  // satisfiedBy is array_filter over satisfies
  for (const json& c : test::table(doc, "satisfiedByProvider", 3)) {
    const std::string_view text = c["constraint"].as_string();
    std::vector<std::string> kept;
    for (const json& v : c["versions"].as_array()) {
      auto r = satisfies(v.as_string(), text);
      REQUIRE(r.ok());
      if (*r) kept.emplace_back(v.as_string());
    }
    std::vector<std::string> expected;
    for (const json& v : c["expected"].as_array()) expected.emplace_back(v.as_string());
    CHECK(kept == expected);
  }
}

TEST_CASE("satisfies: the version's error comes first, then the constraint's", "[versions][constraint][satisfies]") {
  CHECK(satisfies("foo", "bar").err().message == "Invalid version string \"foo\"");
  CHECK(satisfies("1.0", "bar").err().message == "Could not parse version constraint bar: Invalid version string \"bar\"");
  CHECK(satisfies("1.0", "bar").err().code == pb::error_code::bad_request);
  CHECK(*satisfies("dev-main", "dev-main"));
  CHECK_FALSE(*satisfies("dev-main", "*@dev >=1.0"));
}

TEST_CASE("ConstraintTest: comparable branches, invalid operators, pretty strings", "[versions][constraint]") {
  // testComparableBranches
  CHECK_FALSE(single(">", "0.12").matches(single("==", "dev-foo")));
  CHECK_FALSE(match_specific(constraint_op::gt, "0.12", constraint_op::eq, "dev-foo", true));
  CHECK_FALSE(single("<", "0.12").matches(single("==", "dev-foo")));
  CHECK(match_specific(constraint_op::lt, "0.12", constraint_op::eq, "dev-foo", true));

  // testInvalidOperators
  for (const char* op : {"invalid", "!", "equals"}) {
    auto r = constraint::make_single(op, "1.2.3");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message ==
          "Invalid operator \"" + std::string(op) + "\" given, expected one of: =, ==, <, <=, >, >=, <>, !=");
  }

  // testGetPrettyString, for each kind
  constraint c = single("==", "1");
  c.set_pretty_string("pretty-string");
  CHECK(c.pretty_string() == "pretty-string");
  c.set_pretty_string("");
  CHECK(c.pretty_string() == "== 1");
  constraint m = multi({single(">", "1.0"), single("<", "1.2")});
  CHECK(m.pretty_string() == "[> 1.0 < 1.2]");
  m.set_pretty_string("pretty-string");
  CHECK(m.pretty_string() == "pretty-string");
  CHECK(constraint::match_all().pretty_string() == "*");
  CHECK(constraint::match_none().pretty_string() == "[]");
}

TEST_CASE("MultiConstraintTest: matching, create() and its errors", "[versions][constraint]") {
  const auto start = [] { return single(">", "1.0"); };
  const auto end = [] { return single("<", "1.2"); };

  const constraint conj = multi({start(), end()}, true);
  const constraint disj = multi({start(), end()}, false);
  CHECK(conj.is_conjunctive());
  CHECK_FALSE(conj.is_disjunctive());
  CHECK(disj.is_disjunctive());
  CHECK_FALSE(disj.is_conjunctive());

  // testMultiVersionMatchSucceeds / testMultiVersionMatchFails
  CHECK(conj.matches(single("==", "1.1")));
  CHECK(single("==", "1.1").matches(conj));
  CHECK(conj.matches_version("1.1"));
  CHECK_FALSE(conj.matches(single("==", "1.2")));
  CHECK_FALSE(single("==", "1.2").matches(conj));
  CHECK_FALSE(conj.matches_version("1.2"));

  // testMultiVersionProvidedMatchSucceeds, testMultiVersionMatchSucceedsInsideForeachLoop
  const constraint provide = multi({single(">=", "1.1"), single("<", "2.0")});
  CHECK(conj.matches(provide));
  CHECK(provide.matches(conj));
  const constraint disj_provide = multi({single(">", "1.0"), single("<", "1.2")}, false);
  CHECK(disj.matches(disj_provide));
  CHECK(disj_provide.matches(disj));

  // testConjunctiveMatchesDisjunctiveFalse
  const constraint outside = multi({single("<", "1.0"), single(">", "2.0")}, false);
  CHECK_FALSE(conj.matches(outside));
  CHECK_FALSE(outside.matches(conj));

  // testMultiConstraintNotconjunctiveFillWithFalse / ConjunctiveFillWithTrue
  const constraint never = multi({single(">", "dev-foo"), single(">", "dev-bar")}, false);
  CHECK_FALSE(never.matches(single("==", "1.1")));
  CHECK_FALSE(single("==", "1.1").matches(never));
  CHECK_FALSE(never.matches_version("1.1"));
  const constraint always = multi({single("!=", "dev-foo"), single("!=", "dev-bar")}, true);
  CHECK(always.matches(single("!=", "1.1")));
  CHECK(single("!=", "1.1").matches(always));

  // testCreatesMatchAllConstraintIfNoneGiven, testMatchAllConstraintWithin*MultiConstraint
  CHECK(constraint::create({}).type() == constraint::kind::match_all);
  std::vector<constraint> three;
  three.push_back(single(">=", "2.5.0.0-dev"));
  three.push_back(single("<=", "3.0.0.0-dev"));
  three.push_back(constraint::match_all());
  CHECK(constraint::create(std::move(three)).to_string() == "[>= 2.5.0.0-dev <= 3.0.0.0-dev *]");
  std::vector<constraint> two;
  two.push_back(single(">=", "2.5.0.0-dev"));
  two.push_back(constraint::match_all());
  CHECK(constraint::create(std::move(two), false).to_string() == "[>= 2.5.0.0-dev || *]");

  // the constructor's InvalidArgumentException
  std::vector<constraint> lone;
  lone.push_back(start());
  auto r = constraint::make_multi(std::move(lone));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message ==
        "Must provide at least two constraints for a MultiConstraint. Use the regular Constraint class for one "
        "constraint only or MatchAllConstraint for none. You may use MultiConstraint::create() which optimizes and "
        "handles those cases automatically.");
}

TEST_CASE("MatchAllConstraint and MatchNoneConstraint", "[versions][constraint]") {
  const constraint all = constraint::match_all();
  const constraint none = constraint::match_none();
  for (const constraint& provider : {single("==", "1.1"), single("!=", "1.1"), single("==", "dev-foo"),
                                     single("!=", "dev-foo")}) {
    CHECK(all.matches(provider));
    CHECK_FALSE(none.matches(provider));
    CHECK(provider.matches(all));  // a single hands a non-single the match
    CHECK_FALSE(provider.matches(none));
  }
  CHECK(all.matches(none));  // MatchAll::matches answers true whatever the provider
  CHECK_FALSE(none.matches(all));
  CHECK(all.matches_version("1.0.0.0"));
  CHECK_FALSE(none.matches_version("1.0.0.0"));
  CHECK(all.to_string() == "*");
  CHECK(none.to_string() == "[]");
}

TEST_CASE("VersionParserTest::testComplexConjunctive", "[versions][constraint]") {
  const constraint c = parsed("~0.1 || ~1.0 !=1.0.1");
  CHECK_FALSE(c.matches(single("=", "1.0.1.0")));
  CHECK_FALSE(c.matches_version("1.0.1.0"));
  CHECK(c.matches_version("1.0.2.0"));
  CHECK(c.matches_version("0.5.0.0"));
  CHECK_FALSE(c.matches_version("2.0.0.0"));
}

// Expected values below were checked against composer/semver 3.3.2 under PHP 8.2.
TEST_CASE("parse_constraints follows PHP where it is surprising", "[versions][constraint]") {
  // getPrettyString() falls back to __toString() for PHP-falsy pretty strings
  CHECK(parsed("0").pretty_string() == "== 0.0.0.0");
  CHECK(parsed(" 1.0 ").pretty_string() == " 1.0 ");
  // manipulateVersionString adds 1 as PHP numbers do: past a 64-bit integer it is a float
  CHECK(parsed("^99999999999999999999").to_string() ==
        "[>= 99999999999999999999.9999999.9999999.9999999-dev < 1.0E+20.0.0.0-dev]");
  CHECK(parsed("^9223372036854775807").to_string() ==
        "[>= 9223372036854775807-dev < 9.2233720368548E+18.0.0.0-dev]");
  CHECK(parsed("~01.02").to_string() == "[>= 01.02.0.0-dev < 2.0.0.0-dev]");
  CHECK(parsed("01.*").to_string() == "[>= 01.0.0.0-dev < 2.0.0.0-dev]");
  // the basic comparator's `.*` stops at a newline
  CHECK(parsed("1.0\nfoo").to_string() == "== 1.0.0.0");
  // "@STABLE" is not "stable": it becomes the stability of a non-= comparison
  CHECK(parsed(">=1.0@STABLE").to_string() == ">= 1.0.0.0-STABLE");
  // < and >= get -dev unless a stability follows; that check lower-cases the text first, so "RC" never counts
  CHECK(parsed("<1.0-RC1").to_string() == "< 1.0.0.0-RC1-dev");
  CHECK(parsed("<1.0-beta1").to_string() == "< 1.0.0.0-beta1");
  // the X-range pattern is case-sensitive, the wildcard-only one is not
  CHECK(parsed("V*").to_string() == ">= 0.0.0.0-dev");
  CHECK_FALSE(parse_constraints("V1.*").ok());
  // #refs only after dev- or .x-dev, case-insensitively
  CHECK(parsed("DEV-foo#bar").to_string() == "== dev-foo");
  CHECK(parse_constraints("1.0#abc").err().message ==
        "Could not parse version constraint 1.0#abc: Invalid version string \"1.0#abc\"");
  // empty alternatives are parsed (and fail) like any other
  CHECK(parse_constraints("1.0 || || 2.0").err().message ==
        "Could not parse version constraint : Invalid version string \"\"");
}
