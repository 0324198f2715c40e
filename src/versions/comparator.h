// Version comparison: PHP's version_compare() and composer/semver's comparison rules on top of it.
// version_compare is a port of php-src ext/standard/versioning.c (php_version_compare); compare() and
// friends port Composer\Semver\Comparator and Constraint::versionCompare (composer/semver 3.3.2),
// including how "dev-" branches compare. Inputs are normalized versions (see version_parser.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.h"

namespace pb::versions {

// Constraint::OP_* (the operators composer/semver accepts).
enum class constraint_op : std::uint8_t { eq, lt, le, gt, ge, ne };

// Constraint's operator table: "=" and "==" -> eq, "<>" and "!=" -> ne, "<", "<=", ">", ">=".
// Anything else gives bad_request with the message Constraint's InvalidArgumentException carries.
[[nodiscard]] result<constraint_op> parse_operator(std::string_view op);
// The canonical spelling (Constraint::$transOpInt): "==", "<", "<=", ">", ">=", "!=".
[[nodiscard]] std::string_view operator_string(constraint_op op);

// PHP version_compare($a, $b): -1, 0 or 1. Like PHP, the strings end at their first NUL byte.
[[nodiscard]] int version_compare(std::string_view a, std::string_view b);
// PHP version_compare($a, $b, $operator) for "<"/"lt", "<="/"le", ">"/"gt", ">="/"ge",
// "=="/"="/"eq", "!="/"<>"/"ne"; nullopt for any other operator (PHP 8 throws a ValueError).
[[nodiscard]] std::optional<bool> version_compare(std::string_view a, std::string_view b, std::string_view op);

// Constraint::versionCompare($a, $b, $operator, $compareBranches): version_compare except that two
// dev- branches are only ever ==, != on a branch is string inequality, and without compare_branches a
// dev- branch matches nothing. `op` stands for the canonical spelling Constraint passes ("==", "!=", ...);
// PHP would treat a raw "=" or "<>" here differently for branches, which composer/semver never does.
[[nodiscard]] bool constraint_version_compare(std::string_view a, std::string_view b, constraint_op op,
                                              bool compare_branches);

// Comparator::compare($version1, $operator, $version2): "is version1 <op> version2".
[[nodiscard]] bool compare(std::string_view version1, constraint_op op, std::string_view version2);
// Same with a PHP operator string; false for an unknown operator (PHP throws InvalidArgumentException;
// use parse_operator to tell the two apart).
[[nodiscard]] bool compare(std::string_view version1, std::string_view op, std::string_view version2);

// Comparator::greaterThan, greaterThanOrEqualTo, lessThan, lessThanOrEqualTo, equalTo, notEqualTo.
[[nodiscard]] inline bool greater_than(std::string_view a, std::string_view b) { return compare(a, constraint_op::gt, b); }
[[nodiscard]] inline bool greater_than_or_equal_to(std::string_view a, std::string_view b) { return compare(a, constraint_op::ge, b); }
[[nodiscard]] inline bool less_than(std::string_view a, std::string_view b) { return compare(a, constraint_op::lt, b); }
[[nodiscard]] inline bool less_than_or_equal_to(std::string_view a, std::string_view b) { return compare(a, constraint_op::le, b); }
[[nodiscard]] inline bool equal_to(std::string_view a, std::string_view b) { return compare(a, constraint_op::eq, b); }
[[nodiscard]] inline bool not_equal_to(std::string_view a, std::string_view b) { return compare(a, constraint_op::ne, b); }

}  // namespace pb::versions
