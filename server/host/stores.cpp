#include "host/stores.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "runners/crypto_ops.h"
#include "runners/failure.h"

namespace pb::server {

using runners::fail;

namespace {

// Reads the body of an r2.get as the effect asks: text, base64 or a handle.
json with_body(json info, std::string data, const json& e) {
  if (e["read"].as_string() == "text") info.set("body", json(std::move(data)));
  else info.set("body_b64", json(runners::base64_encode(data)));
  return info;
}

bool want(const json& e, std::string_view digest) {
  for (const auto& a : e["digests"].as_array())
    if (a.as_string() == digest) return true;
  return false;
}

std::int64_t expected_size(const json& e, const source_ptr& body) {
  if (const json* x = e.find("expected_size"); x && x->is_integer()) return x->as_int();
  return body ? body->length : -1;
}

std::int64_t max_bytes(const json& e) {
  const json* x = e.find("max_bytes");
  return x && x->is_integer() ? x->as_int() : -1;
}

// The next chunk of a body being stored: a body that breaks off is the body's fault (BadBody, as
// PROTOCOL.md has it for r2.put), not the store's; an over-long request body stays PayloadTooLarge.
awaitable<std::string> next_chunk(const source_ptr& body) {
  try {
    co_return co_await body->next();
  } catch (const runners::failure& f) {
    if (f.name == "PayloadTooLarge" || f.name == "BadBody") throw;
    fail("BadBody", "the body broke off: " + f.message);
  } catch (const std::exception& x) {
    fail("BadBody", std::string("the body broke off: ") + x.what());
  }
}

// ---- file store ----------------------------------------------------------------------------------------

class file_store final : public blob_store {
 public:
  file_store(const std::string& dir, asio::thread_pool& blocking) : files_(dir), blocking_(blocking) {}

  awaitable<json> get(const json& e, handle_table& handles) override {
    std::string key(e["key"].as_string());
    auto found = files_.locate(key);
    json out = json::object();
    if (!found) {
      out.set("found", json(false));
      co_return out;
    }
    out = runners::blob_info_json(found->second);
    runners::byte_span span{0, found->second.size};
    if (const json* r = e.find("range")) {
      span = runners::resolve_range(*r, found->second.size);
      json range = json::object();
      range.set("offset", json(span.offset));
      range.set("length", json(span.length));
      out.set("range", std::move(range));
    }
    if (e["read"].as_string() == "handle") {
      int fd = ::open(found->first.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {  // deleted between the lookup and the open
        json gone = json::object();
        gone.set("found", json(false));
        co_return gone;
      }
      out.set("handle", json(handles.add(std::make_shared<file_source>(fd, span.offset, span.length))));
      co_return out;
    }
    auto got = files_.read(key, span.offset, span.length);
    if (!got) {
      json gone = json::object();
      gone.set("found", json(false));
      co_return gone;
    }
    co_return with_body(std::move(out), std::move(got->second), e);
  }

  awaitable<json> head(std::string key) override {
    auto info = files_.head(key);
    json out = json::object();
    if (!info) out.set("found", json(false));
    else out = runners::blob_info_json(*info);
    co_return out;
  }

  awaitable<json> put(const json& e, source_ptr body) override {
    auto w = std::make_shared<runners::file_blob_store::writer>(files_.begin_put(
        std::string(e["key"].as_string()), e["http_metadata"], e["custom_metadata"], want(e, "SHA-1"), want(e, "SHA-256"),
        expected_size(e, body), max_bytes(e)));
    if (body) {
      for (;;) {
        std::string c = co_await next_chunk(body);
        if (c.empty()) break;
        w->append(c);  // page cache: fast enough for the loop; the fsync below is not
      }
    } else {
      w->append(e["body"].as_string());
    }
    std::int64_t at = now_ms();
    co_return co_await offload(blocking_, [w, at] { return w->commit(at); });
  }

  awaitable<void> remove(std::vector<std::string> keys) override {
    for (const auto& k : keys) files_.remove(k);
    co_return;
  }

  json presign(const json&) override { fail("NotSupported", "local files cannot be pre-signed; the archive is streamed"); }

  std::string describe() const override { return "file://" + files_.root().string(); }

 private:
  runners::file_blob_store files_;
  asio::thread_pool& blocking_;
};

// ---- S3 ----------------------------------------------------------------------------------------------------

constexpr std::size_t part_size = 8 << 20;  // S3's minimum part is 5 MiB

std::string xml_value(const std::string& xml, const std::string& tag) {
  auto a = xml.find("<" + tag + ">");
  auto b = xml.find("</" + tag + ">");
  if (a == std::string::npos || b == std::string::npos) return {};
  return xml.substr(a + tag.size() + 2, b - a - tag.size() - 2);
}

std::int64_t http_date_ms(const std::string& s) {
  std::tm tm{};
  if (!strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm)) return 0;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

class s3_store final : public blob_store {
 public:
  s3_store(runners::s3_location where, curl_engine& http) : s3_(std::move(where)), http_(http) {}

  awaitable<json> get(const json& e, handle_table& handles) override {
    std::string key(e["key"].as_string());
    runners::header_pairs hs;
    if (const json* r = e.find("range")) {
      if (r->find("suffix")) hs.emplace_back("range", "bytes=-" + std::to_string((*r)["suffix"].as_int()));
      else if (r->find("length"))
        hs.emplace_back("range", "bytes=" + std::to_string((*r)["offset"].as_int()) + "-" +
                                     std::to_string((*r)["offset"].as_int() + (*r)["length"].as_int() - 1));
      else hs.emplace_back("range", "bytes=" + std::to_string((*r)["offset"].as_int()) + "-");
    }
    auto resp = co_await send("GET", key, {}, hs, "", false);
    json out = json::object();
    if (resp.status == 404) {
      out.set("found", json(false));
      co_return out;
    }
    if (resp.status == 416) {  // a range past the end: R2 answers an empty range instead
      auto h = co_await head(key);
      if (!h["found"].as_bool()) co_return h;
      json range = json::object();
      range.set("offset", json(h["size"].as_int()));
      range.set("length", json(0));
      h.set("range", std::move(range));
      if (e["read"].as_string() == "handle") h.set("handle", json(handles.add(std::make_shared<memory_source>(""))));
      else h = with_body(std::move(h), "", e);
      co_return h;
    }
    if (resp.status != 200 && resp.status != 206) co_return co_await error(resp, "GET " + key);
    out = info(key, resp);
    if (e["read"].as_string() == "handle") {
      out.set("handle", json(handles.add(resp.body)));
      co_return out;
    }
    co_return with_body(std::move(out), co_await collect(resp.body, 1ll << 30), e);
  }

  awaitable<json> head(std::string key) override {
    auto resp = co_await send("HEAD", key, {}, {}, "", false);
    json out = json::object();
    if (resp.status == 404) {
      out.set("found", json(false));
      co_return out;
    }
    if (resp.status != 200) co_return co_await error(resp, "HEAD " + key);
    co_return info(key, resp);
  }

  awaitable<json> put(const json& e, source_ptr body) override {
    std::string key(e["key"].as_string());
    if (key.empty() || key.size() > 1024) fail("TypeError", "object keys must be 1 to 1024 bytes long");
    std::int64_t expected = expected_size(e, body), max = max_bytes(e);
    runners::digest_stream md5("MD5"), sha1("SHA-1"), sha256("SHA-256");
    std::int64_t total = 0;
    std::string buffer;
    std::string upload_id;
    std::vector<std::string> etags;
    auto absorb = [&](const std::string& c) {
      md5.update(c);
      if (want(e, "SHA-1")) sha1.update(c);
      if (want(e, "SHA-256")) sha256.update(c);
      total += static_cast<std::int64_t>(c.size());
      if (max >= 0 && total > max) fail("PayloadTooLarge", "body is larger than " + std::to_string(max) + " bytes");
      if (expected >= 0 && total > expected)
        fail("BadBody", "the body is longer than the " + std::to_string(expected) + " bytes expected");
      buffer += c;
    };
    runners::header_pairs meta;
    if (const json* ct = e["http_metadata"].find("contentType")) meta.emplace_back("content-type", std::string(ct->as_string()));
    for (const auto& [k, v] : e["custom_metadata"].is_object() ? e["custom_metadata"].as_object() : json_object{})
      meta.emplace_back("x-amz-meta-" + k, std::string(v.as_string()));
    try {
      if (body) {
        for (;;) {
          std::string c = co_await next_chunk(body);
          if (c.empty()) break;
          absorb(c);
          // Large archives stream to S3 in parts as they arrive; nothing is visible before Complete.
          while (buffer.size() >= part_size) {
            if (upload_id.empty()) upload_id = co_await create_upload(key, meta);
            etags.push_back(co_await upload_part(key, upload_id, static_cast<int>(etags.size()) + 1, buffer.substr(0, part_size)));
            buffer.erase(0, part_size);
          }
        }
      } else {
        absorb(std::string(e["body"].as_string()));
      }
      if (expected >= 0 && total != expected)
        fail("BadBody", "the body ended after " + std::to_string(total) + " of the " + std::to_string(expected) + " bytes expected");
      std::string etag;
      if (upload_id.empty()) {
        runners::header_pairs hs = meta;
        auto resp = co_await send("PUT", key, {}, hs, buffer, true);
        if (resp.status != 200) co_return co_await error(resp, "PUT " + key);
        etag = unquote(resp.header("etag"));
      } else {
        if (!buffer.empty() || etags.empty())
          etags.push_back(co_await upload_part(key, upload_id, static_cast<int>(etags.size()) + 1, buffer));
        std::string xml = "<CompleteMultipartUpload>";
        for (std::size_t i = 0; i < etags.size(); ++i)
          xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>\"" + etags[i] + "\"</ETag></Part>";
        xml += "</CompleteMultipartUpload>";
        auto resp = co_await send("POST", key, {{"uploadId", upload_id}}, {{"content-type", "application/xml"}}, xml, true);
        std::string text = co_await collect(resp.body, 1 << 20);
        if (resp.status != 200 || text.find("<Error>") != std::string::npos)
          fail("Error", "S3 CompleteMultipartUpload failed: HTTP " + std::to_string(resp.status) + " " + xml_value(text, "Code"));
        upload_id.clear();
        etag = unquote(xml_value(text, "ETag"));
        for (const char* q : {"&quot;", "&#34;"})
          for (auto p = etag.find(q); p != std::string::npos; p = etag.find(q)) etag.erase(p, std::strlen(q));
      }
      json out = json::object();
      out.set("key", json(key));
      out.set("size", json(total));
      out.set("etag", json(etag.empty() ? md5.hex() : etag));
      if (want(e, "SHA-1")) out.set("sha1", json(sha1.hex()));
      if (want(e, "SHA-256")) out.set("sha256", json(sha256.hex()));
      co_return out;
    } catch (...) {
      if (!upload_id.empty()) abandon(key, upload_id);
      throw;
    }
  }

  awaitable<void> remove(std::vector<std::string> keys) override {
    for (const auto& k : keys) {
      auto resp = co_await send("DELETE", k, {}, {}, "", true);
      if (resp.status != 204 && resp.status != 200 && resp.status != 404) (void)co_await error(resp, "DELETE " + k);
    }
  }

  json presign(const json& e) override {
    std::string type(e["content_type"].as_string());
    runners::query_list extra;
    if (!type.empty()) extra.emplace_back("response-content-type", type);
    json out = json::object();
    out.set("url", json(runners::presign_get(s3_, std::string(e["key"].as_string()), e["expires_s"].as_int(300), extra,
                                             std::time(nullptr))));
    return out;
  }

  std::string describe() const override { return s3_.redacted; }

 private:
  awaitable<outbound_response> send(std::string method, const std::string& key, runners::query_list query, runners::header_pairs headers,
                                    std::string body, bool signed_payload) {
    std::string payload_hash = signed_payload || !body.empty() ? runners::hex_digest("SHA-256", body) : "UNSIGNED-PAYLOAD";
    auto signed_req = runners::sign_request(s3_, method, key, std::move(query), std::move(headers), payload_hash, std::time(nullptr));
    outbound_request r;
    r.method = signed_req.method;
    r.url = signed_req.url;
    r.headers = signed_req.headers;
    r.has_body = method == "PUT" || method == "POST";
    r.body = std::move(body);
    r.timeout_ms = 0;  // archives may be large; S3 errors and dead connections still end the transfer
    r.decode = false;
    co_return co_await http_.perform(std::move(r));
  }

  awaitable<json> error(outbound_response& resp, const std::string& what) {
    std::string text;
    try {
      text = co_await collect(resp.body, 1 << 20);
    } catch (...) {
    }
    std::string code = xml_value(text, "Code");
    fail("Error", "S3 " + what + " failed: HTTP " + std::to_string(resp.status) + (code.empty() ? "" : " " + code));
  }

  awaitable<std::string> create_upload(const std::string& key, const runners::header_pairs& meta) {
    auto resp = co_await send("POST", key, {{"uploads", ""}}, meta, "", true);
    std::string text = co_await collect(resp.body, 1 << 20);
    std::string id = xml_value(text, "UploadId");
    if (resp.status != 200 || id.empty()) fail("Error", "S3 CreateMultipartUpload failed: HTTP " + std::to_string(resp.status));
    co_return id;
  }

  awaitable<std::string> upload_part(const std::string& key, const std::string& id, int n, std::string bytes) {
    auto resp = co_await send("PUT", key, {{"partNumber", std::to_string(n)}, {"uploadId", id}}, {}, std::move(bytes), true);
    if (resp.status != 200) (void)co_await error(resp, "UploadPart");
    co_return unquote(resp.header("etag"));
  }

  void abandon(const std::string& key, const std::string& id) {
    // Best effort, in the background: the parts of an aborted upload are never visible anyway.
    asio::co_spawn(
        http_executor(),
        [this, key, id]() -> awaitable<void> {
          try {
            auto r = co_await send("DELETE", key, {{"uploadId", id}}, {}, "", true);
            (void)co_await collect(r.body, 1 << 20);
          } catch (...) {
          }
        },
        asio::detached);
  }

  asio::any_io_executor http_executor() { return http_.executor(); }

  static std::string unquote(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '"'), s.end());
    while (!s.empty() && s.front() == ' ') s.erase(0, 1);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  }

  json info(const std::string& key, const outbound_response& r) {
    json out = json::object();
    out.set("found", json(true));
    out.set("key", json(key));
    std::int64_t size = std::atoll(r.header("content-length").c_str());
    std::string range = r.header("content-range");  // bytes a-b/total
    if (!range.empty()) {
      std::int64_t a = std::atoll(range.c_str() + 6);
      std::int64_t total = std::atoll(range.c_str() + range.find('/') + 1);
      json rr = json::object();
      rr.set("offset", json(a));
      rr.set("length", json(size));
      out.set("size", json(total));
      out.set("range", std::move(rr));
    } else {
      out.set("size", json(size));
    }
    out.set("etag", json(unquote(r.header("etag"))));
    out.set("uploaded_ms", json(http_date_ms(r.header("last-modified"))));
    json http_md = json::object();
    if (auto ct = r.header("content-type"); !ct.empty()) http_md.set("contentType", json(ct));
    json custom = json::object();
    for (const auto& [k, v] : r.headers)
      if (k.rfind("x-amz-meta-", 0) == 0) custom.set(k.substr(11), json(v));
    out.set("http_metadata", std::move(http_md));
    out.set("custom_metadata", std::move(custom));
    return out;
  }

 private:
  runners::s3_location s3_;
  curl_engine& http_;
};

// ---- KV -----------------------------------------------------------------------------------------------------

json list_key(const std::string& name, std::int64_t expiration_s, json metadata) {
  json k = json::object();
  k.set("name", json(name));
  k.set("expiration", json(expiration_s));
  k.set("metadata", std::move(metadata));
  return k;
}

// kv.list's value: a page of keys, and where the next page starts.
json list_page(json keys, bool complete, const std::string& last) {
  json out = json::object();
  out.set("keys", std::move(keys));
  out.set("list_complete", json(complete));
  out.set("cursor", json(complete ? "" : last));
  return out;
}

class memory_kv final : public kv_store {
 public:
  awaitable<json> get(std::string key) override {
    json out = json::object();
    auto it = map_.find(key);
    if (it != map_.end() && it->second.expires_ms && it->second.expires_ms <= now_ms()) {
      map_.erase(it);
      it = map_.end();
    }
    out.set("value", it == map_.end() ? json() : json(it->second.value));
    out.set("metadata", it == map_.end() ? json() : it->second.metadata);
    co_return out;
  }
  awaitable<void> put(std::string key, std::string value, std::int64_t ttl_s, json metadata) override {
    if (key.empty()) fail("TypeError", "Key names must not be empty");
    map_[key] = {std::move(value), std::move(metadata), ttl_s > 0 ? now_ms() + ttl_s * 1000 : 0};
    co_return;
  }
  awaitable<void> remove(std::string key) override {
    map_.erase(key);
    co_return;
  }
  awaitable<json> list(std::string prefix, std::int64_t limit, std::string cursor) override {
    json keys = json::array();
    auto it = cursor.empty() ? map_.lower_bound(prefix) : map_.upper_bound(cursor);
    std::string last;
    bool complete = true;
    for (; it != map_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      if (static_cast<std::int64_t>(keys.size()) >= limit) {
        complete = false;
        break;
      }
      keys.push_back(list_key(it->first, it->second.expires_ms / 1000, it->second.metadata));
      last = it->first;
    }
    co_return list_page(std::move(keys), complete, last);
  }

 private:
  struct item {
    std::string value;
    json metadata;
    std::int64_t expires_ms;
  };
  std::map<std::string, item> map_;
};

// Each KV key is a Redis hash {v: value, m: metadata JSON} under "pb:kv:", expiring with the entry.
class redis_kv final : public kv_store {
 public:
  explicit redis_kv(redis_client& r) : r_(r) {}
  awaitable<json> get(std::string key) override {
    auto reply = co_await r_.command({"HMGET", prefix + key, "v", "m"});
    json out = json::object();
    bool found = reply.elements.size() == 2 && !reply.elements[0].is_nil();
    out.set("value", found ? json(reply.elements[0].str) : json());
    json meta;
    if (found && !reply.elements[1].is_nil())
      if (auto m = parse_json(reply.elements[1].str)) meta = *m;
    out.set("metadata", meta);
    co_return out;
  }
  awaitable<void> put(std::string key, std::string value, std::int64_t ttl_s, json metadata) override {
    if (key.empty()) fail("TypeError", "Key names must not be empty");
    std::string k = prefix + key;
    // MULTI/EXEC would need one connection per transaction; DEL + HSET + EXPIRE as one Lua script is atomic.
    std::string script = "redis.call('DEL', KEYS[1]); redis.call('HSET', KEYS[1], 'v', ARGV[1], 'm', ARGV[2]); "
                         "if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end; return 1";
    (void)co_await r_.command({"EVAL", script, "1", k, value, metadata.dump(), std::to_string(ttl_s)});
  }
  awaitable<void> remove(std::string key) override { (void)co_await r_.command({"DEL", prefix + key}); }
  awaitable<json> list(std::string key_prefix, std::int64_t limit, std::string cursor) override {
    // SCAN is unordered; KV's list is sorted, so a page is the keys after `cursor` in order (bounded
    // by PB's use: prefixes with few keys).
    std::vector<std::string> names;
    std::string scan = "0";
    std::string pattern = prefix;
    for (char c : key_prefix) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += "*";
    for (int rounds = 0; rounds < 100000; ++rounds) {
      auto reply = co_await r_.command({"SCAN", scan, "MATCH", pattern, "COUNT", "1000"});
      if (reply.elements.size() != 2) break;
      scan = reply.elements[0].str;
      for (const auto& k : reply.elements[1].elements) names.push_back(k.str.substr(prefix.size()));
      if (scan == "0") break;
    }
    std::sort(names.begin(), names.end());
    json keys = json::array();
    bool complete = true;
    std::string last;
    for (const auto& n : names) {
      if (!cursor.empty() && n <= cursor) continue;
      if (static_cast<std::int64_t>(keys.size()) >= limit) {
        complete = false;
        break;
      }
      auto m = co_await r_.command({"HGET", prefix + n, "m"});
      auto ttl = co_await r_.command({"PTTL", prefix + n});
      json meta;
      if (!m.is_nil())
        if (auto p = parse_json(m.str)) meta = *p;
      keys.push_back(list_key(n, static_cast<std::int64_t>(ttl.integer > 0 ? (now_ms() + ttl.integer) / 1000 : 0), std::move(meta)));
      last = n;
    }
    co_return list_page(std::move(keys), complete, last);
  }

 private:
  static inline const std::string prefix = "pb:kv:";
  redis_client& r_;
};

std::int64_t max_age_ms(const json& headers) {
  for (const auto& h : headers.as_array()) {
    if (h.as_array().size() != 2) continue;
    std::string name(h.as_array()[0].as_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name != "cache-control") continue;
    std::string v(h.as_array()[1].as_string());
    if (v.find("no-store") != std::string::npos || v.find("private") != std::string::npos) return 0;
    for (const char* d : {"s-maxage=", "max-age="})
      if (auto p = v.find(d); p != std::string::npos) return std::atoll(v.c_str() + p + std::strlen(d)) * 1000;
  }
  return 2 * 3600 * 1000;  // Cloudflare keeps a cacheable 200 without Cache-Control for two hours
}

}  // namespace

std::unique_ptr<blob_store> make_file_store(const std::string& dir, asio::thread_pool& blocking) {
  return std::make_unique<file_store>(dir, blocking);
}

std::unique_ptr<blob_store> make_s3_store(runners::s3_location where, curl_engine& http) {
  auto s = std::make_unique<s3_store>(std::move(where), http);
  return s;
}

std::unique_ptr<kv_store> make_memory_kv() { return std::make_unique<memory_kv>(); }
std::unique_ptr<kv_store> make_redis_kv(redis_client& redis) { return std::make_unique<redis_kv>(redis); }

std::optional<cache_store::entry> cache_store::match(const std::string& url, std::int64_t now) {
  auto it = map_.find(url);
  if (it == map_.end()) return std::nullopt;
  if (it->second.first.expires_ms <= now) {
    erase(url);
    return std::nullopt;
  }
  order_.splice(order_.end(), order_, it->second.second);
  return it->second.first;
}

void cache_store::put(const std::string& url, entry e, std::int64_t now) {
  erase(url);
  std::int64_t ttl = max_age_ms(e.headers);
  std::int64_t size = static_cast<std::int64_t>(e.body.size() + url.size() + 256);
  if (ttl <= 0 || size > max_bytes_ / 8) return;  // one entry never takes more than an eighth
  e.expires_ms = now + ttl;
  while (!order_.empty() && bytes_ + size > max_bytes_) erase(order_.front());
  order_.push_back(url);
  bytes_ += size;
  map_.emplace(url, std::make_pair(std::move(e), std::prev(order_.end())));
}

void cache_store::erase(const std::string& url) {
  auto it = map_.find(url);
  if (it == map_.end()) return;
  bytes_ -= static_cast<std::int64_t>(it->second.first.body.size() + url.size() + 256);
  order_.erase(it->second.second);
  map_.erase(it);
}

}  // namespace pb::server
