#include "host/abi.h"

#include <cstdlib>
#include <cstring>
#include <fstream>

#include <unistd.h>

#include "bindings/wire.h"

namespace pb::testing {

json fetch_start(std::string_view method, std::string_view url, std::vector<std::pair<std::string, std::string>> headers,
                 bool test_hooks, json vars) {
  json hs = json::array();
  for (auto& [k, v] : headers) hs.push_back(json(json_array{json(k), json(v)}));
  json req = json::object();
  req.set("method", json(method));
  req.set("url", json(url));
  req.set("headers", hs);
  if (test_hooks) vars.set("PB_TEST_HOOKS", json("1"));
  json doc = json::object();
  doc.set("v", json(wire::protocol_version));
  doc.set("kind", json("fetch"));
  doc.set("now_ms", json(std::int64_t{1767225600000}));
  doc.set("env", std::move(vars));
  doc.set("request", req);
  return doc;
}

json scheduled_start(std::string_view cron, json vars) {
  json doc = json::object();
  doc.set("v", json(wire::protocol_version));
  doc.set("kind", json("scheduled"));
  doc.set("cron", json(cron));
  doc.set("now_ms", json(std::int64_t{1767225600000}));
  doc.set("env", std::move(vars));
  return doc;
}

json queue_start(json messages, std::int64_t now_ms, json vars) {
  json doc = json::object();
  doc.set("v", json(wire::protocol_version));
  doc.set("kind", json("queue"));
  doc.set("messages", std::move(messages));
  doc.set("now_ms", json(now_ms));
  doc.set("env", std::move(vars));
  return doc;
}

json with_body(json start_doc) {
  if (json* r = start_doc.find("request")) r->set("body_handle", json(0));
  return start_doc;
}

json finished::body_json() const {
  auto j = parse_json(body());
  return j ? *j : json();
}

std::string finished::header(std::string_view name) const {
  for (const auto& kv : doc["response"]["headers"].as_array())
    if (kv.as_array().size() == 2 && kv.as_array()[0].as_string() == name) return std::string(kv.as_array()[1].as_string());
  return {};
}

namespace {
std::pair<char*, std::uint32_t> copy_in(std::string_view s) {
  char* p = pb_alloc(static_cast<std::uint32_t>(s.size()));
  std::memcpy(p, s.data(), s.size());
  return {p, static_cast<std::uint32_t>(s.size())};
}
}  // namespace

void configure(const json& vars) {
  json doc = json::object();
  doc.set("v", json(wire::protocol_version));
  doc.set("vars", vars.is_object() ? vars : json::object());
  auto [p, n] = copy_in(doc.dump());
  int ok = pb_configure(p, n);
  pb_free(p);
  if (!ok) std::abort();  // the harness built a bad configuration document
}

std::uint32_t start(const json& start_doc) {
  // The harness keeps the instance's bindings in the start document under "env"; the wire does not
  // (they are configured once per instance): configure, then start without them.
  json doc = start_doc;
  if (const json* env = doc.find("env")) {
    configure(*env);
    doc.erase("env");
  }
  auto [p, n] = copy_in(wire_form(doc));
  std::uint32_t id = pb_start(p, n);
  pb_free(p);
  return id;
}

std::string wire_form(const json& doc) {
  // A well-formed fetch goes in the binary form the Worker sends (PROTOCOL.md "Start"); anything else
  // (scheduled, queue, a deliberately malformed or foreign-version document) as JSON, which every host
  // may still send.
  const json& r = doc["request"];
  if (doc["kind"].as_string() != "fetch" || doc["v"].as_int() != wire::protocol_version || !r["method"].is_string() ||
      !r["url"].is_string() || !r["headers"].is_array())
    return doc.dump();
  wire::fetch_start s;
  s.now_ms = doc["now_ms"].as_int();
  s.method = r["method"].as_string();
  s.url = r["url"].as_string();
  s.headers = wire::read_headers(r["headers"]);
  s.has_body = r["body_handle"].is_number();
  return wire::encode_fetch_start(s);
}

std::string output(std::uint32_t id) { return std::string(pb_out_ptr(id), pb_out_len(id)); }

int resume(std::uint32_t id, std::string_view results_doc) {
  auto [p, n] = copy_in(results_doc);
  int state = pb_resume(id, p, n);
  pb_free(p);
  return state;
}

namespace {
// PB_WIRE_TRANSCRIPTS=<dir>: every invoke writes what the core was handed (configuration, start and
// results documents, separated by 0x1e) to <dir>/<n>.wire; such files seed the wire fuzzer
// (tests/fuzz/wire.cpp).
struct transcript {
  std::string text;
  int docs = 0;
  bool on = std::getenv("PB_WIRE_TRANSCRIPTS") != nullptr;
  void add(std::string_view doc) {
    if (!on) return;
    if (docs++) text += '\x1e';
    text += doc;
  }
  ~transcript() {
    if (!on) return;
    static int n = 0;
    std::ofstream(std::string(std::getenv("PB_WIRE_TRANSCRIPTS")) + "/" + std::to_string(::getpid()) + "-" +
                      std::to_string(++n) + ".wire",
                  std::ios::binary)
        << text;
  }
};

// Performs the job's current batch; returns the results document.
std::string perform_batch(host& h, std::uint32_t id, std::vector<std::string>* ops) {
  auto batch = parse_json(output(id));
  json results = json::array();
  for (const auto& effect : (*batch)["effects"].as_array()) {
    if (ops) ops->emplace_back(effect["op"].as_string());
    std::optional<effect_error> err;
    json value = h.perform(effect, err);
    json outcome = json::object();
    if (err) {
      outcome.set("ok", json(false));
      json e = json::object();
      e.set("name", json(err->name));
      e.set("message", json(err->message));
      outcome.set("error", e);
    } else {
      outcome.set("ok", json(true));
      outcome.set("value", std::move(value));
    }
    results.push_back(std::move(outcome));
  }
  json doc = json::object();
  doc.set("results", std::move(results));
  return doc.dump();
}
}  // namespace

int step(host& h, std::uint32_t id, std::vector<std::string>* ops) { return resume(id, perform_batch(h, id, ops)); }

finished invoke(host& h, const json& start_doc) {
  finished f;
  transcript rec;
  if (rec.on) {
    json config = json::object();
    config.set("v", json(wire::protocol_version));
    config.set("vars", start_doc["env"].is_object() ? start_doc["env"] : json::object());
    json doc = start_doc;
    doc.erase("env");
    rec.add(config.dump());
    rec.add(doc.dump());
  }
  std::uint32_t id = start(start_doc);
  int state = pb_state(id);
  while (state == 1) {
    ++f.batches;
    std::string doc = perform_batch(h, id, &f.ops);
    rec.add(doc);
    state = resume(id, doc);
  }
  auto out = wire::read_finish(output(id));
  f.doc = out ? *out : json();
  f.raw_body.assign(pb_out_body_ptr(id), pb_out_body_len(id));
  pb_finish(id);
  return f;
}

}  // namespace pb::testing
