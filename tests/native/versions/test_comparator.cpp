// Comparator port: composer/semver's ComparatorTest tables and php-src's version_compare test
// (tests/data/versions/comparator.json, version_compare.json).
#include <catch2/catch_test_macros.hpp>

#include "test_data.h"
#include "versions/comparator.h"

using namespace pb::versions;
using pb::json;

TEST_CASE("compare: ComparatorTest providers", "[versions][compare]") {
  const json doc = test::load_data("comparator.json");
  const char* providers[] = {"greaterThanProvider", "greaterThanOrEqualToProvider", "lessThanProvider",
                             "lessThanOrEqualToProvider", "equalToProvider", "notEqualToProvider", "compareProvider"};
  std::size_t total = 0;
  for (const char* provider : providers) {
    for (const json& c : test::table(doc, provider, 3)) {
      const auto a = c["a"].as_string();
      const auto op = c["op"].as_string();
      const auto b = c["b"].as_string();
      INFO(provider << ": " << a << ' ' << op << ' ' << b);
      const bool expected = c["expected"].as_bool();
      CHECK(compare(a, op, b) == expected);
      auto parsed = parse_operator(op);
      REQUIRE(parsed.ok());
      CHECK(compare(a, *parsed, b) == expected);
      ++total;
    }
  }
  CHECK(total == 57);
}

TEST_CASE("compare: the named helpers are Comparator's", "[versions][compare]") {
  CHECK(greater_than("1.25.0", "1.24.0"));
  CHECK(greater_than("1.26.0", "dev-foo"));
  CHECK_FALSE(greater_than("dev-foo", "dev-master"));
  CHECK(greater_than_or_equal_to("1.25.0", "1.25.0"));
  CHECK(less_than("1.0.0", "1.2-dev"));
  CHECK(less_than("dev-foo", "1.26.0"));
  CHECK(less_than_or_equal_to("1.25.0", "1.26.0"));
  CHECK_FALSE(equal_to("dev-foo", "1.26.0"));
  CHECK(equal_to("dev-foo", "dev-foo"));
  CHECK(not_equal_to("1.25.0", "1.24.0"));
  CHECK(not_equal_to("dev-foo", "dev-bar"));
}

TEST_CASE("parse_operator accepts Constraint's operators only", "[versions][compare]") {
  CHECK(*parse_operator("=") == constraint_op::eq);
  CHECK(*parse_operator("<>") == constraint_op::ne);
  CHECK(operator_string(constraint_op::ne) == "!=");
  auto bad = parse_operator("=>");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == pb::error_code::bad_request);
  CHECK(bad.err().message == "Invalid operator \"=>\" given, expected one of: =, ==, <, <=, >, >=, <>, !=");
  CHECK_FALSE(compare("1.0", "=>", "1.0"));
}

TEST_CASE("constraint_version_compare: branches only compare when asked", "[versions][compare]") {
  CHECK_FALSE(constraint_version_compare("dev-foo", "1.0.0.0", constraint_op::lt, false));
  CHECK(constraint_version_compare("dev-foo", "1.0.0.0", constraint_op::lt, true));
  CHECK(constraint_version_compare("dev-foo", "1.0.0.0", constraint_op::ne, false));
  CHECK_FALSE(constraint_version_compare("dev-foo", "dev-foo", constraint_op::le, true));
  CHECK(constraint_version_compare("dev-foo", "dev-foo", constraint_op::eq, false));
}

TEST_CASE("version_compare: php-src version_compare.phpt and edge cases", "[versions][version_compare]") {
  const json doc = test::load_data("version_compare.json");
  for (const char* table : {"version_compare_phpt", "edge_cases"}) {
    for (const json& c : test::table(doc, table, 30)) {
      const auto a = c["a"].as_string();
      const auto b = c["b"].as_string();
      INFO(table << ": \"" << a << "\" vs \"" << b << '"');
      CHECK(version_compare(a, b) == c["expected"].as_int());
    }
  }
}

TEST_CASE("version_compare with an operator takes PHP's spellings", "[versions][version_compare]") {
  CHECK(version_compare("1.0", "1.1", "lt") == true);
  CHECK(version_compare("1.0", "1.1", "ge") == false);
  CHECK(version_compare("1.0", "1.0", "eq") == true);
  CHECK(version_compare("1.0", "1.0", "<>") == false);
  CHECK_FALSE(version_compare("1.0", "1.0", "~").has_value());
}
