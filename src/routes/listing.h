// Composer's name listing and search for this repository, scoped to the caller's token: packages.json's
// `list` URL (GET /packages/list.json?filter=acme/*&vendor=acme -> {"packageNames":[...]}) and `search`
// URL (GET /search.json?q=&type= -> packagist's {"results":[...],"total":n}), so `composer show -a`,
// `composer search` and `composer outdated` work with every source type. A package whose versions are
// all outside the token's licences is not listed.
#pragma once

#include <string>
#include <vector>

#include "bindings/task.h"
#include "core/result.h"
#include "http/message.h"
#include "routes/context.h"
#include "storage/tokens.h"

namespace pb::routes {

// The names (of `names`) the token may see: its scope, then its licences (one D1 read, only when some
// licence names one of them).
task<result<std::vector<std::string>>> visible_names(const storage::token_record& t, std::vector<std::string> names);

task<http::response> package_list(request_context& ctx);
task<http::response> package_search(request_context& ctx);

}  // namespace pb::routes
