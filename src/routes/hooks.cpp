#include "routes/hooks.h"

#include "bindings/effects.h"
#include "core/sha256.h"
#include "core/text.h"
#include "sources/sync.h"
#include "sources/sync_run.h"
#include "sources/webhook.h"
#include "storage/sources.h"

namespace pb::routes {

namespace {

constexpr std::int64_t max_hook_body = 1024 * 1024;
constexpr std::int64_t delivery_memory_ms = 7LL * 24 * 3600 * 1000;

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

// The provider's id of this delivery (the same on a redelivery), or empty.
std::string delivery_id(const http::headers& h) {
  for (auto [header, provider] : {std::pair<std::string_view, std::string_view>{"x-github-delivery", "github"},
                                  {"x-gitlab-event-uuid", "gitlab"},
                                  {"x-request-uuid", "bitbucket"}}) {
    auto v = h.get(header);
    if (v && !v->empty() && v->size() <= 100) return std::string(provider) + ":" + std::string(*v);
  }
  return {};
}

// True when the delivery is new (and records it); old records of the source are pruned on the way.
task<result<bool>> first_delivery(std::int64_t source_id, std::string id, std::int64_t now_ms) {
  auto r = co_await fx::d1_batch({
      {"DELETE FROM webhook_deliveries WHERE source_id = ? AND received_at < ?", {json(source_id), json(now_ms - delivery_memory_ms)}},
      {"INSERT INTO webhook_deliveries (source_id, delivery_id, received_at) VALUES (?, ?, ?) "
       "ON CONFLICT (source_id, delivery_id) DO NOTHING",
       {json(source_id), json(std::move(id)), json(now_ms)}},
  });
  if (!r) co_return std::move(r).err();
  co_return (*r)[1].changes == 1;
}

}  // namespace

task<http::response> legacy_source_webhook(request_context&) {
  co_return http::error_response(error_code::unauthorized,
                                 "this webhook URL has no nonce; use the source's current webhook_url (GET "
                                 "/admin/api/sources/{id}), or regenerate it (POST /admin/api/sources/{id}/webhook)");
}

task<http::response> source_webhook(request_context& ctx) {
  std::int64_t id = 0;
  for (char c : ctx.params[0]) {
    if (c < '0' || c > '9' || id > 1'000'000'000'000) co_return unverified();
    id = id * 10 + (c - '0');
  }
  const std::string& nonce = ctx.params[1];
  if (id == 0 || !sources::valid_webhook_nonce(nonce)) co_return unverified();
  std::string body;
  if (ctx.req.body != http::no_body) {
    auto text = co_await fx::body_text(ctx.req.body, max_hook_body);
    if (!text) co_return http::error_response(text.err());
    body = std::move(*text);
  }
  // Verified before any storage read: the secret comes from the URL and the key alone.
  auto secret = co_await sources::webhook_secret(ctx.settings(), id, nonce);
  if (!secret) co_return http::error_response(secret.err());
  const http::headers& h = ctx.req.header_list;
  bool verified = false;
  if (auto github = h.get("x-hub-signature-256")) {
    verified = co_await hmac_matches(*secret, body, *github);
  } else if (auto gitlab = h.get("x-gitlab-token")) {
    verified = constant_time_equals(sha256_hex(*gitlab), sha256_hex(*secret));
  } else if (auto bitbucket = h.get("x-hub-signature")) {
    verified = co_await hmac_matches(*secret, body, *bitbucket);
  }
  if (!verified) co_return unverified();

  auto found = co_await storage::find_source(id);
  if (!found) co_return http::error_response(make_error(error_code::unavailable, found.err().message));
  // A deleted source, or a nonce that was regenerated since, answers like a bad signature.
  if (!found->has_value() || !constant_time_equals((*found)->webhook_nonce, nonce)) co_return unverified();
  storage::source_record s = std::move(**found);
  if (!s.enabled) co_return http::error_response(error_code::conflict, "source " + std::to_string(id) + " is disabled");
  if (h.get("x-github-event") == std::optional<std::string_view>("ping"))
    co_return http::response::json_body(200, "{\"ok\":true,\"event\":\"ping\"}");
  if (std::string delivery = delivery_id(h); !delivery.empty()) {
    auto first = co_await first_delivery(id, std::move(delivery), ctx.now_ms);
    if (!first) co_return http::error_response(make_error(error_code::unavailable, first.err().message));
    if (!*first) co_return http::response::json_body(200, "{\"ok\":true,\"sync\":\"duplicate delivery\"}");
  }
  // Answer at once (providers time out after ~10 s). The sync runs on the sync queue, in invocations
  // of its own; without a queue its first slice runs here after the response (and cron continues).
  auto sent = co_await fx::respond(http::response::json_body(202, "{\"ok\":true,\"sync\":\"started\"}"));
  if (sent && !co_await sources::wake_sync(id, true)) (void)co_await sources::run_sync_step(ctx.settings(), id, ctx.now_ms, false);
  http::response already_sent;
  already_sent.status = 0;
  co_return already_sent;
}

}  // namespace pb::routes
