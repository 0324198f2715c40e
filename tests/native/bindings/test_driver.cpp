// The driver and coroutine runtime, stepped by hand: batching under when_all, error values, malformed
// host replies, deep await chains, and jobs interleaving through the ABI.
#include <catch2/catch_test_macros.hpp>

#include "bindings/driver.h"
#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "bindings/wire.h"
#include "core/version.h"
#include "host/abi.h"
#include "host/native_client.h"

using namespace pb;

namespace {

json effects_of(const driver& d) {
  auto j = parse_json(d.output());
  REQUIRE(j.ok());
  return (*j)["effects"];
}

std::string ok_results(std::vector<std::string> values) {
  std::string s = "{\"results\":[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) s += ',';
    s += "{\"ok\":true,\"value\":" + values[i] + "}";
  }
  return s + "]}";
}

task<std::string> nothing_to_await() { co_return std::string("{\"done\":1}"); }

task<std::string> kv_value_or_error(std::string key) {
  auto v = co_await fx::kv_get(key);
  if (!v) co_return "error:" + v.err().message;
  if (!v->has_value()) co_return std::string("missing");
  co_return (*v)->value;
}

task<std::string> three_gets() {
  auto [a, b, c] = co_await when_all(kv_value_or_error("a"), kv_value_or_error("b"), kv_value_or_error("c"));
  co_return a + "|" + b + "|" + c;
}

task<std::string> two_in_a_row() {
  std::string first = co_await kv_value_or_error("x1");
  std::string second = co_await kv_value_or_error("x2");
  co_return first + "+" + second;
}

task<std::string> uneven_children() {
  auto [long_chain, short_one] = co_await when_all(two_in_a_row(), kv_value_or_error("y"));
  co_return long_chain + "/" + short_one;
}

task<std::string> none_in_parallel() {
  std::vector<std::string> r = co_await when_all(std::vector<task<std::string>>{});
  co_return std::to_string(r.size());
}

task<int> chain(int depth) {
  if (depth == 0) co_return 0;
  int below = co_await chain(depth - 1);
  co_return below + 1;
}

task<std::string> deep_chain() {
  int n = co_await chain(200000);
  co_return std::to_string(n);
}

task<int> one() { co_return 1; }

task<std::string> long_loop() {
  int sum = 0;
  for (int i = 0; i < 1000000; ++i) sum += co_await one();
  co_return std::to_string(sum);
}

}  // namespace

TEST_CASE("a task that awaits no effect finishes in start()", "[driver]") {
  driver d(nothing_to_await());
  REQUIRE(d.start() == driver_state::done);
  CHECK(d.output() == "{\"done\":1}");
}

TEST_CASE("when_all hands every effect raised before suspending to the host as one batch", "[driver]") {
  driver d(three_gets());
  REQUIRE(d.start() == driver_state::waiting);
  json effects = effects_of(d);
  REQUIRE(effects.size() == 3);
  CHECK(effects.as_array()[0]["op"].as_string() == "kv.get");
  CHECK(effects.as_array()[0]["key"].as_string() == "a");
  CHECK(effects.as_array()[1]["key"].as_string() == "b");
  CHECK(effects.as_array()[2]["key"].as_string() == "c");
  REQUIRE(d.resume(ok_results({R"({"value":"A"})", R"({"value":null})", R"({"value":"C"})"})) == driver_state::done);
  CHECK(d.output() == "A|missing|C");
}

TEST_CASE("children of when_all that need more effects get later batches", "[driver]") {
  driver d(uneven_children());
  REQUIRE(d.start() == driver_state::waiting);
  json first = effects_of(d);
  REQUIRE(first.size() == 2);
  CHECK(first.as_array()[0]["key"].as_string() == "x1");
  CHECK(first.as_array()[1]["key"].as_string() == "y");
  REQUIRE(d.resume(ok_results({R"({"value":"1"})", R"({"value":"Y"})"})) == driver_state::waiting);
  json second = effects_of(d);
  REQUIRE(second.size() == 1);
  CHECK(second.as_array()[0]["key"].as_string() == "x2");
  REQUIRE(d.resume(ok_results({R"({"value":"2"})"})) == driver_state::done);
  CHECK(d.output() == "1+2/Y");
}

TEST_CASE("an effect that failed in the host comes back as an error value", "[driver]") {
  driver d(kv_value_or_error("k"));
  REQUIRE(d.start() == driver_state::waiting);
  REQUIRE(d.resume(R"({"results":[{"ok":false,"error":{"name":"TypeError","message":"KV exploded"}}]})") ==
          driver_state::done);
  CHECK(d.output() == "error:TypeError: KV exploded");
}

TEST_CASE("malformed host replies fail every effect of the batch with a protocol error", "[driver]") {
  SECTION("not JSON") {
    driver d(three_gets());
    REQUIRE(d.start() == driver_state::waiting);
    REQUIRE(d.resume("{{{") == driver_state::done);
    CHECK(d.output().find("error:malformed effect results for a batch of 3 effects") == 0);
  }
  SECTION("wrong count") {
    driver d(three_gets());
    REQUIRE(d.start() == driver_state::waiting);
    REQUIRE(d.resume(ok_results({"{}"})) == driver_state::done);
    CHECK(d.output().find("error:malformed") == 0);
  }
}

task<std::string> budget_probe() {
  std::string seen = std::to_string(fx::subrequests_left());
  auto [a, b, c] = co_await when_all(kv_value_or_error("a"), kv_value_or_error("b"), kv_value_or_error("c"));
  auto digest = co_await fx::crypto_digest("SHA-256", "x");  // in-isolate work is not a subrequest
  seen += "|" + a + "|" + b + "|" + c + "|" + (digest ? "digest" : "no digest") + "|" + std::to_string(fx::subrequests_left());
  co_return seen;
}

TEST_CASE("effects past the invocation's subrequest budget fail in C++ and never reach the host", "[driver][budget]") {
  driver d(budget_probe(), 2);
  REQUIRE(d.start() == driver_state::waiting);
  json batch = effects_of(d);
  REQUIRE(batch.size() == 2);  // the third kv.get was refused before it left
  REQUIRE(d.resume(ok_results({R"({"value":"1"})", R"({"value":"2"})"})) == driver_state::waiting);
  json next = effects_of(d);
  REQUIRE(next.size() == 1);
  CHECK(next.as_array()[0]["op"].as_string() == "crypto.digest");
  REQUIRE(d.resume(ok_results({R"({"hex":"00"})"})) == driver_state::done);
  CHECK(d.output() == "2|1|2|error:this invocation used its budget of 2 subrequests (PB_PLAN); the rest waits for the next one|digest|0");
}

TEST_CASE("subrequests are the effects that leave the isolate", "[driver][budget]") {
  for (const char* op : {"fetch", "d1.all", "d1.batch", "kv.get", "kv.put", "r2.get", "r2.put", "cache.match", "cache.put"})
    CHECK(is_subrequest(std::string("{\"op\":\"") + op + "\",\"x\":1}"));
  for (const char* op : {"crypto.digest", "clock.now", "clock.sleep", "body.tee", "body.text", "http.respond", "compression.decompress", "fetcher"})
    CHECK_FALSE(is_subrequest(std::string("{\"op\":\"") + op + "\"}"));
  // An http.respond costs what the effect it carries to run after it costs (fx::respond writes it first).
  CHECK(is_subrequest(R"({"op":"http.respond","after":{"op":"d1.run","sql":"x","params":[]},"response":{"status":200}})"));
  CHECK_FALSE(is_subrequest(R"({"op":"http.respond","after":{"op":"clock.now"},"response":{"status":200}})"));
  CHECK_FALSE(is_subrequest(R"({"op":"http.respond","response":{"status":200,"headers":[["after","d1."]]}})"));
  // One that reads its body from R2 costs that read too, whatever the key holds, plus its `after`.
  CHECK(subrequest_cost(R"({"op":"http.respond","body_r2":{"key":"a/\"}{,\\"},"response":{"status":200}})") == 1);
  CHECK(subrequest_cost(R"({"op":"http.respond","body_r2":{"key":"a/\"}{,\\"},"after":{"op":"d1.run","sql":"x","params":[]},"response":{"status":200}})") == 2);
  CHECK(subrequest_cost(R"({"op":"http.respond","body_r2":{"key":"k"},"after":{"op":"clock.now"},"response":{"status":200}})") == 1);
  CHECK(subrequest_cost(R"({"op":"d1.run","sql":"x","params":[]})") == 1);
}

TEST_CASE("an http.respond reading R2 carries its count only while two subrequests are left", "[driver][budget]") {
  // fx::respond with body_r2 attaches `after` only while two are left; with one left the response still goes.
  auto root = []() -> task<std::string> {
    auto first = co_await fx::kv_get("a");
    raw_effect count{R"({"op":"d1.run","sql":"x","params":[]})"};
    auto sent = co_await fx::respond(http::response::json_body(200, "{}"), &count, "k");
    co_return std::string(first ? "ok" : "refused") + "|" + (sent ? "sent" : "refused:" + sent.err().message);
  };
  driver d(root(), 2);
  REQUIRE(d.start() == driver_state::waiting);
  REQUIRE(d.resume(ok_results({R"({"value":"1"})"})) == driver_state::waiting);
  json next = effects_of(d);
  REQUIRE(next.size() == 1);
  CHECK(next.as_array()[0]["body_r2"]["key"].as_string() == "k");
  CHECK_FALSE(next.as_array()[0]["after"].is_object());  // only one subrequest left: no count on it
  REQUIRE(d.resume(ok_results({R"({})"})) == driver_state::done);
  CHECK(d.output() == "ok|sent");
}

TEST_CASE("when_all of no tasks completes at once", "[driver]") {
  driver d(none_in_parallel());
  REQUIRE(d.start() == driver_state::done);
  CHECK(d.output() == "0");
}

TEST_CASE("a deep chain of awaits completes on a stack that does not grow", "[driver]") {
  driver d(deep_chain());
  REQUIRE(d.start() == driver_state::done);
  CHECK(d.output() == "200000");
}

TEST_CASE("a million awaits of tasks that complete at once run in one step", "[driver]") {
  driver d(long_loop());
  REQUIRE(d.start() == driver_state::done);
  CHECK(d.output() == "1000000");
}

TEST_CASE("two requests interleave in one instance", "[driver][abi]") {
  using namespace pb::testing;
  std::uint32_t a = start(fetch_start("GET", "http://pb.test/health", {}, false, admin_vars()));
  std::uint32_t b = start(fetch_start("GET", "http://pb.test/health", {}, false, admin_vars()));
  REQUIRE(a != b);
  REQUIRE(pb_state(a) == 1);
  REQUIRE(pb_state(b) == 1);
  // b first, with a failing database; then a, healthy.
  const std::string failing_db =
      R"({"results":[{"ok":false,"error":{"name":"Error","message":"D1_ERROR: boom"}},)"
      R"({"ok":true,"value":{"value":null,"metadata":null}},{"ok":true,"value":{"found":false}}]})";
  const std::string healthy =
      R"({"results":[{"ok":true,"value":{"results":[{"key":"schema_version","value":")" + std::to_string(schema_version) +
      R"("}],"meta":{}}},)"
      R"({"ok":true,"value":{"value":null,"metadata":null}},{"ok":true,"value":{"found":false}}]})";
  REQUIRE(resume(b, failing_db) == 0);
  REQUIRE(resume(a, healthy) == 0);
  auto out_a = wire::read_finish(output(a));
  auto out_b = wire::read_finish(output(b));
  CHECK((*out_a)["response"]["status"].as_int() == 200);
  CHECK((*out_b)["response"]["status"].as_int() == 503);
  pb_finish(a);
  pb_finish(b);
  CHECK(pb_state(a) == -1);
}

TEST_CASE("the ABI rejects unknown jobs and resuming finished ones", "[abi]") {
  using namespace pb::testing;
  CHECK(pb_state(999999) == -1);
  CHECK(resume(999999, "{}") == -1);
  std::uint32_t id = start(fetch_start("GET", "http://pb.test/nope"));
  REQUIRE(pb_state(id) == 0);
  CHECK(resume(id, R"({"results":[]})") == -1);
  pb_finish(id);
}

TEST_CASE("a bad start document is answered with a protocol error response", "[abi]") {
  using namespace pb::testing;
  SECTION("not JSON") {
    std::uint32_t id = pb_start("nope", 4);
    REQUIRE(pb_state(id) == 0);
    auto out = parse_json(output(id));
    CHECK((*out)["response"]["status"].as_int() == 500);
    CHECK(output(id).find("\"code\\\":\\\"protocol\\\"") != std::string::npos);
    pb_finish(id);
  }
  SECTION("wrong protocol version") {
    json doc = fetch_start("GET", "http://pb.test/health");
    doc.set("v", json(99));
    std::uint32_t id = start(doc);
    auto out = parse_json(output(id));
    CHECK((*out)["response"]["status"].as_int() == 500);
    CHECK(output(id).find("protocol version 99") != std::string::npos);
    pb_finish(id);
  }
}

TEST_CASE("the binary fetch start document round-trips every field", "[abi][wire]") {
  wire::fetch_start s;
  s.now_ms = 1767225600123;
  s.has_body = true;
  s.partial = true;
  s.method = "POST";
  s.url = "https://pb.test/downloads?x=%C3%A9";
  s.headers.add("authorization", "Basic dG9rZW46eA==");
  s.headers.add("x-note", "caf\xc3\xa9");  // a header value outside ASCII, as UTF-8
  s.headers.add("x-note", "");
  auto d = wire::decode_fetch_start(wire::encode_fetch_start(s));
  REQUIRE(d.ok());
  CHECK(d->now_ms == s.now_ms);
  CHECK(d->has_body);
  CHECK(d->partial);
  CHECK(d->method == "POST");
  CHECK(d->url == s.url);
  CHECK(d->headers.entries() == s.headers.entries());
}

TEST_CASE("a malformed binary start document is a protocol error, never a request", "[abi][wire]") {
  using namespace pb::testing;
  wire::fetch_start s;
  s.now_ms = 1767225600000;
  s.method = "GET";
  s.url = "http://pb.test/health";
  s.headers.add("accept", "*/*");
  const std::string good = wire::encode_fetch_start(s);
  std::string huge_count = good;
  huge_count[16 + 4 + 3 + 4 + s.url.size() + 3] = '\x7f';  // the header count's high byte
  std::string bad_flags = good;
  bad_flags[12] = 4;  // 1: a body, 2: a partial head; nothing else
  for (const std::string& doc : {good.substr(0, good.size() - 1), good + "x", huge_count, bad_flags, good.substr(0, 10)}) {
    CHECK_FALSE(wire::decode_fetch_start(doc).ok());
    configure(admin_vars());
    std::uint32_t id = pb_start(doc.data(), static_cast<std::uint32_t>(doc.size()));
    REQUIRE(pb_state(id) == 0);
    CHECK(output(id).find("binary start document") != std::string::npos);
    CHECK(parse_json(output(id)).value()["response"]["status"].as_int() == 500);
    pb_finish(id);
  }
}

TEST_CASE("a fetch starts the same from its binary and its JSON start document", "[abi][wire]") {
  using namespace pb::testing;
  json doc = fetch_start("GET", "http://pb.test/nope", {{"accept", "application/json"}}, false, admin_vars());
  REQUIRE(wire_form(doc).substr(0, 4) == wire::fetch_start_magic);
  std::uint32_t binary = start(doc);
  REQUIRE(pb_state(binary) == 0);
  std::string from_binary = output(binary);
  pb_finish(binary);
  json plain = doc;
  plain.erase("env");  // the bindings were configured by start() above
  std::string text = plain.dump();
  std::uint32_t from_json = pb_start(text.data(), static_cast<std::uint32_t>(text.size()));
  REQUIRE(pb_state(from_json) == 0);
  CHECK(output(from_json) == from_binary);  // the same 404, byte for byte
  CHECK(wire::read_finish(from_binary).value()["response"]["status"].as_int() == 404);
  pb_finish(from_json);
}

namespace {
task<std::string> batch_of_two() {
  auto r = co_await fx::d1_batch({{"SELECT 1", {}}, {"SELECT 2", {}}});
  if (!r) co_return "error:" + std::string(error_code_name(r.err().code)) + ":" + r.err().message;
  co_return std::to_string(r->size()) + ":" + std::to_string((*r)[1].changes);
}
}  // namespace

TEST_CASE("a d1.batch reply with another number of results than statements is a protocol error", "[driver]") {
  // Found by the wire fuzzer: callers index the results by statement (rebuild_documents reads [1] and
  // [2]), so a short reply read past the end of the vector.
  const std::string one = R"({"results":[],"meta":{"changes":1,"last_row_id":0}})";
  const std::string two = R"({"results":[],"meta":{"changes":2,"last_row_id":0}})";
  for (const auto& [reply, want] : std::vector<std::pair<std::string, std::string>>{
           {"{\"results\":[" + one + "]}", "error:protocol:d1.batch of 2 statements answered with 1 results"},
           {"{\"results\":[" + one + "," + two + "," + one + "]}", "error:protocol:d1.batch of 2 statements answered with 3 results"},
           {"{}", "error:protocol:d1.batch of 2 statements answered with 0 results"},
           {"{\"results\":[" + one + "," + two + "]}", "2:2"},
       }) {
    INFO(reply);
    driver d(batch_of_two());
    REQUIRE(d.start() == driver_state::waiting);
    REQUIRE(d.resume(ok_results({reply})) == driver_state::done);
    CHECK(d.output() == want);
  }
}

namespace {
http::response finish_sample(std::string_view last_modified, int rate_remaining) {
  http::response r;
  r.status = 200;
  r.header_list.set("cache-control", "private, no-cache");
  r.header_list.set("last-modified", last_modified);
  r.header_list.set("content-type", "application/json");
  r.shared_headers = 3;
  if (rate_remaining >= 0) r.header_list.set("x-ratelimit-remaining", std::to_string(rate_remaining));
  r.log_route = "/p2/{vendor}/{file}";
  r.log_cache = "hot";
  r.shared_body_id = 7;
  return r;
}

std::uint32_t head_id_in(const std::string& doc) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(doc[16 + i]);
  return v;
}
}  // namespace

TEST_CASE("the binary fetch finish document reads back as the JSON shape", "[abi][wire]") {
  http::response r = finish_sample("Thu, 01 Jan 2026 00:00:00 GMT", 4);
  r.log_note = "upstream https://x.test/";
  const std::string doc = wire::encode_fetch_finish(r, 1234);
  REQUIRE(doc.substr(0, 4) == wire::fetch_finish_magic);
  auto fin = wire::read_finish(doc);
  REQUIRE(fin.ok());
  const json& resp = (*fin)["response"];
  CHECK(resp["status"].as_int() == 200);
  CHECK(resp["headers"].dump() ==
        R"([["cache-control","private, no-cache"],["last-modified","Thu, 01 Jan 2026 00:00:00 GMT"],)"
        R"(["content-type","application/json"],["x-ratelimit-remaining","4"]])");
  CHECK(resp["body_raw"].as_int() == 1234);
  CHECK(resp["body_id"].as_int() == 7);
  CHECK(resp["log"].dump() == R"({"route":"/p2/{vendor}/{file}","cache":"hot","detail":"upstream https://x.test/"})");

  http::response streamed = http::response::text(502, "");
  streamed.body_from = 3;
  auto s = wire::read_finish(wire::encode_fetch_finish(streamed, -1));
  REQUIRE(s.ok());
  CHECK((*s)["response"]["body_handle"].as_int() == 3);
  CHECK((*s)["response"].find("body_raw") == nullptr);

  http::response sent;
  sent.status = 0;  // already answered with http.respond
  CHECK(wire::read_finish(wire::encode_fetch_finish(sent, -1)).value().dump() == "{}");
  CHECK(wire::read_finish(R"({"retry":[]})").value().dump() == R"({"retry":[]})");  // JSON stays JSON
  for (std::size_t cut : {std::size_t{5}, std::size_t{24}, doc.size() - 1})
    CHECK_FALSE(wire::read_finish(doc.substr(0, cut)).ok());
  CHECK_FALSE(wire::read_finish(doc + "x").ok());
}

TEST_CASE("a head id names the same shared head; the headers after it do not change it", "[abi][wire]") {
  const std::string a = wire::encode_fetch_finish(finish_sample("Thu, 01 Jan 2026 00:00:00 GMT", 4), 10);
  const std::string b = wire::encode_fetch_finish(finish_sample("Thu, 01 Jan 2026 00:00:00 GMT", 3), 10);
  const std::string c = wire::encode_fetch_finish(finish_sample("Thu, 01 Jan 2026 00:00:00 GMT", -1), 10);
  const std::string d = wire::encode_fetch_finish(finish_sample("Fri, 02 Jan 2026 00:00:00 GMT", 4), 10);
  http::response not_modified = finish_sample("Thu, 01 Jan 2026 00:00:00 GMT", 4);
  not_modified.status = 304;
  const std::string e = wire::encode_fetch_finish(not_modified, -1);
  http::response own = finish_sample("Thu, 01 Jan 2026 00:00:00 GMT", 4);
  own.shared_headers = 0;
  CHECK(head_id_in(a) != 0);
  CHECK(head_id_in(b) == head_id_in(a));
  CHECK(head_id_in(c) == head_id_in(a));
  CHECK(head_id_in(d) != head_id_in(a));
  CHECK(head_id_in(e) != head_id_in(a));
  CHECK(head_id_in(wire::encode_fetch_finish(own, 10)) == 0);
}
