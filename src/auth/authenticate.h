// Authentication of composer clients (tokens) and of the admin API (the ADMIN_TOKEN secret).
// A denial is a ready response: 401 with a JSON body whose `warning` composer prints (unknown, expired,
// revoked token), or 503 when the token store cannot be read.
#pragma once

#include <optional>

#include "bindings/task.h"
#include "http/message.h"
#include "core/settings.h"
#include "storage/tokens.h"

namespace pb::auth {

struct authentication {
  std::optional<storage::token_record> token;
  http::response denial;  // meaningful when !token
  bool ok() const { return token.has_value(); }
};

task<authentication> authenticate_client(const http::headers& h, std::int64_t now_ms);

// The 401 for a request without any Authorization header, decided before any storage read (routes
// call it first, so a request without credentials costs no D1 or KV read).
std::optional<http::response> missing_credentials(const http::headers& h);

// 401 {"warning": warning, "error": {...}} with WWW-Authenticate, as composer expects it.
http::response unauthorized(std::string warning);

// nullopt when the request carries the admin token; else the denial (401, or 503 when unconfigured).
std::optional<http::response> check_admin(const settings& cfg, const http::headers& h);

// Scope check: may this token see this package?
bool may_see(const storage::token_record& t, std::string_view package_name);

}  // namespace pb::auth
