// Webhook signature checks (routes/hooks.cpp, sources/webhook.h), end to end on the native host (real
// SQLite and migrations, OpenSSL): deliveries to a real source with fuzzed signature headers, bodies,
// delivery ids and paths. Input: a flags byte, then header value, body, delivery id and path tail
// separated by 0x1e. Flags: bits 0-1 the provider header (GitHub x-hub-signature-256, GitLab
// x-gitlab-token, Bitbucket x-hub-signature, none), bit 2 sign correctly (else the fuzzed value is the
// header), bit 3 the fuzzed path instead of the source's webhook URL, bit 4 a GitHub ping, bit 5 the
// correct signature in upper case. Invariants: a delivery is accepted (2xx) only when its path names the
// source's id and nonce and its signature (or GitLab token) is right, and always then if its body is
// UTF-8 (bodies reach the core as text, so other bytes are refused: providers send JSON); a refused one
// reads no storage (its only d1 effect is the folded audit record of the denial, and the audit log
// stays small however many are refused); no response shows the secret.
#include <memory>

#include "core/text.h"
#include "fuzz.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "routes/route_match.h"

using namespace pb;
using namespace pb::testing;

namespace {

struct fixture {
  native_host host;
  client c{host, "https://broker.test", admin_vars()};
  std::int64_t id = 0;
  std::string secret, path, nonce;

  fixture() {
    // An upstream that answers nothing: an accepted delivery's sync slice fails fast and is recorded.
    host.set_upstream([](const json&) { return upstream_response{503, {}, "unavailable"}; });
    reply created = c.call("POST", "/admin/api/sources", bearer("adm"), R"({"type":"composer","url":"https://satis.test"})");
    if (created.status != 201) fuzz::fail("could not create the source", created.body);
    const json body = created.body_json();
    id = body["id"].as_int();
    secret = std::string(body["webhook_secret"].as_string());
    path = std::string(body["webhook_url"].as_string()).substr(c.origin.size());
    nonce = path.substr(path.rfind('/') + 1);
    if (secret.empty() || nonce.empty()) fuzz::fail("the source has no webhook secret", created.body);
  }
};

// Whether path reaches this source's webhook route with its id and nonce, as the handler reads them.
bool names_the_source(const fixture& f, const std::string& path) {
  auto m = routes::find_route("POST", path.substr(0, path.find_first_of("?#")), false);
  if (!m.method_allowed || m.pattern != "/hooks/{source_id}/{nonce}") return false;
  std::int64_t id = 0;
  for (char c : m.params[0]) {
    if (c < '0' || c > '9' || id > 1'000'000'000'000) return false;
    id = id * 10 + (c - '0');
  }
  return id == f.id && m.params[1] == f.nonce;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture broker;  // one broker for the whole run, like a long-lived isolate
  fixture* f = &broker;
  if (size == 0) return 0;
  const unsigned flags = data[0];
  const auto parts = fuzz::split(fuzz::as_text(data + 1, size - 1), '\x1e', 4);
  const std::string_view fuzzed = parts[0];
  const std::string body(parts.size() > 1 ? parts[1] : std::string_view{});
  const std::string delivery(parts.size() > 2 ? parts[2] : std::string_view{});
  const std::string path = (flags & 8) ? "/hooks/" + std::string(parts.size() > 3 ? parts[3] : std::string_view{}) : f->path;

  const int provider = flags & 3;
  const std::string signature = "sha256=" + hex_hmac_sha256(f->secret, body);
  std::string value;
  if (flags & 4) {
    value = provider == 1 ? f->secret : signature;
    if (flags & 32)
      for (char& ch : value) ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
  } else {
    value = std::string(fuzzed);
  }
  header_list headers;
  switch (provider) {
    case 0: headers = {{"x-hub-signature-256", value}, {"x-github-event", (flags & 16) ? "ping" : "push"}}; break;
    case 1: headers = {{"x-gitlab-token", value}, {"x-gitlab-event", "Push Hook"}}; break;
    case 2: headers = {{"x-hub-signature", value}, {"x-event-key", "repo:push"}}; break;
    default: break;
  }
  if (!delivery.empty()) headers.emplace_back(provider == 1 ? "x-gitlab-event-uuid" : provider == 2 ? "x-request-uuid" : "x-github-delivery", delivery);

  const bool right = provider == 1 ? value == f->secret : provider != 3 && ascii_lower(value) == signature;
  const bool expected = right && names_the_source(*f, path);
  const bool must_accept = expected && fuzz::is_utf8(body) && fuzz::is_utf8(value);
  reply r = f->c.call("POST", path, headers, body);
  const std::string detail = "status " + std::to_string(r.status) + " for " + path + " with " + value + "\n" + r.body;
  if (must_accept) {
    fuzz::check(r.status == 202 || r.status == 200, "a correctly signed delivery was refused", detail);
  } else if (!expected) {
    fuzz::check(r.status >= 400, "a delivery without the right signature was accepted", detail);
    // No storage read; the one write allowed is the audit record of the denial (folded, see below).
    for (const std::string& op : r.ops)
      fuzz::check(op.rfind("d1.", 0) != 0 || op == "d1.run", "a refused delivery read storage", detail + "\nop: " + op);
  }
  // Denials fold per reason (storage/audit.h), so a flood of refused deliveries cannot grow storage.
  const json rows = f->host.query("SELECT COUNT(*) AS n FROM audit_log");
  fuzz::check(rows.as_array().at(0)["n"].as_int() <= 16, "refused deliveries grow the audit log", rows.dump());
  // The secret must not leak; an answer may echo what the request itself carried (a 404 names the
  // path it did not find), so only a secret the request did not contain counts (found by this fuzzer).
  bool sent_secret = path.find(f->secret) != std::string::npos || body.find(f->secret) != std::string::npos;
  for (const auto& h : headers) sent_secret = sent_secret || h.second.find(f->secret) != std::string::npos;
  if (!sent_secret) fuzz::check(r.body.find(f->secret) == std::string::npos, "the webhook secret in a response", detail);
  return 0;
}
