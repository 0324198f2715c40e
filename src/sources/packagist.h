// packagist.org (or a packagist-like repository) as a source, mirrored lazily: a package is brought
// in the first time an `update` token asks for it (mirror_package), its dists rewritten to our /dist
// mirror (expand, rewrite, re-minify: the p2 builder always re-minifies), and kept fresh from the
// repository's metadata change feed (metadata/changes.json) on the cron trigger (packagist_slice).
// Advisories for mirrored packages are passed through from the source (upstream_advisories).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"
#include "core/settings.h"
#include "sources/sync.h"
#include "storage/sources.h"

namespace pb::sources {

// The first enabled packagist source whose patterns allow `name`.
task<result<std::optional<storage::source_record>>> packagist_source_for(std::string name);
// Every enabled packagist source (packages.json advertises their patterns).
task<result<std::vector<storage::source_record>>> packagist_sources();

enum class mirror_outcome { updated, unchanged, not_found };
// Fetches both p2 files of `name` (with If-Modified-Since from the last fetch when refresh is true)
// and switches the package to that version set.
task<result<mirror_outcome>> mirror_package(const settings& cfg, storage::source_record s, std::string name,
                                            bool refresh, std::int64_t now_ms);

task<result<slice_report>> packagist_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms);

// The source's advisories for `names` ({"vendor/pkg": [...]}), from its security-advisories API.
task<result<json>> upstream_advisories(const settings& cfg, storage::source_record s, std::vector<std::string> names);

}  // namespace pb::sources
