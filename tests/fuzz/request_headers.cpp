// What every request's headers go through before any storage is touched: the token in Authorization
// (Basic/Bearer, base64), package-name patterns, HTTP dates (If-Modified-Since) and ISO 8601 times.
// Invariants: a parsed date formats and parses back to the same second; decoded base64 re-encodes to
// something that decodes to the same bytes; a valid package name matches itself as a pattern.
#include "auth/credentials.h"
#include "core/base64.h"
#include "core/http_date.h"
#include "fuzz.h"
#include "http/headers.h"

using namespace pb;

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);

  http::headers h;
  h.add("authorization", in);
  auto token = auth::presented_token(h);
  fuzz::check(token.has_value(), "an Authorization header read as absent", in);

  if (auto decoded = base64_decode(in)) {
    auto again = base64_decode(base64_encode(*decoded));
    fuzz::check(again.ok() && *again == *decoded, "base64 does not round-trip", in);
  }

  if (auto s = parse_http_date(in)) {
    auto back = parse_http_date(format_http_date(*s * 1000));
    fuzz::check(back.has_value() && *back == *s, "an HTTP date does not format and parse back", in);
  }
  if (auto ms = parse_iso8601(in)) {
    const std::int64_t second = floor_div(*ms, 1000) * 1000;
    auto back = parse_iso8601(format_iso8601_utc(*ms));
    fuzz::check(back.has_value() && *back == second, "an ISO 8601 time does not format and parse back",
                std::string(in) + " -> " + format_iso8601_utc(*ms));
    auto packagist = parse_iso8601(format_iso8601(*ms));
    fuzz::check(packagist.has_value() && *packagist == second, "Packagist's time form does not parse back", in);
  }

  const auto parts = fuzz::split(in, '\n', 2);
  const std::string_view name = parts[0];
  if (auth::valid_package_name(name)) fuzz::check(auth::name_matches(name, name), "a package name does not match itself", name);
  if (parts.size() > 1) {
    (void)auth::name_matches(name, parts[1]);
    (void)auth::valid_pattern(parts[1]);
  }
  return 0;
}
