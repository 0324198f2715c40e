// POST /hooks/{source_id}: webhooks that trigger a source's sync, verified per provider with the
// source's own secret: GitHub X-Hub-Signature-256, GitLab X-Gitlab-Token, Bitbucket X-Hub-Signature
// (HMAC-SHA256). Anything unverified gets 401 and changes nothing.
#pragma once

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> source_webhook(request_context& ctx);

}  // namespace pb::routes
