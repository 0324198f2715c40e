// Column values as the admin API shows them: empty strings and zero times become JSON null, times
// become ISO 8601 UTC strings.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/http_date.h"
#include "core/json.h"

namespace pb::storage {

inline json nullable(std::string_view s) { return s.empty() ? json() : json(s); }
inline json nullable_time(std::int64_t ms) { return ms ? json(format_iso8601_utc(ms)) : json(); }

}  // namespace pb::storage
