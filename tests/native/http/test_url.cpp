// URL splitting, percent-decoding and query parameters.
#include <catch2/catch_test_macros.hpp>

#include "http/url.h"

using namespace pb::http;

TEST_CASE("parse_url splits scheme, host, path and query", "[url]") {
  url u = parse_url("https://repo.example.com:8443/p2/acme/widget~dev.json?x=1&y=a%20b#frag");
  CHECK(u.scheme == "https");
  CHECK(u.host == "repo.example.com:8443");
  CHECK(u.path == "/p2/acme/widget~dev.json");
  CHECK(u.query == "x=1&y=a%20b");
  CHECK(u.query_param("y") == "a b");
  CHECK_FALSE(u.query_param("z").has_value());
  CHECK(u.origin() == "https://repo.example.com:8443");
  CHECK(parse_url("http://h").path == "/");
}

TEST_CASE("percent_decode rejects malformed escapes", "[url]") {
  CHECK(percent_decode("a%2Fb") == "a/b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK_FALSE(percent_decode("%").has_value());
  CHECK_FALSE(percent_decode("%4").has_value());
  CHECK_FALSE(percent_decode("%zz").has_value());
}

TEST_CASE("split_path keeps empty segments", "[url]") {
  auto s = split_path("/a/b/");
  REQUIRE(s.size() == 3);
  CHECK(s[0] == "a");
  CHECK(s[2].empty());
}

TEST_CASE("the edge cache works everywhere but on workers.dev hosts", "[http]") {
  CHECK(parse_url("https://packages.example.com/dist/a").edge_cache_works());
  CHECK(parse_url("https://workers.dev/x").edge_cache_works());  // not a workers.dev subdomain
  CHECK(parse_url("https://notworkers.dev/x").edge_cache_works());
  CHECK_FALSE(parse_url("https://pb.acme.workers.dev/x").edge_cache_works());
  CHECK_FALSE(parse_url("https://pb.acme.Workers.Dev:443/x").edge_cache_works());
  CHECK_FALSE(parse_url("https://pb.acme.workers.dev./x").edge_cache_works());
}
