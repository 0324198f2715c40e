// The effect wire decoder: what the JS shim hands the core through the ABI (bindings/exports.cpp). An
// input is documents separated by 0x1e: a configuration document (pb_configure), a start document
// (pb_start), then one results document per effect batch (pb_resume); when they run out, every further
// effect fails as a JS exception would. Seeds are real transcripts of the native tests
// (PB_WIRE_TRANSCRIPTS, tests/fuzz/README.md). Invariants: the core never crashes on what the host
// says; every document it hands back is valid JSON (a fetch's finish: its binary form) of the documented shape;
// states are 0 or 1; job 0 only for a partial start (PROTOCOL.md "Start, binary form").
#include <cstring>

#include "fuzz.h"
#include "bindings/wire.h"
#include "host/abi.h"  // the ABI's declarations (not the host: this target links bindings/exports.cpp alone)

using namespace pb;

namespace {

constexpr int max_steps = 64;
constexpr std::string_view default_configuration =
    R"({"v":2,"vars":{"ADMIN_TOKEN":"fuzz-admin-token","PB_ENCRYPTION_KEY":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}})";
constexpr std::string_view default_start =
    R"({"v":2,"kind":"fetch","now_ms":1767225600000,"request":{"method":"GET","url":"https://repo.example/packages.json","headers":[]}})";

// Calls an ABI function with the document in a pb_alloc buffer, as the shim does.
template <class F>
auto with_buffer(std::string_view doc, F f) {
  char* p = pb_alloc(static_cast<std::uint32_t>(doc.size()));
  std::memcpy(p, doc.data(), doc.size());
  auto r = f(p, static_cast<std::uint32_t>(doc.size()));
  pb_free(p);
  return r;
}

json output_of(std::uint32_t id, std::string_view context) {
  const std::string_view out(pb_out_ptr(id), pb_out_len(id));
  auto doc = wire::read_finish(out);  // an effect batch, or a finish document in either form
  fuzz::check(doc.ok(), "the core handed back an invalid document", std::string(out.substr(0, 2000)) + "\nafter: " +
                                                                std::string(context.substr(0, 2000)));
  fuzz::check(doc->is_object(), "an output document that is not an object", out);
  return std::move(*doc);
}

// {"results":[{"ok":false,...}, ...]} for a batch of n effects.
std::string failures(std::size_t n) {
  std::string doc = R"({"results":[)";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) doc += ',';
    doc += R"({"ok":false,"error":{"name":"Error","message":"fuzz: no answer"}})";
  }
  return doc + "]}";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto docs = fuzz::split(fuzz::as_text(data, size), '\x1e', max_steps + 2);
  pb_reset_caches();  // every input starts in a fresh isolate's state
  fuzz::check(with_buffer(default_configuration, pb_configure) == 1, "the default configuration was refused");
  if (!docs[0].empty()) {
    const int configured = with_buffer(docs[0], pb_configure);
    fuzz::check(configured == 0 || configured == 1, "pb_configure answered neither 0 nor 1");
  }
  const std::string_view start = docs.size() > 1 && !docs[1].empty() ? docs[1] : default_start;
  std::uint32_t id = with_buffer(start, pb_start);
  if (id == 0) {
    // Only a well-formed partial start (flag 2) may be declined; the host then starts again with every
    // header: the same document without the flag, here.
    auto partial = wire::decode_fetch_start(start);
    fuzz::check(partial.ok() && partial->partial, "pb_start gave job 0 for a start that is not partial", start);
    partial->partial = false;
    id = with_buffer(wire::encode_fetch_start(*partial), pb_start);
    fuzz::check(id != 0, "pb_start gave job 0 for a whole start", start);
  }

  std::size_t next = 2;
  std::string generated;  // the failures document, when the input ran out of results
  std::string_view last_in = start;
  int state = pb_state(id);
  for (int step = 0; step < max_steps; ++step) {
    fuzz::check(state == 0 || state == 1, "a job in an unknown state", last_in);
    const json out = output_of(id, last_in);
    if (state == 0) {
      if (const json* r = out.find("response")) {
        const std::int64_t status = (*r)["status"].as_int(-1);
        fuzz::check(status >= 100 && status <= 599, "a response status outside 100-599", out.dump());
        fuzz::check((*r)["headers"].is_array(), "a response without a header list", out.dump());
        if (const json* raw = r->find("body_raw"))
          fuzz::check(raw->as_int(-1) == static_cast<std::int64_t>(pb_out_body_len(id)), "body_raw is not the body's length",
                      out.dump());
      } else {
        // A queue invocation finishes with the messages to retry (PROTOCOL.md "The sync queue").
        const json* retry = out.find("retry");
        fuzz::check(out.size() == 0 || (out.size() == 1 && retry && retry->is_array()),
                    "a finish document that is neither {}, a response nor a retry list", out.dump());
      }
      break;
    }
    const json& effects = out["effects"];
    fuzz::check(effects.is_array() && effects.size() > 0, "a waiting job without effects", out.dump());
    for (const json& e : effects.as_array())
      fuzz::check(e["op"].is_string() && !e["op"].as_string().empty(), "an effect without an op", out.dump());
    if (next < docs.size()) {
      last_in = docs[next++];
    } else {
      generated = failures(effects.size());
      last_in = generated;
    }
    state = with_buffer(last_in, [id](const char* p, std::uint32_t n) { return pb_resume(id, p, n); });
  }
  pb_finish(id);
  return 0;
}
