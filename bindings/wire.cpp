#include "wire.h"

namespace pb::wire {

void write_headers(json_writer& w, const http::headers& h) {
  w.begin_array();
  for (const auto& [k, v] : h.entries()) w.begin_array().value(k).value(v).end_array();
  w.end_array();
}

http::headers read_headers(const json& j) {
  http::headers h;
  for (const auto& pair : j.as_array()) {
    const auto& kv = pair.as_array();
    if (kv.size() == 2) h.add(kv[0].as_string(), kv[1].as_string());
  }
  return h;
}

void write_response(json_writer& w, const http::response& r, std::int64_t raw_body_len) {
  w.begin_object().field("status", r.status);
  w.key("headers");
  write_headers(w, r.header_list);
  if (r.body_from != http::no_body) {
    w.field("body_handle", std::int64_t{r.body_from});
  } else if (raw_body_len >= 0) {
    w.field("body_raw", raw_body_len);
    if (r.shared_body_id) w.field("body_id", static_cast<std::int64_t>(r.shared_body_id));
  } else {
    w.field("body", r.body_bytes());
  }
  if (!r.log_route.empty() || !r.log_note.empty()) {
    w.key("log").begin_object();
    if (!r.log_route.empty()) w.field("route", r.log_route);
    if (!r.log_cache.empty()) w.field("cache", r.log_cache);
    if (!r.log_note.empty()) w.field("detail", r.log_note);
    w.end_object();
  }
  w.end_object();
}

}  // namespace pb::wire
