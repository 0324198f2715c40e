// task<T>: the lazy coroutine type every handler returns. It starts when awaited and hands control back
// to its awaiter by symmetric transfer (on wasm this needs -mtail-call), so long await chains do not
// grow the stack. T must be movable; task<void> exists for coroutines with no value.
// when_all lives in when_all.h; effects (what a task waits on) in effect.h.
#pragma once

#include <cstdlib>
#include <optional>
#include <utility>

#include "coro_compat.h"

namespace pb {

template <class T = void>
class task;

namespace detail {

struct task_final_awaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
    auto next = h.promise().continuation;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct task_promise_base {
  std::coroutine_handle<> continuation{};
  std::suspend_always initial_suspend() const noexcept { return {}; }
  task_final_awaiter final_suspend() const noexcept { return {}; }
  // Built with -fno-exceptions: nothing can be thrown, but the promise must still name the hook.
  void unhandled_exception() const noexcept { std::abort(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
 public:
  struct promise_type : detail::task_promise_base {
    std::optional<T> value;
    task get_return_object() noexcept { return task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    template <class U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
  };
  using handle_type = std::coroutine_handle<promise_type>;

  task() = default;
  explicit task(handle_type h) : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return !h_ || h_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    return h_;
  }
  T await_resume() { return std::move(*h_.promise().value); }

  // For drivers that start a task by hand rather than awaiting it.
  handle_type handle() const noexcept { return h_; }
  bool done() const noexcept { return !h_ || h_.done(); }
  T take() { return std::move(*h_.promise().value); }

 private:
  handle_type h_{};
};

template <>
class [[nodiscard]] task<void> {
 public:
  struct promise_type : detail::task_promise_base {
    task get_return_object() noexcept { return task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    void return_void() const noexcept {}
  };
  using handle_type = std::coroutine_handle<promise_type>;

  task() = default;
  explicit task(handle_type h) : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return !h_ || h_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    return h_;
  }
  void await_resume() const noexcept {}

  handle_type handle() const noexcept { return h_; }
  bool done() const noexcept { return !h_ || h_.done(); }

 private:
  handle_type h_{};
};

}  // namespace pb
