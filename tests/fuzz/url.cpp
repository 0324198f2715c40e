// http/url: parse_url, percent_decode, split_path and the query parameters on any text. Invariants:
// the path is never empty, decoding never grows a string, encoding then decoding gives the input
// back, and split_path's segments join back to the path.
#include "fuzz.h"
#include "http/url.h"

using namespace pb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  http::url u = http::parse_url(in);
  fuzz::check(!u.path.empty(), "empty path", in);
  (void)u.origin();
  for (const auto& [k, v] : u.query_params()) {
    auto first = u.query_param(k);
    fuzz::check(first.has_value(), "query_param misses a parameter query_params lists", k);
  }

  auto segments = http::split_path(u.path);
  fuzz::check(!segments.empty(), "split_path gave no segment", u.path);
  std::string joined;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i) joined += '/';
    joined += segments[i];
  }
  std::string_view expected = u.path;
  if (!expected.empty() && expected.front() == '/') expected.remove_prefix(1);
  fuzz::check(joined == expected, "split_path segments do not join back to the path", u.path);

  for (bool plus : {false, true}) {
    auto decoded = http::percent_decode(in, plus);
    if (decoded) fuzz::check(decoded->size() <= in.size(), "percent_decode grew the input", in);
    auto round = http::percent_decode(fuzz::percent_encode_all(in), plus);
    fuzz::check(round.has_value() && *round == in, "percent_decode(encode(x)) != x", in);
  }
  return 0;
}
