// task<T>: the lazy coroutine type every handler returns. It starts when awaited. Control passes between
// coroutines through a trampoline (detail::transfer), not by symmetric transfer: a coroutine that hands
// over pushes the next one and suspends, and the loop running the stack resumes it. So no chain of
// awaits, however long, grows the stack, whether or not the compiler turns symmetric transfer into a
// tail call (Emscripten 3.1.6's LLVM 14 emits the wasm tail call without popping the caller's shadow
// stack frame, which overflowed after ~100,000 synchronously completing awaits).
// when_all lives in when_all.h; effects (what a task waits on) in effect.h.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

#include "coro_compat.h"

namespace pb {

template <class T = void>
class task;

namespace detail {

// The coroutines that are ready to run, innermost last. Each resume_now loop runs the entries above the
// size it started at, last in first out, so control goes where symmetric transfer would take it: into
// an awaited task, and back to its awaiter when it finishes.
struct trampoline {
  std::vector<std::coroutine_handle<>> ready;
  int loops = 0;  // resume_now loops on the stack
};

inline trampoline& ready_coroutines() {
  static trampoline t;
  return t;
}

// Resumes h, and everything that runs on from it without waiting for an effect, before returning.
inline void resume_now(std::coroutine_handle<> h) {
  trampoline& t = ready_coroutines();
  const std::size_t base = t.ready.size();
  ++t.loops;
  t.ready.push_back(h);
  while (t.ready.size() > base) {
    std::coroutine_handle<> next = t.ready.back();
    t.ready.pop_back();
    next.resume();
  }
  --t.loops;
}

// Hands control to h from a coroutine that has just suspended: the running loop picks it up; with no
// loop on the stack (a task resumed by hand) a new one runs it. The caller must not touch its own
// frame afterwards: h may destroy it.
inline void transfer(std::coroutine_handle<> h) {
  trampoline& t = ready_coroutines();
  if (t.loops > 0) {
    t.ready.push_back(h);
  } else {
    resume_now(h);
  }
}

struct task_final_awaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    std::coroutine_handle<> next = h.promise().continuation;
    if (next) transfer(next);
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
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    detail::transfer(h_);
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
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    detail::transfer(h_);
  }
  void await_resume() const noexcept {}

  handle_type handle() const noexcept { return h_; }
  bool done() const noexcept { return !h_ || h_.done(); }

 private:
  handle_type h_{};
};

}  // namespace pb
