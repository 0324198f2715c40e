// The route table: every path the Worker answers, in one place. Each family's handlers live in their
// own file (health.cpp, ...). Unknown paths get the JSON 404 every error in the product uses.
#include "bindings/effects.h"
#include "bindings/task.h"
#include "routes/app.h"
#include "routes/health.h"

namespace pb::routes {

namespace {

using handler = task<http::response> (*)(request_context&);

struct route {
  std::string_view method;  // "GET" also answers HEAD
  std::string_view path;
  handler fn;
  bool test_hook = false;  // only when the host enabled test hooks
};

task<http::response> test_trap(request_context&) {
  // Proves trap recovery in the shim; unreachable unless PB_TEST_HOOKS=1.
  fx::trap();
}

constexpr route table[] = {
    {"GET", "/health", health},
    {"GET", "/__test/trap", test_trap, true},
};

task<http::response> not_found(std::string path) {
  co_return http::error_response(error_code::not_found, "no route for " + path);
}

task<http::response> method_not_allowed(std::string method, std::string path) {
  http::response r = http::error_response(error_code::method_not_allowed, method + " is not allowed on " + path);
  r.header_list.set("allow", "GET, HEAD");
  co_return r;
}

}  // namespace

task<http::response> handle_fetch(request_context& ctx) {
  const std::string& path = ctx.req.target.path;
  const std::string& method = ctx.req.method;
  bool path_known = false;
  for (const route& r : table) {
    if (r.path != path || (r.test_hook && !ctx.env.test_hooks)) continue;
    path_known = true;
    if (r.method == method || (r.method == "GET" && method == "HEAD")) {
      http::response resp = co_await r.fn(ctx);
      if (method == "HEAD") resp.body.clear();
      co_return resp;
    }
  }
  if (path_known) co_return co_await method_not_allowed(method, path);
  co_return co_await not_found(path);
}

task<std::monostate> handle_scheduled(request_context& ctx) {
  // Record that the cron trigger ran; later issues hang sync work here.
  auto r = co_await fx::d1_run(
      "INSERT INTO pb_meta (key, value) VALUES ('last_cron_ms', ?) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      {json(std::to_string(ctx.now_ms))});
  (void)r;
  co_return std::monostate{};
}

}  // namespace pb::routes
