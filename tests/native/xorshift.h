// Test helper: xorshift64 (shifts 13, 7, 17), the random-input tests' generator. Seeded by each test, so a
// failure repeats with the same inputs on every machine.
#pragma once

#include <cstdint>

namespace pb::testing {

struct xorshift64 {
  std::uint64_t state;
  std::uint64_t operator()() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

}  // namespace pb::testing
