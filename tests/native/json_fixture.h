// Test helper: parse JSON text that the test itself wrote, failing the test if it is not JSON.
#pragma once

#include <catch2/catch_test_macros.hpp>

#include <string_view>

#include "core/json.h"

namespace pb::testing {

inline json parse(std::string_view text) {
  auto j = parse_json(text);
  REQUIRE(j.ok());
  return std::move(j).value();
}

}  // namespace pb::testing
