// URL parsing for incoming requests: scheme, host (with port), percent-decoded path segments and the
// query string. Enough for routing; not a general WHATWG URL parser (the host already validated it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pb::http {

struct url {
  std::string scheme;  // "http" / "https"
  std::string host;    // host[:port] as received
  std::string path;    // raw path, starts with '/'
  std::string query;   // without '?'

  std::string origin() const { return scheme + "://" + host; }
  // False on *.workers.dev: Cloudflare's Cache API does nothing there (matches and puts are no-ops).
  bool edge_cache_works() const;
  // First value of a query parameter, percent-decoded ('+' is a space).
  std::optional<std::string> query_param(std::string_view name) const;
  std::vector<std::pair<std::string, std::string>> query_params() const;
};

url parse_url(std::string_view s);
// Percent-decodes; returns nullopt on a malformed escape. plus_is_space for form/query encoding.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);
// Percent-encodes everything but RFC 3986 unreserved characters ("group/sub" -> "group%2Fsub").
std::string percent_encode(std::string_view s);
// Splits a path into segments ("/a/b/" -> {"a","b",""}), without decoding.
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace pb::http
