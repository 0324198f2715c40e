#include "driver.h"

#include <cstdlib>

#include "core/json_scan.h"

namespace pb {

effect_sink*& current_effect_sink() {
  static effect_sink* sink = nullptr;
  return sink;
}

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

int subrequest_cost(std::string_view effect_json) {
  // Effects are written {"op":"…", …} (effects.cpp); the op's family decides. An http.respond costs what
  // it carries: one for a body it reads from R2 (body_r2), plus what its `after` effect costs (fx::respond
  // writes both first, in that order).
  constexpr std::string_view key = "{\"op\":\"";
  if (!starts_with(effect_json, key)) return 0;
  constexpr std::string_view respond = "{\"op\":\"http.respond\",";
  if (starts_with(effect_json, respond)) {
    std::string_view rest = effect_json.substr(respond.size());
    int cost = 0;
    constexpr std::string_view body_r2 = "\"body_r2\":";
    if (starts_with(rest, body_r2)) {
      cost = 1;
      rest.remove_prefix(body_r2.size());
      json_scanner sc(rest);
      auto value = sc.value();
      if (!value || !sc.take(',')) return cost;  // nothing follows the body's key
      rest.remove_prefix(static_cast<std::size_t>(value->data() + value->size() - rest.data()) + 1);
    }
    constexpr std::string_view after = "\"after\":";
    if (starts_with(rest, after)) cost += subrequest_cost(rest.substr(after.size()));
    return cost;
  }
  std::string_view op = effect_json.substr(key.size());
  op = op.substr(0, op.find('"'));
  for (std::string_view family : {"d1.", "kv.", "r2.", "cache.", "queue."})
    if (starts_with(op, family)) return 1;
  return op == "fetch" ? 1 : 0;
}

bool is_subrequest(std::string_view effect_json) { return subrequest_cost(effect_json) > 0; }

void driver::enqueue(std::string effect_json, effect_outcome* out, std::coroutine_handle<> waiter) {
  if (int cost = subrequest_cost(effect_json)) {
    if (subrequest_budget_ - subrequests_used_ < cost) {
      *out = make_error(error_code::unavailable, "this invocation used its budget of " + std::to_string(subrequest_budget_) +
                                                     " subrequests (PB_PLAN); the rest waits for the next one");
      refused_.push_back(waiter);
      return;
    }
    subrequests_used_ += cost;
  }
  pending_.push_back(pending{std::move(effect_json), out, waiter});
}

void driver::step(std::coroutine_handle<> h) {
  // Requests interleave in one isolate: the current sink is saved and restored around each resume.
  effect_sink* saved = current_effect_sink();
  current_effect_sink() = this;
  detail::resume_now(h);
  current_effect_sink() = saved;
}

driver_state driver::start() {
  step(root_.handle());
  return settle();
}

driver_state driver::settle() {
  // Refused effects already hold their outcome: resume their waiters before anything leaves.
  while (!refused_.empty()) {
    std::vector<std::coroutine_handle<>> now;
    now.swap(refused_);
    for (auto h : now) step(h);
  }
  if (root_.done()) {
    if (!pending_.empty()) std::abort();  // finished while effects were still owed: a bug
    out_ = root_.take();
    return driver_state::done;
  }
  if (pending_.empty()) std::abort();  // suspended on nothing: would hang the request
  out_.clear();
  out_ += "{\"effects\":[";
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (i) out_ += ',';
    out_ += pending_[i].effect_json;
  }
  out_ += "]}";
  return driver_state::waiting;
}

effect_outcome parse_outcome(const json& o) {
  if (!o.is_object()) return make_error(error_code::protocol, "effect outcome is not an object: " + o.dump());
  if (o["ok"].as_bool(false)) return json(o["value"]);
  const json& e = o["error"];
  std::string name(e["name"].as_string("Error"));
  std::string message(e["message"].as_string("unknown error"));
  return make_error(error_code::effect_failed, name + ": " + message);
}

driver_state driver::resume(std::string_view results_json) {
  std::vector<pending> batch;
  batch.swap(pending_);
  auto parsed = parse_json(results_json);
  const json* results = parsed ? parsed->find("results") : nullptr;
  bool well_formed = results && results->is_array() && results->size() == batch.size();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (well_formed) {
      *batch[i].out = parse_outcome(results->as_array()[i]);
    } else {
      *batch[i].out = make_error(error_code::protocol, "malformed effect results for a batch of " +
                                                           std::to_string(batch.size()) + " effects");
    }
  }
  // Resume in batch order; each may raise new effects into pending_ for the next batch.
  for (auto& p : batch) step(p.waiter);
  return settle();
}

}  // namespace pb
