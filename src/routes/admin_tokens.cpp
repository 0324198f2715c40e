// Admin API for package tokens (/admin/api/tokens: create, list, show, update, revoke, with licences and
// rate limits), named admins (/admin/api/admins, /admin/api/me) and console sessions
// (/admin/api/sessions). Secrets appear only in create responses (a session's CSRF token also to its own
// cookie); only their SHA-256 is stored.
#include "routes/authenticate.h"
#include "auth/licences.h"
#include "core/text.h"
#include "routes/admin.h"
#include "routes/json_io.h"
#include "routes/validate.h"
#include "storage/admins.h"
#include "storage/tokens.h"
#include "core/http_date.h"

namespace pb::routes {

namespace {

http::response failure(const error& e) {
  if (e.code == error_code::effect_failed || e.code == error_code::protocol)
    return http::error_response(make_error(error_code::unavailable, "storage unavailable: " + e.message));
  return http::error_response(e);
}

constexpr std::size_t max_licences = 50;

result<std::vector<auth::licence>> read_licences(const json& v) {
  std::vector<auth::licence> out;
  if (v.is_null()) return out;
  if (!v.is_array() || v.size() > max_licences)
    return make_error(error_code::bad_request, "\"licences\" must be a list of at most 50 licences");
  std::size_t i = 0;
  for (const auto& l : v.as_array()) {
    std::string at = "\"licences[" + std::to_string(i++) + "]";
    auto prefix = [&](const error& e) { return make_error(error_code::bad_request, at + "\": " + e.message); };
    if (!l.is_object())
      return make_error(error_code::bad_request, at + "\" must be an object {\"packages\",\"constraint\",\"updates_until\"}");
    if (auto ok = only_fields(l, {"packages", "constraint", "updates_until"}); !ok) return prefix(ok.err());
    auto packages = string_field(l, "packages", 1, 200);
    if (!packages) return prefix(packages.err());
    auto constraint = string_field(l, "constraint", 1, 200);
    if (!constraint) return prefix(constraint.err());
    if (!*packages || !*constraint)
      return make_error(error_code::bad_request, at + "\" needs \"packages\" (a pattern) and \"constraint\" (e.g. ^2.0)");
    auto until = time_field(l, "updates_until", true);
    if (!until) return prefix(until.err());
    auto made = auth::make_licence(ascii_lower(**packages), **constraint, until->value_or(0));
    if (!made) return prefix(made.err());
    out.push_back(std::move(*made));
  }
  return out;
}

// Applies the body's fields to t (create: every field may be given; update: only those present change).
result<std::monostate> apply_token_fields(const json& body, storage::new_token& t, bool creating) {
  if (auto ok = only_fields(body, {"name", "packages", "access", "expires_at", "licences", "rate_limit"}); !ok)
    return std::move(ok).err();
  auto name = string_field(body, "name", 1, 100);
  if (!name) return std::move(name).err();
  if (*name) t.name = std::move(**name);
  else if (creating) return make_error(error_code::bad_request, "\"name\" is required (1 to 100 characters)");
  if (const json* p = body.find("packages")) {
    auto patterns = patterns_field(body, "packages");
    if (!patterns) return std::move(patterns).err();
    t.packages = p->is_null() ? std::vector<std::string>{"*"} : std::move(**patterns);
  }
  if (const json* a = body.find("access"); a && !a->is_null()) {
    if (a->as_string() != "read" && a->as_string() != "update")
      return make_error(error_code::bad_request, "\"access\" must be \"read\" or \"update\"");
    t.access = std::string(a->as_string());
  }
  if (body.find("expires_at")) {
    auto e = time_field(body, "expires_at");
    if (!e) return std::move(e).err();
    t.expires_at = e->value_or(0);
  }
  if (const json* l = body.find("licences")) {
    auto ls = read_licences(*l);
    if (!ls) return std::move(ls).err();
    t.licences = std::move(*ls);
  }
  if (const json* r = body.find("rate_limit")) {
    auto limit = integer_field(body, "rate_limit", 0, 1'000'000);
    if (!limit) return std::move(limit).err();
    t.rate_limit = r->is_null() ? -1 : **limit;
  }
  return std::monostate{};
}

storage::new_token editable(const storage::token_record& r) {
  storage::new_token t;
  t.name = r.name;
  t.packages = r.packages;
  t.access = r.access;
  t.expires_at = r.expires_at;
  t.licences = r.licences;
  t.rate_limit = r.rate_limit;
  return t;
}

task<result<storage::token_record>> existing_token(const request_context& ctx) {
  auto id = path_id(ctx.params[0], "token");
  if (!id) co_return std::move(id).err();
  co_return found_or_not_found(co_await storage::find_token(*id), "no token with id " + ctx.params[0]);
}

}  // namespace

task<http::response> admin_create_token(request_context& ctx) {
  auto body = co_await read_json_object(ctx);
  if (!body) co_return failure(body.err());
  storage::new_token t;
  t.packages = {"*"};
  if (auto ok = apply_token_fields(*body, t, true); !ok) co_return failure(ok.err());
  auto created = co_await storage::create_token(std::move(t), ctx.now_ms);
  if (!created) co_return failure(created.err());
  json out = storage::token_to_json(created->first);
  ctx.audit_target = "token:" + std::to_string(created->first.id);
  ctx.audit_after = out;
  out.set("token", json(created->second));
  co_return json_response(201, out);
}

task<http::response> admin_list_tokens(request_context& ctx) {
  auto page = read_page(ctx.req.target);
  if (!page) co_return failure(page.err());
  auto after = id_cursor(*page);
  if (!after) co_return failure(after.err());
  auto tokens = co_await storage::list_tokens(*after, page->limit + 1);
  if (!tokens) co_return failure(tokens.err());
  co_return json_response(200, page_json("tokens", *tokens, page->limit, storage::token_to_json,
                                         [](const storage::token_record& t) { return std::to_string(t.id); }));
}

task<http::response> admin_show_token(request_context& ctx) {
  auto t = co_await existing_token(ctx);
  if (!t) co_return failure(t.err());
  co_return json_response(200, storage::token_to_json(*t));
}

task<http::response> admin_update_token(request_context& ctx) {
  auto body = co_await read_json_object(ctx);
  if (!body) co_return failure(body.err());
  auto t = co_await existing_token(ctx);
  if (!t) co_return failure(t.err());
  if (t->revoked_at) co_return http::error_response(error_code::conflict, "token " + ctx.params[0] + " is revoked");
  storage::new_token fields = editable(*t);
  if (auto ok = apply_token_fields(*body, fields, false); !ok) co_return failure(ok.err());
  auto updated = co_await storage::update_token(t->id, std::move(fields));
  if (!updated) co_return failure(updated.err());
  if (!updated->has_value()) co_return http::error_response(error_code::not_found, "no token with id " + ctx.params[0]);
  json out = storage::token_to_json(**updated);
  ctx.audit_target = "token:" + std::to_string(t->id);
  ctx.audit_before = storage::token_to_json(*t);
  ctx.audit_after = out;
  co_return json_response(200, out);
}

task<http::response> admin_revoke_token(request_context& ctx) {
  auto id = path_id(ctx.params[0], "token");
  if (!id) co_return failure(id.err());
  auto revoked = co_await storage::revoke_token(*id, ctx.now_ms);
  if (!revoked) co_return failure(revoked.err());
  if (!revoked->has_value()) co_return http::error_response(error_code::not_found, "no token with id " + ctx.params[0]);
  json out = storage::token_to_json(**revoked);
  ctx.audit_target = "token:" + std::to_string(*id);
  ctx.audit_after = out;
  co_return json_response(200, out);
}

task<http::response> admin_me(request_context& ctx) {
  json out = json::object();
  out.set("actor", json(ctx.actor));
  out.set("name", json(ctx.actor_name));
  out.set("role", json(ctx.admin_role));
  co_return json_response(200, out);
}

namespace {

// Console sessions last a working day; signing out or revoking the admin ends them earlier.
constexpr std::int64_t session_ttl_ms = 8 * 3600 * 1000;

std::string session_cookie_for(const request_context& ctx, std::string_view value, std::int64_t max_age_s) {
  // Secure everywhere but on the developer's own machine, where scripts/dev serves plain http.
  const std::string& host = ctx.req.target.host;
  bool local = host.rfind("localhost", 0) == 0 || host.rfind("127.0.0.1", 0) == 0 || host.rfind("[::1]", 0) == 0;
  return std::string(auth::session_cookie) + "=" + std::string(value) + "; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age_s) + (local ? "" : "; Secure");
}

}  // namespace

task<http::response> admin_create_session(request_context& ctx) {
  // A session is made from an admin token, not from another session.
  if (!ctx.req.header_list.has("authorization"))
    co_return http::error_response(error_code::bad_request, "sign in with an admin token (Authorization: Bearer ...)");
  std::int64_t expires = ctx.now_ms + session_ttl_ms;
  auto s = co_await storage::create_session(ctx.admin_id, ctx.actor_name, ctx.admin_role, ctx.now_ms, expires);
  if (!s) co_return failure(s.err());
  json out = json::object();
  out.set("actor", json(ctx.actor));
  out.set("name", json(ctx.actor_name));
  out.set("role", json(ctx.admin_role));
  out.set("expires_at", json(format_iso8601_utc(expires)));
  ctx.audit_target = "session:" + std::to_string(s->id);
  ctx.audit_after = out;
  out.set("csrf_token", json(s->csrf));
  http::response r = json_response(201, out);
  r.header_list.set("set-cookie", session_cookie_for(ctx, s->secret, session_ttl_ms / 1000));
  co_return r;
}

task<http::response> admin_current_session(request_context& ctx) {
  // Open in the route table: the console asks on every load, and a browser without the cookie is not a
  // denied access but someone about to sign in (404). A cookie that is presented is judged as usual
  // (an ended session is a 401, audited by routes.cpp).
  if (ctx.req.header_list.has("authorization") || auth::session_secret(ctx.req.header_list).empty())
    co_return http::error_response(error_code::not_found, "this request did not come with a session");
  auto a = co_await auth::authenticate_admin(ctx.settings(), ctx.req.header_list, ctx.req.method, auth::admin_role::viewer,
                                             ctx.now_ms);
  if (a.who) {
    ctx.actor = a.who->actor();
    ctx.actor_name = a.who->name;
  }
  if (!a.allowed) co_return std::move(a.denial);
  json out = json::object();
  out.set("actor", json(a.who->actor()));
  out.set("name", json(a.who->name));
  out.set("role", json(std::string(auth::role_name(a.who->role))));
  out.set("expires_at", json(format_iso8601_utc(a.who->session_expires_at)));
  // Readable only by a page of this origin: the cookie is SameSite=Strict and no CORS header is sent.
  out.set("csrf_token", json(storage::session_csrf(auth::session_secret(ctx.req.header_list))));
  co_return json_response(200, out);
}

task<http::response> admin_end_session(request_context& ctx) {
  if (!ctx.session_id) co_return http::error_response(error_code::not_found, "this request did not come with a session");
  auto r = co_await storage::revoke_session(ctx.session_id, ctx.now_ms);
  if (!r) co_return failure(r.err());
  json out = json::object();
  out.set("signed_out", json(true));
  ctx.audit_target = "session:" + std::to_string(ctx.session_id);
  http::response resp = json_response(200, out);
  resp.header_list.set("set-cookie", session_cookie_for(ctx, "", 0));
  co_return resp;
}

task<http::response> admin_list_admins(request_context& ctx) {
  auto page = read_page(ctx.req.target);
  if (!page) co_return failure(page.err());
  auto after = id_cursor(*page);
  if (!after) co_return failure(after.err());
  auto admins = co_await storage::list_admins(*after, page->limit + 1);
  if (!admins) co_return failure(admins.err());
  co_return json_response(200, page_json("admins", *admins, page->limit, storage::admin_to_json,
                                         [](const storage::admin_record& a) { return std::to_string(a.id); }));
}

task<http::response> admin_create_admin(request_context& ctx) {
  auto body = co_await read_json_object(ctx);
  if (!body) co_return failure(body.err());
  if (auto ok = only_fields(*body, {"name", "role"}); !ok) co_return failure(ok.err());
  auto name = string_field(*body, "name", 1, 100);
  if (!name) co_return failure(name.err());
  if (!*name) co_return http::error_response(error_code::bad_request, "\"name\" is required (1 to 100 characters)");
  auto role = string_field(*body, "role", 1, 20);
  if (!role) co_return failure(role.err());
  if (!*role || !auth::parse_role(**role))
    co_return http::error_response(error_code::bad_request, "\"role\" must be \"owner\", \"maintainer\" or \"viewer\"");
  auto created = co_await storage::create_admin(**name, **role, ctx.actor, ctx.now_ms);
  if (!created) co_return failure(created.err());
  json out = storage::admin_to_json(created->first);
  ctx.audit_target = "admin:" + std::to_string(created->first.id);
  ctx.audit_after = out;
  out.set("token", json(created->second));
  co_return json_response(201, out);
}

task<http::response> admin_revoke_admin(request_context& ctx) {
  auto id = path_id(ctx.params[0], "admin");
  if (!id) co_return failure(id.err());
  auto revoked = co_await storage::revoke_admin(*id, ctx.now_ms);
  if (!revoked) co_return failure(revoked.err());
  if (!revoked->has_value()) co_return http::error_response(error_code::not_found, "no admin with id " + ctx.params[0]);
  json out = storage::admin_to_json(**revoked);
  ctx.audit_target = "admin:" + std::to_string(*id);
  ctx.audit_after = out;
  co_return json_response(200, out);
}

}  // namespace pb::routes
