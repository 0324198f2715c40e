// Admin API: artifact uploads (named by the URL or by the archive's composer.json) and packages (list,
// show, delete a package or one version).
#include "routes/admin.h"
#include "core/text.h"

#include "routes/authenticate.h"
#include "auth/credentials.h"
#include "bindings/effects.h"
#include "core/http_date.h"
#include "core/json.h"
#include "sources/artifact.h"
#include "storage/deletion.h"
#include "storage/packages.h"
#include "versions/version_parser.h"
#include "routes/json_io.h"
#include "routes/validate.h"

namespace pb::routes {

namespace {

// Cloudflare's request body limit on the Free and Pro plans.
constexpr std::int64_t max_artifact = 100 * 1024 * 1024;

http::response bad_request(std::string message) { return http::error_response(error_code::bad_request, std::move(message)); }

http::response store_error(const error& e) {
  if (e.code == error_code::conflict || e.code == error_code::not_found || e.code == error_code::bad_request)
    return http::error_response(e);
  return http::error_response(make_error(error_code::unavailable, "storage unavailable: " + e.message));
}

struct upload_outcome {
  json body;
  std::string package;
  // The version and its archive are recorded; only the p2 documents are behind (a D1 failure while
  // rebuilding them). The archive stays: the next cron run rebuilds the documents.
  std::string rebuild_error;
};

// Everything after the archive reached R2: on any error the caller deletes the stored object. An empty
// `package` takes the name composer.json declares (the console uploads a file without knowing it).
task<result<upload_outcome>> register_upload(request_context& ctx, std::string package, std::string key,
                                             fx::r2_put_result stored) {
  auto text = co_await sources::read_composer_json_from_zip(key, stored.size);
  if (!text) co_return std::move(text).err();
  auto composer_json = parse_json(*text);
  if (!composer_json) co_return make_error(error_code::bad_request, "composer.json is not valid JSON: " + composer_json.err().message);
  if (!composer_json->is_object()) co_return make_error(error_code::bad_request, "composer.json must be a JSON object");
  const json& declared_name = (*composer_json)["name"];
  if (package.empty()) {
    if (!declared_name.is_string())
      co_return make_error(error_code::bad_request, "composer.json has no \"name\"; the package name is read from it");
    package = ascii_lower(std::string(declared_name.as_string()));
    if (!auth::valid_package_name(package))
      co_return make_error(error_code::bad_request, "composer.json names \"" + std::string(declared_name.as_string()) +
                                                        "\", which is not a valid package name (vendor/name)");
    // What the named route checks before storing the body; this route can only check it now.
    auto owned = co_await storage::belongs_to_source(package);
    if (!owned) co_return std::move(owned).err();
    if (*owned) co_return storage::source_owned(package);
  }
  if (!declared_name.is_string())
    co_return make_error(error_code::bad_request, "composer.json has no \"name\"; it must be \"" + package + "\"");
  if (ascii_lower(std::string(declared_name.as_string())) != package)
    co_return make_error(error_code::bad_request, "composer.json names \"" + std::string(declared_name.as_string()) +
                                                      "\" but the upload is for \"" + package + "\"");

  std::string version;
  if (auto q = ctx.req.target.query_param("version"); q && !q->empty()) {
    version = *q;
  } else if ((*composer_json)["version"].is_string()) {
    version = std::string((*composer_json)["version"].as_string());
  } else {
    co_return make_error(error_code::bad_request,
                         "no version: pass ?version=1.2.3 or set \"version\" in composer.json");
  }
  auto normalized = versions::normalize(version);
  if (!normalized) co_return make_error(error_code::bad_request, normalized.err().message);

  auto exists = co_await storage::version_exists(package, *normalized);
  if (!exists) co_return std::move(exists).err();
  if (*exists)
    co_return make_error(error_code::conflict, "version " + version + " (" + *normalized + ") of " + package +
                                                   " already exists; versions are immutable");

  json stored_json = std::move(*composer_json);
  stored_json.erase("version");  // the version lives in its own columns
  storage::new_version nv;
  nv.package = package;
  nv.source = "artifact";
  nv.stability = std::string(versions::parse_stability(*normalized));
  nv.is_dev = nv.stability == "dev";
  nv.v.version = version;
  nv.v.version_normalized = *normalized;
  nv.v.reference = stored.sha1;  // an archive's identity: composer's dist reference and our dist URL
  nv.v.composer_json = stored_json.dump();
  nv.v.dist_type = "zip";
  nv.v.dist_key = key;
  nv.v.dist_shasum = stored.sha1;
  nv.v.dist_sha256 = stored.sha256;
  nv.v.dist_size = stored.size;
  nv.v.release_time = ctx.now_ms;
  auto added = co_await storage::add_version(nv, ctx.now_ms);
  if (!added) co_return std::move(added).err();

  // The new version spliced into the stored documents when that is exact, else a rebuild.
  result<std::monostate> rebuilt = std::monostate{};
  if (!co_await storage::documents_after_add(nv, *added, ctx.now_ms))
    rebuilt = co_await storage::rebuild_documents(package, ctx.now_ms);  // one retry

  json out = json::object();
  out.set("name", json(package));
  out.set("version", json(version));
  out.set("version_normalized", json(*normalized));
  out.set("reference", json(stored.sha1));
  out.set("shasum", json(stored.sha1));
  out.set("sha256", json(stored.sha256));
  out.set("size", json(stored.size));
  out.set("dist_url", json(ctx.req.target.origin() + storage::dist_path(package, *normalized, stored.sha1, "zip")));
  co_return upload_outcome{std::move(out), package, rebuilt ? std::string() : rebuilt.err().message};
}

// Both upload routes: `package` is the URL's name, or empty when the archive's composer.json names it.
task<http::response> upload_artifact(request_context& ctx, std::string package) {
  if (ctx.req.body == http::no_body) co_return bad_request("empty body: send the zip archive as the request body");
  auto length_header = ctx.req.header_list.get("content-length");
  std::int64_t length = -1;
  if (length_header && !length_header->empty() && length_header->size() < 19) {
    length = 0;
    for (char c : *length_header) {
      if (c < '0' || c > '9') {
        length = -1;
        break;
      }
      length = length * 10 + (c - '0');
    }
  }
  if (length < 0) co_return http::error_response(make_error(error_code::bad_request, "a Content-Length header is required", 411));
  if (length == 0) co_return bad_request("empty body: send the zip archive as the request body");
  if (length > max_artifact) co_return http::error_response(error_code::payload_too_large, "archives are limited to 100 MiB");
  if (!package.empty()) {
    // Refused before the body is stored (add_version refuses it again if a sync takes the name meanwhile).
    auto owned = co_await storage::belongs_to_source(package);
    if (!owned) co_return store_error(owned.err());
    if (*owned) co_return http::error_response(storage::source_owned(package));
  }

  auto random = co_await fx::crypto_random_hex(16);
  if (!random) co_return store_error(random.err());
  // Under the package's name when the URL gives it; the version row keeps the key, so a nameless upload
  // can stay where it was written (nothing lists R2 by prefix).
  std::string key = "artifacts/" + (package.empty() ? std::string() : package + "/") + *random + ".zip";
  fx::r2_put_args put;
  put.key = key;
  put.from = ctx.req.body;
  put.want_sha1 = true;
  put.want_sha256 = true;
  put.expected_size = length;
  put.http_metadata = json::object();
  put.http_metadata.set("contentType", json("application/zip"));
  auto stored = co_await fx::r2_put(std::move(put));
  if (!stored && stored.err().code == error_code::bad_request)
    co_return bad_request("the upload did not arrive whole: " + stored.err().message);
  if (!stored) co_return store_error(stored.err());  // R2 failed: nothing stored, worth a retry

  auto outcome = co_await register_upload(ctx, package, key, std::move(*stored));
  if (!outcome) {
    (void)co_await fx::r2_delete({key});  // nothing stays behind a failed upload
    co_return store_error(outcome.err());
  }
  ctx.audit_target = "package:" + outcome->package;
  ctx.audit_after = outcome->body;
  if (!outcome->rebuild_error.empty())
    co_return http::error_response(error_code::unavailable,
                                   "version " + std::string(outcome->body["version"].as_string()) + " of " + package +
                                       " was stored, but its metadata could not be rebuilt (" + outcome->rebuild_error +
                                       "); the next cron run rebuilds it, the upload need not be repeated");
  co_return json_response(201, outcome->body);
}

}  // namespace

task<http::response> admin_upload_artifact(request_context& ctx) {
  std::string package = ascii_lower(ctx.params[0] + "/" + ctx.params[1]);
  if (!auth::valid_package_name(package)) co_return bad_request("\"" + package + "\" is not a valid package name (vendor/name)");
  co_return co_await upload_artifact(ctx, std::move(package));
}

task<http::response> admin_upload_named_by_archive(request_context& ctx) { co_return co_await upload_artifact(ctx, {}); }

task<http::response> admin_list_packages(request_context& ctx) {
  auto page = read_page(ctx.req.target);
  if (!page) co_return store_error(page.err());
  std::string query = ascii_lower(ctx.req.target.query_param("q").value_or(""));
  if (query.size() > 200) co_return bad_request("\"q\" must be at most 200 characters");
  auto list = co_await storage::package_summaries(page->cursor, page->limit, std::move(query));
  if (!list) co_return store_error(list.err());
  co_return json_response(200, *list);
}

task<http::response> admin_show_package(request_context& ctx) {
  std::string package = ascii_lower(ctx.params[0] + "/" + ctx.params[1]);
  auto detail = co_await storage::package_detail(package);
  if (!detail) co_return store_error(detail.err());
  if (!detail->has_value()) co_return http::error_response(error_code::not_found, "package " + package + " not found");
  co_return json_response(200, **detail);
}

namespace {

json deletion_json(const storage::deletion& d) {
  json out = json::object();
  out.set("deleted", d.removed);
  json objects = json::array(), leftover = json::array();
  for (const auto& k : d.objects) objects.push_back(json(k));
  for (const auto& k : d.leftover) leftover.push_back(json(k));
  out.set("objects_deleted", std::move(objects));
  out.set("objects_left", std::move(leftover));
  return out;
}

}  // namespace

task<http::response> admin_delete_package(request_context& ctx) {
  std::string package = ascii_lower(ctx.params[0] + "/" + ctx.params[1]);
  auto d = co_await storage::delete_package(package, ctx.now_ms);
  if (!d) co_return store_error(d.err());
  if (!d->has_value()) co_return http::error_response(error_code::not_found, "package " + package + " not found");
  json out = deletion_json(**d);
  ctx.audit_target = "package:" + package;
  ctx.audit_before = out;
  co_return json_response(200, out);
}

task<http::response> admin_delete_version(request_context& ctx) {
  std::string package = ascii_lower(ctx.params[0] + "/" + ctx.params[1]);
  const std::string& version = ctx.params[2];
  if (version.empty() || version.size() > 200) co_return bad_request("the version must be 1 to 200 characters");
  auto d = co_await storage::delete_version(package, version, ctx.now_ms);
  if (!d) co_return store_error(d.err());
  if (!d->has_value())
    co_return http::error_response(error_code::not_found, "package " + package + " has no version " + version);
  json out = deletion_json(**d);
  ctx.audit_target = "package:" + package;
  ctx.audit_before = out;
  co_return json_response(200, out);
}

}  // namespace pb::routes
