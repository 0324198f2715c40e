#include "host/invocation.h"

#include <cstring>

#include "bindings/abi.h"
#include "bindings/wire.h"
#include "host/sync_queue.h"
#include "runners/crypto_ops.h"
#include "runners/failure.h"

namespace pb::server {

using runners::fail;

namespace {

std::uint32_t start_job(const std::string& doc) {
  char* p = pb_alloc(static_cast<std::uint32_t>(doc.size()));
  std::memcpy(p, doc.data(), doc.size());
  std::uint32_t id = pb_start(p, static_cast<std::uint32_t>(doc.size()));
  pb_free(p);
  return id;
}

int resume_job(std::uint32_t id, const std::string& doc) {
  char* p = pb_alloc(static_cast<std::uint32_t>(doc.size()));
  std::memcpy(p, doc.data(), doc.size());
  int state = pb_resume(id, p, static_cast<std::uint32_t>(doc.size()));
  pb_free(p);
  return state;
}

std::string host_of(std::string_view url) {
  auto s = url.find("://");
  if (s == std::string_view::npos) return {};
  auto rest = url.substr(s + 3);
  return std::string(rest.substr(0, rest.find_first_of("/?#")));
}

}  // namespace

json fetch_start_document(const std::string& method, const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers, bool has_body) {
  json hs = json::array();
  for (const auto& [k, v] : headers) hs.push_back(json(json_array{json(k), json(v)}));
  json req = json::object();
  req.set("method", json(method));
  req.set("url", json(url));
  req.set("headers", std::move(hs));
  if (has_body) req.set("body_handle", json(0));
  json doc = json::object();
  doc.set("v", json(wire::protocol_version));
  doc.set("kind", json("fetch"));
  doc.set("now_ms", json(now_ms()));
  doc.set("request", std::move(req));
  return doc;
}

json scheduled_start_document(const std::string& cron) {
  json doc = json::object();
  doc.set("v", json(wire::protocol_version));
  doc.set("kind", json("scheduled"));
  doc.set("cron", json(cron));
  doc.set("now_ms", json(now_ms()));
  return doc;
}

json queue_start_document(json messages) {
  json doc = json::object();
  doc.set("v", json(wire::protocol_version));
  doc.set("kind", json("queue"));
  doc.set("messages", std::move(messages));
  doc.set("now_ms", json(now_ms()));
  return doc;
}

invocation::invocation(services& s, json start_doc, source_ptr request_body, bool replica_ok)
    : s_(s), start_(std::move(start_doc)), replica_ok_(replica_ok) {
  if (request_body) handles_.set(0, std::move(request_body));
}

core_response invocation::response_from(const json& r, const char* raw_body, std::size_t raw_len) {
  core_response out;
  out.status = static_cast<int>(r["status"].as_int(500));
  for (const auto& h : r["headers"].as_array())
    if (h.as_array().size() == 2) out.headers.emplace_back(h.as_array()[0].as_string(), h.as_array()[1].as_string());
  if (r.find("body_raw")) out.body.assign(raw_body, raw_len);
  else if (const json* h = r.find("body_handle"); h && h->is_integer()) out.stream = handles_.take(h->as_int());
  else out.body = std::string(r["body"].as_string());
  if (const json* log = r.find("log"); log && log->is_object()) {
    out.cache = std::string((*log)["cache"].as_string());
    out.detail = std::string((*log)["detail"].as_string());
  }
  return out;
}

awaitable<void> invocation::run(std::function<void(core_response)> on_response) {
  auto self = shared_from_this();  // effects still running keep the invocation alive
  on_response_ = std::move(on_response);
  std::uint32_t job = start_job(start_.dump());
  int state = pb_state(job);
  auto ex = co_await asio::this_coro::executor;
  while (state == 1) {
    auto batch = parse_json(std::string_view(pb_out_ptr(job), pb_out_len(job)));
    const json_array empty;
    const json_array& effects = batch ? (*batch)["effects"].as_array() : empty;
    std::vector<std::string> outcomes(effects.size());
    std::size_t pending = effects.size();
    event all_done(ex);
    // The effects of one batch run concurrently, each in its own coroutine on the loop.
    for (std::size_t i = 0; i < effects.size(); ++i) {
      ++effects_;
      asio::co_spawn(
          ex,
          [this, self, &effects, i]() -> awaitable<json> { co_return co_await perform(effects[i]); },
          [&, i, op = std::string(effects[i]["op"].as_string())](std::exception_ptr e, json value) {
            json_writer w;
            w.begin_object();
            if (!e) {
              w.field("ok", true).key("value").value(value);
            } else {
              std::string name = "Error", message = "unknown error";
              try {
                std::rethrow_exception(e);
              } catch (const runners::failure& f) {
                name = f.name;
                message = f.message;
              } catch (const std::exception& x) {
                message = x.what();
              } catch (...) {
              }
              ++s_.stats.effect_errors[op];
              w.field("ok", false).key("error").begin_object().field("name", name).field("message", message).end_object();
            }
            w.end_object();
            outcomes[i] = std::move(w).str();
            if (--pending == 0) all_done.set();
          });
    }
    if (pending > 0) co_await all_done.wait();
    std::string results = "{\"results\":[";
    for (std::size_t i = 0; i < outcomes.size(); ++i) results += (i ? "," : "") + outcomes[i];
    results += "]}";
    state = resume_job(job, results);
  }
  auto fin = wire::read_finish(std::string_view(pb_out_ptr(job), pb_out_len(job)));
  if (fin) finish_ = *fin;
  if (fin && fin->find("response") && !responded_) {
    responded_ = true;
    core_response r = response_from((*fin)["response"], pb_out_body_ptr(job), pb_out_body_len(job));
    if (on_response_) on_response_(std::move(r));
  } else if (!responded_ && start_["kind"].as_string() == "fetch") {
    responded_ = true;  // a protocol bug in the core: answer rather than hang the client
    core_response r;
    r.status = 500;
    r.headers = {{"content-type", "application/json"}, {"cache-control", "no-store"}};
    r.body = R"({"error":{"code":"internal","message":"the invocation finished without a response"}})";
    if (on_response_) on_response_(std::move(r));
  }
  pb_finish(job);
  handles_.clear();  // streams nobody used are dropped (their transfers cancelled)
}

awaitable<json> invocation::perform(const json& e) {
  std::string op(e["op"].as_string());
  json out = json::object();
  if (op.rfind("d1.", 0) == 0) {
    bool wrote = false;
    json v = co_await s_.sql.run(e, replica_ok_ && !wrote_, wrote);
    wrote_ = wrote_ || wrote;
    co_return v;
  }
  if (op.rfind("r2.", 0) == 0 || op == "blob.presign" || op.rfind("kv.", 0) == 0 || op.rfind("cache.", 0) == 0)
    co_return co_await perform_storage(op, e);
  if (op == "fetch") {
    outbound_request r;
    r.method = std::string(e["method"].as_string("GET"));
    r.url = std::string(e["url"].as_string());
    for (const auto& h : e["headers"].as_array())
      if (h.as_array().size() == 2) r.headers.emplace_back(h.as_array()[0].as_string(), h.as_array()[1].as_string());
    if (const json* bh = e.find("body_handle"); bh && bh->is_integer()) {
      r.body = co_await collect(handles_.take(bh->as_int()), 64ll << 20);
      r.has_body = true;
    } else if (const json* b = e.find("body"); b && b->is_string()) {
      r.body = std::string(b->as_string());
      r.has_body = true;
    }
    r.timeout_ms = e["timeout_ms"].as_int(30000);
    r.follow_redirects = e["redirect"].as_string("manual") == "follow";
    outbound_response resp;
    try {
      resp = co_await s_.http.perform(std::move(r));
    } catch (...) {
      ++s_.stats.upstream_errors[host_of(e["url"].as_string())];
      throw;
    }
    if (resp.status >= 500) ++s_.stats.upstream_errors[host_of(e["url"].as_string())];
    out.set("status", json(resp.status));
    out.set("url", json(resp.url));
    json hs = json::array();
    for (const auto& [k, v] : resp.headers) hs.push_back(json(json_array{json(k), json(v)}));
    out.set("headers", std::move(hs));
    if (e["read"].as_string() == "handle") {
      out.set("handle", json(handles_.add(resp.body)));
    } else {
      out.set("body", json(co_await collect(resp.body, e["max_bytes"].as_int(16ll << 20))));
    }
    co_return out;
  }
  if (op == "body.tee") {
    auto [a, b] = tee(handles_.take(e["handle"].as_int()), s_.io.get_executor());
    out.set("handles", json(json_array{json(handles_.add(a)), json(handles_.add(b))}));
    co_return out;
  }
  if (op == "body.text") {
    out.set("body", json(co_await collect(handles_.take(e["handle"].as_int()), e["max_bytes"].as_int(16ll << 20))));
    co_return out;
  }
  if (op == "compression.decompress") co_return runners::run_decompress(e);
  if (op.rfind("crypto.", 0) == 0) co_return runners::run_crypto(op, e);
  if (op == "clock.now") {
    out.set("ms", json(now_ms()));
    co_return out;
  }
  if (op == "clock.sleep") {
    asio::steady_timer t(s_.io);
    t.expires_after(std::chrono::milliseconds(std::clamp<std::int64_t>(e["ms"].as_int(), 0, 10000)));
    co_await t.async_wait(use_awaitable);
    out.set("ms", json(now_ms()));
    co_return out;
  }
  if (op == "http.respond") {
    if (responded_) fail("Error", "the response was already sent");
    responded_ = true;
    core_response r = response_from(e["response"], nullptr, 0);
    if (on_response_) on_response_(std::move(r));
    co_return out;
  }
  if (op == "queue.send") {
    if (!s_.queue) fail("MissingBinding", "this host has no sync queue");
    s_.queue->send(e["body"], e["delay_s"].as_int(0));
    co_return out;
  }
  if (op == "isolates.invalidate") {
    if (s_.redis) {
      json msg = json::object();
      msg.set("from", json(s_.config.instance_id));
      msg.set("tokens", e["tokens"]);
      msg.set("documents", e["documents"]);
      (void)co_await s_.redis->command({"PUBLISH", "pb:invalidate", msg.dump()});
      ++s_.stats.invalidations_sent;
    }
    co_return out;
  }
  fail("UnknownEffect", "no runner for effect op \"" + op + "\"");
}

awaitable<json> invocation::perform_storage(const std::string& op, const json& e) {
  json out = json::object();
  if (op == "r2.get") co_return co_await s_.blobs.get(e, handles_);
  if (op == "r2.head") co_return co_await s_.blobs.head(std::string(e["key"].as_string()));
  if (op == "r2.put") {
    source_ptr body;
    if (const json* h = e.find("handle"); h && h->is_integer()) body = handles_.take(h->as_int());
    co_return co_await s_.blobs.put(e, std::move(body));
  }
  if (op == "r2.delete") {
    std::vector<std::string> keys;
    for (const auto& k : e["keys"].as_array()) keys.emplace_back(k.as_string());
    co_await s_.blobs.remove(std::move(keys));
    co_return out;
  }
  if (op == "blob.presign") co_return s_.blobs.presign(e);
  if (op == "kv.get") co_return co_await s_.kv.get(std::string(e["key"].as_string()));
  if (op == "kv.put") {
    co_await s_.kv.put(std::string(e["key"].as_string()), std::string(e["value"].as_string()), e["expiration_ttl"].as_int(0), e["metadata"]);
    co_return out;
  }
  if (op == "kv.delete") {
    co_await s_.kv.remove(std::string(e["key"].as_string()));
    co_return out;
  }
  if (op == "kv.list")
    co_return co_await s_.kv.list(std::string(e["prefix"].as_string()), e["limit"].as_int(1000), std::string(e["cursor"].as_string()));
  if (op == "cache.match") {
    auto hit = s_.cache.match(std::string(e["url"].as_string()), now_ms());
    if (!hit) {
      ++s_.stats.cache_misses;
      out.set("found", json(false));
      co_return out;
    }
    ++s_.stats.cache_hits;
    out.set("found", json(true));
    out.set("status", json(hit->status));
    out.set("headers", hit->headers);
    if (e["read"].as_string() == "text") out.set("body", json(std::move(hit->body)));
    else out.set("handle", json(handles_.add(std::make_shared<memory_source>(std::move(hit->body)))));
    co_return out;
  }
  if (op == "cache.put") {
    cache_store::entry entry;
    entry.status = static_cast<int>(e["status"].as_int(200));
    entry.headers = e["headers"].is_array() ? e["headers"] : json::array();
    if (const json* h = e.find("handle"); h && h->is_integer()) entry.body = co_await collect(handles_.take(h->as_int()), 64ll << 20);
    else entry.body = std::string(e["body"].as_string());
    s_.cache.put(std::string(e["url"].as_string()), std::move(entry), now_ms());
    co_return out;
  }
  fail("UnknownEffect", "no runner for effect op \"" + op + "\"");
}

}  // namespace pb::server
