// Syncs that continue on the sync queue (sources/sync_run.h) on the native host's in-process queue: a
// GitHub Enterprise repository with 90 tags needs several slices on the Free plan's 50 subrequests; each
// runs in its own queue invocation, at once, without a cron run. Duplicate wake-ups, a failed upstream
// read, a failed D1 write and an expired claim neither lose nor repeat work; without a queue, cron
// continues.
#include <algorithm>

#include "test_vcs_fake.h"

using namespace pb;
using namespace pb::testing;
using namespace pb::testing::vcs;

namespace {

const char* ghe_source = R"({"type":"github","url":"https://ghe.example.test/acme/widget",
                             "api_url":"https://ghe.example.test/api/v3/","credentials":{"type":"bearer","token":"tok"}})";

// populate()'s repository plus 90 tags, each its own commit (as monolog's releases are).
fake_host big_repository() {
  fake_host f;
  f.kind = 'h';
  f.web = "https://ghe.example.test/acme/widget";
  f.api = "https://ghe.example.test/api/v3";
  f.repo_path = "acme/widget";
  f.archive_host = "codeload.ghe.example.test";
  populate(f);
  for (int i = 0; i < 90; ++i) {
    std::string n = std::to_string(i);
    std::string sha = std::string(40 - n.size(), '5') + n;
    f.tags.push_back({"v2." + n + ".0", sha});
    f.files[sha] = R"({"name":"acme/widget"})";
  }
  f.page_size = 100;
  return f;
}

constexpr std::size_t all_versions = 92;  // tagged: 90 + populate()'s v1.0.0 and 1.1.0 (and 2 dev branches)

bool is_subrequest_op(const std::string& op) {
  for (const char* family : {"d1.", "kv.", "r2.", "cache.", "queue."})
    if (op.rfind(family, 0) == 0) return true;
  return op == "fetch";
}

std::size_t subrequests(const finished& f) {
  return static_cast<std::size_t>(std::count_if(f.ops.begin(), f.ops.end(), is_subrequest_op));
}

// How often each composer.json URL was read (requests from..to of the fake's log).
std::map<std::string, int> composer_reads(const fake_host& up, std::size_t from = 0, std::size_t to = SIZE_MAX) {
  std::map<std::string, int> n;
  for (std::size_t i = from; i < up.seen.size() && i < to; ++i)
    if (up.seen[i].first.find("/contents/composer.json?ref=") != std::string::npos) ++n[up.seen[i].first];
  return n;
}

json one_message(const native_host::queued_message& m) {
  json msg = json::object();
  msg.set("id", json(m.id));
  msg.set("body", m.body);
  msg.set("attempts", json(static_cast<std::int64_t>(m.attempts)));
  json batch = json::array();
  batch.push_back(std::move(msg));
  return batch;
}

// Starts a queue invocation for m and runs it until its next batch would read the upstream: it then
// holds the source's claim, half way through its slice.
std::uint32_t start_until_fetch(fixture& f, const native_host::queued_message& m) {
  std::uint32_t job = start(queue_start(one_message(m), f.h.clock_ms, f.c.vars));
  for (int i = 0; i < 50 && pb_state(job) == 1; ++i) {
    if (output(job).find("\"op\":\"fetch\"") != std::string::npos) return job;
    step(f.h, job);
  }
  FAIL("the invocation never reached an upstream read");
  return job;
}

void finish_job(fixture& f, std::uint32_t job) {
  for (int i = 0; i < 200 && pb_state(job) == 1; ++i) step(f.h, job);
  CHECK(pb_state(job) == 0);
  pb_finish(job);
}

void check_complete(fixture& f) {
  json last = f.source()["last_sync"];
  INFO(last.dump());
  CHECK(last["status"].as_string() == "ok");
  CHECK(last["versions"].as_int() == static_cast<std::int64_t>(all_versions) + 2);
  CHECK(f.p2().size() == all_versions);
  CHECK(f.h.query("SELECT sync_cursor, sync_lease_id FROM sources").as_array()[0]["sync_cursor"].is_null());
  CHECK(f.h.query("SELECT sync_lease_id FROM sources").as_array()[0]["sync_lease_id"].is_null());
}

}  // namespace

TEST_CASE("a new source's sync runs to the end on the queue, each invocation within the Free plan's budget",
          "[sources][queue][native]") {
  fixture f(big_repository(), ghe_source, false);
  REQUIRE(f.h.queue.size() == 1);
  CHECK(f.h.queue[0].body.dump() == "{\"sync\":" + std::to_string(f.source_id) + ",\"start\":true}");
  std::int64_t started = f.h.clock_ms;
  auto runs = deliver_queue(f.h, f.c.vars, 20, false);  // no delays: every continuation is due at once
  CHECK(f.h.queue.empty());
  CHECK(f.h.clock_ms == started);
  CHECK(runs.size() >= 3);  // more than one invocation's budget of reads
  for (const auto& r : runs) {
    CHECK(subrequests(r) <= 50);
    CHECK(r.doc["retry"].as_array().empty());
  }
  check_complete(f);
  for (const auto& [url, n] : composer_reads(f.up)) {
    INFO(url);
    CHECK(n == 1);
  }
  // No cron run took part.
  CHECK(f.h.query("SELECT value FROM pb_meta WHERE key = 'last_cron_ms'").as_array().empty());
}

TEST_CASE("sync now runs one slice and hands the rest to the queue", "[sources][queue][native]") {
  fixture f(big_repository(), ghe_source);
  json first = f.sync().body_json();
  INFO(first.dump());
  CHECK(first["mode"].as_string() == "enqueued");
  CHECK(first["continues"].as_string() == "queue");
  CHECK(first["result"]["status"].as_string() == "running");
  CHECK(f.c.call("GET", "/p2/acme/widget.json", basic(f.token)).status == 404);  // nothing switched yet
  REQUIRE(f.h.queue.size() == 1);
  CHECK(f.h.queue[0].body.dump() == "{\"sync\":" + std::to_string(f.source_id) + "}");
  auto runs = deliver_queue(f.h, f.c.vars, 20, false);
  CHECK(f.h.queue.empty());
  check_complete(f);
}

TEST_CASE("a duplicate wake-up while a slice runs finds the claim taken and does nothing", "[sources][queue][native]") {
  fixture f(big_repository(), ghe_source, false);
  REQUIRE(f.h.queue.size() == 1);
  native_host::queued_message m = f.h.queue[0];
  f.h.queue.clear();
  std::uint32_t job = start_until_fetch(f, m);

  native_host::queued_message dup = m;
  dup.id = "duplicate";
  finished d = invoke(f.h, queue_start(one_message(dup), f.h.clock_ms, f.c.vars));
  CHECK(d.ops == std::vector<std::string>{"crypto.random", "d1.first"});  // the claim, refused
  CHECK(d.doc["retry"].as_array().empty());
  CHECK(f.h.queue.empty());
  // The admin API says so too, and changes nothing.
  reply busy = f.sync();
  CHECK(busy.status == 409);
  CHECK(busy.body.find("running in another invocation") != std::string::npos);
  CHECK(std::count(busy.ops.begin(), busy.ops.end(), "clock.sleep") == 8);  // it waited 16 s first

  // When the running slice ends while sync now waits, sync now runs the next slice itself.
  f.h.on_sleep = [&] {
    if (job) finish_job(f, job);
    job = 0;
  };
  reply waited = f.sync();
  f.h.on_sleep = nullptr;
  INFO(waited.body);
  CHECK(waited.status == 200);
  CHECK(std::count(waited.ops.begin(), waited.ops.end(), "clock.sleep") == 1);
  CHECK(job == 0);

  deliver_queue(f.h, f.c.vars, 20, false);
  check_complete(f);
  for (const auto& [url, n] : composer_reads(f.up)) CHECK(n == 1);
}

TEST_CASE("a failed upstream read half way neither loses nor repeats work", "[sources][queue][native]") {
  fixture f(big_repository(), ghe_source, false);
  const std::string victim = "https://ghe.example.test/api/v3/repos/acme/widget/contents/composer.json?ref=" +
                             std::string(38, '5') + "45";
  int failures = 1;
  f.h.fault_if = [&](const json& e) -> std::optional<effect_error> {
    if (e["op"].as_string() == "fetch" && e["url"].as_string() == victim && failures > 0) {
      --failures;
      return effect_error{"TypeError", "Network connection lost."};
    }
    return std::nullopt;
  };
  auto runs = deliver_queue(f.h, f.c.vars, 20);
  CHECK(failures == 0);
  check_complete(f);
  // Every read kept: the upstream answered each composer.json once (the failed read never reached it
  // and was asked again in the retry).
  CHECK(composer_reads(f.up).count(victim) == 1);
  for (const auto& [url, n] : composer_reads(f.up)) {
    INFO(url);
    CHECK(n == 1);
  }
}

TEST_CASE("a failed D1 write half way is redone from the last saved cursor, nothing committed is redone",
          "[sources][queue][native]") {
  fixture f(big_repository(), ghe_source, false);
  int saves = 0;
  f.h.fault_if = [&](const json& e) -> std::optional<effect_error> {
    // The second slice's cursor save fails once.
    if (e["op"].as_string() == "d1.run" && e["sql"].as_string().rfind("UPDATE sources SET sync_cursor = ?", 0) == 0 && ++saves == 2)
      return effect_error{"Error", "D1_ERROR: injected failure: database unavailable"};
    return std::nullopt;
  };
  std::vector<std::size_t> marks{0};  // where each invocation's upstream reads start
  std::vector<finished> runs;
  for (int i = 0; i < 20 && !f.h.queue.empty(); ++i) {
    auto one = deliver_queue(f.h, f.c.vars, 1);
    runs.insert(runs.end(), one.begin(), one.end());
    marks.push_back(f.up.seen.size());
  }
  check_complete(f);
  // The failing invocation handed its message back for a retry after a pause.
  auto failed = std::find_if(runs.begin(), runs.end(), [](const finished& r) { return !r.doc["retry"].as_array().empty(); });
  REQUIRE(failed != runs.end());
  CHECK(failed->doc["retry"].as_array()[0]["delay_s"].as_int() == 10);
  std::size_t k = static_cast<std::size_t>(failed - runs.begin());
  // Reads of the slices before it happened once; only the failed slice's reads were made again.
  auto before = composer_reads(f.up);
  auto lost = composer_reads(f.up, marks[k], marks[k + 1]);
  CHECK_FALSE(lost.empty());
  for (const auto& [url, n] : before) {
    INFO(url);
    CHECK(n == (lost.count(url) ? 2 : 1));
  }
}

TEST_CASE("an expired claim is taken over; the old holder's late bookkeeping is refused", "[sources][queue][native]") {
  fixture f(big_repository(), ghe_source, false);
  native_host::queued_message m = f.h.queue[0];
  f.h.queue.clear();
  std::uint32_t stalled = start_until_fetch(f, m);
  f.h.clock_ms += 6 * 60'000;  // past the 5-minute claim
  native_host::queued_message again = m;
  again.id = "again";
  finished taken = invoke(f.h, queue_start(one_message(again), f.h.clock_ms, f.c.vars));
  CHECK(std::count(taken.ops.begin(), taken.ops.end(), "fetch") > 0);  // it ran the slice
  std::string cursor(f.h.query("SELECT sync_cursor FROM sources").as_array()[0]["sync_cursor"].as_string());
  REQUIRE_FALSE(cursor.empty());
  finish_job(f, stalled);  // its cursor save finds another claim: refused, nothing written
  CHECK(f.h.query("SELECT sync_cursor FROM sources").as_array()[0]["sync_cursor"].as_string() == cursor);
  deliver_queue(f.h, f.c.vars, 20);
  check_complete(f);
}

TEST_CASE("without a queue the cron trigger continues a large sync", "[sources][queue][native]") {
  fixture f(big_repository(), ghe_source);
  f.h.has_queue = false;
  json first = f.sync().body_json();
  CHECK(first["mode"].as_string() == "enqueued");
  CHECK(first["continues"].as_string() == "cron");
  for (int i = 0; i < 6 && f.source()["last_sync"]["status"].as_string() == "running"; ++i)
    invoke(f.h, scheduled_start("*/15 * * * *", admin_vars()));
  check_complete(f);
}
