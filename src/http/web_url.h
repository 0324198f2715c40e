// web_url: absolute http(s) URLs of upstreams, parsed by the WHATWG URL Standard exactly as fetch()
// parses them (ada, vendored in third_party/ada), so that the origin we compare before attaching
// credentials is the origin fetch() connects to. Stricter than the standard in one way: a scheme must
// be followed by "//" ("https:evil.example" is refused, not repaired).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace pb::http {

struct web_url {
  std::string href;    // serialized (what fetch() requests)
  std::string scheme;  // "http" | "https"
  std::string host;    // serialized host: lower-case ASCII (internationalized names only as punycode), IPv4 dotted, [IPv6]
  int port = 0;        // the explicit port, else the scheme's default (80, 443)
  bool has_userinfo = false;

  // "https://host" or "https://host:8443" (the default port is left out, as in the standard).
  std::string origin() const;
  bool same_origin(const web_url& o) const { return scheme == o.scheme && host == o.host && port == o.port; }
};

// An absolute http(s) URL; bad_request naming what is wrong otherwise. The common canonical form is
// taken without ada's parse (same answer); `short_cut` false always parses with ada: for the tests and
// the fuzz target that hold the two to the same answers.
result<web_url> parse_web_url(std::string_view input, bool short_cut = true);
// `ref` (absolute, scheme-relative, or relative) resolved against `base`, as a browser follows a link
// or a Location header; the result must be http(s) too.
result<web_url> resolve_web_url(const web_url& base, std::string_view ref);

}  // namespace pb::http
