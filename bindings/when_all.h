// when_all: run several tasks so that their effects are in flight together. The driver hands every
// effect raised before all children suspend to the host as one batch, which the host performs
// concurrently (a Worker has 6 connections; latency is what users feel).
// Children must return values (not task<void>); results come back in argument order.
#pragma once

#include <cstddef>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "task.h"

namespace pb {
namespace detail {

struct when_all_state {
  std::size_t remaining = 0;
  std::coroutine_handle<> parent{};
};

// A child frame: started by when_all, suspended at its end until when_all destroys it.
struct when_all_child {
  struct promise_type {
    when_all_state* state = nullptr;
    when_all_child get_return_object() noexcept {
      return when_all_child{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    auto final_suspend() const noexcept {
      struct last_one_resumes_parent {
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<promise_type> self) noexcept {
          when_all_state* s = self.promise().state;
          if (--s->remaining == 0) transfer(s->parent);
        }
        void await_resume() const noexcept {}
      };
      return last_one_resumes_parent{};
    }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::abort(); }
  };
  std::coroutine_handle<promise_type> h;

  explicit when_all_child(std::coroutine_handle<promise_type> handle) : h(handle) {}
  when_all_child(when_all_child&& o) noexcept : h(std::exchange(o.h, {})) {}
  when_all_child(const when_all_child&) = delete;
  ~when_all_child() {
    if (h) h.destroy();
  }
};

template <class T>
when_all_child run_child(task<T> t, std::optional<T>* slot) {
  slot->emplace(co_await t);
}

// Starts every child, then suspends the parent until the last one finishes. `remaining` starts one
// higher than the child count so no child can resume the parent before await_suspend has returned.
struct when_all_awaiter {
  std::vector<when_all_child>* children;
  when_all_state state{};

  bool await_ready() const noexcept { return children->empty(); }
  bool await_suspend(std::coroutine_handle<> parent) noexcept {
    state.parent = parent;
    state.remaining = children->size() + 1;
    for (auto& c : *children) {
      c.h.promise().state = &state;
      resume_now(c.h);  // each child runs until it waits on an effect, in argument order
    }
    return --state.remaining != 0;
  }
  void await_resume() const noexcept {}
};

}  // namespace detail

template <class T>
task<std::vector<T>> when_all(std::vector<task<T>> tasks) {
  std::vector<std::optional<T>> slots(tasks.size());
  std::vector<detail::when_all_child> children;
  children.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) children.push_back(detail::run_child(std::move(tasks[i]), &slots[i]));
  co_await detail::when_all_awaiter{&children};
  std::vector<T> out;
  out.reserve(slots.size());
  for (auto& s : slots) out.push_back(std::move(*s));
  co_return out;
}

template <class... T>
task<std::tuple<T...>> when_all(task<T>... tasks) {
  std::tuple<std::optional<T>...> slots;
  std::vector<detail::when_all_child> children;
  children.reserve(sizeof...(T));
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (children.push_back(detail::run_child(std::move(tasks), &std::get<I>(slots))), ...);
  }(std::index_sequence_for<T...>{});
  co_await detail::when_all_awaiter{&children};
  co_return std::apply([](auto&... s) { return std::tuple<T...>(std::move(*s)...); }, slots);
}

}  // namespace pb
