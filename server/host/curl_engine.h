// Outbound HTTP on libcurl's multi interface, driven by the event loop (curl tells which sockets to
// watch and when to time out; Asio waits). Used by the fetch effect and the S3 store. A response is
// handed back once its header is in; its body streams as a body_source with backpressure (a transfer
// whose reader falls behind is paused).
#pragma once

#include <curl/curl.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/async.h"
#include "host/streams.h"

namespace pb::server {

struct outbound_request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool has_body = false;
  std::int64_t timeout_ms = 30000;  // the whole transfer, body included (AbortSignal.timeout on the Worker)
  bool follow_redirects = false;
  bool decode = true;               // Content-Encoding is decoded (fetch does it)
};

struct outbound_response {
  int status = 0;
  std::string url;  // final URL
  std::vector<std::pair<std::string, std::string>> headers;
  source_ptr body;  // streams; length set from Content-Length when the body is not encoded
  std::string header(const std::string& lower_name) const;
};

class curl_engine {
 public:
  explicit curl_engine(asio::io_context& io);
  ~curl_engine();
  curl_engine(const curl_engine&) = delete;
  curl_engine& operator=(const curl_engine&) = delete;

  // Throws runners::failure("TypeError", "fetch failed: ...") when no response arrives.
  awaitable<outbound_response> perform(outbound_request req);
  asio::any_io_executor executor() { return io_.get_executor(); }

  struct transfer;
  struct watched;

 private:
  static int on_socket(CURL* e, curl_socket_t s, int what, void* self, void* sockp);
  static int on_timer(CURLM* m, long timeout_ms, void* self);
  void watch(curl_socket_t s, int what);
  void arm(const std::shared_ptr<watched>& w, bool read);
  void act(curl_socket_t s, int flags);
  void check_done();

  asio::io_context& io_;
  CURLM* multi_;
  asio::steady_timer timer_;
  std::map<curl_socket_t, std::shared_ptr<watched>> sockets_;
  std::map<CURL*, std::shared_ptr<transfer>> transfers_;
};

}  // namespace pb::server
