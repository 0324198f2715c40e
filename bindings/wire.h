// The wire shapes shared by effects.cpp and exports.cpp: headers as [[name, value], ...], responses
// as {"status","headers","body"|"body_handle"}, and the start document (PROTOCOL.md "Start").
#pragma once

#include <cstdint>
#include <string>

#include "core/json.h"
#include "core/result.h"
#include "http/message.h"

namespace pb::wire {

inline constexpr int protocol_version = 2;

void write_headers(json_writer& w, const http::headers& h);
http::headers read_headers(const json& j);
// raw_body_len >= 0: the body travels as raw bytes beside the document ("body_raw": length).
void write_response(json_writer& w, const http::response& r, std::int64_t raw_body_len = -1);

}  // namespace pb::wire
