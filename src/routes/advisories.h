// Security advisories: composer's `security-advisories` API (POST form or GET with packages[]) for
// private packages (advisories an admin records) and mirrored ones (passed through from their
// packagist source, cached an hour in KV), and the admin API that records them.
#pragma once

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> security_advisories(request_context& ctx);
task<http::response> admin_create_advisory(request_context& ctx);
task<http::response> admin_list_advisories(request_context& ctx);
task<http::response> admin_delete_advisory(request_context& ctx);

}  // namespace pb::routes
