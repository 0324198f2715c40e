// The route table: every path the Worker answers, in one place. Patterns are matched segment by
// segment; "{x}" captures one percent-decoded segment into ctx.params. Each family's handlers live in
// their own file (health.cpp, composer.cpp, admin.cpp). Unknown paths get the JSON 404.
#include "bindings/effects.h"
#include "bindings/task.h"
#include "http/url.h"
#include "routes/admin.h"
#include "routes/advisories.h"
#include "routes/app.h"
#include "routes/composer.h"
#include "routes/health.h"
#include "routes/hooks.h"
#include "routes/route_match.h"
#include "sources/sync.h"

namespace pb::routes {

namespace {

using handler = task<http::response> (*)(request_context&);

struct route {
  std::string_view method;  // "GET" also answers HEAD
  std::string_view pattern;
  handler fn;
  bool test_hook = false;  // only when the host enabled test hooks
};

task<http::response> test_trap(request_context&) {
  // Proves trap recovery in the shim; unreachable unless PB_TEST_HOOKS=1.
  fx::trap();
}

constexpr route table[] = {
    {"GET", "/health", health},
    // Composer repository (token auth).
    {"GET", "/packages.json", packages_json},
    {"GET", "/p2/{vendor}/{file}", p2_document},
    {"GET", "/dist/{vendor}/{name}/{version}/{file}", dist_archive},
    {"POST", "/downloads", notify_downloads},
    {"POST", "/hooks/{source_id}/{nonce}", source_webhook},
    {"POST", "/hooks/{source_id}", legacy_source_webhook},
    {"GET", "/api/security-advisories", security_advisories},
    {"POST", "/api/security-advisories", security_advisories},
    // Admin API (ADMIN_TOKEN).
    {"PUT", "/admin/api/artifacts/{vendor}/{name}", admin_upload_artifact},
    {"GET", "/admin/api/tokens", admin_list_tokens},
    {"POST", "/admin/api/tokens", admin_create_token},
    {"DELETE", "/admin/api/tokens/{id}", admin_revoke_token},
    {"GET", "/admin/api/packages", admin_list_packages},
    {"GET", "/admin/api/packages/{vendor}/{name}", admin_show_package},
    {"GET", "/admin/api/advisories", admin_list_advisories},
    {"POST", "/admin/api/advisories", admin_create_advisory},
    {"DELETE", "/admin/api/advisories/{id}", admin_delete_advisory},
    {"GET", "/admin/api/sources", admin_list_sources},
    {"POST", "/admin/api/sources", admin_create_source},
    {"GET", "/admin/api/sources/{id}", admin_show_source},
    {"PATCH", "/admin/api/sources/{id}", admin_update_source},
    {"DELETE", "/admin/api/sources/{id}", admin_delete_source},
    {"POST", "/admin/api/sources/{id}/sync", admin_sync_source},
    {"POST", "/admin/api/sources/{id}/webhook", admin_regenerate_webhook},
    {"GET", "/__test/trap", test_trap, true},
};

// Matches path against pattern; on success fills params. A malformed escape never matches.
bool match(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
  auto want = http::split_path(pattern);
  auto have = http::split_path(path);
  if (want.size() != have.size()) return false;
  std::vector<std::string> captured;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!want[i].empty() && want[i].front() == '{') {
      if (have[i].empty()) return false;
      auto decoded = http::percent_decode(have[i]);
      if (!decoded) return false;
      captured.push_back(std::move(*decoded));
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  params = std::move(captured);
  return true;
}

std::string allowed_methods(std::string_view path, bool test_hooks) {
  std::string allow;
  std::vector<std::string> ignored;
  for (const route& r : table) {
    if ((r.test_hook && !test_hooks) || !match(r.pattern, path, ignored)) continue;
    if (!allow.empty()) allow += ", ";
    allow += r.method;
    if (r.method == "GET") allow += ", HEAD";
  }
  return allow;
}

// The first route whose pattern matches path and whose method is method (GET answers HEAD too), with
// its captures in params; else, for a 405, the first route that has this path at all.
struct lookup_result {
  const route* hit = nullptr;
  const route* path_match = nullptr;
};

lookup_result lookup(std::string_view method, std::string_view path, bool test_hooks, std::vector<std::string>& params) {
  lookup_result out;
  for (const route& r : table) {
    if (r.test_hook && !test_hooks) continue;
    if (!match(r.pattern, path, params)) continue;
    if (!out.path_match) out.path_match = &r;
    if (r.method == method || (r.method == "GET" && method == "HEAD")) {
      out.hit = &r;
      break;
    }
  }
  return out;
}

}  // namespace

task<http::response> handle_fetch(request_context& ctx) {
  const std::string& path = ctx.req.target.path;
  const std::string& method = ctx.req.method;
  lookup_result found = lookup(method, path, ctx.settings().test_hooks, ctx.params);
  if (found.hit) {
    http::response resp = co_await found.hit->fn(ctx);
    if (method == "HEAD") resp.body.clear();
    co_return resp;
  }
  if (found.path_match) {
    http::response resp = http::error_response(error_code::method_not_allowed, method + " is not allowed on " + path);
    resp.header_list.set("allow", allowed_methods(path, ctx.settings().test_hooks));
    co_return resp;
  }
  co_return http::error_response(error_code::not_found, "no route for " + path);
}

route_match find_route(std::string_view method, std::string_view path, bool test_hooks) {
  route_match m;
  lookup_result found = lookup(method, path, test_hooks, m.params);
  if (found.hit) {
    m.pattern = found.hit->pattern;
    m.method_allowed = true;
    return m;
  }
  m.params.clear();
  if (found.path_match) {
    m.pattern = found.path_match->pattern;
    m.allow = allowed_methods(path, test_hooks);
  }
  return m;
}

task<std::monostate> handle_scheduled(request_context& ctx) {
  (void)co_await sources::run_due_syncs(ctx.settings(), ctx.now_ms);
  auto r = co_await fx::d1_run(
      "INSERT INTO pb_meta (key, value) VALUES ('last_cron_ms', ?) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      {json(std::to_string(ctx.now_ms))});
  (void)r;
  co_return std::monostate{};
}

}  // namespace pb::routes
