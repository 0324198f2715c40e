#include "host/metrics.h"

#include <cstdio>

#include "storage/hot_cache.h"

namespace pb::server {

namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void head(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void histogram::observe(double s) {
  std::size_t i = 0;
  while (i < bounds.size() && s > bounds[i]) ++i;
  ++counts_[i];
  ++total_;
  sum_ += s;
}

double histogram::quantile(double q) const {
  if (total_ == 0) return 0;
  double rank = q * static_cast<double>(total_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (static_cast<double>(seen + counts_[i]) >= rank && counts_[i] > 0) {
      double lo = i == 0 ? 0 : bounds[i - 1];
      double hi = i < bounds.size() ? bounds[i] : bounds.back();
      return lo + (hi - lo) * ((rank - static_cast<double>(seen)) / static_cast<double>(counts_[i]));
    }
    seen += counts_[i];
  }
  return bounds.back();
}

void histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
  std::uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{" + labels + sep + "le=\"" + num(bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(total_) + "\n";
  std::string l = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + l + " " + num(sum_) + "\n";
  out += name + "_count" + l + " " + std::to_string(total_) + "\n";
}

std::string render(const metrics& m, const std::map<std::string, pool_stats>& pools, const std::string& extra) {
  std::string out;
  head(out, "pb_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status.");
  for (const auto& [k, n] : m.requests)
    out += "pb_http_requests_total{route=\"" + escape(std::get<0>(k)) + "\",method=\"" + escape(std::get<1>(k)) +
           "\",status=\"" + std::to_string(std::get<2>(k)) + "\"} " + std::to_string(n) + "\n";
  head(out, "pb_http_requests_in_flight", "gauge", "Requests being answered now.");
  out += "pb_http_requests_in_flight " + std::to_string(m.in_flight) + "\n";
  head(out, "pb_http_request_duration_seconds", "histogram", "Time from the request's header to the response's last byte.");
  m.latency.write(out, "pb_http_request_duration_seconds", "");
  for (const auto& [route, h] : m.latency_by_route) h.write(out, "pb_http_request_duration_seconds", "route=\"" + escape(route) + "\"");
  head(out, "pb_http_request_duration_quantile_seconds", "gauge", "p50/p95/p99 estimated from the histogram since start.");
  for (double q : {0.5, 0.95, 0.99})
    out += "pb_http_request_duration_quantile_seconds{quantile=\"" + num(q) + "\"} " + num(m.latency.quantile(q)) + "\n";

  auto hot = storage::hot_cache::stats();
  head(out, "pb_hot_cache_requests_total", "counter", "Hot-cache lookups (tokens and p2 documents kept in memory), by result.");
  out += "pb_hot_cache_requests_total{kind=\"token\",result=\"hit\"} " + std::to_string(hot.token_hits) + "\n";
  out += "pb_hot_cache_requests_total{kind=\"token\",result=\"miss\"} " + std::to_string(hot.token_misses) + "\n";
  out += "pb_hot_cache_requests_total{kind=\"document\",result=\"hit\"} " + std::to_string(hot.document_hits) + "\n";
  out += "pb_hot_cache_requests_total{kind=\"document\",result=\"miss\"} " + std::to_string(hot.document_misses) + "\n";
  std::uint64_t hits = hot.token_hits + hot.document_hits, all = hits + hot.token_misses + hot.document_misses;
  head(out, "pb_hot_cache_hit_ratio", "gauge", "Share of hot-cache lookups answered from memory since start.");
  out += "pb_hot_cache_hit_ratio " + num(all ? static_cast<double>(hits) / static_cast<double>(all) : 0) + "\n";
  head(out, "pb_cache_requests_total", "counter", "Cache API store lookups (cache.match), by result.");
  out += "pb_cache_requests_total{result=\"hit\"} " + std::to_string(m.cache_hits) + "\n";
  out += "pb_cache_requests_total{result=\"miss\"} " + std::to_string(m.cache_misses) + "\n";

  head(out, "pb_db_pool_connections", "gauge", "Database connections by pool and state.");
  for (const auto& [name, p] : pools) {
    out += "pb_db_pool_connections{pool=\"" + name + "\",state=\"open\"} " + std::to_string(p.size) + "\n";
    out += "pb_db_pool_connections{pool=\"" + name + "\",state=\"busy\"} " + std::to_string(p.busy) + "\n";
  }
  head(out, "pb_db_pool_waiting", "gauge", "Effects waiting for a database connection.");
  for (const auto& [name, p] : pools) out += "pb_db_pool_waiting{pool=\"" + name + "\"} " + std::to_string(p.waiting) + "\n";
  head(out, "pb_db_pool_wait_seconds_total", "counter", "Time spent waiting for a database connection.");
  for (const auto& [name, p] : pools) out += "pb_db_pool_wait_seconds_total{pool=\"" + name + "\"} " + num(p.wait_seconds_total) + "\n";
  head(out, "pb_db_pool_acquired_total", "counter", "Database connections handed out.");
  for (const auto& [name, p] : pools) out += "pb_db_pool_acquired_total{pool=\"" + name + "\"} " + std::to_string(p.acquired) + "\n";
  head(out, "pb_db_queries_total", "counter", "d1.* effects run, by target database.");
  for (const auto& [t, n] : m.queries) out += "pb_db_queries_total{target=\"" + t + "\"} " + std::to_string(n) + "\n";
  head(out, "pb_db_replica_fresh", "gauge", "1 when the read replica is caught up and receives reads.");
  out += "pb_db_replica_fresh " + std::string(m.replica_fresh ? "1" : "0") + "\n";

  head(out, "pb_upstream_errors_total", "counter", "Outbound requests that failed or answered 5xx, by host.");
  for (const auto& [h, n] : m.upstream_errors) out += "pb_upstream_errors_total{host=\"" + escape(h) + "\"} " + std::to_string(n) + "\n";
  head(out, "pb_effect_errors_total", "counter", "Effects that failed, by op.");
  for (const auto& [op, n] : m.effect_errors) out += "pb_effect_errors_total{op=\"" + escape(op) + "\"} " + std::to_string(n) + "\n";
  head(out, "pb_invalidations_total", "counter", "Hot-cache invalidations broadcast to and received from other instances.");
  out += "pb_invalidations_total{direction=\"sent\"} " + std::to_string(m.invalidations_sent) + "\n";
  out += "pb_invalidations_total{direction=\"received\"} " + std::to_string(m.invalidations_received) + "\n";
  head(out, "pb_cron_runs_total", "counter", "Cron triggers this instance ran (it held the lease).");
  out += "pb_cron_runs_total " + std::to_string(m.cron_runs) + "\n";
  head(out, "pb_sync_queue_messages_total", "counter", "Sync queue messages: sent, delivered, retried, dropped.");
  for (const auto& [event, n] : {std::pair{"sent", m.queue_sent}, std::pair{"delivered", m.queue_delivered},
                                 std::pair{"retried", m.queue_retried}, std::pair{"dropped", m.queue_dropped}})
    out += std::string("pb_sync_queue_messages_total{event=\"") + event + "\"} " + std::to_string(n) + "\n";
  head(out, "pb_sync_queue_waiting", "gauge", "Sync queue messages waiting for their delivery.");
  out += "pb_sync_queue_waiting " + std::to_string(m.queue_waiting) + "\n";
  out += extra;
  return out;
}

}  // namespace pb::server
