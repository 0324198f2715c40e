// The wire shapes shared by effects.cpp and exports.cpp: headers as [[name, value], ...], responses
// as {"status","headers","body"|"body_handle"}, and the binary form of a fetch start document
// (PROTOCOL.md "Start"), which hosts share through encode_fetch_start.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "http/message.h"

namespace pb::wire {

inline constexpr int protocol_version = 2;

void write_headers(json_writer& w, const http::headers& h);
http::headers read_headers(const json& j);
// raw_body_len >= 0: the body travels as raw bytes beside the document ("body_raw": length).
void write_response(json_writer& w, const http::response& r, std::int64_t raw_body_len = -1);

// A fetch start document in its binary form: the request head as length-prefixed bytes, read without
// a JSON parse on every request. Starts with fetch_start_magic; a JSON start document starts with '{'.
inline constexpr std::string_view fetch_start_magic = "PBF2";
struct fetch_start {
  std::int64_t now_ms = 0;
  bool has_body = false;  // the request body is handle 0
  std::string method, url;
  http::headers headers;
};
std::string encode_fetch_start(const fetch_start& s);
result<fetch_start> decode_fetch_start(std::string_view doc);

}  // namespace pb::wire
