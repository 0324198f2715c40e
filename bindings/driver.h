// driver: steps one request (or scheduled run) through its coroutines. start() runs the root task until
// every coroutine waits on an effect or it finishes; resume() hands in the host's results for the batch
// it last gave out. The wire format of batches and results is in PROTOCOL.md; exports.cpp wraps this
// in the wasm ABI, and the native test hosts call the same ABI.
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "effect.h"
#include "task.h"

namespace pb {

enum class driver_state : int { done = 0, waiting = 1 };

// Every effect that leaves the isolate (fetch, d1.*, kv.*, r2.*, cache.*, queue.*) is a subrequest to Cloudflare,
// which ends an invocation past its plan's limit. The driver counts them against the invocation's
// budget and fails the ones past it itself (error_code::unavailable), so an invocation never reaches it.
bool is_subrequest(std::string_view effect_json);
// How many subrequests the effect makes: 0 or 1, 2 for an http.respond that reads its body from R2 and
// runs a subrequest after it.
int subrequest_cost(std::string_view effect_json);

class driver final : public effect_sink {
 public:
  static constexpr std::int64_t unlimited = INT64_MAX;

  // root yields the final output document (see PROTOCOL.md "Finish").
  explicit driver(task<std::string> root, std::int64_t subrequest_budget = unlimited)
      : root_(std::move(root)), subrequest_budget_(subrequest_budget) {}
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;
  ~driver() = default;

  driver_state start();
  // results_json: {"results":[outcome, ...]} in the order of the last batch.
  driver_state resume(std::string_view results_json);

  // After start/resume: the effect batch ({"effects":[...]}) when waiting, the final output when done.
  const std::string& output() const { return out_; }

  void enqueue(std::string effect_json, effect_outcome* out, std::coroutine_handle<> waiter) override;
  std::int64_t subrequests_left() const override { return subrequest_budget_ - subrequests_used_; }

 private:
  struct pending {
    std::string effect_json;
    effect_outcome* out;
    std::coroutine_handle<> waiter;
  };
  driver_state settle();
  void step(std::coroutine_handle<> h);

  task<std::string> root_;
  std::int64_t subrequest_budget_;
  std::int64_t subrequests_used_ = 0;
  std::vector<pending> pending_;
  std::vector<std::coroutine_handle<>> refused_;  // over budget: answered here, resumed in settle()
  std::string out_;
};

// Parses one outcome object of a results document.
effect_outcome parse_outcome(const json& outcome);

}  // namespace pb
