#include "routes/json_io.h"

#include "bindings/effects.h"

namespace pb::routes {

http::response json_response(int status, const json& body, std::string_view cache_control) {
  http::response r = http::response::json_body(status, body.dump());
  r.header_list.set("cache-control", cache_control);
  return r;
}

task<result<json>> read_json_object(const request_context& ctx, std::int64_t max_bytes) {
  if (ctx.req.body == http::no_body) co_return make_error(error_code::bad_request, "expected a JSON body");
  auto text = co_await fx::body_text(ctx.req.body, max_bytes);
  if (!text) co_return std::move(text).err();
  auto doc = parse_json(*text);
  if (!doc) co_return std::move(doc).err();
  if (!doc->is_object()) co_return make_error(error_code::bad_request, "expected a JSON object, got " + text->substr(0, 60));
  co_return std::move(*doc);
}

}  // namespace pb::routes
