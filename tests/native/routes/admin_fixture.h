// Shared fixture for the administration tests on the native host: a client with the admin secret
// "adm", uploads, token creation, and JSON helpers.
#pragma once

#include <catch2/catch_test_macros.hpp>

#include <string>

#include "core/json.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"

namespace pb::testing {

inline std::string package_json(const std::string& name, const std::string& extra = "") {
  return "{\"name\":\"" + name + "\",\"description\":\"the " + name + " package\",\"type\":\"library\"" + extra + "}";
}

struct admin_fixture {
  native_host h;
  client c{h, "https://repo.test", admin_vars()};

  reply admin(std::string method, std::string path, std::optional<std::string> body = {}, std::string token = "adm") {
    header_list hs = bearer(token);
    if (body) hs.emplace_back("content-type", "application/json");
    return c.call(std::move(method), std::move(path), hs, std::move(body));
  }
  reply upload(const std::string& name, const std::string& version, const std::string& marker = "") {
    std::string zip = make_zip({{"composer.json", package_json(name)}, {"src/X.php", "<?php // " + version + marker}});
    header_list hs = bearer("adm");
    hs.emplace_back("content-length", std::to_string(zip.size()));
    return c.call("PUT", "/admin/api/artifacts/" + name + "?version=" + version, hs, zip);
  }
  // Creates a token and returns the create response.
  json token(const std::string& body) {
    reply r = admin("POST", "/admin/api/tokens", body);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return r.body_json();
  }
  reply as_client(const std::string& token, std::string method, std::string path, std::optional<std::string> body = {}) {
    return c.call(std::move(method), std::move(path), basic(token), std::move(body));
  }
  json audit(const std::string& query = "") { return admin("GET", "/admin/api/audit" + query).body_json()["entries"]; }
  std::int64_t count(const std::string& sql) { return h.query(sql).as_array()[0]["n"].as_int(); }
};

// The versions of a p2 document (minified lists expanded is not needed: every entry has "version").
inline std::vector<std::string> p2_versions(const json& doc, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& v : doc["packages"][name].as_array()) out.emplace_back(v["version"].as_string());
  return out;
}

}  // namespace pb::testing
