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

enum class invocation_kind { fetch, scheduled, queue };

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
  json messages;               // queue: [{"id","body","attempts"}] (PROTOCOL.md, "Start")

  // Who made the request, for the audit log: "admin:3", "token:12"; empty = anonymous.
  std::string actor;
  std::string actor_name;
  std::string admin_role;  // an admin caller's role ("owner", "maintainer", "viewer")
  std::int64_t admin_id = 0;
  std::int64_t session_id = 0;  // the console session the admin came with, if any
  // The caller's rate limit for this minute (limit 0: none, no X-RateLimit-* headers).
  std::int64_t rate_limit = 0, rate_remaining = 0, rate_reset_s = 0;
  // What an admin change did, filled by its handler; routes.cpp writes the audit entry when the change
  // succeeded. No secrets here: the objects are the admin API's own views.
  std::string audit_target;
  json audit_before, audit_after;
  // For the shim's request log line (PROTOCOL.md "Finish"): the route pattern that answered, and where
  // the body came from ("hot" isolate cache, "d1", "edge" cache, "r2", "upstream"); static strings.
  std::string_view route;
  std::string_view cache;
};

}  // namespace pb
