// The route table: every path the Worker answers, in one place. Patterns are matched segment by
// segment; "{x}" captures one percent-decoded segment into ctx.params. Each family's handlers live in
// their own file (health.cpp, composer.cpp, admin*.cpp). Unknown paths get the JSON 404.
// Admin routes name the weakest role they accept and the audit action of a change: the admin check runs
// here, before the handler, and a successful change is written to the audit log here, after it. Every
// 401, 403 and 429 is recorded as a denied access. docs/openapi.json describes every route of the table
// (tests/worker/openapi.test.mjs checks that).
#include <algorithm>

#include "bindings/effects.h"
#include "bindings/task.h"
#include "core/cron.h"
#include "http/url.h"
#include "routes/authenticate.h"
#include "routes/admin.h"
#include "routes/advisories.h"
#include "routes/app.h"
#include "routes/composer.h"
#include "routes/gate.h"
#include "routes/health.h"
#include "routes/listing.h"
#include "routes/hooks.h"
#include "routes/route_match.h"
#include "sources/sync.h"
#include "sources/sync_run.h"
#include "storage/audit.h"
#include "storage/packages.h"

namespace pb::routes {

namespace {

using handler = task<http::response> (*)(request_context&);
// A handler's warm path: the same answer as the handler's without a coroutine, when everything it needs
// is in the isolate's memory; nullopt hands the request to the handler, having changed nothing the
// handler would not redo the same way. It answers no 401, 403 or 429 (the coroutine path audits those).
using warm_handler = std::optional<http::response> (*)(request_context&);

// Who may call a route: anyone (the handler authenticates composer clients itself, so it can overlap the
// token check with its first read), or an admin with at least this role.
enum class gate : std::uint8_t { open, viewer, maintainer, owner };

struct route {
  std::string_view method;  // "GET" also answers HEAD
  std::string_view pattern;
  handler fn;
  gate access = gate::open;
  std::string_view action = {};  // audit action of an admin change
  bool test_hook = false;        // only when the host enabled test hooks
  warm_handler warm = nullptr;
};

task<http::response> test_trap(request_context&) {
  // Proves trap recovery in the shim; unreachable unless PB_TEST_HOOKS=1.
  fx::trap();
}

task<std::int64_t> one() { co_return 1; }

task<std::int64_t> nested(std::int64_t depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

std::int64_t count_param(const request_context& ctx, std::string_view name, std::int64_t max) {
  std::int64_t n = 0;
  for (char c : ctx.req.target.query_param(name).value_or("0")) {
    if (c < '0' || c > '9' || n > max) return 0;
    n = n * 10 + (c - '0');
  }
  return std::min(n, max);
}

// Awaits `loop` tasks in a row and a chain `depth` tasks deep, all completing without an effect, in one
// run: proves that no chain of awaits grows the stack in the wasm build (bindings/task.h; PB_TEST_HOOKS).
task<http::response> test_chain(request_context& ctx) {
  std::int64_t loop = count_param(ctx, "loop", 10'000'000), depth = count_param(ctx, "depth", 200'000);
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < loop; ++i) sum += co_await one();
  sum += co_await nested(depth);
  co_return http::response::json_body(200, "{\"sum\":" + std::to_string(sum) + "}");
}

constexpr route table[] = {
    {"GET", "/health", health},
    // Composer repository (token auth in the handlers).
    {"GET", "/packages.json", packages_json, gate::open, {}, false, packages_json_warm},
    {"GET", "/p2/{vendor}/{file}", p2_document, gate::open, {}, false, p2_document_warm},
    {"GET", "/dist/{vendor}/{name}/{version}/{file}", dist_archive},
    {"POST", "/downloads", notify_downloads},
    {"GET", "/packages/list.json", package_list},
    {"GET", "/search.json", package_search},
    {"POST", "/hooks/{source_id}/{nonce}", source_webhook},
    {"POST", "/hooks/{source_id}", legacy_source_webhook},
    {"GET", "/api/security-advisories", security_advisories},
    {"POST", "/api/security-advisories", security_advisories},
    // Admin API.
    {"GET", "/admin/api/openapi.json", admin_openapi},
    {"GET", "/admin/api/me", admin_me, gate::viewer},
    {"POST", "/admin/api/sessions", admin_create_session, gate::viewer, "session.create"},
    {"GET", "/admin/api/sessions/current", admin_current_session},  // judges a presented cookie itself
    {"DELETE", "/admin/api/sessions/current", admin_end_session, gate::viewer, "session.delete"},
    {"GET", "/admin/api/status", admin_status, gate::viewer},
    {"PUT", "/admin/api/artifacts", admin_upload_named_by_archive, gate::maintainer, "artifact.upload"},
    {"PUT", "/admin/api/artifacts/{vendor}/{name}", admin_upload_artifact, gate::maintainer, "artifact.upload"},
    {"GET", "/admin/api/tokens", admin_list_tokens, gate::viewer},
    {"POST", "/admin/api/tokens", admin_create_token, gate::maintainer, "token.create"},
    {"GET", "/admin/api/tokens/{id}", admin_show_token, gate::viewer},
    {"PATCH", "/admin/api/tokens/{id}", admin_update_token, gate::maintainer, "token.update"},
    {"DELETE", "/admin/api/tokens/{id}", admin_revoke_token, gate::maintainer, "token.revoke"},
    {"GET", "/admin/api/packages", admin_list_packages, gate::viewer},
    {"GET", "/admin/api/packages/{vendor}/{name}", admin_show_package, gate::viewer},
    {"DELETE", "/admin/api/packages/{vendor}/{name}", admin_delete_package, gate::maintainer, "package.delete"},
    {"DELETE", "/admin/api/packages/{vendor}/{name}/versions/{version}", admin_delete_version, gate::maintainer,
     "version.delete"},
    {"GET", "/admin/api/advisories", admin_list_advisories, gate::viewer},
    {"POST", "/admin/api/advisories", admin_create_advisory, gate::maintainer, "advisory.create"},
    {"DELETE", "/admin/api/advisories/{id}", admin_delete_advisory, gate::maintainer, "advisory.delete"},
    {"GET", "/admin/api/sources", admin_list_sources, gate::viewer},
    {"POST", "/admin/api/sources", admin_create_source, gate::maintainer, "source.create"},
    {"GET", "/admin/api/sources/{id}", admin_show_source, gate::viewer},
    {"PATCH", "/admin/api/sources/{id}", admin_update_source, gate::maintainer, "source.update"},
    {"DELETE", "/admin/api/sources/{id}", admin_delete_source, gate::maintainer, "source.delete"},
    {"POST", "/admin/api/sources/{id}/sync", admin_sync_source, gate::maintainer, "source.sync"},
    {"POST", "/admin/api/sources/{id}/webhook-secret", admin_rotate_webhook_secret, gate::maintainer,
     "source.webhook_secret"},
    {"GET", "/admin/api/sources/{id}/skipped-refs", admin_skipped_refs, gate::viewer},
    {"GET", "/admin/api/admins", admin_list_admins, gate::owner},
    {"POST", "/admin/api/admins", admin_create_admin, gate::owner, "admin.create"},
    {"DELETE", "/admin/api/admins/{id}", admin_revoke_admin, gate::owner, "admin.revoke"},
    {"GET", "/admin/api/audit", admin_audit, gate::viewer},
    {"GET", "/admin/api/stats", admin_stats, gate::viewer},
    {"POST", "/admin/api/reseal", admin_reseal, gate::owner, "keys.reseal"},
    {"GET", "/__test/trap", test_trap, gate::open, {}, true},
    {"GET", "/__test/chain", test_chain, gate::open, {}, true},
};

// Matches path against pattern; on success fills params. A malformed escape never matches. Walks both
// in place: a request matches its route without building a segment list.
bool match(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
  auto next = [](std::string_view& rest) {  // the next segment; rest keeps the '/' before the one after
    if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
    std::size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash);
    return seg;
  };
  std::size_t captures = 0;
  while (!pattern.empty() && !path.empty()) {
    std::string_view want = next(pattern), have = next(path);
    if (!want.empty() && want.front() == '{') {
      if (have.empty()) return false;
      auto decoded = http::percent_decode(have);
      if (!decoded) return false;
      if (captures < params.size()) params[captures] = std::move(*decoded);
      else params.push_back(std::move(*decoded));
      ++captures;
    } else if (want != have) {
      return false;
    }
  }
  if (!pattern.empty() || !path.empty()) return false;
  params.resize(captures);
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

auth::admin_role role_for(gate g) {
  switch (g) {
    case gate::owner: return auth::admin_role::owner;
    case gate::maintainer: return auth::admin_role::maintainer;
    default: return auth::admin_role::viewer;
  }
}

// The error message of a JSON error response (denials carry their reason there).
std::string error_message(const http::response& r) {
  auto doc = parse_json(r.body);
  return doc ? std::string((*doc)["error"]["message"].as_string()) : std::string();
}

// Audit: a successful admin change, or a denied access (folded per isolate, see storage/audit.h).
task<std::monostate> record_outcome(request_context& ctx, const route* r, const http::response& resp) {
  const std::string& method = ctx.req.method;
  std::string actor = ctx.actor.empty() ? "anonymous" : ctx.actor;
  if (r && r->access != gate::open && !r->action.empty() && resp.status >= 200 && resp.status < 300) {
    storage::audit_entry e{actor, ctx.actor_name, std::string(r->action), ctx.audit_target, method,
                           ctx.req.target.path, resp.status, {}, ctx.audit_before, ctx.audit_after};
    auto written = co_await storage::record_audit(e, ctx.now_ms);
    if (!written) written = co_await storage::record_audit(std::move(e), ctx.now_ms);  // one retry
    co_return std::monostate{};
  }
  if (resp.status != 401 && resp.status != 403 && resp.status != 429) co_return std::monostate{};
  std::string action = resp.status == 429 ? "access.rate_limited" : "access.denied";
  std::string reason = error_message(resp);
  // Anonymous denials fold by reason alone: varying the path must not turn a flood into D1 writes.
  std::string key = actor + "|" + reason + (ctx.actor.empty() ? std::string() : "|" + ctx.req.target.path);
  auto count = storage::admit_denial(key, ctx.now_ms);
  if (!count) co_return std::monostate{};
  storage::audit_entry e{actor, ctx.actor_name, action, ctx.req.target.path, method, ctx.req.target.path,
                         resp.status, reason, {}, {}, *count};
  (void)co_await storage::record_audit(std::move(e), ctx.now_ms);
  co_return std::monostate{};
}

task<http::response> run_route(request_context& ctx, const route& r) {
  if (r.access == gate::open) co_return co_await r.fn(ctx);
  auto a = co_await auth::authenticate_admin(ctx.settings(), ctx.req.header_list, ctx.req.method, role_for(r.access),
                                             ctx.now_ms);
  if (a.who) {
    ctx.actor = a.who->actor();
    ctx.actor_name = a.who->name;
    ctx.admin_role = std::string(auth::role_name(a.who->role));
    ctx.admin_id = a.who->id;
    ctx.session_id = a.who->session_id;
  }
  if (!a.allowed) co_return std::move(a.denial);
  co_return co_await r.fn(ctx);
}

// What every answer gets on its way out: the caller's rate headers, and no body for HEAD.
void finish_answer(const request_context& ctx, http::response& resp) {
  add_rate_headers(ctx, resp);
  if (ctx.req.method == "HEAD") {
    resp.body.clear();
    resp.shared_body.reset();
  }
}

}  // namespace

std::optional<http::response> answer_warm(request_context& ctx) {
  lookup_result found = lookup(ctx.req.method, ctx.req.target.path, ctx.settings().test_hooks, ctx.params);
  if (!found.hit || !found.hit->warm) return std::nullopt;
  auto resp = found.hit->warm(ctx);
  if (!resp) return std::nullopt;
  ctx.route = found.hit->pattern;
  finish_answer(ctx, *resp);
  return resp;
}

task<http::response> handle_fetch(request_context& ctx) {
  const std::string& path = ctx.req.target.path;
  const std::string& method = ctx.req.method;
  lookup_result found = lookup(method, path, ctx.settings().test_hooks, ctx.params);
  if (found.hit) {
    ctx.route = found.hit->pattern;
    http::response resp = co_await run_route(ctx, *found.hit);
    if (resp.status == 0) co_return resp;  // answered early
    (void)co_await record_outcome(ctx, found.hit, resp);
    finish_answer(ctx, resp);
    co_return resp;
  }
  if (found.path_match) {
    http::response resp = http::error_response(error_code::method_not_allowed, method + " is not allowed on " + path);
    resp.header_list.set("allow", allowed_methods(path, ctx.settings().test_hooks));
    co_return resp;
  }
  co_return http::error_response(error_code::not_found, "no route for " + path);
}

std::string_view route_pattern(std::string_view method, std::string_view path) {
  route_match m = find_route(method, path, false);
  return m.method_allowed ? m.pattern : std::string_view();
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

task<json_array> handle_queue(request_context& ctx) {
  co_return co_await sources::handle_sync_messages(ctx.settings(), ctx.messages.as_array(), ctx.now_ms);
}

task<std::monostate> handle_scheduled(request_context& ctx) {
  (void)co_await sources::run_due_syncs(ctx.settings(), ctx.now_ms);
  // Documents left behind by a write whose rebuild failed (or was cut short by a trap).
  (void)co_await storage::rebuild_stale_documents(ctx.now_ms, 8);
  (void)co_await storage::prune_audit(ctx.now_ms - ctx.settings().audit_retention_days * 86'400'000);
  // /health reads both: a run more than two intervals ago means the trigger stopped.
  auto r = co_await fx::d1_run(
      "INSERT INTO pb_meta (key, value) VALUES ('last_cron_ms', ?), ('cron_interval_ms', ?) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      {json(std::to_string(ctx.now_ms)), json(std::to_string(cron_interval_ms(ctx.cron)))});
  (void)r;
  co_return std::monostate{};
}

}  // namespace pb::routes
