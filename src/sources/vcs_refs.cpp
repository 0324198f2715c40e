#include "sources/vcs_refs.h"

#include "core/base64.h"
#include "core/json.h"
#include "core/text.h"
#include "http/url.h"
#include "http/web_url.h"
#include "versions/version_parser.h"

namespace pb::sources::vcs {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.size() > 4 && s.compare(s.size() - 4, 4, ".git") == 0) s.resize(s.size() - 4);
  return s;
}

std::string url_encode(std::string_view s) { return http::percent_encode(s); }

// The query of the upstream's next-page URL on our own list URL, so every request stays on api_url.
std::string next_page(const std::string& ours, std::string_view theirs) {
  std::size_t q = theirs.find('?');
  if (q == std::string_view::npos) return {};
  return ours.substr(0, ours.find('?')) + std::string(theirs.substr(q));
}

// `Link: <url>; rel="next", <url>; rel="last"` -> the next URL, or empty.
std::string link_next(std::string_view link) {
  std::size_t pos = 0;
  while (pos < link.size()) {
    std::size_t end = link.find(',', pos);
    std::string_view part = link.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    std::size_t open = part.find('<'), close = part.find('>');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open &&
        part.find("rel=\"next\"", close) != std::string_view::npos)
      return std::string(part.substr(open + 1, close - open - 1));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return {};
}

}  // namespace

result<provider> provider_of(const storage::source_record& s) {
  provider p;
  p.kind = s.type == "gitlab" ? 'l' : s.type == "bitbucket" ? 'b' : 'h';
  p.web = trimmed(s.url);
  http::url u = http::parse_url(p.web);
  std::string path = u.path.empty() ? std::string() : u.path.substr(1);
  std::size_t slash = path.find('/');
  bool two = slash != std::string::npos && slash > 0 && slash + 1 < path.size();
  if (u.host.empty() || !two || (p.kind != 'l' && path.find('/', slash + 1) != std::string::npos))
    return make_error(error_code::bad_request, "\"" + s.url + "\" is not a " + s.type + " repository URL (" +
                                                   (p.kind == 'l' ? "https://host/group/project" : "https://host/owner/repo") + ")");
  std::string host = ascii_lower(u.host);
  p.api = trimmed(s.api_url);
  if (p.api.empty()) {
    if (p.kind == 'h') p.api = host == "github.com" ? "https://api.github.com" : u.origin() + "/api/v3";
    else if (p.kind == 'l') p.api = u.origin() + "/api/v4";
    else p.api = host == "bitbucket.org" ? "https://api.bitbucket.org/2.0" : u.origin() + "/2.0";
  }
  if (p.kind == 'h') p.repo_api = p.api + "/repos/" + path;
  else if (p.kind == 'l') p.repo_api = p.api + "/projects/" + url_encode(path);
  else p.repo_api = p.api + "/repositories/" + path;
  return p;
}

std::string list_url(const provider& p, bool branches) {
  if (p.kind == 'h') return p.repo_api + (branches ? "/branches" : "/tags") + "?per_page=100";
  if (p.kind == 'l') return p.repo_api + (branches ? "/repository/branches" : "/repository/tags") + "?per_page=100";
  return p.repo_api + (branches ? "/refs/branches" : "/refs/tags") + "?pagelen=100";
}

std::string composer_json_url(const provider& p, const std::string& sha) {
  if (p.kind == 'h') return p.repo_api + "/contents/composer.json?ref=" + sha;
  if (p.kind == 'l') return p.repo_api + "/repository/files/composer.json/raw?ref=" + sha;
  return p.repo_api + "/src/" + sha + "/composer.json";
}

std::string dist_url(const provider& p, const std::string& sha) {
  if (p.kind == 'h') return p.repo_api + "/zipball/" + sha;
  if (p.kind == 'l') return p.repo_api + "/repository/archive.zip?sha=" + sha;
  return p.web + "/get/" + sha + ".zip";
}

vcs_cursor read_cursor(const std::string& text) {
  vcs_cursor c;
  auto j = parse_json(text);
  if (!j || !j->is_object()) return c;
  c.have_repo = (*j)["repo"].as_bool();
  c.default_branch = std::string((*j)["default"].as_string());
  c.next_list = std::string((*j)["list"].as_string());
  c.listing_branches = (*j)["branches"].as_bool();
  c.wait_until = (*j)["wait"].as_int();
  c.fails = (*j)["fails"].as_int();
  for (const auto& r : (*j)["refs"].as_array()) {
    const json_array& a = r.as_array();
    if (a.size() != 7) continue;
    c.refs.push_back({a[0].as_bool(), std::string(a[1].as_string()), std::string(a[2].as_string()),
                      std::string(a[3].as_string()), a[4].as_bool(), std::string(a[5].as_string()),
                      std::string(a[6].as_string())});
  }
  return c;
}

std::string write_cursor(const vcs_cursor& c) {
  json_writer w;
  w.begin_object().field("repo", c.have_repo).field("default", c.default_branch).field("list", c.next_list);
  w.field("branches", c.listing_branches).field("wait", c.wait_until).field("fails", c.fails).key("refs").begin_array();
  for (const auto& r : c.refs)
    w.begin_array().value(r.tag).value(r.name).value(r.sha).value(r.time).value(r.fetched).value(r.body).value(r.reason).end_array();
  w.end_array().end_object();
  return std::move(w).str();
}

bool listed(const vcs_cursor& c) { return c.have_repo && c.next_list.empty(); }

std::string http_failure(const fx::fetch_response& r, const std::string& url) {
  return "GET " + url + " answered HTTP " + std::to_string(r.status);
}

std::string tag_version(std::string_view tag) {
  std::string t(tag);
  for (std::size_t at; (at = t.find("release-")) != std::string::npos;) t.erase(at, 8);
  return t;
}

// A listing page's refs: GitHub/GitLab answer an array, Bitbucket {"values":[..],"next":..}.
result<std::string> add_refs(vcs_cursor& c, char kind, const fx::fetch_response& r, const std::string& url) {
  auto doc = parse_json(r.text);
  if (!doc) return make_error(error_code::upstream, url + ": " + doc.err().message);
  const json& list = kind == 'b' ? (*doc)["values"] : *doc;
  if (!list.is_array()) return make_error(error_code::upstream, url + ": not a list of refs: " + r.text.substr(0, 80));
  for (const auto& e : list.as_array()) {
    ref_entry ref;
    ref.tag = !c.listing_branches;
    ref.name = std::string(e["name"].as_string());
    const json& commit = kind == 'b' ? e["target"] : e["commit"];
    ref.sha = std::string(commit[kind == 'h' ? "sha" : kind == 'l' ? "id" : "hash"].as_string());
    ref.time = std::string(commit[kind == 'l' ? "committed_date" : "date"].as_string());
    if (ref.name.empty() || ref.sha.empty()) continue;
    if (ref.tag && !versions::normalize(tag_version(ref.name))) ref.reason = "invalid tag name";
    if (!ref.tag && ref.name.find_first_of(" ,|\t") != std::string::npos) ref.reason = "invalid branch name";
    ref.fetched = !ref.reason.empty();
    c.refs.push_back(std::move(ref));
  }
  std::string next = kind == 'b' ? std::string((*doc)["next"].as_string()) : link_next(r.header_list.get("link").value_or(""));
  if (next.empty() && kind == 'l')
    if (auto page = r.header_list.get("x-next-page"); page && !page->empty()) next = "?per_page=100&page=" + std::string(*page);
  return next.empty() ? std::string() : next_page(url, next);
}

// A composer.json response: the file's text, or empty with the reason it is missing.
result<std::pair<std::string, std::string>> composer_file(char kind, const fx::fetch_response& r, const std::string& url) {
  if (r.status == 404) return std::pair<std::string, std::string>{{}, "no composer.json"};
  if (r.status != 200) return make_error(error_code::upstream, http_failure(r, url));
  if (kind != 'h') return std::pair<std::string, std::string>{r.text, {}};
  // GitHub's contents API: {"encoding":"base64","content":"..."} (line-wrapped base64).
  auto doc = parse_json(r.text);
  if (!doc || !(*doc)["content"].is_string()) return make_error(error_code::upstream, url + ": not a contents response: " + r.text.substr(0, 80));
  std::string b64;
  for (char ch : (*doc)["content"].as_string())
    if (ch != '\n' && ch != '\r') b64 += ch;
  auto text = base64_decode(b64);
  if (!text || (*doc)["encoding"].as_string() != "base64") return std::pair<std::string, std::string>{{}, "composer.json is not readable through the contents API"};
  return std::pair<std::string, std::string>{std::move(*text), {}};
}

}  // namespace pb::sources::vcs
