// PHP's json_encode as Packagist calls it (JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), in pieces:
// the rules (p2_builder.cpp, p2_fields.cpp) write each member of a version straight into an encoded_entry
// with these, the writer (p2_writer.cpp, where they live) writes the documents. Internal to src/composer.
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"

namespace pb::composer::detail {

void encode_string(std::string& out, std::string_view s);  // a string value or key, quotes included
void encode_value(std::string& out, const json& v);        // packagist_json_encode, appended
bool holds_double(const json& v);                          // a float anywhere inside (encoded text is not enough)

}  // namespace pb::composer::detail
