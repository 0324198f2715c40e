// Authentication of composer clients (tokens) and of the admin API (the ADMIN_TOKEN secret, the
// bootstrap owner, and named admins with a role). A denial is a ready response: 401 with a JSON body
// whose `warning` composer prints (unknown, expired, revoked token), 403 for an admin whose role does
// not allow the call, or 503 when the token store cannot be read. It lives with the routes, not in
// auth/, because it reads the token store: auth/ holds the pure rules (credentials, licences, rate
// windows, sealing) that storage itself uses, so it stays below storage; the namespace stays auth.
#pragma once

#include <memory>
#include <optional>

#include "bindings/task.h"
#include "http/message.h"
#include "core/settings.h"
#include "storage/tokens.h"

namespace pb::auth {

struct authentication {
  std::shared_ptr<const storage::token_record> token;  // shared with the isolate's hot cache
  http::response denial;  // meaningful when !token
  std::int64_t known_id = 0;  // a denied token that exists (revoked, expired): its id, for the audit log
  bool ok() const { return token != nullptr; }
};

task<authentication> authenticate_client(const http::headers& h, std::int64_t now_ms);

// The presented token's record when the isolate's hot cache has it and it may be used now (not revoked,
// not expired): what authenticate_client would answer without an effect. Null otherwise (unknown, not
// cached, denied): the caller takes authenticate_client's way.
std::shared_ptr<const storage::token_record> cached_client(const http::headers& h, std::int64_t now_ms);

// The 401 for a request without any Authorization header, decided before any storage read (routes
// call it first, so a request without credentials costs no D1 or KV read).
std::optional<http::response> missing_credentials(const http::headers& h);

// 401 {"warning": warning, "error": {...}} with WWW-Authenticate, as composer expects it.
http::response unauthorized(std::string warning);

// nullopt when the request carries the ADMIN_TOKEN secret (compared in constant time); else the
// denial (401, or 503 when unconfigured).
std::optional<http::response> check_admin(const settings& cfg, const http::headers& h);

// Admin roles, weakest first: viewer reads, maintainer changes everything but admins, owner all.
enum class admin_role : std::uint8_t { viewer, maintainer, owner };
std::optional<admin_role> parse_role(std::string_view name);
std::string_view role_name(admin_role r);

struct admin_identity {
  std::int64_t id = 0;  // 0: the ADMIN_TOKEN secret
  std::string name;     // "ADMIN_TOKEN" for the secret
  admin_role role = admin_role::viewer;
  std::int64_t session_id = 0;  // set when the request came with a console session cookie
  std::int64_t session_expires_at = 0;
  std::string actor() const { return "admin:" + std::to_string(id); }
};

struct admin_authentication {
  std::optional<admin_identity> who;  // set when the caller is an admin, even if the role is too weak
  http::response denial;              // meaningful when !allowed
  bool allowed = false;
};

// The ADMIN_TOKEN secret, else a named admin token ("pba_...") looked up by hash in D1, else (no
// Authorization header) a console session cookie, which needs the session's X-CSRF-Token on every
// method but GET and HEAD. `needed` is the weakest role the route accepts: a weaker admin gets 403
// naming the role needed.
task<admin_authentication> authenticate_admin(const settings& cfg, const http::headers& h, std::string_view method,
                                              admin_role needed, std::int64_t now_ms);

// The console session cookie's name, and its value on a request ("" when absent).
inline constexpr std::string_view session_cookie = "pb_session";
std::string session_secret(const http::headers& h);

// Scope check: may this token see this package?
bool may_see(const storage::token_record& t, std::string_view package_name);

}  // namespace pb::auth
