// Talking to a source's upstream: its credentials (unsealed, or read from the named Worker secret) and
// requests that attach them only to the source's own origins (scheme, host and port of url and
// api_url, parsed as fetch() parses them), never over http once a redirect chain left https, and
// never to a CDN, a mirror or any other host an archive redirects to. Every request says who we are
// (User-Agent: GitHub refuses requests without one).
#pragma once

#include <string>
#include <vector>

#include "bindings/effects.h"
#include "bindings/task.h"
#include "core/result.h"
#include "core/settings.h"
#include "core/version.h"
#include "http/web_url.h"
#include "storage/sources.h"

namespace pb::sources {

struct upstream {
  std::vector<std::string> origins;  // origins credentials may go to ("https://host[:port]")
  std::string authorization;         // "Basic ..." / "Bearer ..." or empty
};

inline constexpr std::string_view user_agent = "package-broker/" PB_VERSION;

// The associated data a source's sealed credentials are bound to: its id and its origins, so a sealed
// value copied to another row, or kept across a change of url to another host, does not open.
std::string credentials_purpose(const storage::source_record& s);
// The origins a source's credentials may go to: url's, api_url's, and the public services' API hosts.
std::vector<std::string> credential_origins(const storage::source_record& s);

task<result<upstream>> open_upstream(const settings& cfg, storage::source_record s);

// True when url's origin is one of u.origins.
bool credentials_allowed(const upstream& u, const http::web_url& url);

// Performs req (its url must be an absolute http(s) URL): sets User-Agent, attaches u's credentials
// per credentials_allowed, and follows redirects of GET/HEAD by hand (at most 5), deciding again at
// each hop; once a hop goes from https to http, no later hop gets credentials.
task<result<fx::fetch_response>> upstream_fetch(const upstream& u, fx::fetch_request req);

// GET url as text (or as a handle), with If-Modified-Since when given.
task<result<fx::fetch_response>> upstream_get(const upstream& u, std::string url, std::string if_modified_since = {},
                                              fx::body_read read = fx::body_read::text);

// A URL from a Composer repository resolved against the document it came from (WHATWG rules, as
// composer's canonicalizeUrl does for the relative forms it knows); `ref` unchanged when it does not
// resolve (the request then fails with the reason).
std::string resolve_url(std::string_view base, std::string_view ref);

}  // namespace pb::sources
