// Credential parsing, package patterns, the package-name rule, SHA-256 and constant-time comparison.
#include <catch2/catch_test_macros.hpp>

#include "auth/credentials.h"
#include "core/base64.h"
#include "core/http_date.h"
#include "core/sha256.h"

using namespace pb;
using namespace pb::auth;

namespace {
http::headers with_auth(std::string v) {
  http::headers h;
  h.add("Authorization", v);
  return h;
}
}  // namespace

TEST_CASE("presented_token reads Basic and Bearer", "[auth]") {
  CHECK_FALSE(presented_token(http::headers{}).has_value());
  CHECK(presented_token(with_auth("Bearer pbt_abc")) == "pbt_abc");
  CHECK(presented_token(with_auth("bearer   pbt_abc  ")) == "pbt_abc");
  CHECK(presented_token(with_auth("Basic " + base64_encode("token:pbt_x:y"))) == "pbt_x:y");
  CHECK(presented_token(with_auth("Basic " + base64_encode("pbt_only_user:"))) == "pbt_only_user");
  CHECK(presented_token(with_auth("Basic !!!")) == "");
  CHECK(presented_token(with_auth("Basic " + base64_encode("nocolon"))) == "");
  CHECK(presented_token(with_auth("Digest abc")) == "");
}

TEST_CASE("package patterns match like composer's globs", "[auth]") {
  CHECK(name_matches("acme/widget", "acme/*"));
  CHECK(name_matches("acme/widget", "*"));
  CHECK(name_matches("acme/widget", "ACME/Widget"));
  CHECK(name_matches("acme/widget-pro", "acme/widget*"));
  CHECK(name_matches("acme/widget", "*/widget"));
  CHECK_FALSE(name_matches("acmex/widget", "acme/*"));
  CHECK_FALSE(name_matches("acme/widget", "acme/w"));
  CHECK(name_matches("a/b", "a*b"));
  CHECK(any_matches("x/y", {"a/*", "x/*"}));
  CHECK_FALSE(any_matches("x/y", {}));
  CHECK(valid_pattern("acme/*"));
  CHECK_FALSE(valid_pattern("acme/{x}"));
  CHECK_FALSE(valid_pattern(""));
}

TEST_CASE("valid_package_name follows composer's rule", "[auth]") {
  for (const char* ok : {"acme/widget", "a/b", "acme-corp/widget.pro", "my_vendor/pkg--name", "v1/p2"})
    CHECK(valid_package_name(ok));
  for (const char* bad : {"acme", "Acme/widget", "acme/", "/widget", "acme/widget/x", "acme/-widget", "acme/wid..get",
                          "acme--corp/widget", "acme/widget-"})
    CHECK_FALSE(valid_package_name(bad));
}

TEST_CASE("sha256 matches the FIPS 180-4 vectors", "[crypto]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundary.
  CHECK(sha256_hex(std::string(55, 'x')).size() == 64);
  CHECK(sha256_hex(std::string(56, 'x')) != sha256_hex(std::string(57, 'x')));
}

TEST_CASE("constant_time_equals", "[crypto]") {
  CHECK(constant_time_equals("abc", "abc"));
  CHECK_FALSE(constant_time_equals("abc", "abd"));
  CHECK_FALSE(constant_time_equals("abc", "abcd"));
  CHECK(constant_time_equals("", ""));
}

TEST_CASE("parse_iso8601 accepts RFC 3339 and dates", "[time]") {
  CHECK(parse_iso8601("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_iso8601("2027-01-01T00:00:00Z") == 1798761600000);
  CHECK(parse_iso8601("2027-01-01") == 1798761600000);
  CHECK(parse_iso8601("2027-01-01T02:00:00+02:00") == 1798761600000);
  CHECK(parse_iso8601("2027-01-01T00:00:00.250Z") == 1798761600250);
  CHECK_FALSE(parse_iso8601("2027-02-30T00:00:00Z").has_value());
  CHECK_FALSE(parse_iso8601("2027-01-01T00:00:00").has_value());
  CHECK_FALSE(parse_iso8601("tomorrow").has_value());
  CHECK(format_iso8601_utc(1798761600000) == "2027-01-01T00:00:00Z");
  CHECK(format_day(1798761600000) == "2027-01-01");
}

TEST_CASE("patterns_intersect and pattern_covers decide over whole pattern languages", "[auth]") {
  CHECK(patterns_intersect("psr/*", "*"));
  CHECK(patterns_intersect("psr/*", "psr/log"));
  CHECK(patterns_intersect("psr/*", "*/log"));
  CHECK(patterns_intersect("x*", "*y"));  // "xy"
  CHECK(patterns_intersect("a*b*c", "*bb*"));
  CHECK_FALSE(patterns_intersect("psr/*", "acme/*"));
  CHECK_FALSE(patterns_intersect("psr/log", "psr/cache"));
  CHECK_FALSE(patterns_intersect("a*", "b*"));
  CHECK_FALSE(patterns_intersect("*a", "*b"));
  CHECK(patterns_intersect("PSR/*", "psr/log"));  // case-insensitive, as name_matches

  CHECK(pattern_covers("*", "psr/*"));
  CHECK(pattern_covers("psr/*", "psr/log"));
  CHECK(pattern_covers("psr/*", "psr/l*"));
  CHECK(pattern_covers("*/log", "psr/log"));
  CHECK(pattern_covers("a*", "a**"));
  CHECK_FALSE(pattern_covers("psr/log", "psr/*"));
  CHECK_FALSE(pattern_covers("psr/*", "*"));
  CHECK_FALSE(pattern_covers("*/log", "psr/*"));
  CHECK_FALSE(pattern_covers("a*b", "a*"));

  // Agreement with name_matches on sample names.
  const char* names[] = {"psr/log", "psr/cache", "acme/log", "a/b", "xy", "abbc", "ab"};
  const char* patterns[] = {"*", "psr/*", "*/log", "psr/log", "a*", "*b", "x*", "*y", "a*b*c", "*bb*"};
  for (const char* p : patterns)
    for (const char* q : patterns)
      for (const char* n : names) {
        INFO(p << " " << q << " " << n);
        if (name_matches(n, p) && name_matches(n, q)) CHECK(patterns_intersect(p, q));
        if (pattern_covers(p, q) && name_matches(n, q)) CHECK(name_matches(n, p));
      }
}
