#include "sources/upstream.h"

#include "auth/sealing.h"
#include "core/base64.h"
#include "core/text.h"

namespace pb::sources {

namespace {

// Credentials JSON ({"type":"basic",...} / {"type":"bearer",...}) or a bare token → header value.
std::string authorization_of(std::string_view creds) {
  auto j = parse_json(creds);
  if (!j || !j->is_object()) {
    std::string token(creds);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    return token.empty() ? std::string() : "Bearer " + token;
  }
  std::string_view type = (*j)["type"].as_string();
  if (type == "basic")
    return "Basic " + base64_encode(std::string((*j)["username"].as_string()) + ":" + std::string((*j)["password"].as_string()));
  if (type == "bearer") return "Bearer " + std::string((*j)["token"].as_string());
  return {};
}

std::string origin_or_raw(const std::string& url) {
  if (url.empty()) return {};
  auto u = http::parse_web_url(url);
  return u ? u->origin() : url;
}

bool redirect_status(int s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

}  // namespace

std::string credentials_purpose(const storage::source_record& s) {
  return "source-credentials|" + std::to_string(s.id) + "|" + origin_or_raw(s.url) + "|" + origin_or_raw(s.api_url);
}

std::vector<std::string> credential_origins(const storage::source_record& s) {
  std::vector<std::string> out;
  for (const std::string* base : {&s.url, &s.api_url}) {
    if (base->empty()) continue;
    if (auto u = http::parse_web_url(*base)) out.push_back(u->origin());
  }
  // The public services' APIs live on their own hosts (the default api_url of vcs.cpp).
  if (s.api_url.empty() && !out.empty()) {
    if (s.type == "github" && out[0] == "https://github.com") out.push_back("https://api.github.com");
    if (s.type == "bitbucket" && out[0] == "https://bitbucket.org") out.push_back("https://api.bitbucket.org");
  }
  return out;
}

task<result<upstream>> open_upstream(const settings& cfg, storage::source_record s) {
  upstream u;
  u.origins = credential_origins(s);
  if (!s.credentials_secret.empty()) {
    if (!settings::valid_source_secret_name(s.credentials_secret))
      co_return make_error(error_code::unavailable, "source " + std::to_string(s.id) + " names the Worker secret " +
                                                        s.credentials_secret + ", which is not a " +
                                                        std::string(settings::source_secret_prefix) + "* secret");
    std::string_view value = cfg.source_secret(s.credentials_secret);
    if (value.empty())
      co_return make_error(error_code::unavailable, "the Worker secret " + s.credentials_secret + " named by source " +
                                                        std::to_string(s.id) + " is not set");
    u.authorization = authorization_of(value);
  } else if (!s.credentials_enc.empty()) {
    auto plain = co_await auth::unseal(cfg, s.credentials_enc, credentials_purpose(s));
    if (!plain)
      co_return make_error(error_code::unavailable, "the stored credentials of source " + std::to_string(s.id) +
                                                        " do not open for this source and origin (set them again): " +
                                                        plain.err().message);
    u.authorization = authorization_of(*plain);
  }
  co_return u;
}

bool credentials_allowed(const upstream& u, const http::web_url& url) {
  std::string origin = url.origin();
  for (const auto& o : u.origins)
    if (o == origin) return true;
  return false;
}

task<result<fx::fetch_response>> upstream_fetch(const upstream& u, fx::fetch_request req) {
  auto url = http::parse_web_url(req.url);
  if (!url) co_return make_error(error_code::upstream, "refusing to fetch " + url.err().message);
  bool follow = req.method == "GET" || req.method == "HEAD";
  bool left_https = false;
  for (int hop = 0; hop < 5; ++hop) {
    fx::fetch_request r = req;
    r.url = url->href;
    r.follow_redirects = false;
    r.header_list.set("user-agent", std::string(user_agent));
    r.header_list.remove("authorization");
    if (!u.authorization.empty() && !left_https && credentials_allowed(u, *url)) r.header_list.set("authorization", u.authorization);
    auto resp = co_await fx::http_fetch(std::move(r));
    if (!resp) co_return make_error(error_code::upstream, "fetching " + url->href + " failed: " + resp.err().message);
    auto location = resp->header_list.get("location");
    if (!follow || !redirect_status(resp->status) || !location) co_return std::move(*resp);
    auto next = http::resolve_web_url(*url, *location);
    if (!next) co_return make_error(error_code::upstream, url->href + " redirects to an unusable location: " + next.err().message);
    if (url->scheme == "https" && next->scheme == "http") left_https = true;
    url = std::move(next);
  }
  co_return make_error(error_code::upstream, "too many redirects fetching " + req.url);
}

task<result<fx::fetch_response>> upstream_get(const upstream& u, std::string url, std::string if_modified_since,
                                              fx::body_read read) {
  fx::fetch_request req;
  req.url = std::move(url);
  req.read = read;
  // A hanging metadata read fails its sync step quickly; archives may take minutes to stream.
  req.timeout_ms = read == fx::body_read::handle ? 300000 : 15000;
  req.header_list.set("accept", "application/json");
  if (!if_modified_since.empty()) req.header_list.set("if-modified-since", if_modified_since);
  co_return co_await upstream_fetch(u, std::move(req));
}

std::string resolve_url(std::string_view base, std::string_view ref) {
  auto b = http::parse_web_url(base);
  if (!b) return std::string(ref);
  auto r = http::resolve_web_url(*b, ref);
  return r ? r->href : std::string(ref);
}

}  // namespace pb::sources
