// The route table's matcher (find_route): captures, HEAD, 405 with Allow, escapes, test-hook routes.
#include <catch2/catch_test_macros.hpp>

#include "routes/route_match.h"

using namespace pb::routes;

TEST_CASE("find_route captures percent-decoded segments", "[routes]") {
  auto m = find_route("GET", "/p2/acme/widget%7Edev.json", false);
  CHECK(m.method_allowed);
  CHECK(m.pattern == "/p2/{vendor}/{file}");
  CHECK(m.params == std::vector<std::string>{"acme", "widget~dev.json"});
  CHECK(m.allow.empty());

  auto head = find_route("HEAD", "/dist/a/b/1.0.0.0/abc.zip", false);
  CHECK(head.method_allowed);
  CHECK(head.params == std::vector<std::string>{"a", "b", "1.0.0.0", "abc.zip"});
}

TEST_CASE("find_route: a known path with another method is a 405 with its Allow list", "[routes]") {
  auto m = find_route("DELETE", "/admin/api/tokens", false);
  CHECK_FALSE(m.method_allowed);
  CHECK(m.pattern == "/admin/api/tokens");
  CHECK(m.allow == "GET, HEAD, POST");
  CHECK(m.params.empty());
  CHECK(find_route("PUT", "/health", false).allow == "GET, HEAD");
}

TEST_CASE("find_route: unknown paths, empty captures and bad escapes match nothing", "[routes]") {
  for (const char* path : {"/nope", "/p2/acme", "/p2//widget.json", "/p2/acme/%zz.json", "/p2/acme/widget.json/",
                           "/health/", "", "/__test/trap"}) {
    INFO(path);
    auto m = find_route("GET", path, false);
    CHECK_FALSE(m.method_allowed);
    CHECK(m.pattern.empty());
    CHECK(m.allow.empty());
  }
  CHECK(find_route("GET", "/__test/trap", true).method_allowed);
}
