// POST /hooks/{source_id}/{nonce}: webhooks that trigger a source's sync. The secret is derived from
// the id and nonce in the URL (sources/webhook.h), so the signature is verified before any storage
// read: GitHub X-Hub-Signature-256, GitLab X-Gitlab-Token, Bitbucket X-Hub-Signature (HMAC-SHA256).
// Then the source must exist with that nonce and be enabled; a delivery id seen before (GitHub
// X-GitHub-Delivery, GitLab X-Gitlab-Event-UUID, Bitbucket X-Request-UUID) is answered without a
// second sync. Anything unverified gets 401 and changes nothing.
#pragma once

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> source_webhook(request_context& ctx);
// POST /hooks/{source_id}: the URL form before nonces; always 401, saying where the URL is now.
task<http::response> legacy_source_webhook(request_context& ctx);

}  // namespace pb::routes
