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

namespace {

// Little-endian integers; a length that runs past the end is a protocol error.
struct reader {
  std::string_view in;
  std::size_t at = 0;
  bool ok = true;
  std::uint64_t uint(int bytes) {
    if (in.size() - at < static_cast<std::size_t>(bytes)) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
    at += bytes;
    return v;
  }
  std::string_view bytes() {
    std::uint64_t n = uint(4);
    if (!ok || in.size() - at < n) {
      ok = false;
      return {};
    }
    std::string_view v = in.substr(at, n);
    at += n;
    return v;
  }
};

void put_uint(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_bytes(std::string& out, std::string_view v) {
  put_uint(out, v.size(), 4);
  out += v;
}

}  // namespace

std::string encode_fetch_start(const fetch_start& s) {
  std::string out(fetch_start_magic);
  put_uint(out, static_cast<std::uint64_t>(s.now_ms), 8);
  put_uint(out, s.has_body ? 1 : 0, 4);
  put_bytes(out, s.method);
  put_bytes(out, s.url);
  put_uint(out, s.headers.entries().size(), 4);
  for (const auto& [k, v] : s.headers.entries()) {
    put_bytes(out, k);
    put_bytes(out, v);
  }
  return out;
}

result<fetch_start> decode_fetch_start(std::string_view doc) {
  auto bad = [](std::string_view what) {
    return make_error(error_code::protocol, "binary start document: " + std::string(what));
  };
  if (doc.substr(0, fetch_start_magic.size()) != fetch_start_magic) return bad("wrong magic");
  reader r{doc, fetch_start_magic.size()};
  fetch_start s;
  std::uint64_t now = r.uint(8);
  std::uint64_t flags = r.uint(4);
  // now_ms: an integer of milliseconds, within what a JS number holds exactly (2^53).
  if (!r.ok || now > (std::uint64_t{1} << 53) || flags > 1) return bad("bad time or flags");
  s.now_ms = static_cast<std::int64_t>(now);
  s.has_body = flags == 1;
  s.method = r.bytes();
  s.url = r.bytes();
  std::uint64_t count = r.uint(4);
  // Each header takes at least 8 bytes: a count beyond what is left is malformed, not a huge reserve.
  if (!r.ok || count > (doc.size() - r.at) / 8) return bad("truncated");
  for (std::uint64_t i = 0; i < count && r.ok; ++i) {
    std::string_view k = r.bytes();
    std::string_view v = r.bytes();
    if (r.ok) s.headers.add(k, v);
  }
  if (!r.ok) return bad("truncated");
  if (r.at != doc.size()) return bad("trailing bytes");
  return s;
}

}  // namespace pb::wire
