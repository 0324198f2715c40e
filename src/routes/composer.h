// The Composer repository routes (token auth): /packages.json, /p2/{vendor}/{name}.json and ~dev.json,
// /dist/... archives, and composer's notify-batch POST /downloads. A package outside the token's scope
// answers exactly like an unknown one (404): a 403 would abort composer.
#pragma once

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> packages_json(request_context& ctx);
task<http::response> p2_document(request_context& ctx);
task<http::response> dist_archive(request_context& ctx);
task<http::response> notify_downloads(request_context& ctx);

}  // namespace pb::routes
