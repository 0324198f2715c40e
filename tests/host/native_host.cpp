#include "host/native_host.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "runners/blob_files.h"
#include "runners/crypto_ops.h"
#include "runners/failure.h"
#include "runners/postgres_database.h"
#include "runners/s3_sign.h"
#include "runners/sqlite_database.h"

namespace pb::testing {

namespace fs = std::filesystem;
using runners::fail;

std::string hex_digest(std::string_view algorithm, std::string_view data) { return runners::hex_digest(algorithm, data); }

std::string hex_hmac_sha256(std::string_view key, std::string_view data) { return runners::hmac_hex("SHA-256", key, data); }

std::string request_header(const json& fetch_effect, std::string_view name) {
  for (const auto& h : fetch_effect["headers"].as_array())
    if (h.as_array().size() == 2 && h.as_array()[0].as_string() == name) return std::string(h.as_array()[1].as_string());
  return {};
}

namespace {

// PB_TEST_DATABASE_URL=postgres://...: every host gets its own schema in that database.
const char* test_database_url() {
  const char* url = std::getenv("PB_TEST_DATABASE_URL");
  return url && *url ? url : nullptr;
}

runners::postgres_database& pg_admin() {
  static runners::postgres_database admin(runners::parse_postgres_url(test_database_url()));
  return admin;
}

}  // namespace

native_host::native_host(bool apply_migrations) {
  pb_reset_caches();  // a new host is a new isolate
  try {
    if (const char* url = test_database_url()) {
      static int hosts = 0;
      pg_schema_ = "pbt_" + std::to_string(::getpid()) + "_" + std::to_string(++hosts);
      pg_admin().exec("DROP SCHEMA IF EXISTS " + pg_schema_ + " CASCADE; CREATE SCHEMA " + pg_schema_);
      std::string with_schema = std::string(url) + (std::string(url).find('?') == std::string::npos ? "?" : "&") + "schema=" + pg_schema_;
      db_ = std::make_unique<runners::postgres_database>(runners::parse_postgres_url(with_schema));
    } else {
      db_ = std::make_unique<runners::sqlite_database>(":memory:");
    }
    if (apply_migrations) runners::migrate(*db_);
  } catch (const runners::failure& f) {
    throw std::runtime_error("native_host database: " + f.name + ": " + f.message);
  }
  char tmpl[] = "/tmp/pb-blobs-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  blob_dir_ = tmpl;
  blobs_ = std::make_unique<runners::file_blob_store>(blob_dir_);
}

native_host::~native_host() {
  db_.reset();
  if (!pg_schema_.empty()) {
    try {
      pg_admin().exec("DROP SCHEMA IF EXISTS " + pg_schema_ + " CASCADE");
    } catch (...) {
    }
  }
  std::error_code ec;
  fs::remove_all(blob_dir_, ec);
}

sqlite3* native_host::db() const {
  auto* s = dynamic_cast<runners::sqlite_database*>(db_.get());
  return s ? s->handle() : nullptr;
}

bool native_host::on_postgres() const { return db_->dialect() == "postgres"; }

void native_host::fail_op(std::string op, std::string name, std::string message) {
  faults_[std::move(op)] = effect_error{std::move(name), std::move(message)};
}

json native_host::query(const std::string& sql) {
  try {
    return db_->query(sql);
  } catch (const runners::failure& f) {
    throw std::runtime_error("query failed: " + f.message + " in: " + sql.substr(0, 200));
  }
}

bool native_host::blob_exists(const std::string& key) const { return blobs_->head(key).has_value(); }

void native_host::put_blob(const std::string& key, const std::string& bytes) {
  blobs_->put(key, bytes, json::object(), clock_ms);
}

void native_host::remove_blob(const std::string& key) { blobs_->remove(key); }

std::size_t native_host::blob_count() const { return blobs_->count(); }

std::optional<std::string> native_host::take_handle(std::int64_t id) {
  auto it = handles_.find(id);
  if (it == handles_.end()) return std::nullopt;
  std::string data = std::move(it->second);
  handles_.erase(it);
  return data;
}

json native_host::perform(const json& effect, std::optional<effect_error>& err) {
  std::string op(effect["op"].as_string());
  if (fault_if) {
    if (auto e = fault_if(effect)) {
      err = std::move(e);
      return json();
    }
  }
  if (auto f = faults_.find(op); f != faults_.end()) {
    err = f->second;
    return json();
  }
  try {
    return run_effect(effect);
  } catch (const runners::failure& f) {
    err = effect_error{f.name, f.message};
    return json();
  }
}

json native_host::run_effect(const json& e) {
  std::string op(e["op"].as_string());
  json out = json::object();
  if (op.rfind("d1.", 0) == 0) {
    // A grouped write is run at once, alone, as the server runs it: a host may ignore the mark.
    if (const json* g = e.find("group"); g && op == "d1.run") grouped_writes.emplace_back(g->as_string());
    return db_->run(e);
  }

  if (op == "kv.get") {
    std::string key(e["key"].as_string());
    auto it = kv_.find(key);
    out.set("value", it == kv_.end() ? json() : json(it->second));
    out.set("metadata", it == kv_.end() ? json() : kv_meta_[key]);
    return out;
  }
  if (op == "kv.put") {
    std::string key(e["key"].as_string());
    if (key.empty()) fail("TypeError", "Key names must not be empty");
    kv_[key] = std::string(e["value"].as_string());
    kv_meta_[key] = e["metadata"];
    return out;
  }
  if (op == "kv.delete") {
    kv_.erase(std::string(e["key"].as_string()));
    return out;
  }
  if (op == "kv.list") {
    std::string prefix(e["prefix"].as_string());
    json keys = json::array();
    for (const auto& [k, v] : kv_) {
      if (k.rfind(prefix, 0) != 0) continue;
      json key = json::object();
      key.set("name", json(k));
      key.set("metadata", kv_meta_[k]);
      keys.push_back(std::move(key));
    }
    out.set("keys", std::move(keys));
    out.set("list_complete", json(true));
    return out;
  }

  if (op == "r2.get" || op == "r2.head") {
    std::string key(e["key"].as_string());
    auto info = blobs_->head(key);
    if (!info) {
      out.set("found", json(false));
      return out;
    }
    out = runners::blob_info_json(*info);
    if (op == "r2.head") return out;
    runners::byte_span span{0, info->size};
    if (const json* r = e.find("range")) {
      span = runners::resolve_range(*r, info->size);
      json range = json::object();
      range.set("offset", json(span.offset));
      range.set("length", json(span.length));
      out.set("range", std::move(range));
    }
    auto got = blobs_->read(key, span.offset, span.length);
    if (!got) {
      out = json::object();
      out.set("found", json(false));
      return out;
    }
    std::string data = std::move(got->second);
    if (e["read"].as_string() == "text") {
      out.set("body", json(std::move(data)));
    } else if (e["read"].as_string() == "base64") {
      out.set("body_b64", json(runners::base64_encode(data)));
    } else {
      handles_[next_handle_] = std::move(data);
      out.set("handle", json(next_handle_++));
    }
    return out;
  }
  if (op == "r2.put") {
    std::string key(e["key"].as_string());
    std::string data;
    if (const json* h = e.find("handle")) {
      auto it = handles_.find(h->as_int());
      if (it == handles_.end()) fail("BadHandle", "unknown or already used body handle " + h->dump());
      data = std::move(it->second);
      handles_.erase(it);
    } else {
      data = std::string(e["body"].as_string());
    }
    return blobs_->put(key, data, e, clock_ms);
  }
  if (op == "blob.presign") {
    if (!presign_s3_url) fail("NotSupported", "local files cannot be pre-signed; the archive is streamed");
    auto loc = runners::parse_s3_url(*presign_s3_url, "", "");
    std::string type(e["content_type"].as_string());
    out.set("url", json(runners::presign_get(loc, std::string(e["key"].as_string()), e["expires_s"].as_int(),
                                             type.empty() ? runners::query_list{} : runners::query_list{{"response-content-type", type}},
                                             static_cast<std::time_t>(clock_ms / 1000))));
    return out;
  }
  if (op == "isolates.invalidate") {
    invalidations.push_back(e);
    return out;
  }
  if (op == "r2.delete") {
    for (const auto& k : e["keys"].as_array()) blobs_->remove(std::string(k.as_string()));
    return out;
  }

  if (op == "cache.match") {
    auto it = cache_.find(std::string(e["url"].as_string()));
    if (it == cache_.end()) {
      out.set("found", json(false));
      return out;
    }
    out = it->second;
    out.set("found", json(true));
    if (e["read"].as_string() != "text") {
      handles_[next_handle_] = std::string(out["body"].as_string());
      out.erase("body");
      out.set("handle", json(next_handle_++));
    }
    return out;
  }
  if (op == "cache.put") {
    json stored = json::object();
    stored.set("status", e["status"]);
    stored.set("headers", e["headers"]);
    std::string body(e["body"].as_string());
    if (const json* h = e.find("handle")) {
      body = handles_[h->as_int()];
      handles_.erase(h->as_int());
    }
    stored.set("body", json(body));
    cache_[std::string(e["url"].as_string())] = stored;
    return out;
  }

  if (op == "fetch") {
    if (!upstream_) fail("TypeError", "fetch failed: no upstream scripted for " + std::string(e["url"].as_string()));
    upstream_response r = upstream_(e);
    out.set("status", json(r.status));
    out.set("url", e["url"]);
    json hs = json::array();
    for (auto& [k, v] : r.headers) hs.push_back(json(json_array{json(k), json(v)}));
    out.set("headers", std::move(hs));
    if (e["read"].as_string() == "handle") {
      handles_[next_handle_] = std::move(r.body);
      out.set("handle", json(next_handle_++));
    } else {
      if (static_cast<std::int64_t>(r.body.size()) > e["max_bytes"].as_int(INT64_MAX))
        fail("PayloadTooLarge", "body is larger than " + e["max_bytes"].dump() + " bytes");
      out.set("body", json(std::move(r.body)));
    }
    return out;
  }

  if (op == "body.tee") {
    std::int64_t h = e["handle"].as_int();
    auto it = handles_.find(h);
    if (it == handles_.end()) fail("BadHandle", "unknown or already used body handle " + std::to_string(h));
    std::string data = std::move(it->second);
    handles_.erase(it);
    std::int64_t a = next_handle_++, b = next_handle_++;
    handles_[a] = data;
    handles_[b] = std::move(data);
    out.set("handles", json(json_array{json(a), json(b)}));
    return out;
  }
  if (op == "body.text") {
    std::int64_t h = e["handle"].as_int();
    auto it = handles_.find(h);
    if (it == handles_.end()) fail("BadHandle", "unknown or already used body handle " + std::to_string(h));
    if (static_cast<std::int64_t>(it->second.size()) > e["max_bytes"].as_int())
      fail("PayloadTooLarge", "body is larger than " + e["max_bytes"].dump() + " bytes");
    out.set("body", json(std::move(it->second)));
    handles_.erase(it);
    return out;
  }

  if (op == "compression.decompress") return runners::run_decompress(e);
  if (op.rfind("crypto.", 0) == 0) return runners::run_crypto(op, e);

  if (op == "clock.now") {
    out.set("ms", json(clock_ms));
    return out;
  }
  if (op == "clock.sleep") {
    clock_ms += std::min<std::int64_t>(e["ms"].as_int(), 10000);  // simulated time: tests never wait
    if (on_sleep) on_sleep();
    out.set("ms", json(clock_ms));
    return out;
  }
  if (op == "queue.send") {
    if (!has_queue) fail("MissingBinding", "the Worker has no SYNC_QUEUE binding (check wrangler.toml)");
    ++queue_sent;
    queue.push_back({"m" + std::to_string(queue_sent), e["body"], clock_ms + e["delay_s"].as_int() * 1000, 1});
    return out;
  }
  if (op == "http.respond") {
    sent_response = e["response"];
    return out;
  }
  fail("UnknownEffect", "no runner for effect op \"" + op + "\"");
}

std::vector<finished> deliver_queue(native_host& h, const json& vars, int max_invocations, bool advance_clock, int max_retries) {
  std::vector<finished> runs;
  while (!h.queue.empty() && static_cast<int>(runs.size()) < max_invocations) {
    auto next = std::min_element(h.queue.begin(), h.queue.end(),
                                 [](const auto& a, const auto& b) { return a.not_before_ms < b.not_before_ms; });
    if (next->not_before_ms > h.clock_ms) {
      if (!advance_clock) break;
      h.clock_ms = next->not_before_ms;
    }
    native_host::queued_message m = *next;
    h.queue.erase(next);
    json msg = json::object();
    msg.set("id", json(m.id));
    msg.set("body", m.body);
    msg.set("attempts", json(static_cast<std::int64_t>(m.attempts)));
    json batch = json::array();
    batch.push_back(std::move(msg));
    runs.push_back(invoke(h, queue_start(std::move(batch), h.clock_ms, vars)));
    for (const auto& r : runs.back().doc["retry"].as_array()) {
      if (r["id"].as_string() != m.id || m.attempts > max_retries) continue;
      h.queue.push_back({m.id, m.body, h.clock_ms + r["delay_s"].as_int() * 1000, m.attempts + 1});
    }
  }
  return runs;
}

}  // namespace pb::testing
