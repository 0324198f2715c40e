// Deleting packages, single versions and sources. The D1 rows go first, in one batch (so nothing that is
// served can point at a missing object); then the p2 documents are rebuilt (or gone with their package),
// this isolate's cached documents are dropped, and the R2 objects (archives under artifacts/ and
// mirror/, big metadata documents under metadata/) are deleted. What was deleted comes back as JSON for
// the audit log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"

namespace pb::storage {

struct deletion {
  json removed = json::object();      // the package/version/source as it was (no secrets)
  std::vector<std::string> objects;   // R2 keys deleted
  std::vector<std::string> leftover;  // R2 keys whose delete failed (unreachable: no row names them)
};

// nullopt when there is no such package.
task<result<std::optional<deletion>>> delete_package(std::string package, std::int64_t now_ms);
// `version` may be the pretty or the normalized version; nullopt when there is no such version. The
// last version takes its package with it.
task<result<std::optional<deletion>>> delete_version(std::string package, std::string version, std::int64_t now_ms);
// The source, its packages and their R2 copies; nullopt when there is no such source.
task<result<std::optional<deletion>>> delete_source_and_packages(std::int64_t source_id, json source_view);

}  // namespace pb::storage
