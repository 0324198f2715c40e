// GitHub, GitLab and Bitbucket repositories as sources: one repository is one package. A sync lists
// every tag and branch (all pages), reads composer.json at each ref, turns tags into versions by
// Composer's rules (VcsRepository) and branches into dev-x / x.y.x-dev, and points dists at the
// provider's archive API. Refs without a usable composer.json are skipped and recorded in skipped_refs.
// API rate limits are honoured: a 403/429 with no remaining quota stops the slice and resumes later.
#pragma once

#include "bindings/task.h"
#include "core/result.h"
#include "core/settings.h"
#include "sources/sync.h"
#include "storage/sources.h"

namespace pb::sources {

task<result<slice_report>> vcs_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms);

}  // namespace pb::sources
