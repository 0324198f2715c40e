// Makes std::coroutine_handle and friends available on both toolchains: libstdc++ 12 (native) has
// <coroutine>; Emscripten 3.1.6 ships libc++ 13, which only has <experimental/coroutine>.
#pragma once

#if __has_include(<coroutine>) && !defined(__EMSCRIPTEN__)
#include <coroutine>
#else
#include <experimental/coroutine>
namespace std {
using std::experimental::coroutine_handle;
using std::experimental::coroutine_traits;
using std::experimental::noop_coroutine;
using std::experimental::noop_coroutine_handle;
using std::experimental::suspend_always;
using std::experimental::suspend_never;
}  // namespace std
#endif
