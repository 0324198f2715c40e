// Calling the Worker's C++ through a native_host the way an HTTP client would: build the start
// document, run the invocation, and read the response whether it finished with it or sent it early
// (http.respond), with streamed bodies resolved from the host's handles.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "host/native_host.h"

namespace pb::testing {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct reply {
  int status = 0;
  json headers;
  std::string body;
  std::vector<std::string> ops;  // effect ops the invocation performed
  int batches = 0;                // how many effect batches (round trips to the host) it took
  std::string log;               // the response's note for the request log (never sent to clients)
  std::string header(std::string_view name) const;
  json body_json() const;
};

struct client {
  native_host& host;
  std::string origin = "https://repo.test";
  json vars = json::object();
  std::int64_t now_ms = 0;  // the request's clock; 0 = the harness's fixed one (2026-01-01T00:00:00Z)

  reply call(std::string method, std::string path, header_list headers = {}, std::optional<std::string> body = {});
};

// The Worker's vars for tests: ADMIN_TOKEN "adm" and (unless asked not to) a fixed PB_ENCRYPTION_KEY.
json admin_vars(bool with_encryption_key = true);

header_list bearer(const std::string& token);
header_list basic(const std::string& token);

}  // namespace pb::testing
