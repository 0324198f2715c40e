// The admin API (Bearer ADMIN_TOKEN or a named admin token; routes.cpp checks the role before a handler
// runs and writes the audit entry after it): artifact uploads, packages and their deletion (admin.cpp),
// tokens and admins (admin_tokens.cpp), sources (admin_sources.cpp), audit, stats, status and the
// OpenAPI document (admin_insights.cpp). Every change either happens whole or not at all; failures
// answer with the JSON error shape and a message quoting the bad input.
#pragma once

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> admin_upload_artifact(request_context& ctx);
// The same upload with the package name read from the archive's composer.json (the console's upload).
task<http::response> admin_upload_named_by_archive(request_context& ctx);
task<http::response> admin_list_packages(request_context& ctx);
task<http::response> admin_show_package(request_context& ctx);
task<http::response> admin_delete_package(request_context& ctx);
task<http::response> admin_delete_version(request_context& ctx);

// Tokens and admins (admin_tokens.cpp).
task<http::response> admin_list_tokens(request_context& ctx);
task<http::response> admin_create_token(request_context& ctx);
task<http::response> admin_show_token(request_context& ctx);
task<http::response> admin_update_token(request_context& ctx);
task<http::response> admin_revoke_token(request_context& ctx);
task<http::response> admin_me(request_context& ctx);
task<http::response> admin_create_session(request_context& ctx);
task<http::response> admin_end_session(request_context& ctx);
// The caller's session and its CSRF token (a console tab that was opened after sign-in needs it).
task<http::response> admin_current_session(request_context& ctx);
task<http::response> admin_list_admins(request_context& ctx);
task<http::response> admin_create_admin(request_context& ctx);
task<http::response> admin_revoke_admin(request_context& ctx);

// Audit, stats, status, OpenAPI (admin_insights.cpp).
task<http::response> admin_audit(request_context& ctx);
task<http::response> admin_stats(request_context& ctx);
task<http::response> admin_status(request_context& ctx);
task<http::response> admin_openapi(request_context& ctx);

// Sources (admin_sources.cpp).
task<http::response> admin_create_source(request_context& ctx);
task<http::response> admin_list_sources(request_context& ctx);
task<http::response> admin_show_source(request_context& ctx);
task<http::response> admin_update_source(request_context& ctx);
task<http::response> admin_delete_source(request_context& ctx);
task<http::response> admin_sync_source(request_context& ctx);
task<http::response> admin_reseal(request_context& ctx);
// A new webhook URL and secret (the old ones stop working).
task<http::response> admin_rotate_webhook_secret(request_context& ctx);
task<http::response> admin_skipped_refs(request_context& ctx);

}  // namespace pb::routes
