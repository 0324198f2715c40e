#include "routes/gate.h"

#include "bindings/effects.h"

namespace pb::routes {

task<auth::authentication> authenticate(request_context& ctx) {
  auth::authentication a = co_await auth::authenticate_client(ctx.req.header_list, ctx.now_ms);
  if (!a.ok()) {
    if (a.known_id) ctx.actor = "token:" + std::to_string(a.known_id);
    co_return a;
  }
  const storage::token_record& t = *a.token;
  auth::rate_decision d = admit(ctx, t);
  if (d.allowed) co_return a;
  std::string warning = "package-broker: the token \"" + t.name + "\" made more than " + std::to_string(d.limit) +
                        " requests this minute (its rate limit); retry in " + std::to_string(d.retry_after_s) + " s.";
  json_writer w;
  w.begin_object().field("warning", warning);
  w.key("error").begin_object().field("code", "rate_limited").field("message", warning).end_object();
  w.end_object();
  // Content-Type exactly application/json: composer prints `warning` from error responses only then.
  http::response r = http::response::json_body(429, std::move(w).str());
  r.header_list.set("retry-after", std::to_string(d.retry_after_s));
  r.header_list.set("cache-control", "no-store");
  auth::authentication denied;
  denied.denial = std::move(r);
  denied.known_id = t.id;
  co_return denied;
}

auth::rate_decision admit(request_context& ctx, const storage::token_record& t) {
  ctx.actor = "token:" + std::to_string(t.id);
  ctx.actor_name = t.name;
  std::int64_t limit = t.rate_limit >= 0 ? t.rate_limit : ctx.settings().rate_limit_per_minute;
  auth::rate_decision d = auth::take(t.id, limit, ctx.now_ms);
  ctx.rate_limit = d.limit;
  ctx.rate_remaining = d.remaining;
  ctx.rate_reset_s = d.reset_s;
  return d;
}

void add_rate_headers(const request_context& ctx, http::response& r) {
  if (ctx.rate_limit <= 0) return;
  r.header_list.set("x-ratelimit-limit", std::to_string(ctx.rate_limit));
  r.header_list.set("x-ratelimit-remaining", std::to_string(ctx.rate_remaining));
  r.header_list.set("x-ratelimit-reset", std::to_string(ctx.rate_reset_s));
}

fx::typed_effect<fx::respond_outcome> respond_early(const request_context& ctx, http::response r, const raw_effect* after,
                                                    std::string_view body_r2) {
  add_rate_headers(ctx, r);
  r.log_route = ctx.route;
  r.log_cache = ctx.cache;
  return fx::respond(std::move(r), after, body_r2);
}

http::response already_sent() {
  http::response r;
  r.status = 0;
  return r;
}

}  // namespace pb::routes
