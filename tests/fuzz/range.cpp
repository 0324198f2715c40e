// http/range: the Range header against any object size >= 0 (the first 8 bytes of the input; the rest
// is the header). A satisfiable range lies inside the object; nothing else touches the output.
#include <cstring>

#include "fuzz.h"
#include "http/range.h"

using namespace pb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint64_t raw = 0;
  const std::size_t n = size < 8 ? size : 8;
  std::memcpy(&raw, data, n);
  // Mostly small sizes (where off-by-ones live), sometimes anything up to 2^63 - 1.
  const std::int64_t object_size =
      static_cast<std::int64_t>((raw & 1) ? (raw >> 1) : ((raw >> 1) % 4096));
  const std::string_view header = fuzz::as_text(data + n, size - n);

  http::byte_range r{-7, -7};
  switch (http::parse_range(header, object_size, r)) {
    case http::range_kind::ok:
      fuzz::check(r.first >= 0 && r.first <= r.last && r.last < object_size, "range outside the object",
                  std::string(header) + " size " + std::to_string(object_size) + " -> " + std::to_string(r.first) +
                      "-" + std::to_string(r.last));
      fuzz::check(header.substr(0, 6) == "bytes=", "a range without the bytes unit", header);
      break;
    case http::range_kind::none:
    case http::range_kind::unsatisfiable:
      fuzz::check(r.first == -7 && r.last == -7, "output written without a range", header);
      break;
  }
  return 0;
}
