// Artifact uploads: a vendor's zip, stored in R2 as uploaded, with composer.json read out of it by
// byte ranges (central directory, then the one entry), never by copying the archive into wasm.
#pragma once

#include <cstdint>
#include <string>

#include "bindings/task.h"
#include "core/result.h"

namespace pb::sources {

// Reads composer.json (root, or inside the single top-level folder, as Composer's Zip util finds it)
// from the zip stored at `key` of `size` bytes. Errors are bad_request with the reason.
task<result<std::string>> read_composer_json_from_zip(std::string key, std::int64_t size);

}  // namespace pb::sources
