// The server's stores behind the effects, chosen by URL settings: blobs (r2.*, blob.presign) on the
// file store or S3; KV (kv.*) in process or on Redis; the Cache API (cache.*) in process, one bounded
// store per instance like a Cloudflare colo's cache. Values and errors follow PROTOCOL.md.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "host/async.h"
#include "host/curl_engine.h"
#include "host/redis.h"
#include "host/streams.h"
#include "runners/blob_files.h"
#include "runners/s3_sign.h"

namespace pb::server {

class blob_store {
 public:
  virtual ~blob_store() = default;
  // r2.get: found:false, or info plus body / body_b64 / handle (added to `handles`).
  virtual awaitable<json> get(const json& effect, handle_table& handles) = 0;
  virtual awaitable<json> head(std::string key) = 0;
  // r2.put from `body` (a handle's stream) or the effect's text; nothing is stored unless the whole
  // body arrived (expected_size, else the stream's known length).
  virtual awaitable<json> put(const json& effect, source_ptr body) = 0;
  virtual awaitable<void> remove(std::vector<std::string> keys) = 0;
  // blob.presign: {"url"}; throws failure(NotSupported) where the store cannot sign.
  virtual json presign(const json& effect) = 0;
  virtual std::string describe() const = 0;
};

std::unique_ptr<blob_store> make_file_store(const std::string& dir, asio::thread_pool& blocking);
std::unique_ptr<blob_store> make_s3_store(runners::s3_location where, curl_engine& http);

class kv_store {
 public:
  virtual ~kv_store() = default;
  virtual awaitable<json> get(std::string key) = 0;  // {"value","metadata"}
  virtual awaitable<void> put(std::string key, std::string value, std::int64_t ttl_s, json metadata) = 0;
  virtual awaitable<void> remove(std::string key) = 0;
  virtual awaitable<json> list(std::string prefix, std::int64_t limit, std::string cursor) = 0;
};

std::unique_ptr<kv_store> make_memory_kv();
std::unique_ptr<kv_store> make_redis_kv(redis_client& redis);

// caches.default for one instance: bounded in bytes, least recently used out first, honouring the
// stored response's Cache-Control (no-store and private are not stored; max-age/s-maxage expire).
class cache_store {
 public:
  explicit cache_store(std::int64_t max_bytes) : max_bytes_(max_bytes) {}
  struct entry {
    int status = 200;
    json headers;
    std::string body;
    std::int64_t expires_ms = 0;
  };
  std::optional<entry> match(const std::string& url, std::int64_t now);
  void put(const std::string& url, entry e, std::int64_t now);

 private:
  std::int64_t max_bytes_, bytes_ = 0;
  std::list<std::string> order_;  // least recently used first
  std::unordered_map<std::string, std::pair<entry, std::list<std::string>::iterator>> map_;
  void erase(const std::string& url);
};

}  // namespace pb::server
