// The Range request header (RFC 9110 section 14.2) for archive downloads: one byte range against an
// object of known size. Pure; /dist turns the outcome into a 206, a 416 or the whole archive.
#pragma once

#include <cstdint>
#include <string_view>

namespace pb::http {

struct byte_range {
  std::int64_t first = 0, last = 0;  // inclusive, 0 <= first <= last < size
};

enum class range_kind { none, ok, unsatisfiable };

// "bytes=a-b", "bytes=a-" and "bytes=-n" against an object of `size` bytes. Anything else (several
// ranges, other units, junk, numbers over 18 digits, b < a) is `none`: the whole object is served, as
// the RFC allows. A first byte at or past the end, or an empty suffix, is `unsatisfiable` (416).
range_kind parse_range(std::string_view header, std::int64_t size, byte_range& out);

}  // namespace pb::http
