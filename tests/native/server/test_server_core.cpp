// What the core does for the self-hosted server: /dist answers a pre-signed redirect
// (PB_DIST_REDIRECT=presigned) after the token and scope checks, and falls back to streaming where the
// store cannot sign; hot-cache invalidations are broadcast (PB_INVALIDATION_BROADCAST=1) and applied
// from other instances (pb_invalidate); route patterns for metrics labels; S3 SigV4 against AWS's
// published example.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cstring>

#include "core/settings.h"
#include "host/abi.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"
#include "routes/app.h"
#include "runners/crypto_ops.h"
#include "runners/s3_sign.h"

using namespace pb;
using namespace pb::testing;

namespace {

constexpr const char* s3_url = "s3://KEY:SECRET@packages/dists?endpoint=http://127.0.0.1:9000&region=eu-west-1";

json server_vars(bool presigned, bool broadcast) {
  json v = admin_vars();
  if (presigned) v.set("PB_DIST_REDIRECT", json("presigned"));
  if (broadcast) v.set("PB_INVALIDATION_BROADCAST", json("1"));
  return v;
}

struct repo {
  native_host h;
  client c;
  std::string token, reference, zip;
  repo(bool presigned, bool broadcast) : c{h, "https://repo.test", server_vars(presigned, broadcast)} {
    zip = make_zip({{"w/composer.json", R"({"name":"acme/widget","type":"library"})"}, {"w/src/A.php", "<?php"}});
    header_list hs = bearer("adm");
    hs.emplace_back("content-type", "application/zip");
    hs.emplace_back("content-length", std::to_string(zip.size()));
    reply up = c.call("PUT", "/admin/api/artifacts/acme/widget?version=1.0.0", hs, zip);
    REQUIRE(up.status == 201);
    reference = std::string(up.body_json()["reference"].as_string());
    header_list th = bearer("adm");
    th.emplace_back("content-type", "application/json");
    reply t = c.call("POST", "/admin/api/tokens", th, R"({"name":"ci","packages":["acme/*"]})");
    REQUIRE(t.status == 201);
    token = std::string(t.body_json()["token"].as_string());
  }
  std::string dist() const { return "/dist/acme/widget/1.0.0.0/" + reference + ".zip"; }
};

}  // namespace

TEST_CASE("PB_DIST_REDIRECT=presigned: /dist answers 302 to a pre-signed URL after the checks", "[server][dist]") {
  repo r(true, false);
  r.h.presign_s3_url = s3_url;
  reply d = r.c.call("GET", r.dist(), basic(r.token));
  REQUIRE(d.status == 302);
  std::string location = d.header("location");
  CHECK(location.rfind("http://127.0.0.1:9000/packages/dists/artifacts/", 0) == 0);
  CHECK(location.find("X-Amz-Signature=") != std::string::npos);
  CHECK(location.find("X-Amz-Expires=300") != std::string::npos);
  CHECK(location.find("response-content-type=application%2Fzip") != std::string::npos);
  CHECK(d.header("cache-control") == "private, no-store");
  CHECK(d.body.empty());
  // The store serves the whole archive: a fetch in the stats, as for a streamed one.
  CHECK(r.h.query("SELECT fetches FROM downloads").as_array().at(0)["fetches"].as_int() == 1);

  // The token and scope checks come first: no redirect without them.
  CHECK(r.c.call("GET", r.dist()).status == 401);
  header_list th = bearer("adm");
  th.emplace_back("content-type", "application/json");
  std::string other = std::string(r.c.call("POST", "/admin/api/tokens", th, R"({"name":"o","packages":["other/*"]})").body_json()["token"].as_string());
  CHECK(r.c.call("GET", r.dist(), basic(other)).status == 404);
  CHECK(r.c.call("GET", "/dist/acme/widget/1.0.0.0/" + std::string(40, '0') + ".zip", basic(r.token)).status == 404);
  // So do the token's licences: a version outside them is not redirected to.
  std::string licensed = std::string(
      r.c.call("POST", "/admin/api/tokens", th, R"({"name":"l","licences":[{"packages":"acme/*","constraint":"^2.0"}]})")
          .body_json()["token"].as_string());
  reply hidden = r.c.call("GET", r.dist(), basic(licensed));
  CHECK(hidden.status == 404);
  CHECK(std::find(hidden.ops.begin(), hidden.ops.end(), "blob.presign") == hidden.ops.end());
}

TEST_CASE("PB_DIST_REDIRECT=presigned on a store that cannot sign streams the archive", "[server][dist]") {
  repo r(true, false);  // the native host's file store answers blob.presign with NotSupported
  reply d = r.c.call("GET", r.dist(), basic(r.token));
  REQUIRE(d.status == 200);
  CHECK(d.body == r.zip);
  CHECK(std::find(d.ops.begin(), d.ops.end(), "blob.presign") != d.ops.end());
  repo plain(false, false);  // without the setting nothing is asked
  reply p = plain.c.call("GET", plain.dist(), basic(plain.token));
  CHECK(p.status == 200);
  CHECK(std::find(p.ops.begin(), p.ops.end(), "blob.presign") == p.ops.end());
}

TEST_CASE("hot-cache invalidations are broadcast after the write and applied from other instances", "[server][cache]") {
  SECTION("broadcast on: uploads name their documents, revocations all tokens") {
    repo r(false, true);
    REQUIRE(r.h.invalidations.size() == 1);  // the upload's rebuild
    CHECK(r.h.invalidations[0]["tokens"].as_bool() == false);
    CHECK(r.h.invalidations[0]["documents"].dump() == R"(["p2/acme/widget.json","p2/acme/widget~dev.json"])");
    json list = r.c.call("GET", "/admin/api/tokens", bearer("adm")).body_json();
    std::string id = list.is_array() ? list.as_array()[0]["id"].dump() : list["tokens"].as_array()[0]["id"].dump();
    CHECK(r.c.call("DELETE", "/admin/api/tokens/" + id, bearer("adm")).status == 200);
    REQUIRE(r.h.invalidations.size() == 2);
    CHECK(r.h.invalidations[1]["tokens"].as_bool() == true);
  }
  SECTION("broadcast on: token updates and package deletions too") {
    repo r(false, true);
    json list = r.c.call("GET", "/admin/api/tokens", bearer("adm")).body_json();
    std::string id = list["tokens"].as_array().at(0)["id"].dump();
    header_list th = bearer("adm");
    th.emplace_back("content-type", "application/json");
    // A new scope or licence set must hold on every instance at once, like a revocation.
    CHECK(r.c.call("PATCH", "/admin/api/tokens/" + id, th, R"({"packages":["other/*"]})").status == 200);
    REQUIRE(r.h.invalidations.size() == 2);
    CHECK(r.h.invalidations[1]["tokens"].as_bool() == true);
    CHECK(r.c.call("DELETE", "/admin/api/packages/acme/widget", bearer("adm")).status == 200);
    REQUIRE(r.h.invalidations.size() == 3);
    CHECK(r.h.invalidations[2]["tokens"].as_bool() == false);
    CHECK(r.h.invalidations[2]["documents"].dump() == R"(["p2/acme/widget.json","p2/acme/widget~dev.json"])");
  }
  SECTION("broadcast on: a source change names no document but is broadcast (it shapes /packages.json)") {
    repo r(false, true);
    header_list jh = bearer("adm");
    jh.emplace_back("content-type", "application/json");
    reply created = r.c.call("POST", "/admin/api/sources", jh, R"({"type":"composer","url":"https://repo.example.test/"})");
    REQUIRE(created.status == 201);
    REQUIRE(r.h.invalidations.size() == 2);
    CHECK(r.h.invalidations[1]["tokens"].as_bool() == false);
    CHECK(r.h.invalidations[1]["documents"].dump() == "[]");
    std::string id = created.body_json()["id"].dump();
    CHECK(r.c.call("PATCH", "/admin/api/sources/" + id, jh, R"({"enabled":false})").status == 200);
    CHECK(r.h.invalidations.size() == 3);
  }
  SECTION("pb_invalidate drops /packages.json's catalog, whatever documents it names") {
    repo r(false, false);
    auto listed = [&] { return r.c.call("GET", "/packages.json", basic(r.token)).body; };
    REQUIRE(listed().find("acme/elsewhere") == std::string::npos);
    // Another instance added a package: this one still lists from its warm catalog...
    r.h.query("INSERT INTO packages (name, source, revision, created_at, updated_at) VALUES ('acme/elsewhere', 'artifact', 1, 0, 0)");
    CHECK(listed().find("acme/elsewhere") == std::string::npos);
    // ...until its broadcast arrives.
    std::string msg = R"({"tokens":false,"documents":[]})";
    CHECK(pb_invalidate(msg.data(), static_cast<std::uint32_t>(msg.size())) == 1);
    CHECK(listed().find("acme/elsewhere") != std::string::npos);
  }
  SECTION("broadcast off (the Worker): no effect raised") {
    repo r(false, false);
    CHECK(r.h.invalidations.empty());
  }
  SECTION("pb_invalidate drops the entries another instance changed") {
    repo r(false, false);
    reply first = r.c.call("GET", "/p2/acme/widget.json", basic(r.token));
    REQUIRE(first.status == 200);
    // Another instance rewrote the document: this one still serves its hot copy (no D1 read)...
    // (a rebuild there moves Last-Modified, which the bodies as served here are checked against).
    r.h.query("UPDATE metadata_documents SET body = '{\"packages\":{}}', last_modified = 'Fri, 02 Jan 2026 00:00:00 GMT' "
              "WHERE key = 'p2/acme/widget.json'");
    reply cached = r.c.call("GET", "/p2/acme/widget.json", basic(r.token));
    CHECK(cached.body == first.body);
    CHECK(cached.ops.empty());
    // ...until the broadcast arrives.
    std::string msg = R"({"tokens":false,"documents":["p2/acme/widget.json"]})";
    CHECK(pb_invalidate(msg.data(), static_cast<std::uint32_t>(msg.size())) == 1);
    reply fresh = r.c.call("GET", "/p2/acme/widget.json", basic(r.token));
    CHECK(fresh.body == "{\"packages\":{}}");
    CHECK(pb_invalidate("nope", 4) == 0);
  }
}

TEST_CASE("route_pattern labels requests by their route", "[server]") {
  CHECK(routes::route_pattern("GET", "/p2/acme/widget.json") == "/p2/{vendor}/{file}");
  CHECK(routes::route_pattern("HEAD", "/packages.json") == "/packages.json");
  CHECK(routes::route_pattern("POST", "/packages.json").empty());
  CHECK(routes::route_pattern("GET", "/nothing/here").empty());
}

TEST_CASE("settings read the server's core settings", "[server]") {
  json v = json::object();
  v.set("PB_DIST_REDIRECT", json("presigned"));
  v.set("PB_PRESIGN_TTL_S", json("60"));
  v.set("PB_INVALIDATION_BROADCAST", json("1"));
  settings s = settings::from_vars(v);
  CHECK(s.dist_redirect_presigned);
  CHECK(s.presign_ttl_s == 60);
  CHECK(s.broadcast_invalidations);
  settings d = settings::from_vars(json::object());
  CHECK_FALSE(d.dist_redirect_presigned);
  CHECK(d.presign_ttl_s == 300);
  CHECK_FALSE(d.broadcast_invalidations);
}

TEST_CASE("S3 SigV4 matches AWS's published examples", "[server][s3]") {
  // "Example: GET Object" and the pre-signed URL example of the S3 SigV4 documentation
  // (examplebucket, 20130524T000000Z, AKIAIOSFODNN7EXAMPLE).
  auto loc = runners::parse_s3_url("s3://examplebucket?region=us-east-1", "AKIAIOSFODNN7EXAMPLE",
                                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  CHECK_FALSE(loc.path_style);
  std::time_t t = 1369353600;  // 2013-05-24T00:00:00Z
  auto req = runners::sign_request(loc, "GET", "test.txt", {}, {{"Range", "bytes=0-9"}},
                                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", t);
  CHECK(req.url == "https://examplebucket.s3.us-east-1.amazonaws.com/test.txt");
  std::string auth;
  for (auto& [k, v] : req.headers)
    if (k == "authorization") auth = v;
  // The documentation's host is examplebucket.s3.amazonaws.com; ours names the region, so the signature
  // differs from the page's, but the scope and signed headers follow the same rules.
  CHECK(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                   "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=", 0) == 0);
  auto classic = runners::parse_s3_url("s3://examplebucket?region=us-east-1&endpoint=https://s3.amazonaws.com&path_style=0",
                                       "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  auto get = runners::sign_request(classic, "GET", "test.txt", {}, {{"Range", "bytes=0-9"}},
                                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", t);
  std::string sig;
  for (auto& [k, v] : get.headers)
    if (k == "authorization") sig = v.substr(v.find("Signature=") + 10);
  CHECK(sig == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  std::string url = runners::presign_get(classic, "test.txt", 86400, {}, t);
  CHECK(url.substr(url.find("X-Amz-Signature=") + 16) == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  auto split = runners::parse_s3_url("s3://packages?endpoint=http://minio:9000&public_endpoint=https://dl.example.com/", "a", "b");
  CHECK(runners::presign_get(split, "k.zip", 60, {}, t).rfind("https://dl.example.com/packages/k.zip?", 0) == 0);
  CHECK(runners::sign_request(split, "GET", "k.zip", {}, {}, "UNSIGNED-PAYLOAD", t).url == "http://minio:9000/packages/k.zip");
  CHECK_THROWS(runners::parse_s3_url("s3://b", "", ""));
  CHECK_THROWS(runners::parse_s3_url("s3://bucket?what=1", "a", "b"));
}
