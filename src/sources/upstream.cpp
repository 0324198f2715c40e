#include "sources/upstream.h"
#include "core/text.h"

#include "auth/sealing.h"
#include "core/base64.h"
#include "http/url.h"

namespace pb::sources {

namespace {

// Credentials JSON ({"type":"basic",...} / {"type":"bearer",...}) or a bare token → header value.
std::string authorization_of(std::string_view creds) {
  auto j = parse_json(creds);
  if (!j || !j->is_object()) {
    std::string token(creds);
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
    return token.empty() ? std::string() : "Bearer " + token;
  }
  std::string_view type = (*j)["type"].as_string();
  if (type == "basic")
    return "Basic " + base64_encode(std::string((*j)["username"].as_string()) + ":" + std::string((*j)["password"].as_string()));
  if (type == "bearer") return "Bearer " + std::string((*j)["token"].as_string());
  return {};
}
}  // namespace

task<result<upstream>> open_upstream(const settings& cfg, storage::source_record s) {
  upstream u;
  for (const std::string* base : {&s.url, &s.api_url})
    if (!base->empty()) u.hosts.push_back(ascii_lower(http::parse_url(*base).host));
  // The public services' APIs live on their own hosts (the default api_url of vcs.cpp).
  if (s.api_url.empty() && !u.hosts.empty()) {
    if (s.type == "github" && u.hosts[0] == "github.com") u.hosts.push_back("api.github.com");
    if (s.type == "bitbucket" && u.hosts[0] == "bitbucket.org") u.hosts.push_back("api.bitbucket.org");
  }
  if (!s.credentials_secret.empty()) {
    std::string_view value = cfg.secret(s.credentials_secret);
    if (value.empty())
      co_return make_error(error_code::unavailable, "the Worker secret " + s.credentials_secret + " named by source " +
                                                        std::to_string(s.id) + " is not set");
    u.authorization = authorization_of(value);
  } else if (!s.credentials_enc.empty()) {
    auto plain = co_await auth::unseal(cfg, s.credentials_enc, std::string(auth::source_credentials_purpose));
    if (!plain) co_return std::move(plain).err();
    u.authorization = authorization_of(*plain);
  }
  co_return u;
}

bool same_host(const upstream& u, std::string_view url) {
  std::string host = ascii_lower(http::parse_url(url).host);
  for (const auto& h : u.hosts)
    if (h == host) return true;
  return false;
}

task<result<fx::fetch_response>> upstream_get(const upstream& u, std::string url, std::string if_modified_since,
                                              fx::body_read read) {
  // Redirects are followed here, not by fetch, so credentials are decided again for every hop.
  for (int hop = 0; hop < 5; ++hop) {
    fx::fetch_request req;
    req.url = url;
    req.read = read;
    // A hanging metadata read fails its sync step quickly; archives may take minutes to stream.
    req.timeout_ms = read == fx::body_read::handle ? 300000 : 15000;
    req.header_list.set("accept", "application/json");
    req.header_list.set("user-agent", "package-broker");
    if (!if_modified_since.empty()) req.header_list.set("if-modified-since", if_modified_since);
    if (!u.authorization.empty() && same_host(u, url)) req.header_list.set("authorization", u.authorization);
    auto r = co_await fx::http_fetch(std::move(req));
    if (!r) co_return make_error(error_code::upstream, "fetching " + url + " failed: " + r.err().message);
    bool redirect = r->status == 301 || r->status == 302 || r->status == 303 || r->status == 307 || r->status == 308;
    auto location = r->header_list.get("location");
    if (!redirect || !location) co_return std::move(*r);
    url = resolve_url(url, *location);
  }
  co_return make_error(error_code::upstream, "too many redirects fetching " + url);
}

std::string resolve_url(std::string_view base, std::string_view ref) {
  if (ref.rfind("http://", 0) == 0 || ref.rfind("https://", 0) == 0) return std::string(ref);
  http::url b = http::parse_url(base);
  if (!ref.empty() && ref.front() == '/') return b.origin() + std::string(ref);
  // Relative to the directory of base.
  std::string path = b.path;
  std::size_t slash = path.rfind('/');
  path = slash == std::string::npos ? "/" : path.substr(0, slash + 1);
  return b.origin() + path + std::string(ref);
}

}  // namespace pb::sources
