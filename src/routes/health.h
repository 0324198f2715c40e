// GET /health: public liveness and readiness for load balancers and uptime checks. Reads D1, KV and R2
// concurrently (read-only, so frequent probes cost no writes) and answers 200 "ok" or 503 "degraded".
#pragma once

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> health(request_context& ctx);

}  // namespace pb::routes
