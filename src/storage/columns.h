// Column values as the admin API shows them: empty strings and zero times become JSON null, times
// become ISO 8601 UTC strings. And LIKE patterns built from user text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/http_date.h"
#include "core/json.h"

namespace pb::storage {

inline json nullable(std::string_view s) { return s.empty() ? json() : json(s); }
inline json nullable_time(std::int64_t ms) { return ms ? json(format_iso8601_utc(ms)) : json(); }

// `text` as a LIKE pattern for "... LIKE ? ESCAPE '\'": SQL wildcards in it are escaped; with glob, '*'
// becomes '%'.
inline std::string like_pattern(std::string_view text, bool glob) {
  std::string like;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') like += '\\';
    like += (glob && c == '*') ? '%' : c;
  }
  return like;
}

}  // namespace pb::storage
