// The wasm ABI: the only extern "C" functions the JS shim calls (PROTOCOL.md "ABI"). Natively the same
// functions are called by the test hosts, so both hosts drive the exact same code.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/settings.h"

#include "core/json.h"
#include "simdjson.h"
#include "driver.h"
#include "routes/app.h"
#include "auth/rate_limit.h"
#include "storage/audit.h"
#include "storage/hot_cache.h"
#include "wire.h"

#if defined(__EMSCRIPTEN__)
#define PB_EXPORT extern "C" __attribute__((used, visibility("default")))
#else
#define PB_EXPORT extern "C" __attribute__((visibility("default")))
#endif

namespace pb {
namespace {

// ondemand/simdjson-style slack after every buffer JS writes into.
constexpr std::uint32_t buffer_padding = 64;

struct job {
  request_context ctx;
  // The finished response's body, handed over as bytes (PROTOCOL.md "Finish"); shared with the hot cache
  // when the response came from it, so a p2 hit leaves wasm without a copy inside wasm.
  std::shared_ptr<const std::string> raw_body;
  std::unique_ptr<driver> drv;  // null when the request was answered without one (routes::answer_warm)
  std::string answered;          // then: its finish document
  driver_state state = driver_state::waiting;
  const std::string& output() const { return drv ? drv->output() : answered; }
};

std::unordered_map<std::uint32_t, std::unique_ptr<job>>& jobs() {
  static std::unordered_map<std::uint32_t, std::unique_ptr<job>> j;
  return j;
}

std::string finish_document(const http::response& r) {
  if (r.status == 0) return "{}";  // already sent with http.respond
  json_writer w;
  w.begin_object().key("response");
  wire::write_response(w, r);
  w.end_object();
  return std::move(w).str();
}

// The finish document of a fetch, in its binary form (PROTOCOL.md "Finish, binary form"). The body leaves
// as raw bytes beside the document: no JSON escaping on the way out, no decoding in JS. The log labels
// carry what the shim's request log line needs from C++ (route, cache outcome).
std::string fetch_finish_document(const request_context& ctx, http::response r, std::shared_ptr<const std::string>* raw_body) {
  std::int64_t raw_len = -1;
  if (r.status != 0) {  // 0: already sent with http.respond (routes::respond_early labelled it)
    r.log_route = ctx.route;
    r.log_cache = ctx.cache;
    if (r.body_from == http::no_body && !r.body_bytes().empty()) {
      *raw_body = r.shared_body ? std::move(r.shared_body) : std::make_shared<const std::string>(std::move(r.body));
      r.body.clear();
      r.shared_body.reset();
      raw_len = static_cast<std::int64_t>((*raw_body)->size());
    }
  }
  return wire::encode_fetch_finish(r, raw_len);
}

task<std::string> run_fetch(request_context* ctx, std::shared_ptr<const std::string>* raw_body) {
  http::response r = co_await routes::handle_fetch(*ctx);
  co_return fetch_finish_document(*ctx, std::move(r), raw_body);
}

task<std::string> run_scheduled(request_context* ctx) {
  (void)co_await routes::handle_scheduled(*ctx);
  co_return std::string("{}");
}

// {"retry":[{"id","delay_s"}]}: the messages the shim hands back to the queue; it acknowledges the rest.
task<std::string> run_queue(request_context* ctx) {
  json_array retry = co_await routes::handle_queue(*ctx);
  json_writer w;
  w.begin_object().key("retry").begin_array();
  for (const auto& r : retry) w.value(r);
  w.end_array().end_object();
  co_return std::move(w).str();
}

task<std::string> reject(std::string message) {
  co_return finish_document(http::error_response(error_code::protocol, std::move(message)));
}

// The start document: a fetch in its binary form (the Worker's; PROTOCOL.md "Start"), or JSON, read
// straight from simdjson's DOM (no owning JSON tree), which every host may still send.
// partial: the binary form's flag (only the warm paths' headers).
result<request_context> read_start(std::string_view doc, bool& partial) {
  if (doc.substr(0, wire::fetch_start_magic.size()) == wire::fetch_start_magic) {
    auto s = wire::decode_fetch_start(doc);
    if (!s) return std::move(s).err();
    partial = s->partial;
    request_context ctx;
    ctx.now_ms = s->now_ms;
    ctx.req.method = s->method.empty() ? std::string("GET") : std::move(s->method);
    ctx.req.target = http::parse_url(s->url);
    ctx.req.header_list = std::move(s->headers);
    ctx.req.body = s->has_body ? http::body_handle{0} : http::no_body;
    return ctx;
  }
  static simdjson::dom::parser parser;  // keeps its buffers between invocations (single-threaded module)
  simdjson::dom::element root;
  if (auto err = parser.parse(doc.data(), doc.size()).get(root))
    return make_error(error_code::protocol, std::string("start document: invalid JSON (") + simdjson::error_message(err) + ")");
  auto str = [](simdjson::dom::element e, std::string_view key, std::string_view fallback = {}) {
    std::string_view v;
    return e[key].get(v) ? std::string(fallback) : std::string(v);
  };
  std::int64_t version = 0;
  bool versioned = !root["v"].get(version);
  if (!versioned || version != wire::protocol_version)
    return make_error(error_code::protocol, "protocol version " + (versioned ? std::to_string(version) : std::string("(none)")) +
                                                " is not " + std::to_string(wire::protocol_version));
  request_context ctx;
  std::int64_t now = 0;
  ctx.now_ms = root["now_ms"].get(now) ? 0 : now;
  std::string kind = str(root, "kind");
  if (kind == "scheduled") {
    ctx.kind = invocation_kind::scheduled;
    ctx.cron = str(root, "cron");
    return ctx;
  }
  if (kind == "queue") {
    ctx.kind = invocation_kind::queue;
    auto parsed = parse_json(doc);  // a queue wake-up is rare: the owning tree costs nothing that matters
    if (!parsed) return std::move(parsed).err();
    ctx.messages = (*parsed)["messages"].is_array() ? (*parsed)["messages"] : json::array();
    return ctx;
  }
  if (kind != "fetch") return make_error(error_code::protocol, "unknown invocation kind \"" + kind + "\"");
  simdjson::dom::element r;
  if (root["request"].get(r)) return make_error(error_code::protocol, "start document without \"request\"");
  ctx.req.method = str(r, "method", "GET");
  ctx.req.target = http::parse_url(str(r, "url"));
  simdjson::dom::array headers;
  if (!r["headers"].get(headers)) {
    for (simdjson::dom::element pair : headers) {
      simdjson::dom::array kv;
      std::string_view k, v;
      if (pair.get(kv) || kv.size() != 2 || kv.at(0).get(k) || kv.at(1).get(v)) continue;
      ctx.req.header_list.add(k, v);
    }
  }
  std::int64_t body = http::no_body;
  ctx.req.body = static_cast<http::body_handle>(r["body_handle"].get(body) ? http::no_body : body);
  return ctx;
}

std::uint32_t next_job_id = 1;

// The instance's settings (pb_configure). Each job keeps the pointer it started with.
std::shared_ptr<const settings>& configured() {
  static std::shared_ptr<const settings> s;
  return s;
}

// {"v":2,"vars":{...},"host":{...}?} -> settings.
result<settings> read_configuration(std::string_view doc) {
  auto parsed = parse_json(doc);
  if (!parsed) return std::move(parsed).err();
  if ((*parsed)["v"].as_int() != wire::protocol_version)
    return make_error(error_code::protocol, "protocol version " + (*parsed)["v"].dump() + " is not " +
                                                std::to_string(wire::protocol_version));
  if (!(*parsed)["vars"].is_object()) return make_error(error_code::protocol, "configuration without \"vars\"");
  settings s = settings::from_vars((*parsed)["vars"]);
  s.host_serves_r2 = (*parsed)["host"]["respond_r2"].as_bool();
  return s;
}

}  // namespace
}  // namespace pb

using namespace pb;

PB_EXPORT int pb_protocol_version() { return wire::protocol_version; }

// Hands the instance its settings ({"v":2,"vars":{...}}), once after instantiation and again whenever
// the host's bindings change. Returns 1 on success, 0 for a malformed document (settings unchanged).
PB_EXPORT int pb_configure(const char* doc, std::uint32_t len) {
  auto s = read_configuration(std::string_view(doc, len));
  if (!s) return 0;
  storage::hot_cache::set_broadcast(s->broadcast_invalidations);
  configured() = std::make_shared<const settings>(std::move(*s));
  return 1;
}

// A buffer of len bytes plus padding; JS writes request and result documents into it.
PB_EXPORT char* pb_alloc(std::uint32_t len) { return static_cast<char*>(std::malloc(len + buffer_padding)); }
PB_EXPORT void pb_free(char* p) { std::free(p); }

// The request headers some warm path reads, '\n'-separated and NUL-terminated: a host may hand pb_start
// only these (a partial start, PROTOCOL.md "Start, binary form").
PB_EXPORT const char* pb_warm_headers() { return routes::warm_header_names; }

// Starts an invocation from its start document; returns the job id, or 0 for a partial start that no
// warm path answered (no job: the host starts again with every header).
PB_EXPORT std::uint32_t pb_start(const char* doc, std::uint32_t len) {
  auto new_id = [] {
    std::uint32_t id = next_job_id++;
    if (next_job_id == 0) next_job_id = 1;
    return id;
  };
  auto j = std::make_unique<job>();
  bool partial = false;
  auto ctx = read_start(std::string_view(doc, len), partial);
  if (ctx && !configured()) ctx = make_error(error_code::protocol, "pb_start before pb_configure");
  if (ctx) {
    ctx->cfg = configured();
    j->ctx = std::move(*ctx);
    if (j->ctx.kind == invocation_kind::fetch) {
      if (auto r = routes::answer_warm(j->ctx)) {  // a warm hit: no coroutine, no driver
        j->answered = fetch_finish_document(j->ctx, std::move(*r), &j->raw_body);
        j->state = driver_state::done;
        std::uint32_t id = new_id();
        jobs()[id] = std::move(j);
        return id;
      }
      if (partial) return 0;  // the handler may read any header
    }
    task<std::string> root = j->ctx.kind == invocation_kind::scheduled ? run_scheduled(&j->ctx)
                             : j->ctx.kind == invocation_kind::queue   ? run_queue(&j->ctx)
                                                                       : run_fetch(&j->ctx, &j->raw_body);
    j->drv = std::make_unique<driver>(std::move(root), j->ctx.settings().subrequest_budget());
  } else {
    j->drv = std::make_unique<driver>(reject(ctx.err().message));
  }
  job* raw = j.get();
  std::uint32_t id = new_id();
  jobs()[id] = std::move(j);
  raw->state = raw->drv->start();
  return id;
}

// 0 = done (output is the finish document), 1 = waiting (output is an effect batch), -1 = unknown job.
PB_EXPORT int pb_state(std::uint32_t id) {
  auto it = jobs().find(id);
  if (it == jobs().end()) return -1;
  return static_cast<int>(it->second->state);
}

PB_EXPORT int pb_resume(std::uint32_t id, const char* doc, std::uint32_t len) {
  auto it = jobs().find(id);
  if (it == jobs().end()) return -1;
  job& j = *it->second;
  if (j.state != driver_state::waiting) return -1;
  j.state = j.drv->resume(std::string_view(doc, len));
  return static_cast<int>(j.state);
}

PB_EXPORT const char* pb_out_ptr(std::uint32_t id) {
  auto it = jobs().find(id);
  return it == jobs().end() ? nullptr : it->second->output().data();
}

PB_EXPORT std::uint32_t pb_out_len(std::uint32_t id) {
  auto it = jobs().find(id);
  return it == jobs().end() ? 0 : static_cast<std::uint32_t>(it->second->output().size());
}

// Empties the isolate's caches (native test hosts call it so every case starts cold; not exported to wasm).
PB_EXPORT void pb_reset_caches() {
  storage::hot_cache::clear();
  auth::reset_rate_limits();
  storage::reset_denials();
}

// Applies an invalidation another instance broadcast (isolates.invalidate's arguments as JSON); 1 ok,
// 0 malformed. Native hosts only (the self-hosted server's Redis subscriber); not exported to wasm.
PB_EXPORT int pb_invalidate(const char* doc, std::uint32_t len) {
  auto m = parse_json(std::string_view(doc, len));
  if (!m || !m->is_object()) return 0;
  storage::hot_cache::apply_invalidation(*m);
  return 1;
}

// The raw body of a finished job's response ("body_raw" in the finish document).
PB_EXPORT const char* pb_out_body_ptr(std::uint32_t id) {
  auto it = jobs().find(id);
  return it == jobs().end() || !it->second->raw_body ? nullptr : it->second->raw_body->data();
}

PB_EXPORT std::uint32_t pb_out_body_len(std::uint32_t id) {
  auto it = jobs().find(id);
  return it == jobs().end() || !it->second->raw_body ? 0 : static_cast<std::uint32_t>(it->second->raw_body->size());
}

// Frees the job; a job abandoned while waiting destroys its coroutine frames.
PB_EXPORT void pb_finish(std::uint32_t id) { jobs().erase(id); }
