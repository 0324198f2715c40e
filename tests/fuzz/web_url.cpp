// Upstream URLs and the credential check (http/web_url.h, sources/upstream.h): line 1 is a URL, line 2
// a reference resolved against it (a Location header, a relative dist URL), line 3 a source's url and
// line 4 its api_url. Invariants: a parsed URL is http(s) with a lower-case ASCII host and a port in
// range, and its href parses back to the same origin (what fetch() requests goes where was checked);
// credentials_allowed (a string comparison of origins) agrees with same_origin on the parsed scheme,
// host and port, for every URL and every source; parse_web_url's short cut for the canonical form gives
// the same web_url (or the same error) as ada.
#include <algorithm>

#include "fuzz.h"
#include "http/web_url.h"
#include "sources/upstream.h"

using namespace pb;

namespace {

void check_url(const http::web_url& u, std::string_view input) {
  fuzz::check(u.scheme == "http" || u.scheme == "https", "a web_url that is not http(s)", input);
  fuzz::check(!u.host.empty(), "a web_url without a host", input);
  fuzz::check(std::none_of(u.host.begin(), u.host.end(),
                           [](char c) { return (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80; }),
              "a host that is not lower-case ASCII", u.host);
  fuzz::check(u.port >= 0 && u.port <= 65535, "a port out of range", input);  // 0 is a valid URL port
  fuzz::check(u.href.rfind(u.scheme + "://", 0) == 0, "an href without scheme://", u.href);
  // The href parses again to the same origin. Not always to the same href: ada 2.7.8 (Node 20's too)
  // leaves "dis/.." unresolved in paths such as "/x:/.com/dis/../t" that the reference implementation
  // (whatwg-url) resolves, so a second parse may shorten the path; origins are what credentials follow.
  auto again = http::parse_web_url(u.href);
  fuzz::check(again.ok(), "an href that does not parse again", u.href);
  fuzz::check(again->same_origin(u) && again->origin() == u.origin(), "an href that parses to another origin", u.href);
  auto origin = http::parse_web_url(u.origin());
  fuzz::check(origin.ok() && origin->same_origin(u) && origin->origin() == u.origin(), "an origin that does not parse back",
              u.origin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto lines = fuzz::split(fuzz::as_text(data, size), '\n', 4);
  auto url = http::parse_web_url(lines[0]);
  // The canonical form's short cut (web_url.cpp) gives ada's answer, whichever way it goes.
  auto by_ada = http::parse_web_url(lines[0], false);
  fuzz::check(url.ok() == by_ada.ok(), "the short cut and ada disagree on accepting", lines[0]);
  if (url && by_ada)
    fuzz::check(url->href == by_ada->href && url->scheme == by_ada->scheme && url->host == by_ada->host &&
                    url->port == by_ada->port && url->has_userinfo == by_ada->has_userinfo,
                "the short cut and ada parse differently", lines[0]);
  if (!url && !by_ada) fuzz::check(url.err().message == by_ada.err().message, "the short cut and ada refuse differently", lines[0]);
  if (url) {
    check_url(*url, lines[0]);
  } else {
    fuzz::check(!url.err().message.empty(), "an error without a message", lines[0]);
  }
  if (url && lines.size() > 1) {
    if (auto next = http::resolve_web_url(*url, lines[1])) check_url(*next, lines[1]);
    (void)sources::resolve_url(url->href, lines[1]);
  }

  storage::source_record s;
  s.type = lines.size() > 2 && !lines[2].empty() && (lines[2][0] & 1) ? "github" : "composer";
  s.url = lines.size() > 2 ? std::string(lines[2]) : "https://repo.example";
  s.api_url = lines.size() > 3 ? std::string(lines[3]) : std::string();
  sources::upstream u;
  u.origins = sources::credential_origins(s);
  std::vector<http::web_url> allowed;
  for (const std::string& o : u.origins) {
    auto parsed = http::parse_web_url(o);
    fuzz::check(parsed.ok() && parsed->origin() == o, "a credential origin that is not an origin", o);
    allowed.push_back(*parsed);
  }
  (void)sources::credentials_purpose(s);
  for (std::string_view candidate : lines) {
    auto target = http::parse_web_url(candidate);
    if (!target) continue;
    const bool by_string = sources::credentials_allowed(u, *target);
    const bool by_parts = std::any_of(allowed.begin(), allowed.end(), [&](const http::web_url& a) { return a.same_origin(*target); });
    fuzz::check(by_string == by_parts, "credentials_allowed disagrees with same_origin", std::string(candidate) + " vs " + s.url);
  }
  return 0;
}
