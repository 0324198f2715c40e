// Loads the versions test tables in tests/data/versions/ (PB_TEST_DATA_DIR comes from the build) for the
// table-driven tests in this folder.
#pragma once

#include <catch2/catch_test_macros.hpp>

#include <cstdio>
#include <string>

#include "core/json.h"

namespace pb::versions::test {

inline json load_data(const char* file) {
  const std::string path = std::string(PB_TEST_DATA_DIR) + "/versions/" + file;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  INFO("reading " << path);
  REQUIRE(f != nullptr);
  std::string text;
  char buf[8192];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  auto parsed = parse_json(text);
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

// A named table of the document; fails the test when it is missing or shorter than expected, so a
// broken data file cannot make the table-driven tests pass vacuously.
inline const json_array& table(const json& doc, const char* name, std::size_t at_least) {
  INFO("table " << name);
  REQUIRE(doc[name].is_array());
  REQUIRE(doc[name].as_array().size() >= at_least);
  return doc[name].as_array();
}

}  // namespace pb::versions::test
