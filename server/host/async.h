// Small async tools for the server's single event loop (Boost.Asio C++20 coroutines): `oneshot<T>`, a
// value one coroutine waits for and another sets; `event`, a flag waiters wake on; `offload`, which
// runs blocking work (SQLite, fsync) on a thread pool and resumes the coroutine on the loop. Everything
// except the body of `offload` runs on the loop thread, so nothing here locks.
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace pb::server {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// Waiters park on a timer that never expires by itself; notify cancels it.
class event {
 public:
  explicit event(asio::any_io_executor ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
  void notify() { timer_.cancel(); }
  // Returns at the next notify() (or at once if one happened since the last reset()).
  awaitable<void> wait() {
    if (fired_) co_return;
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  void set() {
    fired_ = true;
    notify();
  }
  bool is_set() const { return fired_; }

 private:
  asio::steady_timer timer_;
  bool fired_ = false;
};

template <class T>
class oneshot {
 public:
  explicit oneshot(asio::any_io_executor ex) : ready_(ex) {}
  void set(T v) {
    if (value_) return;
    value_.emplace(std::move(v));
    ready_.set();
  }
  bool has_value() const { return value_.has_value(); }
  awaitable<T> get() {
    while (!value_) co_await ready_.wait();
    co_return std::move(*value_);
  }

 private:
  event ready_;
  std::optional<T> value_;
};

// Runs fn() on `pool`; the awaiting coroutine resumes on its own executor with the result (or the
// exception fn threw).
template <class F>
auto offload(asio::thread_pool& pool, F fn) {
  using R = std::invoke_result_t<F>;
  return asio::async_initiate<decltype(use_awaitable), void(std::exception_ptr, R)>(
      [&pool](auto handler, F f) {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        asio::post(pool, [handler = std::move(handler), f = std::move(f), work = std::move(work)]() mutable {
          std::exception_ptr error;
          R result{};
          try {
            result = f();
          } catch (...) {
            error = std::current_exception();
          }
          auto ex = asio::get_associated_executor(handler);
          asio::dispatch(ex, [handler = std::move(handler), error, result = std::move(result)]() mutable {
            handler(error, std::move(result));
          });
        });
      },
      use_awaitable, std::move(fn));
}

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace pb::server
