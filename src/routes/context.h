// request_context: what one invocation knows besides its effects: the request (for fetch), the
// deployment's settings handed in by the shim, and the time it started. The driver owns it; handlers
// take it by reference (the one documented exception to "coroutine parameters by value").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "http/message.h"

namespace pb {

struct environment {
  bool test_hooks = false;  // PB_TEST_HOOKS=1: enables /__test/* routes (never in production)
  json vars;                // the Worker's string bindings: vars and secrets (ADMIN_TOKEN, ...)
};

enum class invocation_kind { fetch, scheduled };

struct request_context {
  invocation_kind kind = invocation_kind::fetch;
  http::request req;
  std::vector<std::string> params;  // the route's {placeholders}, percent-decoded, in order
  environment env;
  std::int64_t now_ms = 0;     // host clock at start (advances only across I/O in production)
  std::string cron;            // scheduled: the cron expression that fired
};

}  // namespace pb
