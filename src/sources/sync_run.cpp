#include "sources/sync_run.h"

#include <algorithm>
#include <vector>

#include "bindings/effects.h"
#include "storage/sources.h"

namespace pb::sources {

namespace {

constexpr int max_sources_per_cron = 3;

}  // namespace

json sync_message(std::int64_t source_id, bool start) {
  json m = json::object();
  m.set("sync", json(source_id));
  if (start) m.set("start", json(true));
  return m;
}

task<bool> wake_sync(std::int64_t source_id, bool start, std::int64_t delay_s) {
  auto sent = co_await fx::queue_send(sync_message(source_id, start), delay_s);
  co_return static_cast<bool>(sent);
}

task<result<sync_step>> run_sync_step(const settings& cfg, std::int64_t id, std::int64_t now_ms, bool only_when_due) {
  sync_step step;
  auto lease = co_await fx::crypto_random_hex(12);
  if (!lease) co_return std::move(lease).err();
  auto claimed = co_await storage::claim_sync(id, std::move(*lease), now_ms, now_ms + sync_lease_ms, only_when_due);
  if (!claimed) co_return std::move(claimed).err();
  if (!claimed->has_value()) co_return step;
  storage::source_record s = std::move(**claimed);
  step.ran = true;
  if (s.sync_cursor.empty()) {
    auto started = co_await storage::record_sync(id, {"running", 0, 0, {}}, now_ms);
    if (!started) {
      (void)co_await storage::release_sync(s);
      co_return std::move(started).err();
    }
  }
  auto report = co_await run_sync_slice(cfg, s, now_ms);
  if (!report) {
    // The slice stopped half way (D1 or the upstream failed outside what it records itself): its claim
    // goes back and the cursor stays as last saved, so the next message or cron run redoes only the
    // step that failed. Nothing it committed is undone or done twice.
    (void)co_await storage::release_sync(s);
    // conflict: another invocation took the sync over (this claim expired); the bookkeeping is its.
    if (report.err().code != error_code::conflict)
      (void)co_await storage::record_sync(id, {"error", 0, 0, report.err().message}, now_ms);
    co_return std::move(report).err();
  }
  step.report = std::move(*report);
  // More to do: the status says so, or a failed slice kept its cursor for a retry.
  if (step.report.status == "running" || step.report.retry_at_ms > 0) {
    std::int64_t delay_s = std::max<std::int64_t>(0, (step.report.retry_at_ms - now_ms + 999) / 1000);
    step.continues = co_await wake_sync(id, false, delay_s) ? "queue" : "cron";
  }
  co_return step;
}

task<json_array> handle_sync_messages(const settings& cfg, json_array messages, std::int64_t now_ms) {
  json_array retry;
  std::vector<std::int64_t> seen;
  auto again = [&](const json& m, std::int64_t delay_s) {
    json r = json::object();
    r.set("id", m["id"]);
    r.set("delay_s", json(delay_s));
    retry.push_back(std::move(r));
  };
  for (const auto& m : messages) {
    std::int64_t id = m["body"]["sync"].as_int();
    if (id <= 0) continue;  // not a message of ours: acknowledged, nothing to do
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
    if (!room_for_slice()) {  // this invocation's budget is spent: the message comes back
      again(m, 0);
      continue;
    }
    seen.push_back(id);
    auto step = co_await run_sync_step(cfg, id, now_ms, !m["body"]["start"].as_bool());
    // A failed slice (its error is on the source) is tried again after a pause that grows with the
    // message's attempts; Queues gives up after max_retries and the cron trigger carries on.
    if (!step) again(m, 10 * std::max<std::int64_t>(1, m["attempts"].as_int()));
  }
  co_return retry;
}

task<std::monostate> run_due_syncs(const settings& cfg, std::int64_t now_ms) {
  auto due = co_await fx::d1_all(
      // A packagist source's change feed is read on every cron run; other sources when due.
      "SELECT id FROM sources WHERE enabled = 1 AND (sync_cursor IS NOT NULL OR next_sync_at <= ? OR type = 'packagist') "
      "ORDER BY next_sync_at LIMIT ?",
      {json(now_ms), json(max_sources_per_cron)});
  if (!due) co_return std::monostate{};
  for (const auto& row : due->rows) {
    if (!room_for_slice()) break;  // the next cron run continues; this one stays within its plan
    (void)co_await run_sync_step(cfg, row["id"].as_int(), now_ms, true);
  }
  co_return std::monostate{};
}

}  // namespace pb::sources
