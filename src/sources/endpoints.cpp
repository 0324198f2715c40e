#include "sources/endpoints.h"

namespace pb::sources {

namespace {

std::string advertised(const json& root, std::string_view key, std::string_view root_url) {
  const json& v = root[key];
  if (!v.is_string() || v.as_string().empty()) return {};
  return resolve_url(root_url, v.as_string());
}

std::string origin_base(const storage::source_record& s) {
  std::string b = s.url;
  if (b.find(".json") != std::string::npos) b = b.substr(0, b.rfind('/'));
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b;
}

}  // namespace

std::string root_document_url(std::string base) {
  if (base.find(".json") != std::string::npos) return base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/packages.json";
}

std::string expand_package(std::string templ, std::string_view name) {
  for (std::size_t at; (at = templ.find("%package%")) != std::string::npos;) templ.replace(at, 9, name);
  return templ;
}

endpoints endpoints_of(const json& root, std::string_view root_url) {
  endpoints e;
  e.metadata_url = advertised(root, "metadata-url", root_url);
  e.changes_url = advertised(root, "metadata-changes-url", root_url);
  e.advisories_url = advertised(root["security-advisories"], "api-url", root_url);
  e.list_url = advertised(root, "list", root_url);
  e.providers_api = advertised(root, "providers-api", root_url);
  e.notify_batch = advertised(root, "notify-batch", root_url);
  return e;
}

std::string endpoints_json(const endpoints& e) {
  json_writer w;
  w.begin_object();
  auto field = [&](std::string_view k, const std::string& v) {
    if (v.empty()) w.key(k).null();
    else w.field(k, v);
  };
  field("metadata-url", e.metadata_url);
  field("metadata-changes-url", e.changes_url);
  field("security-advisories-api-url", e.advisories_url);
  field("list", e.list_url);
  field("providers-api", e.providers_api);
  field("notify-batch", e.notify_batch);
  w.end_object();
  return std::move(w).str();
}

endpoints stored_endpoints(const storage::source_record& s) {
  endpoints e;
  if (auto j = parse_json(s.endpoints); j && j->is_object()) {
    e.metadata_url = std::string((*j)["metadata-url"].as_string());
    e.changes_url = std::string((*j)["metadata-changes-url"].as_string());
    e.advisories_url = std::string((*j)["security-advisories-api-url"].as_string());
    e.list_url = std::string((*j)["list"].as_string());
    e.providers_api = std::string((*j)["providers-api"].as_string());
    e.notify_batch = std::string((*j)["notify-batch"].as_string());
  }
  // Nothing advertised: packagist's paths on the source's own origin.
  std::string base = origin_base(s);
  if (e.metadata_url.empty()) e.metadata_url = base + "/p2/%package%.json";
  if (s.type == "packagist") {
    if (e.changes_url.empty()) e.changes_url = base + "/metadata/changes.json";
    if (e.advisories_url.empty()) e.advisories_url = base + "/api/security-advisories/";
  }
  return e;
}

task<result<endpoints>> discover_endpoints(const upstream& u, const storage::source_record& s) {
  std::string url = root_document_url(s.url);
  auto r = co_await upstream_get(u, url);
  if (!r) co_return std::move(r).err();
  if (r->status != 200) co_return make_error(error_code::upstream, url + ": HTTP " + std::to_string(r->status));
  auto doc = parse_json(r->text);
  if (!doc || !doc->is_object()) co_return make_error(error_code::upstream, url + ": not a JSON object");
  storage::source_record with = s;
  with.endpoints = endpoints_json(endpoints_of(*doc, url));
  co_return stored_endpoints(with);
}

}  // namespace pb::sources
