// Answers shared by the Composer repository's routes (composer.cpp: packages.json, p2, notify-batch;
// dist.cpp: archives): the 404 of a package the token may not see, the plain 503 of a storage failure,
// and the answer that records the token's last use after it went out.
#pragma once

#include <string_view>

#include "bindings/task.h"
#include "core/result.h"
#include "http/message.h"
#include "routes/context.h"
#include "storage/tokens.h"

namespace pb::routes {

// 404 for a package that does not exist or lies outside the token's scope (the same answer for both).
http::response not_found_package(std::string_view name);

// Storage and upstream failures answer a plain message; what failed and where (a D1 error, an upstream
// URL that may carry a signed token, a secret's name) goes to the request log only.
http::response store_error(const error& e, std::string_view what = "storage");

// Sends the response; then, at most hourly per token, records the token's last use. The write happens
// after the client has its answer.
task<http::response> finish(request_context& ctx, http::response r, const storage::token_record& t);

}  // namespace pb::routes
