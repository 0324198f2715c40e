// The route table's matcher (routes/route_match.h) on "<METHOD> <url>": a match captures one
// percent-decoded value per "{x}" of its pattern, and the same values percent-encoded into the pattern
// match the same route again; a 405 always carries an Allow list; HEAD goes wherever GET goes.
#include "fuzz.h"
#include "http/url.h"
#include "routes/route_match.h"

using namespace pb;

namespace {
// The pattern with its placeholders replaced by the encoded values.
std::string fill(std::string_view pattern, const std::vector<std::string>& values) {
  std::string out;
  std::size_t next = 0;
  for (std::string_view seg : http::split_path(pattern)) {
    out += '/';
    if (!seg.empty() && seg.front() == '{') {
      out += fuzz::percent_encode_all(values[next++]);
    } else {
      out += seg;
    }
  }
  return out;
}

std::size_t placeholders(std::string_view pattern) {
  std::size_t n = 0;
  for (char c : pattern) n += c == '{';
  return n;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  if (in.empty()) return 0;
  const bool test_hooks = (in[0] & 1) != 0;
  const auto parts = fuzz::split(in.substr(1), ' ', 2);
  const std::string_view method = parts[0];
  const std::string path = parts.size() > 1 ? http::parse_url(parts[1]).path : std::string("/");

  routes::route_match m = routes::find_route(method, path, test_hooks);
  if (m.method_allowed) {
    fuzz::check(!m.pattern.empty() && m.allow.empty(), "a match without a pattern, or with an Allow list", path);
    fuzz::check(m.params.size() == placeholders(m.pattern), "captures do not fit the pattern", path);
    for (const auto& p : m.params) fuzz::check(!p.empty(), "an empty capture", path);
    const std::string again_path = fill(m.pattern, m.params);
    routes::route_match again = routes::find_route(method, again_path, test_hooks);
    fuzz::check(again.method_allowed && again.pattern == m.pattern && again.params == m.params,
                "re-encoded captures do not match the same route", path + " -> " + again_path);
    if (method == "GET")
      fuzz::check(routes::find_route("HEAD", path, test_hooks).pattern == m.pattern, "HEAD does not follow GET", path);
  } else if (!m.pattern.empty()) {
    fuzz::check(!m.allow.empty() && m.params.empty(), "a 405 without an Allow list", path);
  } else {
    fuzz::check(m.allow.empty() && m.params.empty(), "a 404 with an Allow list or captures", path);
  }
  return 0;
}
