// settings: the deployment's configuration, typed. Read once per wasm instance from the Worker's string
// bindings (vars and secrets) by pb_configure, shared by every invocation of that instance; the code
// reads fields here, never a variable by name. What each setting means is in docs/API.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"

namespace pb {

struct settings {
  bool test_hooks = false;      // PB_TEST_HOOKS=1: enables /__test/* routes (never in production)
  std::string admin_token;      // ADMIN_TOKEN: the bootstrap admin secret; empty = admin API disabled
  std::string encryption_key;   // PB_ENCRYPTION_KEY: base64 of 32 bytes, seals stored credentials
  std::int64_t sync_packages_per_slice = 8;  // PB_SYNC_PACKAGES_PER_SLICE
  // PB_MAX_ARCHIVE_BYTES: the largest upstream archive mirrored into R2 (bigger ones are refused with a
  // 502 and nothing stored). Archives stream through in 5 MiB parts, so this bounds storage and time,
  // not memory.
  std::int64_t max_archive_bytes = std::int64_t{1} << 30;

  // Every string binding, for sources whose credentials name a Worker secret ({"secret": NAME}).
  json vars = json::object();
  // The value of the Worker secret `name`, or empty when it is not set.
  std::string_view secret(std::string_view name) const { return vars[name].as_string(); }

  // From the Worker's string bindings ({"NAME": "value", ...}); unknown or malformed values fall back
  // to the defaults above.
  static settings from_vars(json vars);
};

}  // namespace pb
