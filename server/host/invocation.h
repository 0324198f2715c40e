// One invocation of the core on the server: the same ABI the Worker's shim drives (pb_start, then each
// effect batch performed concurrently and handed back with pb_resume) with the effects run on the
// server's services. Several invocations are in flight at once on the one event loop. The response
// leaves through `on_response` as soon as the core has it (http.respond or the finish document); the
// invocation may go on afterwards (waitUntil on the Worker).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "host/async.h"
#include "host/config.h"
#include "host/curl_engine.h"
#include "host/metrics.h"
#include "host/redis.h"
#include "host/sql_service.h"
#include "host/stores.h"
#include "host/streams.h"

namespace pb::server {

class sync_queue;

struct services {
  asio::io_context& io;
  asio::thread_pool& blocking;
  const host_config& config;
  metrics& stats;
  sql_service& sql;
  blob_store& blobs;
  kv_store& kv;
  cache_store& cache;
  curl_engine& http;
  redis_client* redis = nullptr;  // set with PB_CACHE_URL=redis://: invalidations are published
  sync_queue* queue = nullptr;    // queue.send (host/sync_queue.h); set once the server runs
};

struct core_response {
  int status = 500;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;     // in-memory body
  source_ptr stream;    // or a body handle's stream
  // For the request log only (PROTOCOL.md "Response"): where the body came from, and what failed.
  std::string cache, detail;
};

class invocation : public std::enable_shared_from_this<invocation> {
 public:
  invocation(services& s, json start_doc, source_ptr request_body, bool replica_ok);
  // Runs the invocation to its end. on_response gets the response once (never for scheduled runs).
  awaitable<void> run(std::function<void(core_response)> on_response);
  int effects_run() const { return effects_; }
  // The finish document, once run() returned (a queue invocation's {"retry":[...]}).
  const json& finish_document() const { return finish_; }

 private:
  awaitable<json> perform(const json& effect);
  awaitable<json> perform_storage(const std::string& op, const json& e);
  core_response response_from(const json& r, const char* raw_body, std::size_t raw_len);

  services& s_;
  json start_;
  handle_table handles_;
  bool replica_ok_, wrote_ = false, responded_ = false;
  int effects_ = 0;
  std::function<void(core_response)> on_response_;
  json finish_;
};

// The start document for an HTTP request (PROTOCOL.md "Start").
json fetch_start_document(const std::string& method, const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers, bool has_body);
json scheduled_start_document(const std::string& cron);
// A "queue" invocation's start document: messages [{"id","body","attempts"}].
json queue_start_document(json messages);

}  // namespace pb::server
