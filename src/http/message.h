// Request and response value types, and the JSON error response every route uses
// ({"error":{"code":..,"message":..}}). No I/O here: bodies that live in the host (request bodies, R2
// objects, upstream responses) are referred to by a host body handle, never copied into wasm.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/headers.h"
#include "http/url.h"

namespace pb::http {

// A host-side body (ReadableStream in the Worker). -1 = none.
using body_handle = std::int32_t;
inline constexpr body_handle no_body = -1;

struct request {
  std::string method;  // upper-case
  url target;
  headers header_list;
  body_handle body = no_body;  // the request body, when there is one
};

struct response {
  int status = 200;
  headers header_list;
  std::string body;             // used when body_from is no_body and shared_body is not set
  body_handle body_from = no_body;  // stream this host body instead
  // An immutable body shared with the isolate's cache (a p2 document as served): sent without a copy.
  std::shared_ptr<const std::string> shared_body;
  // Nonzero: an id that names these exact bytes for the instance's lifetime (PROTOCOL.md "body_id"), so a
  // host may keep its copy of a shared body and skip copying it out again.
  std::uint64_t shared_body_id = 0;
  // How many leading headers, together with the status and the log labels, come out the same in every
  // answer from one hot-cache entry (a p2 hit: 200 or 304 of the same served body), so a host may keep
  // their decoded form under a head id (PROTOCOL.md "Finish, binary form"). Headers added later (the
  // rate headers) are per answer.
  std::uint32_t shared_headers = 0;

  std::string_view body_bytes() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
  // For the request log only, never sent: what the client must not see (an upstream URL that may carry
  // a signed token, a raw fetch or storage error, a secret's name), so an operator can still find it.
  std::string log_note;
  // Also for the request log: the matched route pattern and where the body came from ("hot", "d1",
  // "edge", "r2", "upstream"); static strings, set by the router when the response leaves.
  std::string_view log_route, log_cache;

  static response json_body(int status, std::string body);
  static response text(int status, std::string body, std::string_view content_type = "text/plain; charset=utf-8");
};

// {"error":{"code":"not_found","message":"..."}} with the error's status.
response error_response(const error& e);
response error_response(error_code code, std::string message);
// The same shape with a plain message for the client; `internal` (e's own message) goes to the log.
response private_error_response(error_code code, std::string plain_message, std::string internal);

std::string_view reason_phrase(int status);

}  // namespace pb::http
