// The self-hosted server's sync queue (queue.send; bindings/PROTOCOL.md "The sync queue"): messages live
// in this process's memory, each waits on a timer of the event loop for its delay and is then delivered
// to the core's queue entry in a "queue" invocation of its own (one message per invocation, as the
// Worker's consumer is configured). A message the finish document hands back ({"retry":[...]}) comes
// again after that delay with attempts + 1, at most max_retries times, as on Cloudflare Queues; then it
// is dropped and the cron trigger carries the sync on from its cursor in the database. A message lost
// with the process (a crash, a restart) is the same case: the queue only shortens the wait.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/json.h"
#include "host/async.h"

namespace pb::server {

// What becomes of a delivered message (id, its attempts so far) given its invocation's finish document:
// acknowledged; delivered again after delay_s (the core handed it back); or dropped (handed back, but
// its retries are used up).
struct redelivery {
  enum kind { acknowledged, again, dropped } what = acknowledged;
  std::int64_t delay_s = 0;
};
redelivery after_delivery(const json& finish, const std::string& id, std::int64_t attempts);

struct services;
class http_server;

class sync_queue {
 public:
  static constexpr int max_retries = 3;                 // wrangler.toml's consumer: max_retries = 3
  static constexpr std::int64_t max_delay_s = 43'200;   // Queues' longest delay (12 h)
  static constexpr std::size_t max_waiting = 10'000;    // beyond: queue.send fails and cron continues

  sync_queue(services& s, http_server& server);
  // Takes a message for delivery no sooner than delay_s seconds from now (runners::failure when the
  // delay is out of range, the queue is full or stopped).
  void send(json body, std::int64_t delay_s);
  // Stops delivering: the waiting messages are dropped (cron carries their syncs on); a delivery under
  // way finishes (the server's drain waits for it). Returns how many were dropped.
  std::size_t stop();
  std::size_t waiting() const { return timers_.size(); }

 private:
  struct message {
    std::string id;
    json body;
    std::int64_t attempts = 1;
  };
  void schedule(message m, std::int64_t delay_ms);
  awaitable<void> deliver(message m);

  services& s_;
  http_server& server_;
  std::map<std::uint64_t, std::shared_ptr<asio::steady_timer>> timers_;
  std::uint64_t next_timer_ = 0, next_id_ = 0;
  bool stopping_ = false;
};

}  // namespace pb::server
