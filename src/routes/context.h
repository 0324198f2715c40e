// request_context: what one invocation knows besides its effects: the request (for fetch), the
// instance's settings (core/settings.h, configured once per instance), and the time it started. The
// driver owns it; handlers take it by reference (the one documented exception to "coroutine
// parameters by value").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/settings.h"
#include "http/message.h"

namespace pb {

enum class invocation_kind { fetch, scheduled };

struct request_context {
  invocation_kind kind = invocation_kind::fetch;
  http::request req;
  std::vector<std::string> params;  // the route's {placeholders}, percent-decoded, in order
  // The instance's settings when the invocation started (a reconfigured instance does not change
  // them under a running invocation). Never null once the invocation runs.
  std::shared_ptr<const pb::settings> cfg;
  const pb::settings& settings() const { return *cfg; }
  std::int64_t now_ms = 0;     // host clock at start (advances only across I/O in production)
  std::string cron;            // scheduled: the cron expression that fired
  // For the shim's request log line (PROTOCOL.md "Finish"): the route pattern that answered, and where
  // the body came from ("hot" isolate cache, "d1", "edge" cache, "r2", "upstream"); static strings.
  std::string_view route;
  std::string_view cache;
};

}  // namespace pb
