#include "effects.h"

#include <algorithm>
#include <climits>

#include "core/base64.h"
#include "wire.h"

namespace pb::fx {

std::int64_t subrequests_left() {
  effect_sink* sink = current_effect_sink();
  return sink ? sink->subrequests_left() : INT64_MAX;
}

namespace {

template <class T>
typed_effect<T> make(json_writer&& w, typename typed_effect<T>::parser p) {
  w.end_object();
  return typed_effect<T>{raw_effect{std::move(w).str()}, p};
}

json_writer begin(std::string_view op) {
  json_writer w;
  w.begin_object().field("op", op);
  return w;
}

void write_params(json_writer& w, const sql_params& params) {
  w.key("params").begin_array();
  for (const auto& p : params) w.value(p);
  w.end_array();
}

d1_result to_d1_result(const json& v) {
  d1_result r;
  r.rows = v["results"].as_array();
  r.changes = v["meta"]["changes"].as_int();
  r.last_row_id = v["meta"]["last_row_id"].as_int();
  return r;
}

result<std::monostate> ignore_value(effect_outcome&& o) {
  if (!o) return std::move(o).err();
  return std::monostate{};
}

result<d1_result> parse_d1(effect_outcome&& o) {
  if (!o) return std::move(o).err();
  return to_d1_result(*o);
}

const char* read_name(body_read r) {
  switch (r) {
    case body_read::text: return "text";
    case body_read::bytes: return "base64";
    case body_read::handle: break;
  }
  return "handle";
}

// A body in the reply: "body" (text) or "body_b64" (bytes).
result<std::string> reply_body(const json& v) {
  if (const json* b64 = v.find("body_b64")) return base64_decode(b64->as_string());
  return std::string(v["body"].as_string());
}

}  // namespace

typed_effect<d1_result> d1_all(std::string sql, sql_params params) {
  auto w = begin("d1.all");
  w.field("sql", sql);
  write_params(w, params);
  return make<d1_result>(std::move(w), parse_d1);
}

typed_effect<std::optional<json>> d1_first(std::string sql, sql_params params) {
  auto w = begin("d1.first");
  w.field("sql", sql);
  write_params(w, params);
  return make<std::optional<json>>(std::move(w), [](effect_outcome&& o) -> result<std::optional<json>> {
    if (!o) return std::move(o).err();
    const json& row = (*o)["row"];
    if (row.is_null()) return std::optional<json>{};
    return std::optional<json>{row};
  });
}

typed_effect<d1_result> d1_run_grouped(std::string_view group, std::string sql, sql_params params) {
  auto w = begin("d1.run");
  w.field("sql", sql);
  write_params(w, params);
  if (!group.empty()) w.field("group", group);
  return make<d1_result>(std::move(w), parse_d1);
}

typed_effect<d1_result> d1_run(std::string sql, sql_params params) {
  return d1_run_grouped({}, std::move(sql), std::move(params));
}

d1_batch_effect d1_batch(std::vector<d1_statement> statements) {
  auto w = begin("d1.batch");
  w.key("statements").begin_array();
  for (const auto& s : statements) {
    w.begin_object().field("sql", s.sql);
    write_params(w, s.params);
    w.end_object();
  }
  w.end_array().end_object();
  return d1_batch_effect{raw_effect{std::move(w).str()}, statements.size()};
}

result<std::vector<d1_result>> d1_batch_effect::await_resume() {
  effect_outcome o = raw.await_resume();
  if (!o) return std::move(o).err();
  const json& results = (*o)["results"];
  if (!results.is_array() || results.size() != statements)
    return make_error(error_code::protocol, "d1.batch of " + std::to_string(statements) + " statements answered with " +
                                                std::to_string(results.size()) + " results");
  std::vector<d1_result> out;
  out.reserve(statements);
  for (const auto& r : results.as_array()) out.push_back(to_d1_result(r));
  return out;
}

typed_effect<std::optional<kv_value>> kv_get(std::string key, std::int64_t cache_ttl_s) {
  auto w = begin("kv.get");
  w.field("key", key);
  if (cache_ttl_s > 0) w.field("cache_ttl", cache_ttl_s);
  return make<std::optional<kv_value>>(std::move(w), [](effect_outcome&& o) -> result<std::optional<kv_value>> {
    if (!o) return std::move(o).err();
    const json& v = (*o)["value"];
    if (!v.is_string()) return std::optional<kv_value>{};
    return std::optional<kv_value>{kv_value{std::string(v.as_string()), (*o)["metadata"]}};
  });
}

typed_effect<std::monostate> kv_put(std::string key, std::string value, std::int64_t expiration_ttl_s, json metadata) {
  auto w = begin("kv.put");
  w.field("key", key).field("value", value);
  if (expiration_ttl_s > 0) w.field("expiration_ttl", expiration_ttl_s);
  if (!metadata.is_null()) w.field("metadata", metadata);
  return make<std::monostate>(std::move(w), ignore_value);
}

typed_effect<std::monostate> kv_delete(std::string key) {
  auto w = begin("kv.delete");
  w.field("key", key);
  return make<std::monostate>(std::move(w), ignore_value);
}

typed_effect<kv_list_result> kv_list(std::string prefix, std::string cursor, std::int64_t limit) {
  auto w = begin("kv.list");
  w.field("prefix", prefix).field("limit", limit);
  if (!cursor.empty()) w.field("cursor", cursor);
  return make<kv_list_result>(std::move(w), [](effect_outcome&& o) -> result<kv_list_result> {
    if (!o) return std::move(o).err();
    kv_list_result r;
    for (const auto& k : (*o)["keys"].as_array())
      r.keys.push_back(kv_key{std::string(k["name"].as_string()), k["expiration"].as_int(), k["metadata"]});
    r.list_complete = (*o)["list_complete"].as_bool(true);
    r.cursor = std::string((*o)["cursor"].as_string());
    return r;
  });
}

typed_effect<std::optional<r2_object>> r2_get(std::string key, body_read read, std::optional<r2_range> range) {
  auto w = begin("r2.get");
  w.field("key", key).field("read", read_name(read));
  if (range) {
    w.key("range").begin_object();
    if (range->suffix >= 0) {
      w.field("suffix", range->suffix);
    } else {
      w.field("offset", range->offset);
      if (range->length >= 0) w.field("length", range->length);
    }
    w.end_object();
  }
  return make<std::optional<r2_object>>(std::move(w), [](effect_outcome&& o) -> result<std::optional<r2_object>> {
    if (!o) return std::move(o).err();
    if (!(*o)["found"].as_bool()) return std::optional<r2_object>{};
    r2_object obj;
    auto body = reply_body(*o);
    if (!body) return make_error(error_code::protocol, "r2.get: bad body_b64: " + body.err().message);
    obj.text = std::move(*body);
    obj.body = static_cast<http::body_handle>((*o)["handle"].as_int(http::no_body));
    return std::optional<r2_object>{std::move(obj)};
  });
}

typed_effect<bool> r2_head(std::string key) {
  auto w = begin("r2.head");
  w.field("key", key);
  return make<bool>(std::move(w), [](effect_outcome&& o) -> result<bool> {
    if (!o) return std::move(o).err();
    return (*o)["found"].as_bool();
  });
}

typed_effect<r2_put_result> r2_put(r2_put_args a) {
  auto w = begin("r2.put");
  w.field("key", a.key);
  if (a.from != http::no_body) {
    w.field("handle", std::int64_t{a.from});
  } else {
    w.field("body", a.text);
  }
  if (!a.http_metadata.is_null()) w.field("http_metadata", a.http_metadata);
  if (!a.custom_metadata.is_null()) w.field("custom_metadata", a.custom_metadata);
  w.key("digests").begin_array();
  if (a.want_sha1) w.value("SHA-1");
  if (a.want_sha256) w.value("SHA-256");
  w.end_array();
  if (a.expected_size >= 0) w.field("expected_size", a.expected_size);
  if (a.max_bytes >= 0) w.field("max_bytes", a.max_bytes);
  return make<r2_put_result>(std::move(w), [](effect_outcome&& o) -> result<r2_put_result> {
    if (!o) {
      // The body's fault (it broke off, or had another length than promised) or a size limit: not R2's.
      error e = std::move(o).err();
      if (e.message.rfind("BadBody:", 0) == 0) e.code = error_code::bad_request, e.status = 0;
      if (e.message.rfind("PayloadTooLarge:", 0) == 0) e.code = error_code::payload_too_large, e.status = 0;
      return e;
    }
    r2_put_result r;
    r.key = std::string((*o)["key"].as_string());
    r.size = (*o)["size"].as_int();
    r.etag = std::string((*o)["etag"].as_string());
    r.sha1 = std::string((*o)["sha1"].as_string());
    r.sha256 = std::string((*o)["sha256"].as_string());
    return r;
  });
}

typed_effect<std::monostate> r2_delete(std::vector<std::string> keys) {
  auto w = begin("r2.delete");
  w.key("keys").begin_array();
  for (const auto& k : keys) w.value(k);
  w.end_array();
  return make<std::monostate>(std::move(w), ignore_value);
}

typed_effect<std::optional<stored_response>> cache_match(std::string url, body_read read) {
  auto w = begin("cache.match");
  w.field("url", url).field("read", read_name(read));
  return make<std::optional<stored_response>>(std::move(w),
                                              [](effect_outcome&& o) -> result<std::optional<stored_response>> {
                                                if (!o) return std::move(o).err();
                                                if (!(*o)["found"].as_bool()) return std::optional<stored_response>{};
                                                stored_response r;
                                                r.status = static_cast<int>((*o)["status"].as_int());
                                                r.header_list = wire::read_headers((*o)["headers"]);
                                                r.text = std::string((*o)["body"].as_string());
                                                r.body = static_cast<http::body_handle>((*o)["handle"].as_int(http::no_body));
                                                return std::optional<stored_response>{std::move(r)};
                                              });
}

typed_effect<std::monostate> cache_put(std::string url, int status, http::headers header_list, std::string text,
                                       http::body_handle from) {
  auto w = begin("cache.put");
  w.field("url", url).field("status", status);
  w.key("headers");
  wire::write_headers(w, header_list);
  if (from != http::no_body) {
    w.field("handle", std::int64_t{from});
  } else {
    w.field("body", text);
  }
  return make<std::monostate>(std::move(w), ignore_value);
}

typed_effect<fetch_response> http_fetch(fetch_request req) {
  auto w = begin("fetch");
  w.field("url", req.url).field("method", req.method);
  w.key("headers");
  wire::write_headers(w, req.header_list);
  if (req.body_from != http::no_body) {
    w.field("body_handle", std::int64_t{req.body_from});
  } else if (!req.body.empty()) {
    w.field("body", req.body);
  }
  w.field("read", read_name(req.read)).field("max_bytes", req.max_bytes).field("timeout_ms", req.timeout_ms);
  w.field("redirect", req.follow_redirects ? "follow" : "manual");
  return make<fetch_response>(std::move(w), [](effect_outcome&& o) -> result<fetch_response> {
    if (!o) return std::move(o).err();
    fetch_response r;
    r.status = static_cast<int>((*o)["status"].as_int());
    r.url = std::string((*o)["url"].as_string());
    r.header_list = wire::read_headers((*o)["headers"]);
    r.text = std::string((*o)["body"].as_string());
    r.body = static_cast<http::body_handle>((*o)["handle"].as_int(http::no_body));
    return r;
  });
}

typed_effect<std::pair<http::body_handle, http::body_handle>> body_tee(http::body_handle h) {
  auto w = begin("body.tee");
  w.field("handle", std::int64_t{h});
  return make<std::pair<http::body_handle, http::body_handle>>(
      std::move(w), [](effect_outcome&& o) -> result<std::pair<http::body_handle, http::body_handle>> {
        if (!o) return std::move(o).err();
        const auto& hs = (*o)["handles"].as_array();
        if (hs.size() != 2) return make_error(error_code::protocol, "body.tee did not return two handles");
        return std::pair<http::body_handle, http::body_handle>{static_cast<http::body_handle>(hs[0].as_int()),
                                                                static_cast<http::body_handle>(hs[1].as_int())};
      });
}

typed_effect<std::string> body_text(http::body_handle h, std::int64_t max_bytes) {
  auto w = begin("body.text");
  w.field("handle", std::int64_t{h}).field("max_bytes", max_bytes);
  return make<std::string>(std::move(w), [](effect_outcome&& o) -> result<std::string> {
    if (!o) {
      error e = std::move(o).err();
      if (e.message.find("PayloadTooLarge") != std::string::npos) e.code = error_code::payload_too_large, e.status = 0;
      return e;
    }
    return std::string((*o)["body"].as_string());
  });
}

typed_effect<std::string> decompress(std::string format, std::string data, std::int64_t max_bytes) {
  auto w = begin("compression.decompress");
  w.field("format", format).field("data_b64", base64_encode(data)).field("max_bytes", max_bytes);
  return make<std::string>(std::move(w), [](effect_outcome&& o) -> result<std::string> {
    if (!o) {
      error e = std::move(o).err();
      if (e.message.find("PayloadTooLarge") != std::string::npos) e.code = error_code::payload_too_large;
      return e;
    }
    auto body = reply_body(*o);
    if (!body) return make_error(error_code::protocol, "compression.decompress: bad body_b64");
    return body;
  });
}

namespace {
result<std::string> parse_hex(effect_outcome&& o) {
  if (!o) return std::move(o).err();
  return std::string((*o)["hex"].as_string());
}
}  // namespace

typed_effect<std::string> crypto_digest(std::string algorithm, std::string data) {
  auto w = begin("crypto.digest");
  w.field("algorithm", algorithm).field("data", data);
  return make<std::string>(std::move(w), parse_hex);
}

typed_effect<std::string> crypto_hmac(std::string algorithm, std::string key, std::string data) {
  auto w = begin("crypto.hmac");
  w.field("algorithm", algorithm).field("key", key).field("data", data);
  return make<std::string>(std::move(w), parse_hex);
}

typed_effect<std::string> crypto_random_hex(std::int64_t bytes) {
  auto w = begin("crypto.random");
  w.field("bytes", bytes);
  return make<std::string>(std::move(w), parse_hex);
}

typed_effect<aes_gcm_sealed> crypto_aes_gcm_encrypt(std::string key_b64, std::string plaintext, std::string aad) {
  auto w = begin("crypto.aes_gcm_encrypt");
  w.field("key_b64", key_b64).field("plaintext", plaintext).field("aad", aad);
  return make<aes_gcm_sealed>(std::move(w), [](effect_outcome&& o) -> result<aes_gcm_sealed> {
    if (!o) return std::move(o).err();
    return aes_gcm_sealed{std::string((*o)["iv_b64"].as_string()), std::string((*o)["ciphertext_b64"].as_string())};
  });
}

typed_effect<std::string> crypto_aes_gcm_decrypt(std::string key_b64, aes_gcm_sealed sealed, std::string aad) {
  auto w = begin("crypto.aes_gcm_decrypt");
  w.field("key_b64", key_b64).field("iv_b64", sealed.iv_b64).field("ciphertext_b64", sealed.ciphertext_b64);
  w.field("aad", aad);
  return make<std::string>(std::move(w), [](effect_outcome&& o) -> result<std::string> {
    if (!o) return std::move(o).err();
    return std::string((*o)["plaintext"].as_string());
  });
}

typed_effect<std::int64_t> clock_now_ms() {
  auto w = begin("clock.now");
  return make<std::int64_t>(std::move(w), [](effect_outcome&& o) -> result<std::int64_t> {
    if (!o) return std::move(o).err();
    return (*o)["ms"].as_int();
  });
}

typed_effect<std::int64_t> clock_sleep(std::int64_t ms) {
  auto w = begin("clock.sleep");
  w.field("ms", ms);
  return make<std::int64_t>(std::move(w), [](effect_outcome&& o) -> result<std::int64_t> {
    if (!o) return std::move(o).err();
    return (*o)["ms"].as_int();
  });
}

typed_effect<std::string> blob_presign(std::string key, std::int64_t expires_s, std::string content_type) {
  auto w = begin("blob.presign");
  w.field("key", key).field("expires_s", expires_s).field("content_type", content_type);
  return make<std::string>(std::move(w), [](effect_outcome&& o) -> result<std::string> {
    if (!o) return std::move(o).err();
    if (!(*o)["url"].is_string()) return make_error(error_code::protocol, "blob.presign answered without a url");
    return std::string((*o)["url"].as_string());
  });
}

typed_effect<std::monostate> invalidate_isolates(bool tokens, std::vector<std::string> documents) {
  auto w = begin("isolates.invalidate");
  w.field("tokens", tokens).key("documents").begin_array();
  for (const auto& d : documents) w.value(d);
  w.end_array();
  return make<std::monostate>(std::move(w), ignore_value);
}

typed_effect<respond_outcome> respond(http::response r, const raw_effect* after, std::string_view body_r2) {
  auto w = begin("http.respond");
  // body_r2, then after, both first: the driver reads what they cost from the front (driver.cpp). A host
  // runs `after` only while the invocation may still raise it, the body's read counted first.
  if (!body_r2.empty()) w.key("body_r2").begin_object().field("key", body_r2).end_object();
  if (after && subrequests_left() > (body_r2.empty() ? 0 : 1)) w.key("after").raw(after->effect_json);
  w.key("response");
  wire::write_response(w, r);
  return make<respond_outcome>(std::move(w), [](effect_outcome&& o) -> result<respond_outcome> {
    if (!o) return std::move(o).err();
    return respond_outcome{(*o)["found"].as_bool(true), (*o)["after"].is_object()};
  });
}

typed_effect<std::monostate> queue_send(const json& body, std::int64_t delay_s) {
  auto w = begin("queue.send");
  w.key("body").value(body);
  w.field("delay_s", std::clamp<std::int64_t>(delay_s, 0, queue_max_delay_s));
  return make<std::monostate>(std::move(w), ignore_value);
}

void trap() { __builtin_trap(); }

}  // namespace pb::fx
