// result<T>: the product's expected-style return type, and `error`, the one error shape every layer uses.
// An error carries a code from the closed enum below, a message that quotes the bad input, and the HTTP
// status a route should answer with. No exceptions anywhere (-fno-exceptions on both builds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pb {

// Closed list of error codes. The string form (error_code_name) is what clients see in
// {"error":{"code":..,"message":..}}; keep names stable.
enum class error_code : std::uint8_t {
  bad_request,       // malformed input from a client (400)
  unauthorized,      // missing or invalid credentials (401)
  forbidden,         // authenticated but not allowed (403; never on composer metadata paths)
  not_found,         // no such route or resource (404)
  method_not_allowed,// route exists, method does not (405)
  conflict,          // would overwrite something immutable (409)
  payload_too_large, // body over the limit (413)
  unprocessable,     // well-formed but semantically invalid (422)
  rate_limited,      // too many requests (429)
  internal,          // a bug or an invariant broken (500)
  upstream,          // an upstream or a binding answered wrongly (502)
  unavailable,       // a dependency is down (503)
  effect_failed,     // a host effect (D1, KV, R2, fetch, crypto) threw in JS; status 503
  protocol,          // the C++/JS wire format was violated (500)
};

constexpr std::string_view error_code_name(error_code c) {
  switch (c) {
    case error_code::bad_request: return "bad_request";
    case error_code::unauthorized: return "unauthorized";
    case error_code::forbidden: return "forbidden";
    case error_code::not_found: return "not_found";
    case error_code::method_not_allowed: return "method_not_allowed";
    case error_code::conflict: return "conflict";
    case error_code::payload_too_large: return "payload_too_large";
    case error_code::unprocessable: return "unprocessable";
    case error_code::rate_limited: return "rate_limited";
    case error_code::internal: return "internal";
    case error_code::upstream: return "upstream";
    case error_code::unavailable: return "unavailable";
    case error_code::effect_failed: return "effect_failed";
    case error_code::protocol: return "protocol";
  }
  return "internal";
}

constexpr int default_status(error_code c) {
  switch (c) {
    case error_code::bad_request: return 400;
    case error_code::unauthorized: return 401;
    case error_code::forbidden: return 403;
    case error_code::not_found: return 404;
    case error_code::method_not_allowed: return 405;
    case error_code::conflict: return 409;
    case error_code::payload_too_large: return 413;
    case error_code::unprocessable: return 422;
    case error_code::rate_limited: return 429;
    case error_code::internal: return 500;
    case error_code::upstream: return 502;
    case error_code::unavailable: return 503;
    case error_code::effect_failed: return 503;
    case error_code::protocol: return 500;
  }
  return 500;
}

struct error {
  error_code code = error_code::internal;
  std::string message;
  int status = 0;  // 0: use default_status(code)

  int http_status() const { return status ? status : default_status(code); }
};

inline error make_error(error_code c, std::string message, int status = 0) {
  return error{c, std::move(message), status};
}

// result<T>: holds a T or an error. result<void> is spelled result<> (T = std::monostate).
template <class T = std::monostate>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const error& err() const& { return std::get<1>(v_); }
  error&& err() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

}  // namespace pb
