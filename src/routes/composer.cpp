#include "routes/composer.h"
#include "routes/composer_answers.h"
#include "core/text.h"

#include <algorithm>
#include <map>

#include "routes/authenticate.h"
#include "bindings/effects.h"
#include "bindings/when_all.h"
#include "core/http_date.h"
#include "auth/credentials.h"
#include "auth/licences.h"
#include "routes/gate.h"
#include "routes/listing.h"
#include "sources/packagist.h"
#include "sources/upstream.h"
#include "storage/hot_cache.h"
#include "storage/packages.h"
#include "storage/sources.h"

namespace pb::routes {

http::response not_found_package(std::string_view name) {
  return http::error_response(error_code::not_found, "package " + std::string(name) + " not found");
}

http::response store_error(const error& e, std::string_view what) {
  return http::private_error_response(error_code::unavailable, "storage is unavailable, try again later",
                                      std::string(what) + ": " + e.message);
}

task<http::response> finish(request_context& ctx, http::response r, const storage::token_record& t) {
  if (!storage::needs_touch(t, ctx.now_ms)) co_return r;
  std::int64_t id = t.id;
  if (co_await respond_early(ctx, std::move(r))) (void)co_await storage::touch_token(id, ctx.now_ms);
  co_return already_sent();
}

namespace {

constexpr const char* metadata_cache_control = "private, no-cache";
constexpr std::int64_t max_notify_body = 256 * 1024;
constexpr std::size_t max_notify_entries = 1000;
// Rendered /packages.json bodies kept per catalog (one per origin and token scope seen).
constexpr std::size_t max_rendered_listings = 64;

// The part of the packagist sources' include patterns a token may see: a pattern that lies within one
// of the token's scopes as it is, else the scope itself where the two overlap (composer only uses these
// to decide where to ask; over-matching costs a 404). Nothing of a source pattern outside every scope.
std::vector<std::string> mirror_patterns_in_scope(const std::vector<storage::source_record>& mirrors,
                                                  const std::vector<std::string>& scopes) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& p) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  static const std::vector<std::string> everything{"*"};
  for (const auto& m : mirrors)
    for (const auto& include : m.include.empty() ? everything : m.include)
      for (const auto& scope : scopes)
        if (auth::patterns_intersect(include, scope)) add(auth::pattern_covers(scope, include) ? include : scope);
  return out;
}

bool is_origin(const http::url& u, std::string_view origin) {
  return origin.size() == u.scheme.size() + 3 + u.host.size() && origin.substr(0, u.scheme.size()) == u.scheme &&
         origin.substr(u.scheme.size(), 3) == "://" && origin.substr(u.scheme.size() + 3) == u.host;
}

// The body of a p2 document as served to this request's origin under this token's licences: the document
// with its origin placeholders replaced (and, for a token with licences on the package, only the versions
// they allow), made once per document version, origin and licence set and kept in the document's hot
// cache entry; every later response shares it (no copy; the host may keep its own copy under its id).
// Null when the document cannot be filtered.
const storage::hot_cache::served_body* served_for(const request_context& ctx, const storage::token_record& token,
                                                  std::string_view name, std::string_view key,
                                                  storage::hot_cache::document_entry& e) {
  const bool filtered = auth::restricted(token.licences, name);
  std::string licences = filtered ? auth::licence_key(token.licences) : std::string();
  for (const auto& s : e.served)
    if (s.licences == licences && is_origin(ctx.req.target, s.origin)) return &s;
  const storage::stored_document& d = *e.doc;
  storage::hot_cache::served_body b;
  b.origin = ctx.req.target.origin();
  auto modified = parse_http_date(d.last_modified);
  if (filtered) {
    auto body = auth::filter_document(d.body, name, token.licences);
    if (!body) return nullptr;
    b.bytes = std::make_shared<const std::string>(storage::with_origin(*body, b.origin));
    // A filtered copy is never answered with 304: composer's cache is per URL, not per token, so a copy
    // cached under another token or another licence set must not be confirmed. Its Last-Modified is a
    // second before the prebuilt document's, so a full copy requested with it is always sent again.
    b.last_modified = modified ? format_http_date((*modified - 1) * 1000) : d.last_modified;
  } else {
    b.bytes = std::make_shared<const std::string>(storage::with_origin(d.body, b.origin));
    b.last_modified = d.last_modified;
    b.modified_s = modified.value_or(0);
  }
  b.licences = std::move(licences);
  b.id = storage::hot_cache::new_body_id();
  return &storage::hot_cache::add_served(key, e, std::move(b));
}

// Whether the client's copy (its If-Modified-Since) is at least as new as modified_s.
bool client_has_current(const request_context& ctx, std::int64_t modified_s) {
  auto since = ctx.req.header_list.get("if-modified-since");
  if (!since) return false;
  auto since_s = parse_http_date(*since);
  return since_s && modified_s <= *since_s;
}

// The head built so far as a 304: composer treats only a 304 with an empty body as "not modified".
http::response not_modified(http::response r) {
  r.status = 304;
  r.shared_headers = static_cast<std::uint32_t>(r.header_list.entries().size());
  return r;
}

// A p2 request's answer once its token and document are known: 304 when the client's copy is current,
// else the body as served (served_for).
http::response p2_answer(const request_context& ctx, const storage::token_record& token, std::string_view name,
                         std::string_view key, storage::hot_cache::document_entry& e) {
  const storage::hot_cache::served_body* s = served_for(ctx, token, name, key, e);
  if (!s) return http::error_response(error_code::internal, "the metadata of " + std::string(name) + " could not be filtered");
  http::response r;
  r.header_list.set("cache-control", metadata_cache_control);
  r.header_list.set("last-modified", s->last_modified);
  if (s->modified_s && client_has_current(ctx, s->modified_s)) return not_modified(std::move(r));
  r.status = 200;
  r.header_list.set("content-type", "application/json");
  r.shared_headers = static_cast<std::uint32_t>(r.header_list.entries().size());  // the same for every answer with this served body (the rate headers follow)
  r.shared_body = s->bytes;
  r.shared_body_id = s->id;
  return r;
}

// The package names, the enabled packagist sources and the listing's date, from the isolate's catalog
// while it is fresh.
task<result<std::shared_ptr<storage::hot_cache::catalog>>> load_catalog(std::int64_t now_ms) {
  namespace hc = storage::hot_cache;
  if (auto c = hc::current_catalog(now_ms)) co_return c;
  std::uint64_t generation = hc::catalog_generation();
  // Past ttl_ms: while the listing's marker has not moved, the catalog (and every body rendered from it)
  // is still the listing. One small read instead of every name and source.
  if (auto kept = hc::expired_catalog(); kept && kept->changed_ms) {
    auto marker = co_await storage::listing_marker();
    if (!marker) co_return std::move(marker).err();
    if (*marker == kept->changed_ms) {
      // A licensed token's listing also depends on versions, which the marker does not follow: those
      // bodies are rendered again (no request holds a pointer into `rendered` across a suspension).
      std::erase_if(kept->rendered, [](const auto& b) { return !b.licences.empty(); });
      // As if read now: it may be dated now (in place: requests holding it may answer with the date).
      kept->modified_s = listing_modified_s(kept->changed_ms, now_ms);
      if (kept->modified_s) kept->last_modified = format_http_date(kept->modified_s * 1000);
      hc::put_catalog(kept, now_ms, generation);
      co_return kept;
    }
  }
  auto in = co_await storage::load_listing_inputs();
  if (!in) co_return std::move(in).err();
  auto c = std::make_shared<storage::hot_cache::catalog>();
  c->names = std::move(in->names);
  c->mirrors = std::move(in->mirrors);
  c->changed_ms = in->changed_ms;
  c->modified_s = listing_modified_s(in->changed_ms, now_ms);
  if (c->modified_s) c->last_modified = format_http_date(c->modified_s * 1000);
  storage::hot_cache::put_catalog(c, now_ms, generation);
  co_return c;
}

}  // namespace

std::int64_t listing_modified_s(std::optional<std::int64_t> changed_ms, std::int64_t read_at_ms) {
  if (!changed_ms || *changed_ms <= 0) return 0;
  const std::int64_t s = std::max(*changed_ms / 1000, listing_shape_s);
  return read_at_ms >= (s + 1) * 1000 + listing_clock_skew_ms ? s : 0;
}

namespace {

using listing_body = storage::hot_cache::catalog::body;

// The body already rendered from c for this request's origin and this token's scope and licences.
const listing_body* rendered_for(const storage::hot_cache::catalog& c, const http::url& target,
                                 const storage::token_record& t) {
  for (const auto& b : c.rendered)
    if (is_origin(target, b.origin) && b.scopes == t.packages && auth::same_licences(b.licences, t.licences)) return &b;
  return nullptr;
}

// Whether the token sees the whole listing, the same bytes as every other such token: only those
// answers are dated. A scoped or licensed token's listing differs, and composer's cache is per URL, not
// per token, so a 304 could confirm a copy made under another token (as with filtered p2 copies).
bool sees_whole_listing(const storage::token_record& t) {
  return t.licences.empty() && t.packages.size() == 1 && t.packages[0] == "*";
}

// /packages.json's answer from a rendered body: 304 when the listing is dated for this token and the
// client's copy is as new; else the body. The head (content-type, cache-control, last-modified) is the
// same for every answer with this body while the catalog's date stands (head ids follow the head's
// bytes, so a date given later is a new head; the rate headers follow).
http::response listing_answer(const request_context& ctx, const storage::hot_cache::catalog& c, const listing_body& b,
                              const storage::token_record& t) {
  http::response r;
  r.header_list.set("cache-control", metadata_cache_control);
  if (c.modified_s && sees_whole_listing(t)) {
    r.header_list.set("last-modified", c.last_modified);
    if (client_has_current(ctx, c.modified_s)) return not_modified(std::move(r));
  }
  r.status = 200;
  r.header_list.set("content-type", "application/json");
  r.shared_headers = static_cast<std::uint32_t>(r.header_list.entries().size());
  r.shared_body = b.bytes;
  r.shared_body_id = b.id;
  return r;
}

}  // namespace

std::optional<http::response> packages_json_warm(request_context& ctx) {
  auto token = auth::cached_client(ctx.req.header_list, ctx.now_ms);
  if (!token || storage::needs_touch(*token, ctx.now_ms)) return std::nullopt;
  auto cat = storage::hot_cache::current_catalog(ctx.now_ms);
  if (!cat) return std::nullopt;
  const listing_body* body = rendered_for(*cat, ctx.req.target, *token);
  // Not rendered for this scope yet (its licences may need a D1 read) or over the rate limit (the
  // handler answers the 429 and audits it): the handler's turn.
  if (!body || !admit(ctx, *token).allowed) return std::nullopt;
  ctx.cache = "hot";
  return listing_answer(ctx, *cat, *body, *token);
}

task<http::response> packages_json(request_context& ctx) {
  if (auto denied = auth::missing_credentials(ctx.req.header_list)) co_return *denied;
  auto [auth, cat] = co_await when_all(authenticate(ctx), load_catalog(ctx.now_ms));
  if (!auth.ok()) co_return auth.denial;
  if (!cat) co_return store_error(cat.err());
  storage::hot_cache::catalog& c = **cat;
  const storage::token_record& t = *auth.token;
  if (const listing_body* hit = rendered_for(c, ctx.req.target, t)) {
    ctx.cache = "hot";
    co_return co_await finish(ctx, listing_answer(ctx, c, *hit, t), t);
  }
  const std::string origin = ctx.req.target.origin();
  // Licences: only packages with at least one version the token may install.
  auto visible = co_await visible_names(t, c.names);
  if (!visible) co_return store_error(visible.err());
  json_writer w;
  w.begin_object();
  w.key("packages").begin_array().end_array();
  w.field("metadata-url", "/p2/%package%.json");
  // With a packagist mirror the set of names is open: patterns (over-matching only costs a 404).
  w.key(c.mirrors.empty() ? "available-packages" : "available-package-patterns").begin_array();
  for (const auto& n : *visible) w.value(n);
  for (const auto& p : mirror_patterns_in_scope(c.mirrors, t.packages)) w.value(p);
  w.end_array();
  w.key("security-advisories").begin_object().field("metadata", false);
  w.field("api-url", origin + "/api/security-advisories").end_object();
  w.key("mirrors").begin_array().begin_object();
  w.field("dist-url", origin + "/dist/%package%/%version%/%reference%.%type%").field("preferred", true);
  w.end_object().end_array();
  w.field("notify-batch", origin + "/downloads");
  // Name listing and search for `composer show -a`, `composer search` (packagist's shapes).
  w.field("list", origin + "/packages/list.json");
  w.field("search", origin + "/search.json?q=%query%&type=%type%");
  w.end_object();
  if (c.rendered.size() >= max_rendered_listings) c.rendered.clear();
  c.rendered.push_back({origin, t.packages, t.licences, std::make_shared<const std::string>(std::move(w).str()),
                        storage::hot_cache::new_body_id()});
  co_return co_await finish(ctx, listing_answer(ctx, c, c.rendered.back(), t), t);
}

namespace {

// The package and document a p2 URL names: /p2/{vendor}/{name}.json or {name}~dev.json.
struct p2_target {
  std::string name;  // vendor/name
  std::string key;   // storage::document_key
};
std::optional<p2_target> p2_target_of(const request_context& ctx) {
  std::string_view file = ctx.params[1];
  bool dev = false;
  std::string_view base;
  if (file.size() > 9 && file.substr(file.size() - 9) == "~dev.json") {
    dev = true;
    base = file.substr(0, file.size() - 9);
  } else if (file.size() > 5 && file.substr(file.size() - 5) == ".json") {
    base = file.substr(0, file.size() - 5);
  } else {
    return std::nullopt;
  }
  p2_target t;
  t.name.reserve(ctx.params[0].size() + 1 + base.size());
  t.name.append(ctx.params[0]).append(1, '/').append(base);
  t.key = storage::document_key(t.name, dev);
  return t;
}

}  // namespace

std::optional<http::response> p2_document_warm(request_context& ctx) {
  auto target = p2_target_of(ctx);
  if (!target) return std::nullopt;
  auto token = auth::cached_client(ctx.req.header_list, ctx.now_ms);
  if (!token || !auth::may_see(*token, target->name) || storage::needs_touch(*token, ctx.now_ms)) return std::nullopt;
  // A miss is counted by the long path's lookup, which follows (storage::load_document).
  auto entry = storage::hot_cache::document(target->key, ctx.now_ms, false);
  if (!entry) return std::nullopt;
  // Over its rate limit: the handler answers the 429 (and audits it); a denial was not counted.
  if (!admit(ctx, *token).allowed) return std::nullopt;
  ctx.cache = "hot";
  return p2_answer(ctx, *token, target->name, target->key, *entry);
}

task<http::response> p2_document(request_context& ctx) {
  auto target = p2_target_of(ctx);
  if (!target) co_return http::error_response(error_code::not_found, "no route for " + ctx.req.target.path);
  const std::string& name = target->name;
  if (auto denied = auth::missing_credentials(ctx.req.header_list)) co_return *denied;
  // The token check and the document read are independent: one round trip for both.
  auto [auth, doc] = co_await when_all(authenticate(ctx), storage::load_document(target->key, ctx.now_ms));
  if (!auth.ok()) co_return auth.denial;
  if (!auth::may_see(*auth.token, name)) co_return not_found_package(name);
  if (!doc) co_return store_error(doc.err());
  if (!doc->doc) {
    // Not mirrored yet: an `update` token may bring it in from a packagist source; `read` tokens may not.
    if (auth.token->access != "update" || !auth::valid_package_name(name)) co_return not_found_package(name);
    auto mirror = co_await sources::packagist_source_for(ctx.settings(), name);
    if (!mirror) co_return store_error(mirror.err());
    if (!mirror->has_value()) co_return not_found_package(name);
    auto fetched = co_await sources::mirror_package(ctx.settings(), std::move(**mirror), name, false, ctx.now_ms);
    if (!fetched)
      co_return http::private_error_response(error_code::upstream, "the metadata of " + name + " could not be fetched from its upstream",
                                             fetched.err().message);
    if (*fetched == sources::mirror_outcome::not_found) co_return not_found_package(name);
    doc = co_await storage::load_document(target->key, ctx.now_ms);
    if (!doc) co_return store_error(doc.err());
    if (!doc->doc) co_return not_found_package(name);
  }
  ctx.cache = doc->from_hot_cache ? "hot" : "d1";
  // A document over the cache's byte budget has an entry of its own that dies with this request.
  co_return co_await finish(ctx, p2_answer(ctx, *auth.token, name, target->key, *doc->entry), *auth.token);
}


task<http::response> notify_downloads(request_context& ctx) {
  auto auth = co_await authenticate(ctx);
  if (!auth.ok()) co_return auth.denial;
  if (ctx.req.body == http::no_body) co_return http::error_response(error_code::bad_request, "empty body: expected {\"downloads\":[...]}");
  auto text = co_await fx::body_text(ctx.req.body, max_notify_body);
  if (!text) co_return http::error_response(text.err());
  auto doc = parse_json(*text);
  if (!doc || !(*doc)["downloads"].is_array())
    co_return http::error_response(error_code::bad_request, "expected {\"downloads\":[{\"name\":..,\"version\":..}]}");

  // Count duplicates first; composer sends one entry per installed package. Names and versions are
  // bounded and only versions that exist are counted (the join below), so a client cannot grow the
  // table with made-up entries.
  std::map<std::pair<std::string, std::string>, std::int64_t> counts;
  std::size_t seen = 0;
  for (const auto& d : (*doc)["downloads"].as_array()) {
    if (++seen > max_notify_entries) break;
    std::string name = ascii_lower(d["name"].as_string());
    std::string_view version = d["version"].as_string();
    if (name.size() > 200 || version.empty() || version.size() > 100 || !auth::valid_package_name(name) ||
        !auth::may_see(*auth.token, name))
      continue;
    ++counts[{name, std::string(version)}];
  }
  std::string day = format_day(ctx.now_ms);
  std::vector<fx::d1_statement> batch;
  // 3 parameters per row + 2 shared: 32 rows stay under D1's 100 bound parameters.
  auto it = counts.begin();
  while (it != counts.end()) {
    fx::d1_statement s;
    s.params = {json(auth.token->id), json(day)};
    std::string values;
    for (int n = 0; n < 32 && it != counts.end(); ++n, ++it) {
      if (!values.empty()) values += ", ";
      values += "(?, ?, ?)";
      s.params.push_back(json(it->first.first));
      s.params.push_back(json(it->first.second));
      s.params.push_back(json(it->second));
    }
    s.sql = "INSERT INTO downloads (package_id, version_normalized, token_id, day, count) "
            "SELECT p.id, v.version_normalized, ?1, ?2, SUM(x.column3) FROM (VALUES " + values + ") AS x "
            "JOIN packages p ON p.name = x.column1 "
            "JOIN versions v ON v.package_id = p.id AND (v.version_normalized = x.column2 OR v.version = x.column2) "
            "WHERE true GROUP BY p.id, v.version_normalized "
            "ON CONFLICT (package_id, version_normalized, token_id, day) DO UPDATE SET count = count + excluded.count";
    batch.push_back(std::move(s));
  }
  if (!batch.empty()) {
    auto r = co_await fx::d1_batch(std::move(batch));
    if (!r) co_return store_error(r.err());
  }
  http::response resp = http::response::json_body(201, "{\"status\":\"success\"}");
  resp.header_list.set("cache-control", "private, no-store");
  co_return resp;
}

}  // namespace pb::routes
