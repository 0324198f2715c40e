// Talking to a source's upstream: its credentials (unsealed, or read from the named Worker secret) and
// GET requests that attach them only when the URL's host is one of the source's own hosts (url and
// api_url), so credentials never reach a CDN, a mirror or a redirect target on another host.
#pragma once

#include <string>
#include <vector>

#include "bindings/effects.h"
#include "bindings/task.h"
#include "core/result.h"
#include "core/settings.h"
#include "storage/sources.h"

namespace pb::sources {

struct upstream {
  std::vector<std::string> hosts;  // host[:port] values credentials may go to
  std::string authorization;       // "Basic ..." / "Bearer ..." or empty
};

task<result<upstream>> open_upstream(const settings& cfg, storage::source_record s);

// True when url's host is one of u.hosts (exact host[:port] match, case-insensitive).
bool same_host(const upstream& u, std::string_view url);

// GET url as text (or as a handle), with If-Modified-Since when given; credentials per same_host.
task<result<fx::fetch_response>> upstream_get(const upstream& u, std::string url, std::string if_modified_since = {},
                                              fx::body_read read = fx::body_read::text);

// Resolves a possibly relative URL from a Composer repository against its base (canonicalizeUrl).
std::string resolve_url(std::string_view base, std::string_view ref);

}  // namespace pb::sources
