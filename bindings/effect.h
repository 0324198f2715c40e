// The effect awaitable: how C++ asks the host to do I/O. `co_await raw_effect{json}` records the effect
// (a JSON object with an "op") on the driver running the current request, suspends, and resumes with the
// host's outcome: the result value, or an error value when the host's runner threw.
// Typed wrappers for each op (d1, kv, r2, fetch, crypto, ...) live in effects.h.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "core/json.h"
#include "core/result.h"
#include "task.h"

namespace pb {

// What the host answered for one effect: a JSON value or an error (error_code::effect_failed with the
// JS error's name and message, or error_code::protocol when the reply was malformed).
using effect_outcome = result<json>;

// Receives effects from awaiting coroutines. Implemented by driver (driver.h); an interface so the
// awaitable does not depend on the driver.
class effect_sink {
 public:
  virtual void enqueue(std::string effect_json, effect_outcome* out, std::coroutine_handle<> waiter) = 0;
  // How many more subrequests this invocation may raise before the driver refuses them.
  virtual std::int64_t subrequests_left() const = 0;

 protected:
  ~effect_sink() = default;
};

// The sink of the request being stepped right now (set by the driver around every resume).
effect_sink*& current_effect_sink();

struct raw_effect {
  std::string effect_json;  // {"op":"...", ...}
  effect_outcome out = make_error(error_code::protocol, "effect not answered");

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    effect_sink* sink = current_effect_sink();
    if (!sink) std::abort();  // awaiting an effect outside a driver is a bug
    sink->enqueue(std::move(effect_json), &out, h);
  }
  effect_outcome await_resume() { return std::move(out); }
};

}  // namespace pb
