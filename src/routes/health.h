// GET /health: liveness and readiness for load balancers and uptime checks. 200 "ok" or 503 "degraded"
// when D1, KV or R2 is unreachable, the database schema is older than the code's, the cron trigger has
// missed two intervals, or ADMIN_TOKEN / PB_ENCRYPTION_KEY is missing. Anonymous callers get status words
// only; the admin token adds the messages. Its storage probe is read-only and kept 10 s per isolate.
#pragma once

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> health(request_context& ctx);

}  // namespace pb::routes
