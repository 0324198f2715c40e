// A Redis client on the event loop: hiredis's async API (Debian's hiredis has no Asio adapter, so the
// few hooks it needs are here), awaitable commands, a subscriber connection for pub/sub, and reconnects
// with backoff. PB_CACHE_URL=redis://[:password@]host:port[/db].
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/async.h"

struct redisAsyncContext;

namespace pb::server {

struct redis_reply {
  int type = 0;  // REDIS_REPLY_* (hiredis)
  std::string str;
  long long integer = 0;
  std::vector<redis_reply> elements;
  bool is_nil() const;
};

class redis_client {
 public:
  // on_message: set for a subscriber connection (it SUBSCRIBEs to `channel` on every (re)connect);
  // on_reconnect: called after a connection came back (a subscriber missed messages meanwhile).
  redis_client(asio::io_context& io, std::string url, std::string channel = {},
               std::function<void(const std::string&)> on_message = {}, std::function<void()> on_reconnect = {});
  ~redis_client();
  void start();
  void stop();
  bool connected() const { return connected_; }
  // Throws runners::failure("Error", ...) when Redis is unreachable or answers an error.
  awaitable<redis_reply> command(std::vector<std::string> args);
  const std::string& redacted() const { return redacted_; }

  struct adapter;
  struct pending;

 private:
  void connect();
  void schedule_reconnect();
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);

  asio::io_context& io_;
  std::string host_, password_, redacted_, channel_;
  int port_ = 6379, db_ = 0;
  std::function<void(const std::string&)> on_message_;
  std::function<void()> on_reconnect_;
  redisAsyncContext* ac_ = nullptr;
  bool connected_ = false, stopping_ = false, ever_connected_ = false;
  asio::steady_timer retry_;
};

}  // namespace pb::server
