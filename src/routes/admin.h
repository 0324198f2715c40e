// The admin API (Bearer ADMIN_TOKEN): artifact uploads, tokens, packages, sources. Every change either happens
// whole or not at all; failures answer with the JSON error shape and a message quoting the bad input.
#pragma once

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> admin_upload_artifact(request_context& ctx);
task<http::response> admin_list_tokens(request_context& ctx);
task<http::response> admin_create_token(request_context& ctx);
task<http::response> admin_revoke_token(request_context& ctx);
task<http::response> admin_list_packages(request_context& ctx);
task<http::response> admin_show_package(request_context& ctx);

// Sources (admin_sources.cpp).
task<http::response> admin_create_source(request_context& ctx);
task<http::response> admin_list_sources(request_context& ctx);
task<http::response> admin_show_source(request_context& ctx);
task<http::response> admin_update_source(request_context& ctx);
task<http::response> admin_delete_source(request_context& ctx);
task<http::response> admin_sync_source(request_context& ctx);
// A new webhook URL and secret (the old ones stop working).
task<http::response> admin_regenerate_webhook(request_context& ctx);

}  // namespace pb::routes
