// Syncing a source: read the upstream, and switch each package to its new version set whole (one D1
// batch per package, then its p2 documents are rebuilt). A sync runs in slices of at most
// settings::sync_packages_per_slice packages so it stays within a Worker invocation's limits; the position is kept
// in sources.sync_cursor and the next slice continues it (sources/sync_run.h: at once on the sync queue,
// else on the cron trigger). Upstream failures leave the last good metadata in place and are recorded
// on the source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"
#include "core/settings.h"
#include "sources/p2_reader.h"
#include "sources/upstream_row.h"
#include "storage/packages.h"
#include "storage/sources.h"

namespace pb::sources {

// A package costs about 6 subrequests (2 upstream reads, 4 D1 calls); the Workers Free plan allows 50
// per invocation, hence the default of 8 packages per slice. Whatever the slice size, a slice starts
// a package only while the invocation's subrequest budget (settings::subrequest_budget, shared by the
// whole cron run) covers it and the slice's closing writes: no invocation goes past its plan.
constexpr std::int64_t package_subrequests = 6;
constexpr std::int64_t slice_closing_subrequests = 7;  // cursor or outcome, the last package's switch, the continuation message
// The budget left covers one more package and the slice's closing writes.
bool room_for_package();
// ... and also a new slice's opening reads (the source row, its sync record).
bool room_for_slice();

struct slice_report {
  std::string status;  // running (more slices to come) | ok | error
  std::int64_t packages = 0;   // packages written in this slice
  std::int64_t versions = 0;
  std::int64_t remaining = 0;  // packages left for later slices
  std::int64_t retry_at_ms = 0;  // the next slice should not start before this (rate limit, retry pause); 0: at once
  std::vector<std::string> errors;
};

// Runs the next slice of the source's sync (starting a new sync when none is in progress).
task<result<slice_report>> run_sync_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms);

// Bookkeeping shared by every source type's slice function: saves the (type-specific, JSON) cursor
// and marks the sync running, or clears it and records the outcome on the source. Both give back the
// slice's claim (s.sync_lease_id) and write only while the source still carries it: error_code::conflict
// when another invocation took the sync over (the claim expired), and then nothing is written.
task<result<std::monostate>> save_sync_cursor(const storage::source_record& s, std::string cursor_json, std::int64_t now_ms);
task<result<std::monostate>> finish_sync(const storage::source_record& s, storage::sync_outcome outcome, std::int64_t now_ms);

json slice_to_json(const slice_report& r);

}  // namespace pb::sources
