// Reading credentials off a request (HTTP Basic with the token as password, or Bearer), and package
// name patterns ("acme/*") that scope what a token may see. Pure: no effects.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/headers.h"

namespace pb::auth {

// The token from `Authorization: Bearer <t>` or `Basic base64(user:<t>)` (or `Basic base64(<t>:)`);
// nullopt when there is no Authorization header; an empty string when the header is malformed.
std::optional<std::string> presented_token(const http::headers& h);

// Composer's package-name glob: '*' matches any run of characters (including '/'); case-insensitive.
bool name_matches(std::string_view name, std::string_view pattern);
bool any_matches(std::string_view name, const std::vector<std::string>& patterns);

// Over two globs of name_matches: is there a name both match? Does every name `inner` matches also
// match `outer`? (Used to show a token only the part of a source's patterns within its scope.)
bool patterns_intersect(std::string_view a, std::string_view b);
bool pattern_covers(std::string_view outer, std::string_view inner);

// A pattern an admin may give a token: lower-case name characters, '/', '*'; 1..200 characters.
bool valid_pattern(std::string_view pattern);

// Composer package name rule (lower-case vendor/name), as composer validate enforces it.
bool valid_package_name(std::string_view name);

}  // namespace pb::auth
