// Route lookup: which entry of the route table (routes.cpp) answers a method and a path, with the
// path's "{x}" captures percent-decoded. handle_fetch is its production caller; it is declared here so
// that tests and the route fuzzer (tests/fuzz/route_match.cpp) can drive the matcher without a request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pb::routes {

struct route_match {
  std::string_view pattern;         // the matching route's pattern; empty when no route has this path
  bool method_allowed = false;      // a route with this path takes this method (GET also takes HEAD)
  std::vector<std::string> params;  // the captures, in order, when method_allowed
  std::string allow;                // the Allow header for a 405 (path known, method not allowed)
};

// Test-hook routes (/__test/...) take part only when test_hooks is set.
route_match find_route(std::string_view method, std::string_view path, bool test_hooks);

}  // namespace pb::routes
