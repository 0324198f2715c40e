// Admin API for sources: POST/GET /admin/api/sources, GET/PATCH/DELETE /admin/api/sources/{id}.
// Inline credentials and the webhook secret are sealed before they reach D1; the webhook secret is
// shown once, in the create response.
#include "auth/authenticate.h"
#include "core/text.h"
#include "auth/credentials.h"
#include "auth/sealing.h"
#include "bindings/effects.h"
#include "http/url.h"
#include "routes/admin.h"
#include "sources/sync.h"
#include "storage/sources.h"
#include "routes/json_io.h"

namespace pb::routes {

namespace {

http::response failure(const error& e) {
  if (e.code == error_code::effect_failed || e.code == error_code::protocol)
    return http::error_response(make_error(error_code::unavailable, "storage unavailable: " + e.message));
  return http::error_response(e);
}

bool http_url(std::string_view u) {
  http::url p = http::parse_url(u);
  return (p.scheme == "http" || p.scheme == "https") && !p.host.empty() && u.find_first_of(" \t\r\n") == std::string_view::npos;
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
  if (!http_url(s.url)) return make_error(error_code::bad_request, "\"url\" must be an http(s) URL, got \"" + s.url + "\"");
  if (!s.api_url.empty() && !http_url(s.api_url))
    return make_error(error_code::bad_request, "\"api_url\" must be an http(s) URL, got \"" + s.api_url + "\"");
  std::size_t segments = repo_segments(s.url).size();
  if ((s.type == "github" || s.type == "bitbucket") && segments != 2)
    return make_error(error_code::bad_request, "\"url\" must be the repository's web URL (https://host/owner/repo), got \"" + s.url + "\"");
  if (s.type == "gitlab" && segments < 2)
    return make_error(error_code::bad_request, "\"url\" must be the project's web URL (https://host/group/project), got \"" + s.url + "\"");
  return std::monostate{};
}

// Applies a "credentials" member (object or null) to s, sealing inline credentials.
task<result<std::monostate>> apply_credentials(const request_context& ctx, const json& creds, storage::source_record& s) {
  s.credentials_type.clear();
  s.credentials_enc.clear();
  s.credentials_secret.clear();
  if (creds.is_null()) co_return std::monostate{};
  if (!creds.is_object()) co_return make_error(error_code::bad_request, "\"credentials\" must be an object or null");
  if (const json* secret = creds.find("secret")) {
    std::string_view name = secret->as_string();
    bool ok = !name.empty() && name.size() <= 64;
    for (char c : name) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    if (!ok) co_return make_error(error_code::bad_request, "\"credentials.secret\" must name a Worker secret (A-Z, 0-9, _)");
    s.credentials_secret = std::string(name);
    co_return std::monostate{};
  }
  std::string_view type = creds["type"].as_string();
  json plain = json::object();
  plain.set("type", json(type));
  if (type == "basic") {
    if (!creds["username"].is_string() || !creds["password"].is_string())
      co_return make_error(error_code::bad_request, "basic credentials need \"username\" and \"password\"");
    plain.set("username", creds["username"]);
    plain.set("password", creds["password"]);
  } else if (type == "bearer") {
    if (!creds["token"].is_string() || creds["token"].as_string().empty())
      co_return make_error(error_code::bad_request, "bearer credentials need \"token\"");
    plain.set("token", creds["token"]);
  } else {
    co_return make_error(error_code::bad_request,
                         "\"credentials\" must be {\"type\":\"basic\",..}, {\"type\":\"bearer\",..} or {\"secret\":NAME}");
  }
  auto sealed = co_await auth::seal(ctx.settings(), plain.dump(), std::string(auth::source_credentials_purpose));
  if (!sealed) co_return std::move(sealed).err();
  s.credentials_type = std::string(type);
  s.credentials_enc = std::move(*sealed);
  co_return std::monostate{};
}

// Applies the settable members present in body to s (create and PATCH share this).
task<result<std::monostate>> apply_fields(request_context& ctx, const json& body, storage::source_record& s, bool creating) {
  if (const json* t = body.find("type")) {
    std::string_view type = t->as_string();
    if (type != "composer" && type != "packagist" && type != "github" && type != "gitlab" && type != "bitbucket")
      co_return make_error(error_code::bad_request,
                           "\"type\" must be composer, packagist, github, gitlab or bitbucket, got " + t->dump());
    if (!creating && type != s.type) co_return make_error(error_code::bad_request, "a source's type cannot change");
    s.type = std::string(type);
  } else if (creating) {
    co_return make_error(error_code::bad_request, "\"type\" is required");
  }
  if (const json* u = body.find("url")) s.url = std::string(u->as_string());
  if (const json* a = body.find("api_url")) s.api_url = std::string(a->as_string());
  if (body.find("include")) {
    auto inc = read_patterns(body, "include");
    if (!inc) co_return std::move(inc).err();
    s.include = std::move(*inc);
  }
  if (body.find("exclude")) {
    auto exc = read_patterns(body, "exclude");
    if (!exc) co_return std::move(exc).err();
    s.exclude = std::move(*exc);
  }
  if (const json* i = body.find("sync_interval_s")) {
    if (!i->is_integer() || i->as_int() < 60 || i->as_int() > 30 * 86400)
      co_return make_error(error_code::bad_request, "\"sync_interval_s\" must be an integer from 60 to 2592000");
    s.sync_interval_s = i->as_int();
  }
  if (const json* e = body.find("enabled")) {
    if (!e->is_bool()) co_return make_error(error_code::bad_request, "\"enabled\" must be true or false");
    s.enabled = e->as_bool();
  }
  if (auto ok = check_location(s); !ok) co_return std::move(ok).err();
  if (const json* c = body.find("credentials")) {
    auto applied = co_await apply_credentials(ctx, *c, s);
    if (!applied) co_return std::move(applied).err();
  }
  co_return std::monostate{};
}

result<std::int64_t> id_param(const std::string& text) {
  std::int64_t id = 0;
  if (text.empty() || text.size() > 17) return make_error(error_code::not_found, "no source " + text);
  for (char c : text) {
    if (c < '0' || c > '9') return make_error(error_code::not_found, "no source \"" + text + "\"");
    id = id * 10 + (c - '0');
  }
  return id;
}

}  // namespace

task<http::response> admin_create_source(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto body = co_await read_json_object(ctx);
  if (!body) co_return failure(body.err());
  storage::source_record s;
  auto applied = co_await apply_fields(ctx, *body, s, true);
  if (!applied) co_return failure(applied.err());
  // Every source gets its own webhook secret; it is shown once, here.
  auto secret = co_await fx::crypto_random_hex(24);
  if (!secret) co_return failure(secret.err());
  auto sealed = co_await auth::seal(ctx.settings(), *secret, std::string(auth::source_webhook_purpose));
  if (!sealed) co_return failure(sealed.err());
  s.webhook_secret_enc = std::move(*sealed);
  auto stored = co_await storage::insert_source(std::move(s), ctx.now_ms);
  if (!stored) co_return failure(stored.err());
  json out = storage::source_to_json(*stored, ctx.req.target.origin());
  out.set("webhook_secret", json(*secret));
  co_return json_response(201, out);
}

task<http::response> admin_list_sources(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto list = co_await storage::list_sources();
  if (!list) co_return failure(list.err());
  json arr = json::array();
  for (const auto& s : *list) arr.push_back(storage::source_to_json(s, ctx.req.target.origin()));
  json out = json::object();
  out.set("sources", std::move(arr));
  co_return json_response(200, out);
}

task<http::response> admin_show_source(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto id = id_param(ctx.params[0]);
  if (!id) co_return failure(id.err());
  auto s = co_await storage::find_source(*id);
  if (!s) co_return failure(s.err());
  if (!s->has_value()) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  co_return json_response(200, storage::source_to_json(**s, ctx.req.target.origin()));
}

task<http::response> admin_update_source(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto id = id_param(ctx.params[0]);
  if (!id) co_return failure(id.err());
  auto body = co_await read_json_object(ctx);
  if (!body) co_return failure(body.err());
  auto found = co_await storage::find_source(*id);
  if (!found) co_return failure(found.err());
  if (!found->has_value()) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  storage::source_record s = std::move(**found);
  auto applied = co_await apply_fields(ctx, *body, s, false);
  if (!applied) co_return failure(applied.err());
  auto updated = co_await storage::update_source(std::move(s), ctx.now_ms);
  if (!updated) co_return failure(updated.err());
  if (!updated->has_value()) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  co_return json_response(200, storage::source_to_json(**updated, ctx.req.target.origin()));
}

task<http::response> admin_delete_source(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto id = id_param(ctx.params[0]);
  if (!id) co_return failure(id.err());
  auto deleted = co_await storage::delete_source(*id);
  if (!deleted) co_return failure(deleted.err());
  if (!*deleted) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  json out = json::object();
  out.set("id", json(*id));
  out.set("deleted", json(true));
  co_return json_response(200, out);
}

}  // namespace pb::routes

namespace pb::routes {

task<http::response> admin_sync_source(request_context& ctx) {
  if (auto denied = auth::check_admin(ctx.settings(), ctx.req.header_list)) co_return *denied;
  auto id = id_param(ctx.params[0]);
  if (!id) co_return failure(id.err());
  auto found = co_await storage::find_source(*id);
  if (!found) co_return failure(found.err());
  if (!found->has_value()) co_return http::error_response(error_code::not_found, "no source " + ctx.params[0]);
  if ((*found)->sync_cursor.empty()) {
    auto started = co_await storage::record_sync(*id, {"running", 0, 0, {}}, ctx.now_ms);
    if (!started) co_return failure(started.err());
  }
  // One slice runs inline; a larger sync continues on the cron trigger from the saved cursor.
  auto report = co_await sources::run_sync_slice(ctx.settings(), std::move(**found), ctx.now_ms);
  if (!report) {
    (void)co_await storage::record_sync(*id, {"error", 0, 0, report.err().message}, ctx.now_ms);
    co_return failure(report.err());
  }
  json out = json::object();
  out.set("mode", json(report->status == "running" ? "enqueued" : "inline"));
  out.set("result", sources::slice_to_json(*report));
  co_return json_response(200, out);
}

// Re-seals every stored secret under the current PB_ENCRYPTION_KEY: after a rotation the old key sits in
// PB_ENCRYPTION_KEY_PREVIOUS until this has run. Values already under the current key are left alone, so
// it is safe to repeat; each write is conditional on the value it replaces (a concurrent edit wins).
task<http::response> admin_reseal(request_context& ctx) {
  const settings& cfg = ctx.settings();
  if (auto denied = auth::check_admin(cfg, ctx.req.header_list)) co_return *denied;
  if (cfg.encryption_key.empty())
    co_return http::error_response(error_code::unavailable, "PB_ENCRYPTION_KEY is not set: nothing to re-seal under");
  auto rows = co_await fx::d1_all(
      "SELECT id, credentials_enc, webhook_secret_enc FROM sources "
      "WHERE credentials_enc IS NOT NULL OR webhook_secret_enc IS NOT NULL ORDER BY id");
  if (!rows) co_return failure(rows.err());
  struct column {
    const char* name;
    std::string_view purpose;
  };
  const column columns[] = {{"credentials_enc", auth::source_credentials_purpose}, {"webhook_secret_enc", auth::source_webhook_purpose}};
  std::int64_t resealed = 0, current = 0;
  json failed = json::array();
  std::vector<fx::d1_statement> writes;
  for (const auto& row : rows->rows) {
    std::int64_t id = row["id"].as_int();
    for (const column& c : columns) {
      const json& value = row[c.name];
      if (!value.is_string()) continue;
      std::string sealed(value.as_string());
      if (auth::sealed_with_current_key(cfg, sealed)) {
        ++current;
        continue;
      }
      auto plain = co_await auth::unseal(cfg, sealed, std::string(c.purpose));
      if (!plain) {  // neither key opens it: say which, never why in detail (no secret material)
        json f = json::object();
        f.set("source_id", json(id));
        f.set("field", json(std::string_view(c.name) == "credentials_enc" ? "credentials" : "webhook_secret"));
        failed.push_back(std::move(f));
        continue;
      }
      auto again = co_await auth::seal(cfg, std::move(*plain), std::string(c.purpose));
      if (!again) co_return failure(again.err());
      writes.push_back({std::string("UPDATE sources SET ") + c.name + " = ? WHERE id = ? AND " + c.name + " = ?",
                        {json(*again), json(id), json(sealed)}});
      ++resealed;
    }
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
  co_return json_response(200, out);
}

}  // namespace pb::routes
