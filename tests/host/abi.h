// Native side of the wasm ABI for tests: declarations of bindings/exports.cpp's functions, and
// `invoke`, which drives one invocation through them exactly as worker/engine.mjs does (start, then
// perform each effect batch and resume until done). Hosts implement `host::perform`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

#include "bindings/abi.h"

namespace pb::testing {

// Thrown by a host's runner to make an effect fail the way a JS exception does.
struct effect_error {
  std::string name;
  std::string message;
};

class host {
 public:
  virtual ~host() = default;
  // Returns the effect's result value, or sets err and returns null.
  virtual json perform(const json& effect, std::optional<effect_error>& err) = 0;
};

// A start document for an HTTP request. `vars` are the instance's bindings: the harness carries them
// in the document under "env" and `start` configures the instance with them (pb_configure) before
// starting it; test_hooks sets PB_TEST_HOOKS=1.
json fetch_start(std::string_view method, std::string_view url, std::vector<std::pair<std::string, std::string>> headers = {},
                 bool test_hooks = false, json vars = json::object());
json scheduled_start(std::string_view cron, json vars = json::object());
// A "queue" invocation's start document: messages [{"id","body","attempts"}].
json queue_start(json messages, std::int64_t now_ms, json vars = json::object());
// Marks a start document's request as having a body (handle 0).
json with_body(json start_doc);

// Output of one finished invocation.
struct finished {
  json doc;                      // the finish document
  std::vector<std::string> ops;  // every effect op performed, in order
  int batches = 0;               // how many effect batches there were
  int status() const { return static_cast<int>(doc["response"]["status"].as_int()); }
  std::string raw_body;          // the response body when it came as raw bytes ("body_raw")
  std::string body() const { return doc["response"].find("body_raw") ? raw_body : std::string(doc["response"]["body"].as_string()); }
  json body_json() const;
  std::string header(std::string_view name) const;
};

finished invoke(host& h, const json& start_doc);
// Performs a waiting job's current batch and resumes it; returns the new state (for tests that
// interleave invocations: stop a job half way, run another, then go on). ops gets the batch's ops.
int step(host& h, std::uint32_t id, std::vector<std::string>* ops = nullptr);

// Configures the instance with these bindings (pb_configure).
void configure(const json& vars);

// Low-level stepping, for tests that interleave jobs by hand.
std::uint32_t start(const json& start_doc);
// The bytes start() hands pb_start for a start document: a well-formed fetch in the binary form, else JSON.
std::string wire_form(const json& start_doc);
std::string output(std::uint32_t id);
int resume(std::uint32_t id, std::string_view results_doc);

}  // namespace pb::testing
