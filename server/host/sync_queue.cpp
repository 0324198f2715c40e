#include "host/sync_queue.h"

#include <algorithm>

#include "host/http_server.h"
#include "host/invocation.h"
#include "runners/failure.h"

namespace pb::server {

redelivery after_delivery(const json& finish, const std::string& id, std::int64_t attempts) {
  for (const auto& r : finish["retry"].as_array()) {
    if (r["id"].as_string() != id) continue;
    if (attempts > sync_queue::max_retries) return {redelivery::dropped, 0};
    return {redelivery::again, std::clamp<std::int64_t>(r["delay_s"].as_int(0), 0, sync_queue::max_delay_s)};
  }
  return {};
}

sync_queue::sync_queue(services& s, http_server& server) : s_(s), server_(server) {}

void sync_queue::send(json body, std::int64_t delay_s) {
  if (delay_s < 0 || delay_s > max_delay_s)
    runners::fail("RangeError", "delay_s must be between 0 and " + std::to_string(max_delay_s));
  if (stopping_) runners::fail("Error", "the server is stopping; the sync queue takes no more messages");
  if (timers_.size() >= max_waiting) runners::fail("Error", "the sync queue is full");
  ++s_.stats.queue_sent;
  schedule({"m" + std::to_string(++next_id_), std::move(body), 1}, delay_s * 1000);
}

void sync_queue::schedule(message m, std::int64_t delay_ms) {
  auto timer = std::make_shared<asio::steady_timer>(s_.io);
  timer->expires_after(std::chrono::milliseconds(delay_ms));
  std::uint64_t key = ++next_timer_;
  timers_.emplace(key, timer);
  s_.stats.queue_waiting = timers_.size();
  timer->async_wait([this, key, timer, m = std::move(m)](boost::system::error_code ec) mutable {
    timers_.erase(key);
    s_.stats.queue_waiting = timers_.size();
    if (ec || stopping_) return;
    asio::co_spawn(s_.io, deliver(std::move(m)), asio::detached);
  });
}

awaitable<void> sync_queue::deliver(message m) {
  server_.track(1);  // a SIGTERM lets the delivery finish, as it lets requests finish
  ++s_.stats.queue_delivered;
  json msg = json::object();
  msg.set("id", json(m.id));
  msg.set("body", m.body);
  msg.set("attempts", json(m.attempts));
  auto inv = std::make_shared<invocation>(s_, queue_start_document(json(json_array{std::move(msg)})), nullptr, false);
  json finish = json::object();
  try {
    co_await inv->run({});
    finish = inv->finish_document();
  } catch (...) {
    // The host failed under the invocation: the message comes back, as a batch whose consumer threw.
    json again = json::object();
    again.set("id", json(m.id));
    again.set("delay_s", json(10 * m.attempts));
    finish.set("retry", json(json_array{std::move(again)}));
  }
  server_.track(-1);
  redelivery next = after_delivery(finish, m.id, m.attempts);
  if (next.what == redelivery::dropped || (next.what == redelivery::again && stopping_)) {
    ++s_.stats.queue_dropped;  // Queues gives up here too; the cron trigger continues from the cursor
  } else if (next.what == redelivery::again) {
    ++s_.stats.queue_retried;
    schedule({m.id, m.body, m.attempts + 1}, next.delay_s * 1000);
  }
}

std::size_t sync_queue::stop() {
  stopping_ = true;
  std::size_t dropped = timers_.size();
  auto timers = std::move(timers_);
  timers_.clear();
  for (auto& [key, t] : timers) t->cancel();
  s_.stats.queue_dropped += dropped;
  s_.stats.queue_waiting = 0;
  return dropped;
}

}  // namespace pb::server
