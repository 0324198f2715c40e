#include "wire.h"

#include <functional>
#include <limits>
#include <unordered_map>

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

// One append per integer (a byte at a time was 1.5% of a warm p2 hit's CPU).
void put_uint(std::string& out, std::uint64_t v, int bytes) {
  char b[8];
  for (int i = 0; i < bytes; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, static_cast<std::size_t>(bytes));
}

void put_bytes(std::string& out, std::string_view v) {
  put_uint(out, v.size(), 4);
  out += v;
}

}  // namespace

std::string encode_fetch_start(const fetch_start& s) {
  std::string out(fetch_start_magic);
  put_uint(out, static_cast<std::uint64_t>(s.now_ms), 8);
  put_uint(out, (s.has_body ? 1 : 0) | (s.partial ? 2 : 0), 4);
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
  if (!r.ok || now > (std::uint64_t{1} << 53) || flags > 3) return bad("bad time or flags");
  s.now_ms = static_cast<std::int64_t>(now);
  s.has_body = (flags & 1) != 0;
  s.partial = (flags & 2) != 0;
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

namespace {

// Head ids: the same head block (status, log labels, shared headers) gets the same id for the
// instance's lifetime, so a host may keep the decoded form (the shim: the Response's header record).
// Bounded: when full the table starts over with new ids (ids are never reused), which costs hosts a
// decode, never a wrong head.
constexpr std::size_t max_heads = 512;

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

std::uint32_t head_id_of(std::string_view block) {
  static std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>> heads;
  static std::uint32_t last = 0;
  if (auto it = heads.find(block); it != heads.end()) return it->second;
  if (last == std::numeric_limits<std::uint32_t>::max()) return 0;  // ids ran out: no more sharing
  if (heads.size() >= max_heads) heads.clear();
  heads.emplace(std::string(block), ++last);
  return last;
}

void put_headers(std::string& out, const std::vector<http::headers::entry>& h, std::size_t from, std::size_t to) {
  put_uint(out, to - from, 4);
  for (std::size_t i = from; i < to; ++i) {
    put_bytes(out, h[i].first);
    put_bytes(out, h[i].second);
  }
}

enum body_kind : std::uint32_t { body_none = 0, body_raw = 1, body_stream = 2 };

}  // namespace

std::string encode_fetch_finish(const http::response& r, std::int64_t raw_body_len) {
  const auto& h = r.header_list.entries();
  const std::size_t shared = std::min<std::size_t>(r.shared_headers, h.size());
  std::string out(fetch_finish_magic);
  out.reserve(128 + 2 * r.log_note.size());
  std::uint32_t kind = body_none, value = 0;
  if (r.status != 0 && r.body_from != http::no_body) {
    kind = body_stream;
    value = static_cast<std::uint32_t>(r.body_from);
  } else if (r.status != 0 && raw_body_len >= 0) {
    kind = body_raw;
    value = static_cast<std::uint32_t>(raw_body_len);
  }
  put_uint(out, kind, 4);
  put_uint(out, value, 4);
  // Body ids above 2^32 go as 0 (no id): the host copies the body, nothing else changes.
  const bool has_id = kind == body_raw && r.shared_body_id <= std::numeric_limits<std::uint32_t>::max();
  put_uint(out, has_id ? r.shared_body_id : 0, 4);
  const std::size_t head_id_at = out.size();
  put_uint(out, 0, 4);  // the head id, once the block is written
  const std::size_t head_len_at = out.size();
  put_uint(out, 0, 4);
  const std::size_t head_at = out.size();
  put_uint(out, static_cast<std::uint32_t>(r.status), 4);
  put_bytes(out, r.log_route);
  put_bytes(out, r.log_cache);
  put_headers(out, h, 0, r.status != 0 ? shared : 0);
  const std::string_view block = std::string_view(out).substr(head_at);
  const std::uint32_t head_id = r.status != 0 && shared > 0 ? head_id_of(block) : 0;
  const std::size_t head_len = block.size();
  for (int i = 0; i < 4; ++i) {
    out[head_id_at + i] = static_cast<char>((head_id >> (8 * i)) & 0xff);
    out[head_len_at + i] = static_cast<char>((head_len >> (8 * i)) & 0xff);
  }
  put_headers(out, h, r.status != 0 ? shared : 0, r.status != 0 ? h.size() : 0);
  put_bytes(out, r.log_note);
  return out;
}

result<json> read_finish(std::string_view doc) {
  if (doc.substr(0, fetch_finish_magic.size()) != fetch_finish_magic) return parse_json(doc);
  auto bad = [] { return make_error(error_code::protocol, "binary finish document: truncated or malformed"); };
  reader rd{doc, fetch_finish_magic.size()};
  const std::uint64_t kind = rd.uint(4), value = rd.uint(4), body_id = rd.uint(4);
  (void)rd.uint(4);  // the head id: a native host decodes every head
  const std::uint64_t head_len = rd.uint(4);
  const std::size_t head_at = rd.at;
  const std::uint64_t status = rd.uint(4);
  const std::string_view route = rd.bytes(), cache = rd.bytes();
  json headers = json::array();
  auto read_headers_into = [&] {
    std::uint64_t n = rd.uint(4);
    if (!rd.ok || n > (doc.size() - rd.at) / 8) return false;
    for (std::uint64_t i = 0; i < n && rd.ok; ++i) {
      std::string_view k = rd.bytes(), v = rd.bytes();
      json pair = json::array();
      pair.push_back(json(std::string(k)));
      pair.push_back(json(std::string(v)));
      headers.push_back(std::move(pair));
    }
    return rd.ok;
  };
  if (!rd.ok || !read_headers_into() || rd.at - head_at != head_len || !read_headers_into()) return bad();
  const std::string_view detail = rd.bytes();
  if (!rd.ok || rd.at != doc.size() || kind > body_stream) return bad();
  json fin = json::object();
  if (status == 0) return fin;
  json r = json::object();
  r.set("status", json(static_cast<std::int64_t>(status)));
  r.set("headers", std::move(headers));
  if (kind == body_stream) r.set("body_handle", json(static_cast<std::int64_t>(value)));
  if (kind == body_raw) {
    r.set("body_raw", json(static_cast<std::int64_t>(value)));
    if (body_id) r.set("body_id", json(static_cast<std::int64_t>(body_id)));
  }
  if (!route.empty() || !detail.empty()) {
    json log = json::object();
    if (!route.empty()) log.set("route", json(std::string(route)));
    if (!cache.empty()) log.set("cache", json(std::string(cache)));
    if (!detail.empty()) log.set("detail", json(std::string(detail)));
    r.set("log", std::move(log));
  }
  fin.set("response", std::move(r));
  return fin;
}

}  // namespace pb::wire
