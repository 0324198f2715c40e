// What every client request passes before its handler's own work: token authentication with the rate
// limit (429 with Retry-After and a `warning` composer prints), and the X-RateLimit-* headers on every
// answer, including the ones a handler sends early with fx::respond.
#pragma once

#include "routes/authenticate.h"
#include "auth/rate_limit.h"
#include "bindings/effects.h"
#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

// authenticate_client, then the token's rate limit; records the caller on ctx (actor, rate).
task<auth::authentication> authenticate(request_context& ctx);

// Records the token's holder on ctx (actor, rate limit figures) and counts the request against the
// token's rate limit. A denied request is not counted, so asking again gives the same decision.
auth::rate_decision admit(request_context& ctx, const storage::token_record& t);

// Adds X-RateLimit-Limit/-Remaining/-Reset when the caller has a limit.
void add_rate_headers(const request_context& ctx, http::response& r);

// fx::respond with the rate headers and log labels, for handlers that go on after answering: an error
// when the response did not go out; else whether it did (body_r2 found) and the host ran `after` with
// it. (Not a coroutine: no frame.)
fx::typed_effect<fx::respond_outcome> respond_early(const request_context& ctx, http::response r,
                                                    const raw_effect* after = nullptr, std::string_view body_r2 = {});

// The response a handler returns when it answered early (status 0: nothing more to send).
http::response already_sent();

}  // namespace pb::routes
