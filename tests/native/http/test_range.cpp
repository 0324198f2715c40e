// The Range header parser behind /dist's 206 and 416 answers.
#include <catch2/catch_test_macros.hpp>

#include "http/range.h"

using namespace pb::http;

namespace {
struct outcome {
  range_kind kind;
  std::int64_t first = -1, last = -1;
};
outcome parse(std::string_view header, std::int64_t size) {
  byte_range r{-1, -1};
  range_kind k = parse_range(header, size, r);
  return {k, r.first, r.last};
}
}  // namespace

TEST_CASE("parse_range: one range, open end and suffix", "[range]") {
  auto a = parse("bytes=0-9", 100);
  CHECK(a.kind == range_kind::ok);
  CHECK((a.first == 0 && a.last == 9));
  auto open = parse("bytes=90-", 100);
  CHECK(open.kind == range_kind::ok);
  CHECK((open.first == 90 && open.last == 99));
  auto past_end = parse("bytes=50-1000", 100);
  CHECK(past_end.kind == range_kind::ok);
  CHECK((past_end.first == 50 && past_end.last == 99));
  auto suffix = parse("bytes=-5", 100);
  CHECK(suffix.kind == range_kind::ok);
  CHECK((suffix.first == 95 && suffix.last == 99));
  auto whole_suffix = parse("bytes=-500", 100);
  CHECK(whole_suffix.kind == range_kind::ok);
  CHECK((whole_suffix.first == 0 && whole_suffix.last == 99));
  auto last_byte = parse("bytes=99-99", 100);
  CHECK(last_byte.kind == range_kind::ok);
  CHECK((last_byte.first == 99 && last_byte.last == 99));
}

TEST_CASE("parse_range: unsatisfiable ranges answer 416", "[range]") {
  CHECK(parse("bytes=100-", 100).kind == range_kind::unsatisfiable);
  CHECK(parse("bytes=100-200", 100).kind == range_kind::unsatisfiable);
  CHECK(parse("bytes=-0", 100).kind == range_kind::unsatisfiable);
  CHECK(parse("bytes=-5", 0).kind == range_kind::unsatisfiable);
  CHECK(parse("bytes=0-", 0).kind == range_kind::unsatisfiable);
}

TEST_CASE("parse_range: anything else is ignored and the whole archive is served", "[range]") {
  for (const char* h : {"", "bytes", "bytes=", "bytes=-", "items=0-1", "Bytes=0-1", "bytes=0-1,5-6", "bytes=a-b",
                        "bytes=5-4", "bytes= 0-1", "bytes=0-1 ", "bytes=+1-2", "bytes=--1", "bytes=1--2",
                        "bytes=0-1234567890123456789", "bytes=1234567890123456789-", "bytes=-1234567890123456789"}) {
    INFO(h);
    auto o = parse(h, 100);
    CHECK(o.kind == range_kind::none);
    CHECK((o.first == -1 && o.last == -1));  // out is untouched
  }
  // 18 digits is the most a number may have
  auto big = parse("bytes=0-999999999999999999", 100);
  CHECK(big.kind == range_kind::ok);
  CHECK(big.last == 99);
}
