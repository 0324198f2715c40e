#include "host/native_host.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace pb::testing {

namespace fs = std::filesystem;

namespace {

struct thrown {
  effect_error e;
};

[[noreturn]] void fail(std::string name, std::string message) { throw thrown{{std::move(name), std::move(message)}}; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const EVP_MD* md_for(std::string_view algorithm) {
  if (algorithm == "SHA-1") return EVP_sha1();
  if (algorithm == "SHA-256") return EVP_sha256();
  if (algorithm == "SHA-384") return EVP_sha384();
  if (algorithm == "SHA-512") return EVP_sha512();
  fail("NotSupportedError", "unknown digest " + std::string(algorithm));
}

std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string b64_encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string b64_decode(const std::string& in) {
  std::string out(3 * in.size() / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) fail("InvalidCharacterError", "bad base64");
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

void bind_params(sqlite3* db, sqlite3_stmt* st, const json& params) {
  int i = 1;
  for (const auto& p : params.as_array()) {
    int rc = SQLITE_OK;
    switch (p.type()) {
      case json::kind::null: rc = sqlite3_bind_null(st, i); break;
      case json::kind::boolean: rc = sqlite3_bind_int64(st, i, p.as_bool() ? 1 : 0); break;
      case json::kind::integer: rc = sqlite3_bind_int64(st, i, p.as_int()); break;
      case json::kind::number: rc = sqlite3_bind_double(st, i, p.as_double()); break;
      case json::kind::string: {
        auto s = p.as_string();
        rc = sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        break;
      }
      default: fail("Error", "D1_TYPE_ERROR: Type 'object' not supported for value " + p.dump());
    }
    if (rc != SQLITE_OK) fail("Error", std::string("D1_ERROR: ") + sqlite3_errmsg(db));
    ++i;
  }
}

json column_value(sqlite3_stmt* st, int c) {
  switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER: return json(static_cast<std::int64_t>(sqlite3_column_int64(st, c)));
    case SQLITE_FLOAT: return json(sqlite3_column_double(st, c));
    case SQLITE_TEXT:
      return json(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, c)),
                              static_cast<std::size_t>(sqlite3_column_bytes(st, c))));
    case SQLITE_BLOB: {
      json arr = json::array();
      auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, c));
      for (int i = 0; i < sqlite3_column_bytes(st, c); ++i) arr.push_back(json(int{p[i]}));
      return arr;
    }
    default: return json();
  }
}

// Runs one statement the way D1 does: rows as objects, plus changes and last_row_id.
json run_statement(sqlite3* db, const std::string& sql, const json& params) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK)
    fail("Error", std::string("D1_ERROR: ") + sqlite3_errmsg(db) + ": SQLITE_ERROR");
  if (static_cast<std::size_t>(sqlite3_bind_parameter_count(st)) != params.size()) {
    sqlite3_finalize(st);
    fail("Error", "D1_ERROR: Wrong number of parameter bindings for SQL query.");
  }
  if (params.size() > 100) {
    sqlite3_finalize(st);
    fail("Error", "D1_ERROR: too many SQL variables (D1 allows 100 bound parameters)");
  }
  try {
    bind_params(db, st, params);
  } catch (...) {
    sqlite3_finalize(st);
    throw;
  }
  json rows = json::array();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    json row = json::object();
    for (int c = 0; c < sqlite3_column_count(st); ++c) row.set(sqlite3_column_name(st, c), column_value(st, c));
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) fail("Error", std::string("D1_ERROR: ") + sqlite3_errmsg(db));
  json meta = json::object();
  meta.set("changes", json(static_cast<std::int64_t>(sqlite3_changes(db))));
  meta.set("last_row_id", json(static_cast<std::int64_t>(sqlite3_last_insert_rowid(db))));
  json out = json::object();
  out.set("results", std::move(rows));
  out.set("meta", std::move(meta));
  return out;
}

void exec(sqlite3* db, const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown";
    sqlite3_free(msg);
    throw std::runtime_error("sqlite: " + m + " in: " + sql.substr(0, 200));
  }
}

}  // namespace

std::string hex_digest(std::string_view algorithm, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md_for(algorithm), nullptr);
  return to_hex(out, n);
}

std::string hex_hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &n);
  return to_hex(mac, n);
}

std::string request_header(const json& fetch_effect, std::string_view name) {
  for (const auto& h : fetch_effect["headers"].as_array())
    if (h.as_array().size() == 2 && h.as_array()[0].as_string() == name) return std::string(h.as_array()[1].as_string());
  return {};
}

native_host::native_host(bool apply_migrations) {
  pb_reset_caches();  // a new host is a new isolate
  if (sqlite3_open(":memory:", &db_) != SQLITE_OK) throw std::runtime_error("sqlite3_open failed");
  exec(db_, "PRAGMA foreign_keys = ON");  // D1 enforces foreign keys
  if (apply_migrations) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(fs::path(PB_SOURCE_DIR) / "d1" / "migrations"))
      if (entry.path().extension() == ".sql") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) exec(db_, read_file(f));
  }
  char tmpl[] = "/tmp/pb-blobs-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  blob_dir_ = tmpl;
}

native_host::~native_host() {
  sqlite3_close(db_);
  std::error_code ec;
  fs::remove_all(blob_dir_, ec);
}

void native_host::fail_op(std::string op, std::string name, std::string message) {
  faults_[std::move(op)] = effect_error{std::move(name), std::move(message)};
}

json native_host::query(const std::string& sql) { return run_statement(db_, sql, json::array())["results"]; }

fs::path native_host::blob_path(const std::string& key) const {
  std::string safe;
  for (char c : key) safe += (c == '/') ? '%' : c;  // one flat directory; '%' never appears in our keys
  return blob_dir_ / safe;
}

bool native_host::blob_exists(const std::string& key) const { return fs::exists(blob_path(key)); }

void native_host::put_blob(const std::string& key, const std::string& bytes) {
  std::ofstream out(blob_path(key), std::ios::binary);
  out << bytes;
}

std::size_t native_host::blob_count() const {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(blob_dir_)) ++n;
  return n;
}

std::optional<std::string> native_host::take_handle(std::int64_t id) {
  auto it = handles_.find(id);
  if (it == handles_.end()) return std::nullopt;
  std::string data = std::move(it->second);
  handles_.erase(it);
  return data;
}

json native_host::perform(const json& effect, std::optional<effect_error>& err) {
  std::string op(effect["op"].as_string());
  if (auto f = faults_.find(op); f != faults_.end()) {
    err = f->second;
    return json();
  }
  try {
    return run_effect(effect);
  } catch (const thrown& t) {
    err = t.e;
    return json();
  }
}

json native_host::d1(const std::string& op, const json& e) {
  if (op == "d1.batch") {
    exec(db_, "BEGIN");
    json results = json::array();
    try {
      for (const auto& s : e["statements"].as_array())
        results.push_back(run_statement(db_, std::string(s["sql"].as_string()), s["params"]));
    } catch (...) {
      exec(db_, "ROLLBACK");
      throw;
    }
    exec(db_, "COMMIT");
    json out = json::object();
    out.set("results", std::move(results));
    return out;
  }
  json r = run_statement(db_, std::string(e["sql"].as_string()), e["params"]);
  if (op == "d1.first") {
    json out = json::object();
    const auto& rows = r["results"].as_array();
    out.set("row", rows.empty() ? json() : rows.front());
    return out;
  }
  return r;
}

json native_host::run_effect(const json& e) {
  std::string op(e["op"].as_string());
  json out = json::object();
  if (op.rfind("d1.", 0) == 0) return d1(op, e);

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
    fs::path p = blob_path(key);
    if (!fs::exists(p)) {
      out.set("found", json(false));
      return out;
    }
    std::string data = read_file(p);
    out.set("found", json(true));
    out.set("key", json(key));
    out.set("size", json(static_cast<std::int64_t>(data.size())));
    out.set("etag", json(hex_digest("SHA-1", data).substr(0, 32)));
    out.set("uploaded_ms", json(clock_ms));
    if (op == "r2.head") return out;
    if (const json* r = e.find("range")) {
      std::int64_t size = static_cast<std::int64_t>(data.size());
      std::int64_t offset = 0, length = size;
      if (r->find("suffix")) {
        length = std::min((*r)["suffix"].as_int(), size);
        offset = size - length;
      } else {
        offset = std::min((*r)["offset"].as_int(), size);
        length = std::min((*r)["length"].as_int(size - offset), size - offset);
      }
      data = data.substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
      json range = json::object();
      range.set("offset", json(offset));
      range.set("length", json(length));
      out.set("range", std::move(range));
    }
    if (e["read"].as_string() == "text") {
      out.set("body", json(std::move(data)));
    } else if (e["read"].as_string() == "base64") {
      out.set("body_b64", json(b64_encode(data)));
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
    if (const json* want = e.find("expected_size"); want && want->as_int() != static_cast<std::int64_t>(data.size()))
      fail("BadBody", "the body ended after " + std::to_string(data.size()) + " of the " + want->dump() + " bytes expected");
    if (const json* max = e.find("max_bytes"); max && static_cast<std::int64_t>(data.size()) > max->as_int())
      fail("PayloadTooLarge", "body is larger than " + max->dump() + " bytes");
    std::ofstream(blob_path(key), std::ios::binary) << data;
    out.set("key", json(key));
    out.set("size", json(static_cast<std::int64_t>(data.size())));
    out.set("etag", json(hex_digest("SHA-1", data).substr(0, 32)));
    for (const auto& a : e["digests"].as_array()) {
      std::string name = a.as_string() == "SHA-1" ? "sha1" : "sha256";
      out.set(name, json(hex_digest(a.as_string(), data)));
    }
    return out;
  }
  if (op == "r2.delete") {
    for (const auto& k : e["keys"].as_array()) fs::remove(blob_path(std::string(k.as_string())));
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

  if (op == "compression.decompress") {
    std::string in = b64_decode(std::string(e["data_b64"].as_string()));
    std::string_view format = e["format"].as_string();
    int bits = format == "deflate-raw" ? -15 : format == "gzip" ? 16 + 15 : 15;
    z_stream zs{};
    if (inflateInit2(&zs, bits) != Z_OK) fail("TypeError", "inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    std::string outbuf;
    char chunk[16384];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      zs.next_out = reinterpret_cast<Bytef*>(chunk);
      zs.avail_out = sizeof chunk;
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        inflateEnd(&zs);
        fail("TypeError", "The compressed data was not valid: inflate error " + std::to_string(rc));
      }
      outbuf.append(chunk, sizeof chunk - zs.avail_out);
      if (static_cast<std::int64_t>(outbuf.size()) > e["max_bytes"].as_int(INT64_MAX)) {
        inflateEnd(&zs);
        fail("PayloadTooLarge", "body is larger than " + e["max_bytes"].dump() + " bytes");
      }
      if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
        inflateEnd(&zs);
        fail("TypeError", "The compressed data ended early");
      }
    }
    inflateEnd(&zs);
    out.set("body_b64", json(b64_encode(outbuf)));
    return out;
  }
  if (op == "crypto.digest") {
    out.set("hex", json(hex_digest(e["algorithm"].as_string(), e["data"].as_string())));
    return out;
  }
  if (op == "crypto.hmac") {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    auto key = e["key"].as_string();
    auto data = e["data"].as_string();
    HMAC(md_for(e["algorithm"].as_string()), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &n);
    out.set("hex", json(to_hex(mac, n)));
    return out;
  }
  if (op == "crypto.random") {
    std::vector<unsigned char> buf(static_cast<std::size_t>(e["bytes"].as_int()));
    RAND_bytes(buf.data(), static_cast<int>(buf.size()));
    out.set("hex", json(to_hex(buf.data(), buf.size())));
    return out;
  }
  if (op == "crypto.aes_gcm_encrypt" || op == "crypto.aes_gcm_decrypt") {
    bool enc = op == "crypto.aes_gcm_encrypt";
    std::string key = b64_decode(std::string(e["key_b64"].as_string()));
    if (key.size() != 32) fail("DataError", "AES key must be 256 bits");
    std::string iv = enc ? std::string(12, '\0') : b64_decode(std::string(e["iv_b64"].as_string()));
    if (enc) RAND_bytes(reinterpret_cast<unsigned char*>(iv.data()), 12);
    std::string input = enc ? std::string(e["plaintext"].as_string()) : b64_decode(std::string(e["ciphertext_b64"].as_string()));
    std::string aad(e["aad"].as_string());
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    auto* k = reinterpret_cast<const unsigned char*>(key.data());
    auto* v = reinterpret_cast<const unsigned char*>(iv.data());
    std::string output(input.size() + 16, '\0');
    int len = 0, total = 0;
    bool ok = true;
    if (enc) {
      ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, k, v) == 1;
      if (!aad.empty()) ok = ok && EVP_EncryptUpdate(c, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())) == 1;
      ok = ok && EVP_EncryptUpdate(c, reinterpret_cast<unsigned char*>(output.data()), &len,
                                   reinterpret_cast<const unsigned char*>(input.data()), static_cast<int>(input.size())) == 1;
      total = len;
      ok = ok && EVP_EncryptFinal_ex(c, reinterpret_cast<unsigned char*>(output.data()) + total, &len) == 1;
      total += len;
      ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, output.data() + total) == 1;
      total += 16;
    } else {
      if (input.size() < 16) ok = false;
      std::string tag = ok ? input.substr(input.size() - 16) : std::string();
      if (ok) input.resize(input.size() - 16);
      ok = ok && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), nullptr, k, v) == 1;
      if (!aad.empty()) ok = ok && EVP_DecryptUpdate(c, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())) == 1;
      ok = ok && EVP_DecryptUpdate(c, reinterpret_cast<unsigned char*>(output.data()), &len,
                                   reinterpret_cast<const unsigned char*>(input.data()), static_cast<int>(input.size())) == 1;
      total = len;
      ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1;
      ok = ok && EVP_DecryptFinal_ex(c, reinterpret_cast<unsigned char*>(output.data()) + total, &len) == 1;
      total += len;
    }
    EVP_CIPHER_CTX_free(c);
    if (!ok) fail("OperationError", "The operation failed for an operation-specific reason");
    output.resize(static_cast<std::size_t>(total));
    if (enc) {
      out.set("iv_b64", json(b64_encode(iv)));
      out.set("ciphertext_b64", json(b64_encode(output)));
    } else {
      out.set("plaintext", json(output));
    }
    return out;
  }

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
  if (op == "http.respond") {
    sent_response = e["response"];
    return out;
  }
  fail("UnknownEffect", "no runner for effect op \"" + op + "\"");
}

}  // namespace pb::testing
