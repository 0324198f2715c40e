// native_host: the C++ stand-in for the Worker's runner table, for native end-to-end tests. It runs the
// server's runners (server/runners): D1 is a real SQLite database built from d1/migrations (the same
// files D1 runs) — or, when PB_TEST_DATABASE_URL names a PostgreSQL server, a fresh schema there built
// from d1/postgres — R2 is the file store in a temp directory, crypto and compression are OpenSSL and
// zlib. KV is in memory, the Cache API is a map, fetch goes to a scripted upstream.
// fail_op() makes an op throw like a failing binding does in JS.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "host/abi.h"

struct sqlite3;

namespace pb::runners {
class sql_database;
class file_blob_store;
}  // namespace pb::runners

namespace pb::testing {

struct upstream_response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class native_host final : public host {
 public:
  // apply_migrations = false gives an empty database (for "not migrated" cases).
  explicit native_host(bool apply_migrations = true);
  ~native_host() override;
  native_host(const native_host&) = delete;
  native_host& operator=(const native_host&) = delete;

  json perform(const json& effect, std::optional<effect_error>& err) override;

  // Faults: every effect with this op fails with (name, message) until cleared.
  void fail_op(std::string op, std::string name = "Error", std::string message = "injected failure");
  void clear_faults() { faults_.clear(); }
  // Finer faults: called with every effect; an error it returns fails that effect (one D1 statement,
  // one upstream URL, the nth call...). Checked before fail_op's.
  std::function<std::optional<effect_error>(const json& effect)> fault_if;

  // Scripted upstream: the handler answers every fetch (url, method, headers, body).
  using upstream_fn = std::function<upstream_response(const json& request)>;
  void set_upstream(upstream_fn fn) { upstream_ = std::move(fn); }

  // Direct access for assertions and fixtures.
  sqlite3* db() const;                  // null when the tests run on PostgreSQL
  json query(const std::string& sql);  // rows as a JSON array (the core's SQL dialect, either database)
  bool on_postgres() const;
  std::map<std::string, std::string>& kv() { return kv_; }
  std::filesystem::path blob_dir() const { return blob_dir_; }
  bool blob_exists(const std::string& key) const;
  void put_blob(const std::string& key, const std::string& bytes);  // a fixture object, as r2.put stores it
  void remove_blob(const std::string& key);  // an object deleted by someone else (another isolate)
  void set_request_body(std::string body) { handles_[0] = std::move(body); }
  // The bytes behind a body handle a response streamed (consumes it); nullopt if unknown.
  std::optional<std::string> take_handle(std::int64_t id);
  std::size_t blob_count() const;
  std::optional<json> sent_response;  // set by http.respond
  // blob.presign: answered with a URL signed for this S3 location (as the server's S3 store does);
  // without it the host's file store answers NotSupported, like R2 and the server's file store.
  std::optional<std::string> presign_s3_url;
  std::vector<json> invalidations;  // the arguments of every isolates.invalidate
  std::vector<std::string> grouped_writes;  // the "group" of every d1.run that carries one (run directly)
  std::int64_t clock_ms = 1767225600000;
  std::function<void()> on_sleep;  // runs at every clock.sleep (tests use it to act "meanwhile")

  // The sync queue (queue.send): messages wait here until a test delivers them (deliver_queue in
  // host/abi.h) as a "queue" invocation. has_queue = false: a host without one (queue.send fails with
  // MissingBinding, as the Worker does without the binding).
  struct queued_message {
    std::string id;
    json body;
    std::int64_t not_before_ms = 0;  // clock_ms at send + delay_s
    int attempts = 1;
  };
  bool has_queue = true;
  std::vector<queued_message> queue;
  std::int64_t queue_sent = 0;

 private:
  json run_effect(const json& e);

  std::unique_ptr<runners::sql_database> db_;
  std::string pg_schema_;  // PostgreSQL: this host's schema, dropped with it
  std::unique_ptr<runners::file_blob_store> blobs_;
  std::map<std::string, std::string> kv_;
  std::map<std::string, json> kv_meta_;
  std::map<std::string, json> cache_;
  std::map<std::int64_t, std::string> handles_;
  std::int64_t next_handle_ = 1;
  std::map<std::string, effect_error> faults_;
  upstream_fn upstream_;
  std::filesystem::path blob_dir_;
};

// Delivers the host's queued messages the way Cloudflare Queues does with wrangler.toml's consumer
// (max_batch_size 1): each message whose time has come in a "queue" invocation at the host's clock;
// acknowledged unless the finish document hands it back, then delivered again after its delay with
// attempts + 1, at most max_retries times (then dropped: cron carries on). advance_clock: when only
// delayed messages are left, the clock jumps to the next one (simulated time; tests never wait).
// Stops when the queue is empty or after max_invocations; returns the invocations it ran.
std::vector<finished> deliver_queue(native_host& h, const json& vars, int max_invocations = 100, bool advance_clock = true,
                                    int max_retries = 3);

// Lower-case hex digests (OpenSSL), for fixtures and assertions.
std::string hex_digest(std::string_view algorithm, std::string_view data);
std::string hex_hmac_sha256(std::string_view key, std::string_view data);
// A header of a fetch effect as a scripted upstream receives it ("" when absent).
std::string request_header(const json& fetch_effect, std::string_view name);

}  // namespace pb::testing
