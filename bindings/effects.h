// Typed effects: one function per op in PROTOCOL.md, each returning an awaitable whose result is a
// result<T> of a plain C++ value. These functions build the effect JSON and parse the host's reply;
// nothing else in the code base knows either shape. Ops are named after the Cloudflare methods they run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "effect.h"
#include "http/message.h"

namespace pb::fx {

// An effect whose reply is parsed into result<T> by Parse.
template <class T>
struct typed_effect {
  using parser = result<T> (*)(effect_outcome&&);
  raw_effect raw;
  parser parse;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { raw.await_suspend(h); }
  result<T> await_resume() { return parse(raw.await_resume()); }
};

// Subrequests the running invocation may still make (its plan's budget, see driver.h): work that costs
// several (a sync slice's next package) checks first instead of failing half way.
std::int64_t subrequests_left();

// ---- D1 -------------------------------------------------------------------------------------------
// Parameters and column values: null, integer, number or string (json of those kinds).
using sql_params = std::vector<json>;

struct d1_statement {
  std::string sql;
  sql_params params;
};

struct d1_result {
  json_array rows;  // each an object column -> value
  std::int64_t changes = 0;
  std::int64_t last_row_id = 0;
};

typed_effect<d1_result> d1_all(std::string sql, sql_params params = {});
typed_effect<std::optional<json>> d1_first(std::string sql, sql_params params = {});
typed_effect<d1_result> d1_run(std::string sql, sql_params params = {});
// The same write, marked coalescible (PROTOCOL.md, d1.run "group"): a host may commit it in one D1 batch
// with other invocations' writes of the same group. Only for writes whose outcome nobody waits on in
// the answer and that are correct in any order (download counts).
typed_effect<d1_result> d1_run_grouped(std::string_view group, std::string sql, sql_params params = {});
// All statements in one implicit transaction (D1 batch semantics): all apply or none. Callers index
// the results by statement, so a reply with another count is a protocol error, never a short vector.
struct d1_batch_effect {
  raw_effect raw;
  std::size_t statements = 0;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { raw.await_suspend(h); }
  result<std::vector<d1_result>> await_resume();
};
d1_batch_effect d1_batch(std::vector<d1_statement> statements);

// ---- KV -------------------------------------------------------------------------------------------
struct kv_value {
  std::string value;
  json metadata;  // null when none
};
struct kv_key {
  std::string name;
  std::int64_t expiration = 0;  // unix seconds, 0 = none
  json metadata;
};
struct kv_list_result {
  std::vector<kv_key> keys;
  bool list_complete = true;
  std::string cursor;
};

typed_effect<std::optional<kv_value>> kv_get(std::string key, std::int64_t cache_ttl_s = 0);
// expiration_ttl_s: 0 = never expires (Cloudflare's minimum otherwise is 60).
typed_effect<std::monostate> kv_put(std::string key, std::string value, std::int64_t expiration_ttl_s = 0,
                                    json metadata = {});
typed_effect<std::monostate> kv_delete(std::string key);
typed_effect<kv_list_result> kv_list(std::string prefix, std::string cursor = {}, std::int64_t limit = 1000);

// ---- R2 -------------------------------------------------------------------------------------------
// The object info a host answers with (PROTOCOL.md r2.get: size, etag, metadata…) is not parsed: nothing
// in the core reads it (sizes and digests come from D1), so no read pays for it.
struct r2_object {
  std::string text;                      // read == text or bytes
  http::body_handle body = http::no_body;  // read == handle
};

// handle: the body stays in the host; text: UTF-8 text; bytes: arbitrary bytes (base64 on the wire).
enum class body_read { handle, text, bytes };

struct r2_range {
  std::int64_t offset = 0;
  std::int64_t length = -1;  // -1: to the end
  std::int64_t suffix = -1;  // >= 0: the last `suffix` bytes (offset/length ignored)
};

typed_effect<std::optional<r2_object>> r2_get(std::string key, body_read read = body_read::handle,
                                              std::optional<r2_range> range = std::nullopt);
// Whether the object exists.
typed_effect<bool> r2_head(std::string key);

struct r2_put_args {
  std::string key;
  // Exactly one source: text, or a host body handle (consumed).
  std::string text;
  http::body_handle from = http::no_body;
  json http_metadata;
  json custom_metadata;
  bool want_sha1 = false;
  bool want_sha256 = false;
  // >= 0: the put fails (and stores nothing) unless exactly this many bytes arrived. -1: unknown, the
  // host streams it up in parts (multipart) and stores it only if the stream ends whole.
  std::int64_t expected_size = -1;
  // >= 0: a body longer than this fails the put with payload_too_large, storing nothing.
  std::int64_t max_bytes = -1;
};
struct r2_put_result {
  std::string key;
  std::int64_t size = 0;
  std::string etag;
  std::string sha1;    // hex, when asked for
  std::string sha256;  // hex, when asked for
};
// Fails with bad_request when the body broke off or had another length than expected_size, with
// payload_too_large past max_bytes, and with effect_failed when R2 itself failed; nothing is stored.
typed_effect<r2_put_result> r2_put(r2_put_args args);
typed_effect<std::monostate> r2_delete(std::vector<std::string> keys);
// A URL that fetches the object directly from the store for expires_s seconds (with this response
// Content-Type). Fails (NotSupported) where the store cannot sign URLs: R2 bindings, local files.
typed_effect<std::string> blob_presign(std::string key, std::int64_t expires_s, std::string content_type);

// ---- Cache API (caches.default) ---------------------------------------------------------------------
struct stored_response {
  int status = 0;
  http::headers header_list;
  std::string text;
  http::body_handle body = http::no_body;
};
typed_effect<std::optional<stored_response>> cache_match(std::string url, body_read read = body_read::handle);
// Stores a text body, or the host body `from` (consumed).
typed_effect<std::monostate> cache_put(std::string url, int status, http::headers header_list, std::string text,
                                       http::body_handle from = http::no_body);

// ---- fetch ----------------------------------------------------------------------------------------
struct fetch_request {
  std::string url;
  std::string method = "GET";
  http::headers header_list;
  std::string body;
  http::body_handle body_from = http::no_body;
  body_read read = body_read::text;
  // For read == text: larger bodies are an error. A text body crosses into wasm JSON-escaped inside
  // the results document and is parsed there (simdjson holds ~14 bytes per byte): 4 MiB keeps the
  // largest metadata document well inside the isolate's 128 MB (packagist's largest p2 files are ~2 MB).
  std::int64_t max_bytes = 4 * 1024 * 1024;
  std::int64_t timeout_ms = 30000;
  bool follow_redirects = false;
};
struct fetch_response {
  int status = 0;
  std::string url;  // final URL
  http::headers header_list;
  std::string text;
  http::body_handle body = http::no_body;
};
typed_effect<fetch_response> http_fetch(fetch_request req);

// ---- bodies ---------------------------------------------------------------------------------------
// Splits a host body into two independent streams (the original handle is consumed).
typed_effect<std::pair<http::body_handle, http::body_handle>> body_tee(http::body_handle h);
// Reads a host body as UTF-8 text; fails with payload_too_large past max_bytes.
typed_effect<std::string> body_text(http::body_handle h, std::int64_t max_bytes);

// ---- compression (DecompressionStream) -------------------------------------------------------------
// format: "deflate-raw" (zip entries), "deflate", "gzip". Fails past max_bytes of output.
typed_effect<std::string> decompress(std::string format, std::string data, std::int64_t max_bytes);

// ---- WebCrypto ------------------------------------------------------------------------------------
// algorithm: "SHA-1", "SHA-256", "SHA-384", "SHA-512". Results are lower-case hex.
typed_effect<std::string> crypto_digest(std::string algorithm, std::string data);
typed_effect<std::string> crypto_hmac(std::string algorithm, std::string key, std::string data);
typed_effect<std::string> crypto_random_hex(std::int64_t bytes);
struct aes_gcm_sealed {
  std::string iv_b64;
  std::string ciphertext_b64;  // includes the tag
};
// key_b64: a base64 256-bit key.
typed_effect<aes_gcm_sealed> crypto_aes_gcm_encrypt(std::string key_b64, std::string plaintext, std::string aad = {});
typed_effect<std::string> crypto_aes_gcm_decrypt(std::string key_b64, aes_gcm_sealed sealed, std::string aad = {});

// ---- other instances ---------------------------------------------------------------------------------
// Tells the host's other instances to drop hot-cache entries: every token record (tokens) and/or these
// p2 documents. Raised only when settings::broadcast_invalidations is on.
typed_effect<std::monostate> invalidate_isolates(bool tokens, std::vector<std::string> documents);

// ---- clock and response -----------------------------------------------------------------------------
typed_effect<std::int64_t> clock_now_ms();
// Waits ms milliseconds (at most 10 s) and answers the clock afterwards.
typed_effect<std::int64_t> clock_sleep(std::int64_t ms);
// Sends the response now; the coroutine continues afterwards (the host keeps it alive with waitUntil).
// With `after` (another typed effect's raw form) the host runs that effect once the response went out,
// in the same suspension: one batch less for work that follows every response (a download's count).
// With `body_r2` (an R2 key; only for a host that declares it, settings::host_serves_r2) the host reads
// that whole object itself as the body, under r's headers: no r2.get of its own (PROTOCOL.md
// http.respond). An error: nothing was sent (the read or the sending failed).
struct respond_outcome {
  // false: the body_r2 object is not there; nothing was sent and `after` did not run.
  bool found = true;
  // Whether the host ran `after` (a host may leave it to the core: the caller then raises it itself).
  // Its outcome is not read: the only user, the count, is logged by the host when it fails.
  bool after_ran = false;
};
typed_effect<respond_outcome> respond(http::response r, const raw_effect* after = nullptr, std::string_view body_r2 = {});

// ---- queue ------------------------------------------------------------------------------------------
// Sends body to the Worker's sync queue; the host delivers it to a "queue" invocation no sooner than
// delay_s seconds from now (at most 12 hours, Cloudflare Queues' limit). Only a wake-up: a host without a
// queue fails it (MissingBinding) and the cron trigger does the same work later.
constexpr std::int64_t queue_max_delay_s = 43'200;
typed_effect<std::monostate> queue_send(const json& body, std::int64_t delay_s = 0);

// Test hook: a wasm trap on purpose (only reachable when the host enables test hooks).
[[noreturn]] void trap();

}  // namespace pb::fx
