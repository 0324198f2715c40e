// Parsing of ISO 8601 / RFC 3339 timestamps as the admin API accepts them ("2027-01-01T00:00:00Z",
// "2027-01-01T00:00:00+02:00", "2027-01-01T00:00:00.123Z", or a bare date "2027-01-01"), and the
// civil-date arithmetic shared with the formatters in http_date.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);

// Unix milliseconds, or nullopt for anything that is not a valid timestamp.
std::optional<std::int64_t> parse_iso8601(std::string_view s);

// "2026-11-29T01:02:03Z" (admin API form); "YYYY-MM-DD" for day buckets.
std::string format_iso8601_utc(std::int64_t unix_ms);
std::string format_day(std::int64_t unix_ms);

}  // namespace pb
