// Per-token rate limits, counted in the isolate's memory: a fixed window per calendar minute (UTC), so
// every isolate agrees on when a window resets. No storage write per request (KV allows one write per
// second per key; D1 writes cost time on every request). The price: each isolate counts on its own,
// so a client spread over N isolates may make up to N times the limit (docs/ADMIN.md).
#pragma once

#include <cstdint>

namespace pb::auth {

struct rate_decision {
  bool allowed = true;
  std::int64_t limit = 0;       // requests per minute; 0 = unlimited (no headers)
  std::int64_t remaining = 0;
  std::int64_t reset_s = 0;     // unix seconds when the window ends
  std::int64_t retry_after_s = 0;
};

// Counts one request of token_id against limit_per_minute (0 = unlimited) at now_ms.
rate_decision take(std::int64_t token_id, std::int64_t limit_per_minute, std::int64_t now_ms);

// Forgets every count (tests).
void reset_rate_limits();

}  // namespace pb::auth
