// Running a source's sync one slice at a time, whatever woke it (the admin API, a webhook, the cron
// trigger, a queue message): claim the source (a lease in D1, so one invocation at a time runs its
// slice), run the next slice, and when more remains send a queue message that runs the next one at once
// in a fresh invocation with a fresh subrequest budget. The cursor in D1 is the truth; a message is only
// a wake-up, so a duplicate finds the claim taken (or nothing due) and a lost one leaves the rest to cron.
#pragma once

#include <cstdint>
#include <string>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"
#include "core/settings.h"
#include "sources/sync.h"

namespace pb::sources {

// How long a claim holds: longer than any slice (its subrequests are bounded, each upstream read times
// out after 15 s, six at a time), short enough that a killed invocation's sync goes on soon after.
constexpr std::int64_t sync_lease_ms = 5 * 60'000;

struct sync_step {
  bool ran = false;     // false: not claimed (another invocation holds it, or disabled, gone, not due)
  slice_report report;  // when ran
  // Who runs the next slice: "" (the sync is over), "queue" (a message was sent), "cron" (no queue
  // here, or the send failed: the cron trigger continues from the cursor).
  std::string continues;
};

// Runs the next slice of source_id's sync (starting one when none is in progress). only_when_due: only
// when a sync is running or due (cron, queue messages); otherwise always (the admin API, webhooks).
// An error means the slice failed (recorded on the source, the cursor as last saved) or D1 did.
task<result<sync_step>> run_sync_step(const settings& cfg, std::int64_t source_id, std::int64_t now_ms, bool only_when_due);

// The queue message that wakes source_id's sync: {"sync": id}, with "start": true when it should start a
// sync that is not due (a new source, a webhook); without, it only continues one that is running or due.
json sync_message(std::int64_t source_id, bool start);
// Sends it (delay in seconds); true when the host's queue took it.
task<bool> wake_sync(std::int64_t source_id, bool start, std::int64_t delay_s = 0);

// A "queue" invocation: runs a slice for each message's source (duplicates in one batch once) while
// the budget lasts. Returns the ids of messages to deliver again later ({"id","delay_s"}): those the
// budget did not reach and those whose slice failed (Queues' max_retries bounds them; cron follows).
task<json_array> handle_sync_messages(const settings& cfg, json_array messages, std::int64_t now_ms);

// Cron: continues running syncs and starts due ones, a bounded number per invocation.
task<std::monostate> run_due_syncs(const settings& cfg, std::int64_t now_ms);

}  // namespace pb::sources
