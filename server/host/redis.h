// A Redis client on the event loop: one connection over Boost.Asio (plain TCP for redis://, TLS for
// rediss://, verified against the system's CAs or PB_CACHE_CA_FILE), RESP written and read with
// hiredis's formatter and reply reader, awaitable commands answered in order, a subscriber mode for
// pub/sub, and reconnects with backoff. PB_CACHE_URL=redis[s]://[[user]:password@]host[:port][/db].
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl.hpp>

#include "host/async.h"

namespace pb::server {

struct redis_reply {
  int type = 0;  // REDIS_REPLY_* (hiredis)
  std::string str;
  long long integer = 0;
  std::vector<redis_reply> elements;
  bool is_nil() const;
};

// A parsed PB_CACHE_URL. Throws runners::failure("TypeError", ...) for anything else; the message never
// carries the password.
struct redis_url {
  bool tls = false;  // rediss://
  std::string host;  // a name, an IPv4 address, or an IPv6 address without its brackets
  int port = 6379;
  int db = 0;
  std::string user, password;  // percent-decoded; a user without a password is refused
  std::string redacted() const;  // redis[s]://host:port/db
};
[[nodiscard]] redis_url parse_redis_url(std::string_view url);
// Whether `url` names Redis (redis:// or rediss://), as opposed to memory:.
[[nodiscard]] bool is_redis_url(std::string_view url);

class redis_client {
 public:
  // on_message: set for a subscriber connection (it SUBSCRIBEs to `channel` on every (re)connect);
  // on_reconnect: called after a connection came back (a subscriber missed messages meanwhile).
  // ca_file: PEM certificates trusted for rediss:// instead of the system's (PB_CACHE_CA_FILE).
  redis_client(asio::io_context& io, std::string url, std::string ca_file = {}, std::string channel = {},
               std::function<void(const std::string&)> on_message = {}, std::function<void()> on_reconnect = {});
  ~redis_client();
  void start();
  void stop();
  bool connected() const { return connected_; }
  // Throws runners::failure("Error", ...) when Redis is unreachable or answers an error.
  awaitable<redis_reply> command(std::vector<std::string> args);
  std::string redacted() const { return url_.redacted(); }

  struct connection;
  struct pending;

 private:
  awaitable<void> run();
  awaitable<void> session(std::shared_ptr<connection> c);
  static awaitable<void> write_out(std::shared_ptr<connection> c);
  void report(const std::string& error);

  asio::io_context& io_;
  redis_url url_;
  std::string channel_;
  std::function<void(const std::string&)> on_message_;
  std::function<void()> on_reconnect_;
  std::optional<asio::ssl::context> tls_;
  std::shared_ptr<connection> conn_;
  std::deque<std::shared_ptr<pending>> waiting_;  // commands sent, in order, whose replies are due
  bool connected_ = false, stopping_ = false, started_ = false, ever_connected_ = false;
  std::string last_error_;  // logged once per change, not on every retry
  asio::steady_timer retry_;
};

}  // namespace pb::server
