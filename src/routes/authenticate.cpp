#include "routes/authenticate.h"

#include "auth/credentials.h"
#include "core/http_date.h"
#include "core/json.h"
#include "core/sha256.h"
#include "storage/admins.h"
#include "storage/hot_cache.h"

namespace pb::auth {

http::response unauthorized(std::string warning) {
  json_writer w;
  w.begin_object().field("warning", warning);
  w.key("error").begin_object().field("code", "unauthorized").field("message", warning).end_object();
  w.end_object();
  // Content-Type exactly application/json: composer only prints `warning` on error responses then.
  http::response r = http::response::json_body(401, std::move(w).str());
  r.header_list.set("www-authenticate", "Basic realm=\"package-broker\", charset=\"UTF-8\"");
  r.header_list.set("cache-control", "no-store");
  return r;
}

std::optional<http::response> missing_credentials(const http::headers& h) {
  if (h.has("authorization")) return std::nullopt;
  return unauthorized("package-broker: authentication required. Add a token to auth.json as "
                      "http-basic (any username, the token as password) or as bearer.");
}

namespace {

// The hash the token store is keyed by (never the secret); empty when the header is malformed.
std::string presented_hash(const http::headers& h) {
  std::optional<std::string> presented = presented_token(h);
  return presented && !presented->empty() ? sha256_hex(*presented) : std::string();
}

// A known token's own verdict at now_ms: nullopt when it may be used, else the 401 saying why.
std::optional<http::response> token_denial(const storage::token_record& t, std::int64_t now_ms) {
  if (t.revoked_at)
    return unauthorized("package-broker: the token \"" + t.name + "\" was revoked at " + format_iso8601_utc(t.revoked_at) +
                        ". Ask your administrator for a new token.");
  if (t.expires_at && t.expires_at <= now_ms)
    return unauthorized("package-broker: the token \"" + t.name + "\" expired at " + format_iso8601_utc(t.expires_at) +
                        ". Ask your administrator for a new token.");
  return std::nullopt;
}

}  // namespace

std::shared_ptr<const storage::token_record> cached_client(const http::headers& h, std::int64_t now_ms) {
  if (!h.has("authorization")) return nullptr;
  std::string hash = presented_hash(h);
  if (hash.empty()) return nullptr;
  auto t = storage::hot_cache::token(hash, now_ms);
  return t && !token_denial(*t, now_ms) ? t : nullptr;
}

task<authentication> authenticate_client(const http::headers& h, std::int64_t now_ms) {
  if (auto denied = missing_credentials(h)) co_return authentication{nullptr, std::move(*denied)};
  std::string hash = presented_hash(h);
  if (hash.empty())
    co_return authentication{nullptr, unauthorized("package-broker: the Authorization header is malformed.")};
  std::shared_ptr<const storage::token_record> t = storage::hot_cache::token(hash, now_ms);
  if (!t) {
    std::uint64_t generation = storage::hot_cache::token_generation();
    auto found = co_await storage::find_token_by_hash(hash);
    if (!found) {
      // The storage error is for the log: clients get a plain 503 (composer retries later).
      co_return authentication{nullptr, http::private_error_response(error_code::unavailable,
                                                                     "the token store is unavailable, try again later",
                                                                     "token store: " + found.err().message)};
    }
    if (found->has_value()) {
      t = std::make_shared<const storage::token_record>(std::move(**found));
      storage::hot_cache::put_token(hash, t, now_ms, generation);
    }
  }
  if (!t) co_return authentication{nullptr, unauthorized("package-broker: the token is not valid (unknown token).")};
  if (auto denied = token_denial(*t, now_ms)) co_return authentication{nullptr, std::move(*denied), t->id};
  co_return authentication{std::move(t), {}};
}

std::optional<http::response> check_admin(const settings& cfg, const http::headers& h) {
  std::string_view configured = cfg.admin_token;
  if (configured.empty())
    return http::error_response(error_code::unavailable,
                                "the admin API is disabled: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN)");
  auto presented = h.get("authorization");
  std::string_view given;
  if (presented && presented->size() > 7 && http::iequals(presented->substr(0, 7), "Bearer ")) given = presented->substr(7);
  // Compare digests so the time taken says nothing about the secret, not even its length.
  if (given.empty() || !constant_time_equals(sha256_hex(given), sha256_hex(configured))) {
    http::response r = http::error_response(error_code::unauthorized, "admin API: a valid admin bearer token is required");
    r.header_list.set("www-authenticate", "Bearer realm=\"package-broker admin\"");
    return r;
  }
  return std::nullopt;
}

std::optional<admin_role> parse_role(std::string_view name) {
  if (name == "viewer") return admin_role::viewer;
  if (name == "maintainer") return admin_role::maintainer;
  if (name == "owner") return admin_role::owner;
  return std::nullopt;
}

std::string_view role_name(admin_role r) {
  switch (r) {
    case admin_role::viewer: return "viewer";
    case admin_role::maintainer: return "maintainer";
    case admin_role::owner: return "owner";
  }
  return "viewer";
}

namespace {

http::response admin_unauthorized(std::string message) {
  http::response r = http::error_response(error_code::unauthorized, std::move(message));
  r.header_list.set("www-authenticate", "Bearer realm=\"package-broker admin\"");
  return r;
}

admin_authentication judged(admin_identity who, admin_role needed) {
  admin_authentication a;
  if (who.role < needed) {
    a.denial = http::error_response(error_code::forbidden, "admin \"" + who.name + "\" has the role " +
                                                               std::string(role_name(who.role)) + "; this needs " +
                                                               std::string(role_name(needed)));
  } else {
    a.allowed = true;
  }
  a.who = std::move(who);
  return a;
}

}  // namespace

std::string session_secret(const http::headers& h) {
  auto cookies = h.get("cookie");
  if (!cookies) return {};
  std::string_view rest = *cookies;
  while (!rest.empty()) {
    std::size_t end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > session_cookie.size() && pair.substr(0, session_cookie.size()) == session_cookie &&
        pair[session_cookie.size()] == '=')
      return std::string(pair.substr(session_cookie.size() + 1));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return {};
}

namespace {

task<admin_authentication> session_admin(const http::headers& h, std::string secret, std::string_view method,
                                         admin_role needed, std::int64_t now_ms) {
  auto found = co_await storage::find_session(sha256_hex(secret), now_ms);
  if (!found)
    co_return admin_authentication{std::nullopt, http::error_response(make_error(
                                                    error_code::unavailable, "admin store unavailable: " + found.err().message))};
  if (!found->has_value() || (*found)->admin_revoked)
    co_return admin_authentication{std::nullopt, admin_unauthorized("admin API: the session expired or was signed out; sign in again")};
  const storage::session_record& s = **found;
  admin_identity who{s.admin_id, s.admin_name, parse_role(s.role).value_or(admin_role::viewer), s.id, s.expires_at};
  if (method != "GET" && method != "HEAD") {
    // A cookie is sent by the browser on its own; the CSRF token only by the console's own script.
    auto csrf = h.get("x-csrf-token");
    if (!csrf || !constant_time_equals(sha256_hex(*csrf), s.csrf_hash)) {
      admin_authentication a;
      a.who = std::move(who);
      a.denial = http::error_response(error_code::forbidden, "admin API: missing or wrong X-CSRF-Token for this session");
      co_return a;
    }
  }
  co_return judged(std::move(who), needed);
}

}  // namespace

task<admin_authentication> authenticate_admin(const settings& cfg, const http::headers& h, std::string_view method,
                                              admin_role needed, std::int64_t now_ms) {
  if (!h.has("authorization")) {
    if (std::string secret = session_secret(h); !secret.empty())
      co_return co_await session_admin(h, std::move(secret), method, needed, now_ms);
  }
  auto presented = h.get("authorization");
  std::string_view given;
  if (presented && presented->size() > 7 && http::iequals(presented->substr(0, 7), "Bearer ")) given = presented->substr(7);
  // Named admin tokens carry their own prefix, so the secret's check stays the one constant-time compare.
  if (given.substr(0, 4) == "pba_") {
    auto found = co_await storage::find_admin_by_hash(sha256_hex(given));
    if (!found)
      co_return admin_authentication{std::nullopt, http::error_response(make_error(
                                                      error_code::unavailable, "admin store unavailable: " + found.err().message))};
    if (!found->has_value()) co_return admin_authentication{std::nullopt, admin_unauthorized("admin API: unknown admin token")};
    const storage::admin_record& a = **found;
    if (a.revoked_at)
      co_return admin_authentication{std::nullopt, admin_unauthorized("admin API: the admin token \"" + a.name +
                                                                      "\" was revoked at " + format_iso8601_utc(a.revoked_at))};
    // Last use is kept to the hour, like package tokens', so admin reads do not become writes.
    if (now_ms - a.last_used_at >= 3600 * 1000) (void)co_await storage::touch_admin(a.id, now_ms);
    co_return judged(admin_identity{a.id, a.name, parse_role(a.role).value_or(admin_role::viewer)}, needed);
  }
  if (auto denied = check_admin(cfg, h)) co_return admin_authentication{std::nullopt, std::move(*denied)};
  co_return judged(admin_identity{0, "ADMIN_TOKEN", admin_role::owner}, needed);
}

bool may_see(const storage::token_record& t, std::string_view package_name) {
  return any_matches(package_name, t.packages);
}

}  // namespace pb::auth
