// packagist.org (or a packagist-like repository) as a source, mirrored lazily: a package is brought
// in the first time an `update` token asks for it (mirror_package), its dists rewritten to our /dist
// mirror (expand, rewrite, re-minify: the p2 builder always re-minifies), and kept fresh from the
// repository's metadata change feed on the cron trigger (packagist_slice). The feed, the advisories
// API and the metadata live where the repository's packages.json says (sources/endpoints.h); the
// feed's cursor is taken when the source is created, so no release published after that is missed.
// Never mirrored: names that exist here already, and names of private vendors (PB_PRIVATE_VENDORS),
// which would otherwise let a public package take a private name (dependency confusion).
// Advisories are passed through from the source (upstream_advisories).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"
#include "core/settings.h"
#include "sources/endpoints.h"
#include "sources/sync.h"
#include "sources/upstream.h"
#include "storage/sources.h"

namespace pb::sources {

// True when `name` is a valid package name outside every private vendor (settings::private_vendors).
bool mirrorable_name(const settings& cfg, std::string_view name);
// The first enabled packagist source whose patterns allow `name` (a mirrorable name).
task<result<std::optional<storage::source_record>>> packagist_source_for(const settings& cfg, std::string name);
// Every enabled packagist source (packages.json advertises their patterns).
task<result<std::vector<storage::source_record>>> packagist_sources();

enum class mirror_outcome { updated, unchanged, not_found };
// Fetches both p2 files of `name` (with If-Modified-Since from the last fetch when refresh is true)
// and switches the package to that version set. A first mirror (refresh false) of a name that exists
// here already is not_found: mirroring never takes a name over. Versions skipped (and why) go to notes.
task<result<mirror_outcome>> mirror_package(const settings& cfg, storage::source_record s, std::string name,
                                            bool refresh, std::int64_t now_ms, std::vector<std::string>* notes = nullptr);

// The change feed's cursor for "now", as the upstream tells it (its feed answers a request without
// `since` with the current timestamp); the local clock (minus a margin) when it cannot be asked.
task<std::string> take_feed_cursor(const upstream& u, const endpoints& e, std::int64_t now_ms);

task<result<slice_report>> packagist_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms);

// The source's advisories for `names` ({"vendor/pkg": [...]}), from its security-advisories API.
task<result<json>> upstream_advisories(const settings& cfg, storage::source_record s, std::vector<std::string> names);

}  // namespace pb::sources
