#include "routes/hooks.h"
#include "core/text.h"

#include "auth/sealing.h"
#include "bindings/effects.h"
#include "core/sha256.h"
#include "sources/sync.h"
#include "storage/sources.h"

namespace pb::routes {

namespace {

constexpr std::int64_t max_hook_body = 1024 * 1024;

http::response unverified() {
  return http::error_response(error_code::unauthorized, "webhook signature missing or invalid");
}

// sha256=<hex> of HMAC-SHA256(secret, body), compared in constant time.
task<bool> hmac_matches(std::string secret, std::string body, std::string_view header_value) {
  std::string given = ascii_lower(header_value);
  if (given.rfind("sha256=", 0) != 0) co_return false;
  auto mac = co_await fx::crypto_hmac("SHA-256", std::move(secret), std::move(body));
  if (!mac) co_return false;
  co_return constant_time_equals(given.substr(7), *mac);
}

}  // namespace

task<http::response> source_webhook(request_context& ctx) {
  std::int64_t id = 0;
  for (char c : ctx.params[0]) {
    if (c < '0' || c > '9' || id > 1'000'000'000'000) co_return unverified();
    id = id * 10 + (c - '0');
  }
  auto found = co_await storage::find_source(id);
  if (!found) co_return http::error_response(make_error(error_code::unavailable, found.err().message));
  // An unknown source answers like a bad signature: the endpoint does not reveal which ids exist.
  if (!found->has_value() || (*found)->webhook_secret_enc.empty()) co_return unverified();
  storage::source_record s = std::move(**found);
  std::string body;
  if (ctx.req.body != http::no_body) {
    auto text = co_await fx::body_text(ctx.req.body, max_hook_body);
    if (!text) co_return http::error_response(text.err());
    body = std::move(*text);
  }
  auto secret = co_await auth::unseal(ctx.settings(), s.webhook_secret_enc, std::string(auth::source_webhook_purpose));
  if (!secret) co_return http::error_response(make_error(error_code::unavailable, secret.err().message));

  const http::headers& h = ctx.req.header_list;
  bool verified = false;
  auto github = h.get("x-hub-signature-256");
  auto gitlab = h.get("x-gitlab-token");
  auto bitbucket = h.get("x-hub-signature");
  if ((s.type == "github" || s.type == "composer" || s.type == "packagist") && github) {
    verified = co_await hmac_matches(*secret, body, *github);
  } else if ((s.type == "gitlab" || s.type == "composer" || s.type == "packagist") && gitlab) {
    verified = constant_time_equals(sha256_hex(*gitlab), sha256_hex(*secret));
  } else if ((s.type == "bitbucket" || s.type == "composer" || s.type == "packagist") && bitbucket) {
    verified = co_await hmac_matches(*secret, body, *bitbucket);
  }
  if (!verified) co_return unverified();

  if (h.get("x-github-event") == std::optional<std::string_view>("ping")) {
    co_return http::response::json_body(200, "{\"ok\":true,\"event\":\"ping\"}");
  }
  // Answer at once (providers time out after ~10 s); the sync slice runs after the response.
  auto sent = co_await fx::respond(http::response::json_body(202, "{\"ok\":true,\"sync\":\"started\"}"));
  if (sent) {
    if (s.sync_cursor.empty()) (void)co_await storage::record_sync(s.id, {"running", 0, 0, {}}, ctx.now_ms);
    auto r = co_await sources::run_sync_slice(ctx.settings(), std::move(s), ctx.now_ms);
    if (!r) (void)co_await storage::record_sync(id, {"error", 0, 0, r.err().message}, ctx.now_ms);
  }
  http::response already_sent;
  already_sent.status = 0;
  co_return already_sent;
}

}  // namespace pb::routes
