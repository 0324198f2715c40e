// /metrics in Prometheus' text format (version 0.0.4): requests by route and status, a latency
// histogram (plus p50/p95/p99 estimated from it), the hot cache's and the Cache API store's hit rates,
// database pool use and wait time, queries by target (primary/replica), upstream errors, and the sync
// lag read from the database at scrape time. Updated on the event loop only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

namespace pb::server {

class histogram {
 public:
  static constexpr std::array<double, 14> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,    0.25,  0.5,    1,     2.5,  5,    10};
  void observe(double seconds);
  // Linear interpolation inside the bucket holding the q-quantile (what histogram_quantile does).
  double quantile(double q) const;
  void write(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<std::uint64_t, bounds.size() + 1> counts_{};
  std::uint64_t total_ = 0;
  double sum_ = 0;
};

struct pool_stats {
  int size = 0, busy = 0, waiting = 0;
  std::uint64_t acquired = 0;
  double wait_seconds_total = 0;
};

struct metrics {
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests;  // (route, method, status)
  histogram latency;
  std::map<std::string, histogram> latency_by_route;
  std::uint64_t in_flight = 0;
  std::uint64_t cache_hits = 0, cache_misses = 0;          // Cache API store (cache.match)
  std::map<std::string, std::uint64_t> queries;            // by target: primary, replica, sqlite
  std::map<std::string, std::uint64_t> upstream_errors;    // fetch failures and 5xx, by host
  std::map<std::string, std::uint64_t> effect_errors;      // failed effects, by op
  std::uint64_t invalidations_sent = 0, invalidations_received = 0;
  std::uint64_t cron_runs = 0;
  // The sync queue (host/sync_queue.h): messages sent, delivered, handed back for a retry, dropped
  // (retries used up, or waiting at shutdown), and waiting now.
  std::uint64_t queue_sent = 0, queue_delivered = 0, queue_retried = 0, queue_dropped = 0;
  std::size_t queue_waiting = 0;
  std::int64_t cron_last_ms = 0;
  bool replica_fresh = false;
};

// The exposition text; extra is appended as is (gauges read at scrape time).
std::string render(const metrics& m, const std::map<std::string, pool_stats>& pools, const std::string& extra);

}  // namespace pb::server
