// HTTP dates (RFC 9110 §5.6.7) for Last-Modified / If-Modified-Since, ISO 8601 parsing for the admin API
// and upstream metadata, and the ISO 8601 form Packagist writes in a version's `time` ("2026-11-29T01:02:03+00:00", PHP's DateTime::format('Y-m-d\TH:i:sP')
// in UTC). Proleptic Gregorian calendar, UTC only, no time zone database and no clock: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb {

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Milliseconds are truncated toward the past
// (floor), so -1 ms is 23:59:59 on 1969-12-31.
[[nodiscard]] std::string format_http_date(std::int64_t unix_ms);

// Unix seconds for an HTTP date in any of the three forms a recipient must accept:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"  (two-digit year: 00-69 -> 20xx, 70-99 -> 19xx)
//   asctime      "Sun Nov  6 08:49:37 1994"        (day as "SP DIGIT" or two digits)
// Names (day, month, "GMT") match case-insensitively; the day name must be a valid one but is not
// checked against the date. Surrounding spaces/tabs are ignored. Ranges are checked (day within the
// month, hour < 24, minute < 60, second <= 60). nullopt for anything else.
[[nodiscard]] std::optional<std::int64_t> parse_http_date(std::string_view text);

// "YYYY-MM-DDTHH:MM:SS+00:00" (floor of the milliseconds), the form of Packagist's `time` field.
[[nodiscard]] std::string format_iso8601(std::int64_t unix_ms);
// "YYYY-MM-DDTHH:MM:SSZ", the form the admin API writes; "YYYY-MM-DD" for daily buckets.
[[nodiscard]] std::string format_iso8601_utc(std::int64_t unix_ms);
[[nodiscard]] std::string format_day(std::int64_t unix_ms);

// Unix milliseconds for an RFC 3339 / ISO 8601 timestamp as the admin API and Composer metadata give
// them: "2027-01-01T00:00:00Z", "...+02:00", "...T00:00:00.123Z", or a bare date "2027-01-01".
// A time without a zone is rejected. nullopt for anything that is not a valid timestamp.
[[nodiscard]] std::optional<std::int64_t> parse_iso8601(std::string_view s);

}  // namespace pb
