// Admin API for sources: POST/GET /admin/api/sources, GET/PATCH/DELETE /admin/api/sources/{id}, sync,
// webhook secret rotation and skipped refs. Who may call each route is in the route table. Inline credentials are sealed, bound to the source's
// id and origins, before they reach D1; moving a source to another origin drops them unless new ones
// come with the move. The webhook secret is derived (sources/webhook.h) and shown once, at creation
// and at regeneration. A packagist source's endpoints and change-feed cursor are taken at creation.
#include "routes/authenticate.h"
#include "core/text.h"
#include "auth/credentials.h"
#include "auth/sealing.h"
#include "bindings/effects.h"
#include "http/url.h"
#include "routes/admin.h"
#include "sources/endpoints.h"
#include "sources/packagist.h"
#include "sources/sync.h"
#include "sources/sync_run.h"
#include "sources/upstream.h"
#include "sources/webhook.h"
#include "storage/deletion.h"
#include "storage/sources.h"
#include "routes/json_io.h"
#include "routes/validate.h"

namespace pb::routes {

namespace {

http::response failure(const error& e) {
  if (e.code == error_code::effect_failed || e.code == error_code::protocol)
    return http::error_response(make_error(error_code::unavailable, "storage unavailable: " + e.message));
  return http::error_response(e);
}

// A source location: an absolute http(s) URL (as fetch() parses it) without credentials in it.
result<std::monostate> check_url(std::string_view field, const std::string& u) {
  auto p = http::parse_web_url(u);
  if (!p || u.find_first_of(" \t\r\n") != std::string::npos)
    return make_error(error_code::bad_request, "\"" + std::string(field) + "\" must be an http(s) URL, got \"" + u + "\"" +
                                                   (p ? "" : " (" + p.err().message + ")"));
  if (p->has_userinfo)
    return make_error(error_code::bad_request, "\"" + std::string(field) + "\" must not carry a user name or password; use \"credentials\"");
  return std::monostate{};
}

// The repository path segments of a VCS web URL ("https://github.com/acme/widget(.git)").
std::vector<std::string> repo_segments(std::string_view u) {
  http::url p = http::parse_url(u);
  std::string path = p.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.size() > 4 && path.substr(path.size() - 4) == ".git") path.resize(path.size() - 4);
  std::vector<std::string> out;
  for (auto seg : http::split_path(path))
    if (!seg.empty()) out.emplace_back(seg);
  return out;
}

result<std::vector<std::string>> read_patterns(const json& body, std::string_view key) {
  std::vector<std::string> out;
  const json* v = body.find(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return make_error(error_code::bad_request, "\"" + std::string(key) + "\" must be a list of package patterns");
  for (const auto& p : v->as_array()) {
    std::string pattern = ascii_lower(p.as_string());
    if (!p.is_string() || !auth::valid_pattern(pattern))
      return make_error(error_code::bad_request, "invalid package pattern " + p.dump() + " in \"" + std::string(key) + "\"");
    out.push_back(pattern);
  }
  return out;
}

// Validates url/api_url for the source's type; fills the packagist default.
result<std::monostate> check_location(storage::source_record& s) {
  if (s.type == "packagist" && s.url.empty()) s.url = "https://repo.packagist.org";
  if (s.url.empty()) return make_error(error_code::bad_request, "\"url\" is required");
  if (auto ok = check_url("url", s.url); !ok) return ok;
  if (!s.api_url.empty())
    if (auto ok = check_url("api_url", s.api_url); !ok) return ok;
  std::size_t segments = repo_segments(s.url).size();
  if ((s.type == "github" || s.type == "bitbucket") && segments != 2)
    return make_error(error_code::bad_request, "\"url\" must be the repository's web URL (https://host/owner/repo), got \"" + s.url + "\"");
  if (s.type == "gitlab" && segments < 2)
    return make_error(error_code::bad_request, "\"url\" must be the project's web URL (https://host/group/project), got \"" + s.url + "\"");
  return std::monostate{};
}

// A "credentials" member as given: none, a Worker secret's name, or inline credentials to seal once
// the source's id and origins are final.
struct new_credentials {
  bool given = false;
  std::string secret;      // {"secret": NAME}
  std::string type;        // basic | bearer
  std::string plaintext;   // the JSON that gets sealed
};

result<new_credentials> read_credentials(const json& creds) {
  new_credentials c;
  c.given = true;
  if (creds.is_null()) return c;
  if (!creds.is_object()) return make_error(error_code::bad_request, "\"credentials\" must be an object or null");
  if (auto ok = only_fields(creds, {"type", "username", "password", "token", "secret"}); !ok)
    return make_error(error_code::bad_request, "\"credentials\": " + ok.err().message);
  if (const json* secret = creds.find("secret")) {
    std::string_view name = secret->as_string();
    // Only secrets meant for sources: never ADMIN_TOKEN, PB_ENCRYPTION_KEY or any other binding.
    if (!settings::valid_source_secret_name(name))
      return make_error(error_code::bad_request, "\"credentials.secret\" must name a Worker secret " +
                                                     std::string(settings::source_secret_prefix) +
                                                     "* (A-Z, 0-9, _; at most 64 characters), got " + secret->dump());
    c.secret = std::string(name);
    return c;
  }
  std::string_view type = creds["type"].as_string();
  json plain = json::object();
  plain.set("type", json(type));
  if (type == "basic") {
    if (!creds["username"].is_string() || !creds["password"].is_string())
      return make_error(error_code::bad_request, "basic credentials need \"username\" and \"password\"");
    plain.set("username", creds["username"]);
    plain.set("password", creds["password"]);
  } else if (type == "bearer") {
    if (!creds["token"].is_string() || creds["token"].as_string().empty())
      return make_error(error_code::bad_request, "bearer credentials need \"token\"");
    plain.set("token", creds["token"]);
  } else {
    return make_error(error_code::bad_request,
                      "\"credentials\" must be {\"type\":\"basic\",..}, {\"type\":\"bearer\",..} or {\"secret\":NAME}");
  }
  c.type = std::string(type);
  c.plaintext = plain.dump();
  return c;
}

// Puts c on s, sealing inline credentials for s's id and origins (s.id must be final).
task<result<std::monostate>> apply_credentials(const request_context& ctx, const new_credentials& c, storage::source_record& s) {
  s.credentials_type.clear();
  s.credentials_enc.clear();
  s.credentials_secret = c.secret;
  if (c.plaintext.empty()) co_return std::monostate{};
  auto sealed = co_await auth::seal(ctx.settings(), c.plaintext, sources::credentials_purpose(s));
  if (!sealed) co_return std::move(sealed).err();
  s.credentials_type = c.type;
  s.credentials_enc = std::move(*sealed);
  co_return std::monostate{};
}

// Applies the settable members present in body to s (create and PATCH share this).
result<new_credentials> apply_fields(const json& body, storage::source_record& s, bool creating) {
  if (auto ok = only_fields(body, {"type", "url", "api_url", "credentials", "include", "exclude", "sync_interval_s", "enabled"});
      !ok)
    return std::move(ok).err();
  for (std::string_view key : {"type", "url", "api_url"}) {
    auto text = string_field(body, key, key == "api_url" ? 0 : 1, 2000, key == "api_url");
    if (!text) return std::move(text).err();
  }
  if (const json* t = body.find("type")) {
    std::string_view type = t->as_string();
    if (type != "composer" && type != "packagist" && type != "github" && type != "gitlab" && type != "bitbucket")
      return make_error(error_code::bad_request,
                           "\"type\" must be composer, packagist, github, gitlab or bitbucket, got " + t->dump());
    if (!creating && type != s.type) return make_error(error_code::bad_request, "a source's type cannot change");
    s.type = std::string(type);
  } else if (creating) {
    return make_error(error_code::bad_request, "\"type\" is required");
  }
  if (const json* u = body.find("url")) s.url = std::string(u->as_string());
  if (const json* a = body.find("api_url")) s.api_url = std::string(a->as_string());
  if (body.find("include")) {
    auto inc = read_patterns(body, "include");
    if (!inc) return std::move(inc).err();
    s.include = std::move(*inc);
  }
  if (body.find("exclude")) {
    auto exc = read_patterns(body, "exclude");
    if (!exc) return std::move(exc).err();
    s.exclude = std::move(*exc);
  }
  if (const json* i = body.find("sync_interval_s")) {
    if (!i->is_integer() || i->as_int() < 60 || i->as_int() > 30 * 86400)
      return make_error(error_code::bad_request, "\"sync_interval_s\" must be an integer from 60 to 2592000");
    s.sync_interval_s = i->as_int();
  }
  if (const json* e = body.find("enabled")) {
    if (!e->is_bool()) return make_error(error_code::bad_request, "\"enabled\" must be true or false");
    s.enabled = e->as_bool();
  }
  if (auto ok = check_location(s); !ok) return std::move(ok).err();
  if (const json* c = body.find("credentials")) return read_credentials(*c);
  return new_credentials{};
}

// A packagist source learns where its feed and APIs live and takes the feed's cursor before it exists,
// so no release published from now on is missed. Upstream trouble is no reason to refuse the source:
// the fallbacks apply and the next sync reads packages.json again.
task<result<std::monostate>> prepare_packagist(const request_context& ctx, storage::source_record& s) {
  auto u = co_await sources::open_upstream(ctx.settings(), s);
  if (!u) co_return std::move(u).err();
  auto found = co_await sources::discover_endpoints(*u, s);
  if (found) s.endpoints = sources::endpoints_json(*found);
  s.feed_cursor = co_await sources::take_feed_cursor(*u, sources::stored_endpoints(s), ctx.now_ms);
  co_return std::monostate{};
}

result<std::int64_t> id_param(const std::string& text) { return path_id(text, "source"); }

// The source the route's {id} names (not_found when there is none).
task<result<storage::source_record>> source_of_route(const request_context& ctx) {
  auto id = id_param(ctx.params[0]);
  if (!id) co_return std::move(id).err();
  co_return found_or_not_found(co_await storage::find_source(*id), "no source " + ctx.params[0]);
}

}  // namespace

task<http::response> admin_create_source(request_context& ctx) {
  auto body = co_await read_json_object(ctx);
  if (!body) co_return failure(body.err());
  storage::source_record s;
  auto creds = apply_fields(*body, s, true);
  if (!creds) co_return failure(creds.err());
  auto nonce = co_await sources::new_webhook_nonce();
  if (!nonce) co_return failure(nonce.err());
  s.webhook_nonce = *nonce;
  // Credentials are sealed for the source's id, so the id is chosen first; a concurrent create taking
  // it makes the insert fail whole, and this one tries the next id.
  result<storage::source_record> stored = make_error(error_code::internal, "no attempt");
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto id = co_await storage::next_source_id();
    if (!id) co_return failure(id.err());
    s.id = *id;
    auto applied = co_await apply_credentials(ctx, *creds, s);
    if (!applied) co_return failure(applied.err());
    if (s.type == "packagist" && s.feed_cursor.empty()) {
      auto ready = co_await prepare_packagist(ctx, s);
      if (!ready) co_return failure(ready.err());
    }
    stored = co_await storage::insert_source(s, ctx.now_ms);
    if (stored || stored.err().code != error_code::conflict) break;
  }
  if (!stored) co_return failure(stored.err());
  auto secret = co_await sources::webhook_secret(ctx.settings(), stored->id, stored->webhook_nonce);
  if (!secret) co_return failure(secret.err());
  json out = storage::source_to_json(*stored, ctx.req.target.origin());
  ctx.audit_target = "source:" + std::to_string(stored->id);
  ctx.audit_after = out;  // without the secret
  out.set("webhook_secret", json(*secret));
  // The first sync starts at once on the sync queue (without one, on the next cron run).
  (void)co_await sources::wake_sync(stored->id, true);
  co_return json_response(201, out);
}

task<http::response> admin_list_sources(request_context& ctx) {
  auto page = read_page(ctx.req.target);
  if (!page) co_return failure(page.err());
  auto after = id_cursor(*page);
  if (!after) co_return failure(after.err());
  auto list = co_await storage::list_sources(*after, page->limit + 1);
  if (!list) co_return failure(list.err());
  std::string origin = ctx.req.target.origin();
  co_return json_response(200, page_json("sources", *list, page->limit,
                                         [&](const storage::source_record& s) { return storage::source_to_json(s, origin); },
                                         [](const storage::source_record& s) { return std::to_string(s.id); }));
}

task<http::response> admin_show_source(request_context& ctx) {
  auto s = co_await source_of_route(ctx);
  if (!s) co_return failure(s.err());
  co_return json_response(200, storage::source_to_json(*s, ctx.req.target.origin()));
}

task<http::response> admin_update_source(request_context& ctx) {
  auto body = co_await read_json_object(ctx);
  if (!body) co_return failure(body.err());
  auto found = co_await source_of_route(ctx);
  if (!found) co_return failure(found.err());
  storage::source_record s = std::move(*found);
  json before_json = storage::source_to_json(s, ctx.req.target.origin());
  const std::string before = sources::credentials_purpose(s);
  const std::string old_url = s.url;
  auto creds = apply_fields(*body, s, false);
  if (!creds) co_return failure(creds.err());
  if (creds->given) {
    auto applied = co_await apply_credentials(ctx, *creds, s);
    if (!applied) co_return failure(applied.err());
  } else if (sources::credentials_purpose(s) != before) {
    // Another origin: the credentials stay behind (they were sealed for the old one anyway).
    s.credentials_type.clear();
    s.credentials_enc.clear();
    s.credentials_secret.clear();
  }
  if (s.type == "packagist" && s.url != old_url) {
    // Another repository: its endpoints and feed position, not the old one's.
    s.endpoints.clear();
    s.feed_cursor.clear();
    auto ready = co_await prepare_packagist(ctx, s);
    if (!ready) co_return failure(ready.err());
  }
  auto updated = co_await storage::update_source(std::move(s), ctx.now_ms);
  if (!updated) co_return failure(updated.err());
  if (!updated->has_value()) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  json out = storage::source_to_json(**updated, ctx.req.target.origin());
  ctx.audit_target = "source:" + ctx.params[0];
  ctx.audit_before = std::move(before_json);
  ctx.audit_after = out;
  co_return json_response(200, out);
}

task<http::response> admin_delete_source(request_context& ctx) {
  auto id = id_param(ctx.params[0]);
  if (!id) co_return failure(id.err());
  auto found = co_await storage::find_source(*id);
  if (!found) co_return failure(found.err());
  if (!found->has_value()) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  auto deleted =
      co_await storage::delete_source_and_packages(*id, storage::source_to_json(**found, ctx.req.target.origin()));
  if (!deleted) co_return failure(deleted.err());
  if (!deleted->has_value()) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  json out = json::object();
  out.set("id", json(*id));
  out.set("deleted", json(true));
  out.set("packages", (*deleted)->removed["packages"]);
  json objects = json::array(), left = json::array();
  for (const auto& k : (*deleted)->objects) objects.push_back(json(k));
  for (const auto& k : (*deleted)->leftover) left.push_back(json(k));
  out.set("objects_deleted", std::move(objects));
  out.set("objects_left", std::move(left));
  ctx.audit_target = "source:" + ctx.params[0];
  ctx.audit_before = (*deleted)->removed;
  co_return json_response(200, out);
}

}  // namespace pb::routes

namespace pb::routes {

task<http::response> admin_sync_source(request_context& ctx) {
  auto found = co_await source_of_route(ctx);
  if (!found) co_return failure(found.err());
  const std::int64_t id = found->id;
  if (!found->enabled)
    co_return http::error_response(error_code::conflict, "source " + ctx.params[0] + " is disabled; enable it to sync");
  // One slice runs inline; a larger sync continues at once on the sync queue (or on the cron trigger
  // where there is none) from the saved cursor.
  auto step = co_await sources::run_sync_step(ctx.settings(), id, ctx.now_ms, false);
  // A slice running elsewhere (the queue's, right after the source was created) usually ends within
  // seconds: wait for it a little (a claim attempt every 2 s, 16 s at most) rather than refuse.
  for (int i = 0; i < 8 && step && !step->ran; ++i) {
    auto now = co_await fx::clock_sleep(2000);
    if (!now) break;
    step = co_await sources::run_sync_step(ctx.settings(), id, *now, false);
  }
  if (!step) co_return failure(step.err());
  if (!step->ran)
    co_return http::error_response(error_code::conflict, "a slice of source " + ctx.params[0] +
                                                             "'s sync is running in another invocation; it goes on by "
                                                             "itself (see the source's last_sync)");
  json out = json::object();
  out.set("mode", json(step->report.status == "running" ? "enqueued" : "inline"));
  out.set("result", sources::slice_to_json(step->report));
  if (!step->continues.empty()) out.set("continues", json(step->continues));
  ctx.audit_target = "source:" + ctx.params[0];
  ctx.audit_after = out;
  co_return json_response(200, out);
}

// A new webhook URL (nonce) and secret; the old ones stop working.
task<http::response> admin_rotate_webhook_secret(request_context& ctx) {
  auto found = co_await source_of_route(ctx);
  if (!found) co_return failure(found.err());
  storage::source_record s = std::move(*found);
  auto nonce = co_await sources::new_webhook_nonce();
  if (!nonce) co_return failure(nonce.err());
  auto secret = co_await sources::webhook_secret(ctx.settings(), s.id, *nonce);
  if (!secret) co_return failure(secret.err());
  auto r = co_await fx::d1_run("UPDATE sources SET webhook_nonce = ?, updated_at = ? WHERE id = ?",
                               {json(*nonce), json(ctx.now_ms), json(s.id)});
  if (!r) co_return failure(r.err());
  if (r->changes == 0) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  s.webhook_nonce = *nonce;
  json out = json::object();
  out.set("id", json(s.id));
  out.set("webhook_url", json(storage::webhook_url(s, ctx.req.target.origin())));
  ctx.audit_target = "source:" + ctx.params[0];
  ctx.audit_after = out;  // without the secret
  out.set("webhook_secret", json(*secret));
  co_return json_response(200, out);
}

task<http::response> admin_skipped_refs(request_context& ctx) {
  auto id = id_param(ctx.params[0]);
  if (!id) co_return failure(id.err());
  auto page = read_page(ctx.req.target);
  if (!page) co_return failure(page.err());
  auto found = co_await storage::find_source(*id);
  if (!found) co_return failure(found.err());
  if (!found->has_value()) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  auto refs = co_await storage::skipped_refs(*id, page->cursor, page->limit + 1);
  if (!refs) co_return failure(refs.err());
  co_return json_response(200, page_json("refs", *refs, page->limit, [](const json& r) { return r; },
                                         [](const json& r) { return std::string(r["ref"].as_string()); }));
}

// Re-seals every source's stored credentials under the current PB_ENCRYPTION_KEY: after a rotation the
// old key sits in PB_ENCRYPTION_KEY_PREVIOUS until this has run. Values already under the current key are
// left alone, so it is safe to repeat; each write is conditional on the value it replaces (a concurrent
// edit wins). Webhook secrets are derived, not stored (sources/webhook.h): nothing to re-seal there.
task<http::response> admin_reseal(request_context& ctx) {
  const settings& cfg = ctx.settings();
  if (cfg.encryption_key.empty())
    co_return http::error_response(error_code::unavailable, "PB_ENCRYPTION_KEY is not set: nothing to re-seal under");
  auto rows = co_await fx::d1_all("SELECT id, url, api_url, credentials_enc FROM sources WHERE credentials_enc IS NOT NULL ORDER BY id");
  if (!rows) co_return failure(rows.err());
  std::int64_t resealed = 0, current = 0;
  json failed = json::array();
  std::vector<fx::d1_statement> writes;
  for (const auto& row : rows->rows) {
    std::string sealed(row["credentials_enc"].as_string());
    if (auth::sealed_with_current_key(cfg, sealed)) {
      ++current;
      continue;
    }
    // The purpose binds the credentials to the source's id and origins, as when they were sealed.
    storage::source_record s;
    s.id = row["id"].as_int();
    s.url = std::string(row["url"].as_string());
    s.api_url = std::string(row["api_url"].as_string());
    std::string purpose = sources::credentials_purpose(s);
    auto plain = co_await auth::unseal(cfg, sealed, purpose);
    if (!plain) {  // neither key opens it: say which source, nothing more (no secret material)
      json f = json::object();
      f.set("source_id", json(s.id));
      f.set("field", json("credentials"));
      failed.push_back(std::move(f));
      continue;
    }
    auto again = co_await auth::seal(cfg, std::move(*plain), std::move(purpose));
    if (!again) co_return failure(again.err());
    writes.push_back({"UPDATE sources SET credentials_enc = ? WHERE id = ? AND credentials_enc = ?", {json(*again), json(s.id), json(sealed)}});
    ++resealed;
  }
  if (!writes.empty()) {
    auto written = co_await fx::d1_batch(std::move(writes));
    if (!written) co_return failure(written.err());
  }
  json out = json::object();
  out.set("key_id", json(auth::key_id(cfg.encryption_key)));
  out.set("resealed", json(resealed));
  out.set("already_current", json(current));
  out.set("failed", std::move(failed));
  ctx.audit_after = out;  // counts and source ids only
  co_return json_response(200, out);
}

}  // namespace pb::routes
