// The Composer repository routes (token auth): /packages.json, /p2/{vendor}/{name}.json and ~dev.json,
// /dist/... archives, and composer's notify-batch POST /downloads. A package outside the token's scope
// answers exactly like an unknown one (404): a 403 would abort composer.
#pragma once

#include <optional>

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

task<http::response> packages_json(request_context& ctx);
// packages_json's warm answer: the token and the catalog in the hot cache with a body already rendered
// for this origin, scope and licence set (and the p2 warm path's other conditions); nullopt otherwise.
std::optional<http::response> packages_json_warm(request_context& ctx);
task<http::response> p2_document(request_context& ctx);
// p2_document's warm hit as a plain function (no coroutine, no effect): the token and the document both
// in the isolate's hot cache, no hourly last-use write due, under the rate limit. nullopt for anything
// else (a denial of the rate limit is not counted): p2_document then answers it.
std::optional<http::response> p2_document_warm(request_context& ctx);
task<http::response> dist_archive(request_context& ctx);
task<http::response> notify_downloads(request_context& ctx);

}  // namespace pb::routes
