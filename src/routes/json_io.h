// JSON in and out for the API routes: a JSON response with its Cache-Control, and a request's JSON
// object body, read through the body.text effect with a size bound.
#pragma once

#include <cstdint>
#include <string_view>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

http::response json_response(int status, const json& body, std::string_view cache_control = "no-store");

// bad_request when there is no body, it is not JSON, or not an object; payload_too_large past max_bytes.
task<result<json>> read_json_object(const request_context& ctx, std::int64_t max_bytes = 64 * 1024);

}  // namespace pb::routes
