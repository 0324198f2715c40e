// The wire shapes shared by effects.cpp and exports.cpp: headers as [[name, value], ...], responses
// as {"status","headers","body"|"body_handle"}, and the binary forms of a fetch's start and finish
// documents (PROTOCOL.md "Start", "Finish"), which native hosts share through encode_fetch_start and
// read_finish.
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
  // Only the headers a warm path reads (pb_warm_headers): pb_start answers 0 when no warm path
  // answers, and the host starts again with every header.
  bool partial = false;
  std::string method, url;
  http::headers headers;
};
std::string encode_fetch_start(const fetch_start& s);
result<fetch_start> decode_fetch_start(std::string_view doc);

// A fetch's finish document in its binary form (PROTOCOL.md "Finish, binary form"): the status, the
// headers and the log labels as length-prefixed bytes the shim reads without JSON.parse; a head whose
// response marks shared headers gets a head id, the same for the same bytes for the instance's
// lifetime. raw_body_len >= 0: the body travels as raw bytes beside the document.
inline constexpr std::string_view fetch_finish_magic = "PBR2";
std::string encode_fetch_finish(const http::response& r, std::int64_t raw_body_len);
// A finish document as the JSON shape hosts read ({"response":{...}}, {}, {"retry":[...]}), from
// either form; what a native host calls instead of parse_json on pb_out.
result<json> read_finish(std::string_view doc);

}  // namespace pb::wire
