// An in-C++ fake of the three Git hosts' REST APIs (GitHub v3 / GHE, GitLab v4, Bitbucket 2.0) for the
// VCS source tests: one repository, tags and branches paged two per page, composer.json per commit,
// archives, a token that is required on the fake's own hosts, rate limits and a 500 fault. Each
// provider's test file sets it up with that provider's URLs and checks what the sync made of it.
#pragma once

#include <catch2/catch_test_macros.hpp>

#include <map>
#include <set>

#include "core/base64.h"
#include "host/abi.h"
#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"
#include "http/url.h"

namespace pb::testing::vcs {

inline std::string sha_of(char c) { return std::string(40, c); }

struct fake_ref {
  std::string name, sha;
};

struct fake_host {
  char kind = 'h';          // h: GitHub, l: GitLab, b: Bitbucket
  std::string web;          // repository web URL
  std::string api;          // API base
  std::string repo_path;    // acme/widget (GitLab: URL-encoded in API paths)
  std::string archive_host; // where GitHub's zipball redirects (codeload)
  std::string authorization = "Bearer tok";
  std::string default_branch = "main";
  std::vector<fake_ref> tags, branches;
  std::map<std::string, std::string> files;  // sha -> composer.json (absent: 404)
  std::size_t page_size = 2;
  std::vector<std::pair<std::string, std::string>> seen;  // url, authorization
  bool fail_500 = false;
  int requests_until_limited = -1;  // >= 0: API requests allowed before the rate limit hits
  std::int64_t reset_s = 1767229200;   // 2026-01-01T01:00:00Z
  int remaining_header = -1;           // >= 0: sent as the remaining quota on every API answer

  static std::string zip_for(const std::string& sha) {
    return make_zip({{"composer.json", "{\"name\":\"acme/widget\"}"}, {"src/W.php", "<?php // " + sha}});
  }

  std::string repo_api() const {
    if (kind == 'h') return api + "/repos/" + repo_path;
    if (kind == 'l') {
      std::string enc;
      for (char c : repo_path) enc += c == '/' ? std::string("%2F") : std::string(1, c);
      return api + "/projects/" + enc;
    }
    return api + "/repositories/" + repo_path;
  }

  upstream_response api_json(int status, std::string body, std::vector<std::pair<std::string, std::string>> extra = {}) const {
    extra.emplace_back("content-type", "application/json");
    if (remaining_header >= 0) {
      std::string p = kind == 'l' ? "ratelimit-" : "x-ratelimit-";
      extra.emplace_back(p + "limit", "5000");
      extra.emplace_back(p + "remaining", std::to_string(remaining_header));
      extra.emplace_back(p + "reset", std::to_string(reset_s));
    }
    return {status, std::move(extra), std::move(body)};
  }

  upstream_response page_of(const std::vector<fake_ref>& refs, const http::url& u, const std::string& path) const {
    std::size_t page = 1;
    if (auto p = u.query_param("page")) page = static_cast<std::size_t>(std::stoul(*p));
    json list = json::array();
    for (std::size_t i = (page - 1) * page_size; i < refs.size() && i < page * page_size; ++i) {
      json e = json::object();
      e.set("name", json(refs[i].name));
      json commit = json::object();
      commit.set(kind == 'h' ? "sha" : kind == 'l' ? "id" : "hash", json(refs[i].sha));
      commit.set(kind == 'l' ? "committed_date" : "date", json("2025-12-0" + std::to_string(1 + i % 9) + "T10:00:00.000+00:00"));
      e.set(kind == 'b' ? "target" : "commit", std::move(commit));
      list.push_back(std::move(e));
    }
    bool more = page * page_size < refs.size();
    std::string size_param = kind == 'b' ? "pagelen" : "per_page";
    std::string next = api + path + "?" + size_param + "=100&page=" + std::to_string(page + 1);
    if (kind == 'b') {
      json body = json::object();
      body.set("values", std::move(list));
      body.set("page", json(static_cast<std::int64_t>(page)));
      if (more) body.set("next", json(next));
      return api_json(200, body.dump());
    }
    if (kind == 'l') return api_json(200, list.dump(), {{"x-next-page", more ? std::to_string(page + 1) : ""}});
    if (!more) return api_json(200, list.dump());
    return api_json(200, list.dump(), {{"link", "<" + next + ">; rel=\"next\", <" + next + ">; rel=\"last\""}});
  }

  upstream_response operator()(const json& req) {
    std::string url(req["url"].as_string());
    std::string auth = request_header(req, "authorization");
    seen.emplace_back(url, auth);
    http::url u = http::parse_url(url);
    // Archives: GitHub's codeload needs no credentials (they must not be sent there).
    if (!archive_host.empty() && u.host == archive_host) {
      std::string sha = u.path.substr(u.path.rfind('/') + 1);
      return {200, {{"content-type", "application/zip"}}, zip_for(sha)};
    }
    if (auth != authorization) return {401, {{"content-type", "application/json"}}, "{\"message\":\"Bad credentials\"}"};
    std::string ra = repo_api();
    if (kind == 'b' && url.rfind(web + "/get/", 0) == 0) {
      std::string sha = url.substr(web.size() + 5, 40);
      return {200, {{"content-type", "application/zip"}}, zip_for(sha)};
    }
    if (url.rfind(api + "/", 0) != 0) return {404, {}, "not an API URL: " + url};
    if (fail_500) return {500, {{"content-type", "text/html"}}, "<html>oops</html>"};
    if (requests_until_limited == 0) {
      if (kind == 'h')
        return {403, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", std::to_string(reset_s)}}, "{\"message\":\"API rate limit exceeded\"}"};
      return {429, {{"retry-after", "120"}}, "{\"message\":\"Too Many Requests\"}"};
    }
    if (requests_until_limited > 0) --requests_until_limited;
    std::string path = url.substr(api.size());
    std::size_t q = path.find('?');
    std::string route = path.substr(0, q);
    std::string rp = ra.substr(api.size());
    if (route == rp) {
      json o = json::object();
      if (kind == 'b') {
        json mb = json::object();
        mb.set("name", json(default_branch));
        o.set("mainbranch", mb);
      } else {
        o.set("default_branch", json(default_branch));
      }
      return api_json(200, o.dump());
    }
    std::string tags_path = kind == 'h' ? "/tags" : kind == 'l' ? "/repository/tags" : "/refs/tags";
    std::string branches_path = kind == 'h' ? "/branches" : kind == 'l' ? "/repository/branches" : "/refs/branches";
    if (route == rp + tags_path) return page_of(tags, u, route);
    if (route == rp + branches_path) return page_of(branches, u, route);
    std::string sha;
    if (kind == 'h' && route == rp + "/contents/composer.json") sha = u.query_param("ref").value_or("");
    if (kind == 'l' && route == rp + "/repository/files/composer.json/raw") sha = u.query_param("ref").value_or("");
    if (kind == 'b' && route.rfind(rp + "/src/", 0) == 0 && route.size() > rp.size() + 45 &&
        route.substr(rp.size() + 45) == "/composer.json")
      sha = route.substr(rp.size() + 5, 40);
    if (!sha.empty()) {
      auto it = files.find(sha);
      if (it == files.end()) return api_json(404, "{\"message\":\"Not Found\"}");
      if (kind != 'h') return api_json(200, it->second);
      std::string b64 = base64_encode(it->second), wrapped;
      for (std::size_t i = 0; i < b64.size(); i += 60) wrapped += b64.substr(i, 60) + "\n";
      json o = json::object();
      o.set("type", json("file"));
      o.set("encoding", json("base64"));
      o.set("content", json(wrapped));
      return api_json(200, o.dump());
    }
    if (kind == 'h' && route.rfind(rp + "/zipball/", 0) == 0)
      return {302, {{"location", "https://" + archive_host + "/" + repo_path + "/legacy.zip/" + route.substr(rp.size() + 9)}}, ""};
    if (kind == 'l' && route == rp + "/repository/archive.zip")
      return {200, {{"content-type", "application/zip"}}, zip_for(u.query_param("sha").value_or(""))};
    return api_json(404, "{\"message\":\"Not Found\"}");
  }
};

// The repository every provider test starts from:
//   tags v1.0.0 (a), 1.1.0 (b), v0.9.0 (c: no composer.json), nightly (a: invalid tag name),
//        3.0.0 (d: composer.json names other/thing)
//   branches 2.x (f), feature/x (9: invalid JSON), main (e, the default branch)
inline void populate(fake_host& f) {
  f.tags = {{"v1.0.0", sha_of('a')}, {"1.1.0", sha_of('b')}, {"v0.9.0", sha_of('c')}, {"nightly", sha_of('a')},
            {"3.0.0", sha_of('d')}};
  f.branches = {{"2.x", sha_of('f')}, {"feature/x", sha_of('9')}, {"main", sha_of('e')}};
  f.files[sha_of('a')] = R"({"name":"acme/widget","require":{"php":">=8.0"}})";
  f.files[sha_of('b')] = R"({"name":"Acme/Widget","require":{"php":">=8.1"},"default-branch":true})";
  f.files[sha_of('d')] = R"({"name":"other/thing"})";
  f.files[sha_of('e')] = R"({"name":"acme/widget","require":{"php":">=8.2"}})";
  f.files[sha_of('f')] = R"({"name":"acme/widget","require":{"php":">=8.1"}})";
  f.files[sha_of('9')] = R"({"name": "acme/widget",)";
}

struct fixture {
  native_host h;
  fake_host up;
  client c{h, "https://broker.test", admin_vars()};
  std::string token;
  std::int64_t source_id = 0;

  // source_json: the body of POST /admin/api/sources.
  // by_hand: drop the wake-up that creating the source queued (most tests drive the sync themselves).
  fixture(fake_host f, const std::string& source_json, bool by_hand = true) : up(std::move(f)) {
    h.set_upstream([this](const json& req) { return up(req); });
    reply t = c.call("POST", "/admin/api/tokens", bearer("adm"), R"({"name":"ci"})");
    token = std::string(t.body_json()["token"].as_string());
    reply s = c.call("POST", "/admin/api/sources", bearer("adm"), source_json);
    REQUIRE(s.status == 201);
    source_id = s.body_json()["id"].as_int();
    // Creating a source queues its first sync (test_sync_queue.cpp); these tests drive it by hand.
    REQUIRE(h.queue.size() == 1);
    if (by_hand) h.queue.clear();
  }
  std::string sync_path() const { return "/admin/api/sources/" + std::to_string(source_id) + "/sync"; }
  reply sync() { return c.call("POST", sync_path(), bearer("adm")); }
  // A sync at another time (the client's requests run at 2026-01-01T00:00:00Z).
  json sync_at(std::int64_t now_ms) {
    json start = fetch_start("POST", c.origin + sync_path(), bearer("adm"), false, admin_vars());
    start.set("now_ms", json(now_ms));
    finished f = invoke(h, start);
    auto body = parse_json(f.body());
    return body ? *body : json();
  }
  json source() { return c.call("GET", "/admin/api/sources/" + std::to_string(source_id), bearer("adm")).body_json(); }
  json p2(bool dev = false) {
    return c.call("GET", std::string("/p2/acme/widget") + (dev ? "~dev" : "") + ".json", basic(token)).body_json()["packages"]["acme/widget"];
  }
  std::map<std::string, std::string> skipped() {
    std::map<std::string, std::string> out;
    json rows = h.query("SELECT ref, reason FROM skipped_refs ORDER BY ref");
    for (const auto& r : rows.as_array())
      out[std::string(r["ref"].as_string())] = std::string(r["reason"].as_string());
    return out;
  }
};

inline std::vector<std::string> versions_of(const json& list) {
  std::vector<std::string> out;
  for (const auto& v : list.as_array()) out.emplace_back(v["version"].as_string());
  return out;
}

// What every provider's sync of populate()'s repository must produce.
inline void check_populated_sync(fixture& f) {
  reply r = f.sync();
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.body_json()["mode"].as_string() == "inline");
  CHECK(r.body_json()["result"]["status"].as_string() == "ok");
  CHECK(r.body_json()["result"]["packages"].as_int() == 1);
  CHECK(r.body_json()["result"]["versions"].as_int() == 4);
  json last = f.source()["last_sync"];
  CHECK(last["status"].as_string() == "ok");
  CHECK(last["versions"].as_int() == 4);

  json tagged = f.p2();
  CHECK(versions_of(tagged) == std::vector<std::string>{"1.1.0", "v1.0.0"});
  const json& newest = tagged.as_array()[0];
  CHECK(newest["name"].as_string() == "acme/widget");
  CHECK(newest["version_normalized"].as_string() == "1.1.0.0");
  CHECK(newest["dist"]["url"].as_string() == "https://broker.test/dist/acme/widget/1.1.0.0/" + sha_of('b') + ".zip");
  CHECK(newest["dist"]["reference"].as_string() == sha_of('b'));
  CHECK(newest["require"]["php"].as_string() == ">=8.1");
  CHECK(newest.find("default-branch") == nullptr);  // tags never carry the marker

  json dev = f.p2(true);
  std::vector<std::string> dv = versions_of(dev);
  std::sort(dv.begin(), dv.end());
  CHECK(dv == std::vector<std::string>{"2.x-dev", "dev-main"});
  for (const auto& v : dev.as_array()) {
    bool is_main = v["version"].as_string() == "dev-main";
    CHECK(v["default-branch"].as_bool() == is_main);
    if (!is_main) CHECK(v["version_normalized"].as_string() == "2.9999999.9999999.9999999-dev");
  }

  auto skipped = f.skipped();
  CHECK(skipped.size() == 4);
  CHECK(skipped["refs/tags/v0.9.0"] == "no composer.json");
  CHECK(skipped["refs/tags/nightly"] == "invalid tag name");
  CHECK(skipped["refs/tags/3.0.0"] == "composer.json names other/thing, not acme/widget");
  CHECK(skipped["refs/heads/feature/x"].rfind("invalid composer.json", 0) == 0);
}

// A dist download through the broker fetches the provider's archive for the commit.
inline void check_download(fixture& f, const std::string& expected_url) {
  std::size_t before = f.up.seen.size();
  reply d = f.c.call("GET", "/dist/acme/widget/1.1.0.0/" + sha_of('b') + ".zip", basic(f.token));
  CHECK(d.status == 200);
  CHECK(d.body == fake_host::zip_for(sha_of('b')));
  REQUIRE(f.up.seen.size() > before);
  CHECK(f.up.seen[before].first == expected_url);
  CHECK(f.h.blob_exists("mirror/acme/widget/" + sha_of('b') + ".zip"));
}

// A broken upstream (500) keeps the last good metadata and records the error; the sync keeps its cursor
// and a queued retry resumes it after a pause. Five failures in a row end it.
inline void check_fault_keeps_metadata(fixture& f) {
  std::string before = f.c.call("GET", "/p2/acme/widget.json", basic(f.token)).body;
  f.up.fail_500 = true;
  reply bad = f.sync();
  CHECK(bad.status == 200);
  INFO(bad.body);
  CHECK(bad.body_json()["result"]["status"].as_string() == "error");
  CHECK(bad.body_json()["continues"].as_string() == "queue");
  json last = f.source()["last_sync"];
  CHECK(last["status"].as_string() == "error");
  CHECK(last["error"].as_string().find("HTTP 500") != std::string_view::npos);
  CHECK(last["error"].as_string().find("attempt 1 of 5") != std::string_view::npos);
  CHECK(f.c.call("GET", "/p2/acme/widget.json", basic(f.token)).body == before);
  CHECK_FALSE(f.h.query("SELECT sync_cursor FROM sources").as_array()[0]["sync_cursor"].is_null());
  REQUIRE(f.h.queue.size() == 1);
  CHECK(f.h.queue[0].not_before_ms == f.h.clock_ms + 10'000);  // a pause, not a hot loop

  SECTION("the queued retry resumes once the upstream is back") {
    f.up.fail_500 = false;
    auto runs = deliver_queue(f.h, f.c.vars);
    CHECK(runs.size() == 1);
    CHECK(f.source()["last_sync"]["status"].as_string() == "ok");
    CHECK(f.c.call("GET", "/p2/acme/widget.json", basic(f.token)).body == before);
  }
  SECTION("five failures in a row end the sync, nothing served changes") {
    auto runs = deliver_queue(f.h, f.c.vars);
    CHECK(runs.size() == 4);  // retries after 10 s, 40 s, 160 s and 640 s
    CHECK(f.h.queue.empty());
    last = f.source()["last_sync"];
    CHECK(last["status"].as_string() == "error");
    CHECK(last["error"].as_string().find("HTTP 500") != std::string_view::npos);
    CHECK(f.h.query("SELECT sync_cursor FROM sources").as_array()[0]["sync_cursor"].is_null());
    CHECK(f.c.call("GET", "/p2/acme/widget.json", basic(f.token)).body == before);
  }
}

// The rate limit stops the slice, keeps the cursor, delays the source; after the reset it resumes.
inline void check_rate_limit(fixture& f, std::int64_t expected_until_ms) {
  f.up.requests_until_limited = 3;  // the repository and two of the three tag pages
  json r = f.sync().body_json();
  INFO(r.dump());
  CHECK(r["mode"].as_string() == "enqueued");
  CHECK(r["result"]["status"].as_string() == "running");
  REQUIRE(r["result"]["errors"].size() == 1);
  CHECK(r["result"]["errors"].as_array()[0].as_string().rfind("rate limited until ", 0) == 0);
  json row = f.h.query("SELECT sync_cursor, next_sync_at FROM sources").as_array()[0];
  CHECK_FALSE(row["sync_cursor"].is_null());
  CHECK(row["next_sync_at"].as_int() == expected_until_ms);
  CHECK(f.source()["last_sync"]["status"].as_string() == "running");

  // Before the reset: no request at all.
  std::size_t requests = f.up.seen.size();
  json again = f.sync().body_json();
  CHECK(again["result"]["status"].as_string() == "running");
  CHECK(f.up.seen.size() == requests);
  CHECK(f.c.call("GET", "/p2/acme/widget.json", basic(f.token)).status == 404);

  // After it: the sync continues where it stopped and completes.
  f.up.requests_until_limited = -1;
  json done = f.sync_at(expected_until_ms + 1000);
  INFO(done.dump());
  CHECK(done["result"]["status"].as_string() == "ok");
  CHECK(done["result"]["versions"].as_int() == 4);
  CHECK(f.up.seen[requests].first.find("page=3") != std::string::npos);  // not from the start
  CHECK(f.p2().size() == 2);
}

// Credentials went only to the source's own hosts.
inline void check_credentials(const fixture& f, const std::set<std::string>& own_hosts) {
  for (const auto& [url, auth] : f.up.seen) {
    bool own = own_hosts.count(http::parse_url(url).host) > 0;
    INFO(url);
    CHECK(auth == (own ? f.up.authorization : std::string()));
  }
}

}  // namespace pb::testing::vcs
