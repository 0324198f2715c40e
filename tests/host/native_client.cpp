#include "host/native_client.h"

#include "core/base64.h"
#include "host/abi.h"

namespace pb::testing {

std::string reply::header(std::string_view name) const {
  for (const auto& kv : headers.as_array())
    if (kv.as_array()[0].as_string() == name) return std::string(kv.as_array()[1].as_string());
  return {};
}

json reply::body_json() const {
  auto j = parse_json(body);
  return j ? *j : json();
}

reply client::call(std::string method, std::string path, header_list headers, std::optional<std::string> body) {
  json start = fetch_start(method, origin + path, headers, false, vars);
  if (now_ms) start.set("now_ms", json(now_ms));
  if (body) {
    host.set_request_body(*body);
    start = with_body(start);
  }
  host.sent_response.reset();
  finished f = invoke(host, start);
  json resp = f.doc.find("response") ? f.doc["response"] : (host.sent_response ? *host.sent_response : json());
  reply r;
  r.status = static_cast<int>(resp["status"].as_int());
  r.headers = resp["headers"];
  r.ops = f.ops;
  r.batches = f.batches;
  r.log = std::string(resp["log"]["detail"].as_string());
  if (const json* handle = resp.find("body_handle")) {
    r.body = host.take_handle(handle->as_int()).value_or("<missing handle>");
  } else if (resp.find("body_raw")) {
    r.body = f.raw_body;
  } else {
    r.body = std::string(resp["body"].as_string());
  }
  return r;
}

json admin_vars(bool with_encryption_key) {
  json v = json::object();
  v.set("ADMIN_TOKEN", json("adm"));
  if (with_encryption_key) v.set("PB_ENCRYPTION_KEY", json("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
  return v;
}

header_list bearer(const std::string& token) { return {{"authorization", "Bearer " + token}}; }
header_list basic(const std::string& token) { return {{"authorization", "Basic " + base64_encode("token:" + token)}}; }

}  // namespace pb::testing
