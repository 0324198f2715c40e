// Composer's VcsRepository rules on a listed repository: which package it is (the default branch's
// composer.json, else the newest tag's), tags into versions (validateTag, manual "version" fields,
// dev suffixes refused) and branches into dev-x / x.y.x-dev with default-branch, each version's dist
// pointing at the provider's archive. Refs that cannot be versions are returned with their reason.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "sources/vcs_refs.h"
#include "storage/packages.h"
#include "storage/sources.h"

namespace pb::sources::vcs {

// The package a repository is, its versions as rows, and the refs that could not be versions (with why).
struct built {
  std::string package;
  std::vector<storage::upstream_version> rows;
  std::vector<std::pair<std::string, std::string>> skipped;  // full ref name, reason
};

// Versions by Composer's VcsRepository::initialize rules, from every ref's composer.json.
result<built> build_versions(const vcs_cursor& c, const provider& p, const storage::source_record& s);

}  // namespace pb::sources::vcs
