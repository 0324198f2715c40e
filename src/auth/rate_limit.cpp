#include "auth/rate_limit.h"

#include <algorithm>
#include <unordered_map>

#include "core/bounded_map.h"

namespace pb::auth {

namespace {

constexpr std::int64_t window_ms = 60'000;
constexpr std::size_t max_tokens = 16384;  // ~16 bytes each: well within the isolate's memory

struct window {
  std::int64_t start_ms = 0;
  std::int64_t count = 0;
};

std::unordered_map<std::int64_t, window>& windows() {
  static std::unordered_map<std::int64_t, window> m;
  return m;
}

}  // namespace

rate_decision take(std::int64_t token_id, std::int64_t limit, std::int64_t now_ms) {
  rate_decision d;
  if (limit <= 0) return d;
  std::int64_t start = now_ms - ((now_ms % window_ms) + window_ms) % window_ms;
  auto& m = windows();
  auto it = m.find(token_id);
  if (it == m.end()) {
    make_room(m, max_tokens, [&](const window& w) { return w.start_ms != start; });
    it = m.emplace(token_id, window{start, 0}).first;
  }
  if (it->second.start_ms != start) it->second = window{start, 0};
  d.limit = limit;
  d.reset_s = (start + window_ms) / 1000;
  if (it->second.count >= limit) {
    d.allowed = false;
    d.remaining = 0;
    d.retry_after_s = std::max<std::int64_t>(1, (start + window_ms - now_ms + 999) / 1000);
    return d;
  }
  ++it->second.count;
  d.remaining = limit - it->second.count;
  return d;
}

void reset_rate_limits() { windows().clear(); }

}  // namespace pb::auth
