#include "sources/vcs.h"
#include "core/text.h"

#include <algorithm>

#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/base64.h"
#include "core/http_date.h"
#include "http/headers.h"
#include "http/url.h"
#include "http/web_url.h"
#include "sources/upstream.h"
#include "storage/packages.h"
#include "versions/comparator.h"
#include "versions/version_parser.h"

namespace pb::sources {

namespace {

constexpr std::int64_t requests_per_slice = 40;  // upstream requests (listing pages + composer.json reads)
constexpr std::size_t in_flight = 6;            // a Worker's connection limit
constexpr std::int64_t default_wait_ms = 60000;  // rate limited without a reset time
// Transient upstream failures (network, 5xx) in a row before a sync gives up, and the pause before
// the next try: 10 s, 40 s, 160 s, 640 s.
constexpr std::int64_t max_transient_failures = 5;
constexpr std::int64_t retry_delay_ms(std::int64_t fails) { return 10'000 << (2 * (fails - 1)); }

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.size() > 4 && s.compare(s.size() - 4, 4, ".git") == 0) s.resize(s.size() - 4);
  return s;
}

std::string url_encode(std::string_view s) { return http::percent_encode(s); }

// The repository's URLs at one provider, all derived from the source's url and api_url.
struct provider {
  char kind = 'h';        // h: GitHub, l: GitLab, b: Bitbucket
  std::string api;        // API base without a trailing slash
  std::string repo_api;   // the repository's API resource
  std::string web;        // web URL without a trailing slash or .git
};

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

// One tag or branch, and what the sync learned about it so far.
struct ref_entry {
  bool tag = false;
  std::string name, sha, time;
  bool fetched = false;  // composer.json was read (body), or the ref is already skipped (reason)
  std::string body, reason;
};

// The resumable state kept in sources.sync_cursor.
struct vcs_cursor {
  bool have_repo = false;     // the repository (default branch) was read
  std::string default_branch;
  std::string next_list;      // the next listing page; empty when listing is done
  bool listing_branches = false;
  std::vector<ref_entry> refs;
  std::int64_t wait_until = 0;  // rate limited, or waiting to retry after a failure, until (ms)
  std::int64_t fails = 0;       // transient upstream failures in a row (reset by a slice without one)
};

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

// Rate limits as GitHub (X-RateLimit-*), GitLab (RateLimit-*) and any 429/Retry-After report them.
struct rate_state {
  bool stop = false;
  std::int64_t until_ms = 0;
};

std::int64_t header_int(const http::headers& h, std::string_view a, std::string_view b) {
  auto v = h.get(a);
  if (!v) v = h.get(b);
  if (!v || v->empty()) return -1;
  std::int64_t n = 0;
  for (char ch : *v) {
    if (ch < '0' || ch > '9') return -1;
    n = n * 10 + (ch - '0');
  }
  return n;
}

// True when the response itself was refused for the rate limit (it must be asked again later).
bool observe(rate_state& rs, const fx::fetch_response& r, std::int64_t now_ms) {
  const auto& h = r.header_list;
  std::int64_t remaining = header_int(h, "x-ratelimit-remaining", "ratelimit-remaining");
  std::int64_t limit = header_int(h, "x-ratelimit-limit", "ratelimit-limit");
  std::int64_t reset = header_int(h, "x-ratelimit-reset", "ratelimit-reset");
  std::int64_t retry_after = header_int(h, "retry-after", "x-retry-after");
  bool refused = r.status == 429 || (r.status == 403 && (remaining == 0 || retry_after >= 0));
  bool low = remaining >= 0 && (remaining < 5 || (limit > 0 && remaining * 10 < limit));
  if (!refused && !low) return false;
  std::int64_t until = retry_after >= 0 ? now_ms + retry_after * 1000 : reset > 0 ? reset * 1000 : 0;
  if (until <= now_ms) until = now_ms + default_wait_ms;
  rs.stop = true;
  rs.until_ms = std::max(rs.until_ms, until);
  return refused;
}

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

std::string http_failure(const fx::fetch_response& r, const std::string& url) {
  return "GET " + url + " answered HTTP " + std::to_string(r.status);
}

// Composer's VcsRepository::validateTag, after stripping "release-".
std::string tag_version(std::string_view tag) {
  std::string t(tag);
  for (std::size_t at; (at = t.find("release-")) != std::string::npos;) t.erase(at, 8);
  return t;
}

bool dev_marked(std::string_view v, bool dev_prefix) {
  std::string l = ascii_lower(v);
  if (dev_prefix && l.rfind("dev-", 0) == 0) return true;
  return l.size() >= 3 && l.compare(l.size() - 3, 3, "dev") == 0;
}

// Preg::replace('{[.-]?dev$}i', '') (and '{(^dev-|[.-]?dev$)}i' for normalized versions).
std::string strip_dev(std::string v, bool dev_prefix) {
  if (dev_prefix && ascii_lower(v).rfind("dev-", 0) == 0) return v.substr(4);
  if (!dev_marked(v, false)) return v;
  v.resize(v.size() - 3);
  if (!v.empty() && (v.back() == '.' || v.back() == '-')) v.pop_back();
  return v;
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

// composer.json as an object with a name, or the reason it is unusable.
result<json> composer_object(const ref_entry& r) {
  if (!r.reason.empty()) return make_error(error_code::bad_request, r.reason);
  auto doc = parse_json(r.body);
  if (!doc) return make_error(error_code::bad_request, "invalid composer.json: " + doc.err().message);
  if (!doc->is_object()) return make_error(error_code::bad_request, "invalid composer.json: not an object");
  if ((*doc)["name"].as_string().empty()) return make_error(error_code::bad_request, "composer.json has no \"name\"");
  return std::move(*doc);
}

struct built {
  std::string package;
  std::vector<storage::upstream_version> rows;
  std::vector<std::pair<std::string, std::string>> skipped;  // full ref name, reason
};

// Versions by Composer's VcsRepository::initialize rules, from every ref's composer.json.
result<built> build_versions(const vcs_cursor& c, const provider& p, const storage::source_record& s) {
  built out;
  std::string name;
  for (const auto& r : c.refs)
    if (!r.tag && r.name == c.default_branch)
      if (auto o = composer_object(r)) name = std::string((*o)["name"].as_string());
  if (name.empty()) {  // fall back to the newest tag's composer.json
    std::string best;
    for (const auto& r : c.refs) {
      if (!r.tag) continue;
      auto o = composer_object(r);
      auto v = versions::normalize(tag_version(r.name));
      if (o && v && (best.empty() || versions::version_compare(*v, best) > 0)) {
        best = *v;
        name = std::string((*o)["name"].as_string());
      }
    }
  }
  if (name.empty())
    return make_error(error_code::unprocessable, "no valid composer.json was found in any branch or tag of " + s.url);
  out.package = ascii_lower(name);
  if (!storage::source_allows(s, out.package))
    return make_error(error_code::unprocessable, out.package + " is outside the source's include/exclude patterns");

  std::vector<std::string> seen;
  auto skip = [&](const ref_entry& r, std::string reason) {
    out.skipped.emplace_back((r.tag ? "refs/tags/" : "refs/heads/") + r.name, std::move(reason));
  };
  auto add = [&](const ref_entry& r, std::string version, std::string normalized, json data) {
    data.set("name", json(name));
    data.set("version", json(std::move(version)));
    data.set("version_normalized", json(normalized));
    json dist = json::object(), source = json::object();
    dist.set("type", json("zip"));
    dist.set("url", json(dist_url(p, r.sha)));
    dist.set("reference", json(r.sha));
    dist.set("shasum", json(""));
    source.set("type", json("git"));
    source.set("url", json(p.web + ".git"));
    source.set("reference", json(r.sha));
    data.set("dist", std::move(dist));
    data.set("source", std::move(source));
    if (!r.time.empty()) data.set("time", json(r.time));
    auto row = upstream_version_row(data);
    if (!row) {
      skip(r, row.err().message);
      return;
    }
    seen.push_back(std::move(normalized));
    out.rows.push_back(std::move(*row));
  };
  auto usable = [&](const ref_entry& r) -> std::optional<json> {
    auto o = composer_object(r);
    if (!o) return skip(r, o.err().message), std::nullopt;
    if (ascii_lower((*o)["name"].as_string()) != out.package)
      return skip(r, "composer.json names " + std::string((*o)["name"].as_string()) + ", not " + name), std::nullopt;
    o->erase("default-branch");
    return std::move(*o);
  };

  for (const auto& r : c.refs) {
    if (!r.tag) continue;
    std::string tag = tag_version(r.name);
    auto parsed = versions::normalize(tag);
    if (!parsed) {
      skip(r, "invalid tag name");
      continue;
    }
    auto data = usable(r);
    if (!data) continue;
    std::string version = tag, normalized = *parsed;
    if (const json& v = (*data)["version"]; v.is_string()) {  // a manually versioned package
      auto n = versions::normalize(v.as_string());
      if (!n) {
        skip(r, n.err().message);
        continue;
      }
      version = std::string(v.as_string());
      normalized = *n;
    }
    version = strip_dev(version, false);
    normalized = strip_dev(normalized, true);
    if (normalized != *parsed) {
      skip(r, dev_marked(*parsed, true) ? "invalid tag name, tags can not use dev prefixes or suffixes"
                                        : "tag (" + *parsed + ") does not match version (" + normalized + ") in composer.json");
      continue;
    }
    if (std::find(seen.begin(), seen.end(), normalized) != seen.end()) {
      skip(r, "it conflicts with another tag as both resolve to " + normalized);
      continue;
    }
    add(r, version, normalized, std::move(*data));
  }
  // Branches, the default branch first (it carries default-branch: true).
  std::vector<const ref_entry*> branches;
  for (const auto& r : c.refs)
    if (!r.tag) branches.insert(r.name == c.default_branch ? branches.begin() : branches.end(), &r);
  for (const ref_entry* r : branches) {
    if (r->reason == "invalid branch name") {
      skip(*r, r->reason);
      continue;
    }
    std::string parsed = versions::normalize_branch(r->name);
    std::string version;
    if (parsed.rfind("dev-", 0) == 0 || parsed == "9999999-dev") {
      version = "dev-" + r->name;
    } else {  // Preg::replace('{(\.9{7})+}', '.x', $parsedBranch)
      version = r->name.rfind('v', 0) == 0 ? "v" : "";
      for (std::size_t i = 0; i < parsed.size();) {
        if (parsed.compare(i, 8, ".9999999") == 0) {
          while (parsed.compare(i, 8, ".9999999") == 0) i += 8;
          version += ".x";
        } else {
          version += parsed[i++];
        }
      }
    }
    auto data = usable(*r);
    if (!data) continue;
    if (std::find(seen.begin(), seen.end(), parsed) != seen.end()) {
      skip(*r, "it conflicts with another branch as both resolve to " + parsed);
      continue;
    }
    if (r->name == c.default_branch) data->set("default-branch", json(true));
    add(*r, version, parsed, std::move(*data));
  }
  return out;
}

task<result<std::monostate>> record_skipped(std::int64_t source_id, std::vector<std::pair<std::string, std::string>> skipped,
                                            std::int64_t now_ms) {
  std::vector<fx::d1_statement> batch;
  batch.push_back({"DELETE FROM skipped_refs WHERE source_id = ?", {json(source_id)}});
  for (std::size_t i = 0; i < skipped.size() && i < 500; ++i)
    batch.push_back({"INSERT OR REPLACE INTO skipped_refs (source_id, ref, reason, seen_at) VALUES (?, ?, ?, ?)",
                     {json(source_id), json(skipped[i].first), json(skipped[i].second), json(now_ms)}});
  auto r = co_await fx::d1_batch(std::move(batch));
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

task<result<std::monostate>> set_next_sync(std::int64_t source_id, std::int64_t at_ms) {
  auto r = co_await fx::d1_run("UPDATE sources SET next_sync_at = ? WHERE id = ?", {json(at_ms), json(source_id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

slice_report error_report(std::string message) {
  slice_report r;
  r.status = "error";
  r.errors.push_back(std::move(message));
  return r;
}

std::int64_t pending(const vcs_cursor& c) {
  std::int64_t n = listed(c) ? 0 : 1;
  for (const auto& r : c.refs) n += r.fetched ? 0 : 1;
  return n;
}

// One round of requests: the repository, one listing page, or a batch of composer.json reads.
struct round {
  char what = 0;  // r: repository, l: listing page, f: composer.json files
  std::vector<std::string> urls;
  std::vector<std::size_t> refs;  // for f: the ref each URL reads
};

round plan(vcs_cursor& c, const provider& p, std::int64_t budget) {
  round r;
  if (!c.have_repo || !listed(c)) {
    r.what = c.have_repo ? 'l' : 'r';
    r.urls.push_back(c.have_repo ? c.next_list : p.repo_api);
    return r;
  }
  r.what = 'f';
  // Refs at an already-read commit share its composer.json; the rest are read up to 6 at a time.
  for (std::size_t i = 0; i < c.refs.size() && r.urls.size() < in_flight && static_cast<std::int64_t>(r.urls.size()) < budget; ++i) {
    ref_entry& e = c.refs[i];
    if (e.fetched) continue;
    auto same = std::find_if(c.refs.begin(), c.refs.end(), [&](const ref_entry& o) {
      return o.fetched && o.sha == e.sha && (o.reason.empty() || o.reason == "no composer.json");
    });
    if (same != c.refs.end()) {
      e.fetched = true;
      e.body = same->body;
      e.reason = same->reason;
      continue;
    }
    bool queued = false;
    for (std::size_t j : r.refs) queued = queued || c.refs[j].sha == e.sha;
    if (queued) continue;
    r.refs.push_back(i);
    r.urls.push_back(composer_json_url(p, e.sha));
  }
  return r;
}

// Why a round failed. Transient: the request did not complete (network, timeout) or the upstream
// answered 5xx: worth trying again later from the same cursor. Anything else ends the sync.
struct failure {
  std::string message;
  bool transient = false;
  bool empty() const { return message.empty(); }
};

failure failed(const result<fx::fetch_response>& r, std::string message) {
  return {std::move(message), !r || r->status >= 500};
}

// Takes a round's responses into the cursor; returns the first failure, if any. Every successful
// response of the round is kept even when another one failed, so a retry asks only for what is
// missing. Responses refused for the rate limit are left to be asked again after the reset.
failure apply(vcs_cursor& c, const provider& p, const round& rd, std::vector<result<fx::fetch_response>>& results,
              rate_state& rs, std::int64_t now_ms) {
  failure first;
  for (std::size_t k = 0; k < results.size(); ++k) {
    if (!results[k]) {
      if (first.empty()) first = failed(results[k], results[k].err().message);
      continue;
    }
    const fx::fetch_response& r = *results[k];
    const std::string& url = rd.urls[k];
    if (observe(rs, r, now_ms)) continue;
    if (rd.what == 'f') {
      auto file = composer_file(p.kind, r, url);
      if (!file) {
        if (first.empty()) first = failed(results[k], file.err().message);
        continue;
      }
      ref_entry& e = c.refs[rd.refs[k]];
      e.fetched = true;
      e.body = std::move(file->first);
      e.reason = std::move(file->second);
      continue;
    }
    if (r.status != 200) return failed(results[k], http_failure(r, url));
    if (rd.what == 'r') {
      auto doc = parse_json(r.text);
      if (!doc) return {url + ": " + doc.err().message};
      c.have_repo = true;
      c.default_branch = std::string(p.kind == 'b' ? (*doc)["mainbranch"]["name"].as_string() : (*doc)["default_branch"].as_string());
      c.next_list = list_url(p, false);
      c.listing_branches = false;
      continue;
    }
    auto next = add_refs(c, p.kind, r, url);
    if (!next) return {next.err().message};
    c.next_list = *next;
    if (c.next_list.empty() && !c.listing_branches) {
      c.listing_branches = true;
      c.next_list = list_url(p, true);
    }
  }
  return first;
}

}  // namespace

task<result<slice_report>> vcs_slice(const settings& cfg, storage::source_record s, std::int64_t now_ms) {
  vcs_cursor c = read_cursor(s.sync_cursor);
  slice_report report;
  report.status = "running";
  if (c.wait_until > now_ms) {  // still rate limited, or waiting to retry: no request at all
    report.remaining = pending(c);
    report.retry_at_ms = c.wait_until;
    report.errors.push_back((c.fails > 0 ? "retrying after an upstream failure at " : "rate limited until ") +
                            format_iso8601_utc(c.wait_until));
    // The claim is given back untouched: the cursor stays as it is.
    auto released = co_await storage::release_sync(s);
    if (!released) co_return std::move(released).err();
    co_return report;
  }
  auto p = provider_of(s);
  if (!p) {
    (void)co_await finish_sync(s, {"error", 0, 0, p.err().message}, now_ms);
    co_return error_report(p.err().message);
  }
  auto u = co_await open_upstream(cfg, s);
  if (!u) co_return std::move(u).err();
  // The API may live on the web host's origin (GHE's /api/v3, GitLab's /api/v4) or on its own.
  if (auto api = http::parse_web_url(p->api); api && !credentials_allowed(*u, *api)) u->origins.push_back(api->origin());

  rate_state rs;
  // Upstream reads are subrequests too: the invocation's budget, less the slice's closing writes.
  std::int64_t budget = std::min(requests_per_slice, fx::subrequests_left() - package_subrequests - slice_closing_subrequests);
  failure failure;
  // Rounds of requests (the repository, a listing page, or up to 6 composer.json reads), one batch each.
  while (failure.empty() && !rs.stop && budget > 0) {
    round next = plan(c, *p, budget);
    if (next.urls.empty()) break;
    budget -= static_cast<std::int64_t>(next.urls.size());
    std::vector<task<result<fx::fetch_response>>> reads;
    for (const auto& url : next.urls) reads.push_back(upstream_get(*u, url));
    auto results = co_await when_all(std::move(reads));
    failure = apply(c, *p, next, results, rs, now_ms);
  }

  if (!failure.empty() && failure.transient && c.fails + 1 < max_transient_failures) {
    // A network error or a 5xx: what this sync has read so far is kept and the same cursor is tried
    // again after a pause (10 s, 40 s, 160 s, ...). Nothing served changes; the error is on the source.
    ++c.fails;
    c.wait_until = now_ms + retry_delay_ms(c.fails);
    auto saved = co_await save_sync_cursor(s, write_cursor(c), now_ms);
    if (!saved) co_return std::move(saved).err();
    std::string message = failure.message + " (attempt " + std::to_string(c.fails) + " of " +
                          std::to_string(max_transient_failures) + "; the sync resumes at " + format_iso8601_utc(c.wait_until) + ")";
    auto noted = co_await storage::record_sync(s.id, {"error", 0, 0, message}, now_ms);
    if (!noted) co_return std::move(noted).err();
    slice_report r = error_report(std::move(message));
    r.remaining = pending(c);
    r.retry_at_ms = c.wait_until;
    co_return r;
  }
  if (!failure.empty()) {  // the upstream refuses or is broken for good: everything served so far stays as it was
    (void)co_await finish_sync(s, {"error", 0, 0, failure.message}, now_ms);
    co_return error_report(failure.message);
  }
  c.fails = 0;
  report.remaining = pending(c);
  if (report.remaining > 0) {
    if (rs.stop) c.wait_until = rs.until_ms;
    auto saved = co_await save_sync_cursor(s, write_cursor(c), now_ms);
    if (!saved) co_return std::move(saved).err();
    if (rs.stop) {
      auto delayed = co_await set_next_sync(s.id, rs.until_ms);
      if (!delayed) co_return std::move(delayed).err();
      report.errors.push_back("rate limited until " + format_iso8601_utc(rs.until_ms));
      report.retry_at_ms = rs.until_ms;
    }
    co_return report;
  }

  auto b = build_versions(c, *p, s);
  if (!b) {
    (void)co_await finish_sync(s, {"error", 0, 0, b.err().message}, now_ms);
    co_return error_report(b.err().message);
  }
  std::string notes;
  for (std::size_t i = 0; i < b->skipped.size() && i < 10; ++i)
    notes += (notes.empty() ? "skipped " : "; ") + b->skipped[i].first + " (" + b->skipped[i].second + ")";
  if (b->skipped.size() > 10) notes += "; and " + std::to_string(b->skipped.size() - 10) + " more";
  auto recorded = co_await record_skipped(s.id, b->skipped, now_ms);
  if (!recorded) co_return std::move(recorded).err();
  std::int64_t count = static_cast<std::int64_t>(b->rows.size());
  auto replaced = co_await storage::replace_source_versions(b->package, s.id, s.type, std::move(b->rows), now_ms);
  if (!replaced) {
    (void)co_await finish_sync(s, {"error", 0, 0, replaced.err().message}, now_ms);
    co_return error_report(replaced.err().message);
  }
  auto rebuilt = co_await storage::rebuild_documents(b->package, now_ms);
  if (!rebuilt) co_return std::move(rebuilt).err();
  auto done = co_await finish_sync(s, {"ok", 1, count, notes}, now_ms);
  if (!done) co_return std::move(done).err();
  report.status = "ok";
  report.packages = 1;
  report.versions = count;
  for (std::size_t i = 0; i < b->skipped.size() && i < 20; ++i)
    report.errors.push_back(b->skipped[i].first + ": " + b->skipped[i].second);
  co_return report;
}

}  // namespace pb::sources
