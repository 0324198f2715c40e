// The HTTP/1.1 server (Boost.Beast on the event loop): keep-alive, request bodies streamed into the
// core as body handle 0, responses streamed from body handles, timeouts for idle connections, slow
// headers and stalled bodies, a JSON log line per request, /metrics, the web UI's files (static_files.h)
// before the core as Workers static assets are before the Worker, and a graceful stop: on SIGTERM
// it stops accepting, closes idle connections, lets in-flight requests (and the work they continue
// after responding) finish, then returns.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "host/async.h"
#include "host/invocation.h"
#include "host/static_files.h"

namespace pb::server {

class http_server {
 public:
  http_server(services& s, std::function<std::string()> scrape_extra);
  // Binds PB_LISTEN (throws on failure) and starts accepting.
  void start();
  unsigned short port() const { return port_; }
  // Stops accepting and closes idle connections; `drained` is set once no request or invocation runs.
  void stop_accepting();
  event& drained() { return drained_; }
  // Invocations outside requests (cron) count as in-flight work too.
  void track(int delta);
  std::size_t in_flight() const { return work_; }

  struct connection;

 private:
  awaitable<void> accept_loop();
  awaitable<void> session(std::shared_ptr<connection> c);
  std::string origin_of(const std::string& host, const std::string& forwarded_proto, const std::string& forwarded_host) const;

  services& s_;
  std::function<std::string()> scrape_extra_;
  static_files ui_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  bool stopping_ = false;
  std::set<std::shared_ptr<connection>> idle_;
  std::size_t work_ = 0;
  event drained_;
};

}  // namespace pb::server
