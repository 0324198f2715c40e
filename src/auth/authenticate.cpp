#include "auth/authenticate.h"

#include "auth/credentials.h"
#include "core/http_date.h"
#include "core/json.h"
#include "core/sha256.h"
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

task<authentication> authenticate_client(const http::headers& h, std::int64_t now_ms) {
  if (auto denied = missing_credentials(h)) co_return authentication{std::nullopt, std::move(*denied)};
  std::optional<std::string> presented = presented_token(h);
  if (presented->empty())
    co_return authentication{std::nullopt, unauthorized("package-broker: the Authorization header is malformed.")};
  std::string hash = sha256_hex(*presented);
  result<std::optional<storage::token_record>> found = storage::hot_cache::token(hash, now_ms);
  if (!found->has_value()) {
    std::uint64_t generation = storage::hot_cache::token_generation();
    found = co_await storage::find_token_by_hash(hash);
    if (!found) {
      co_return authentication{std::nullopt, http::error_response(make_error(
                                                 error_code::unavailable, "token store unavailable: " + found.err().message))};
    }
    if (found->has_value()) storage::hot_cache::put_token(hash, **found, now_ms, generation);
  }
  if (!found->has_value())
    co_return authentication{std::nullopt, unauthorized("package-broker: the token is not valid (unknown token).")};
  const storage::token_record& t = **found;
  if (t.revoked_at)
    co_return authentication{std::nullopt, unauthorized("package-broker: the token \"" + t.name + "\" was revoked at " +
                                                        format_iso8601_utc(t.revoked_at) +
                                                        ". Ask your administrator for a new token.")};
  if (t.expires_at && t.expires_at <= now_ms)
    co_return authentication{std::nullopt, unauthorized("package-broker: the token \"" + t.name + "\" expired at " +
                                                        format_iso8601_utc(t.expires_at) +
                                                        ". Ask your administrator for a new token.")};
  co_return authentication{std::move(*found), {}};
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

bool may_see(const storage::token_record& t, std::string_view package_name) {
  return any_matches(package_name, t.packages);
}

}  // namespace pb::auth
