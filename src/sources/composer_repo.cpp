#include "sources/composer_repo.h"
#include "core/text.h"

#include "bindings/when_all.h"
#include "composer/minifier.h"
#include "core/sha256.h"
#include "sources/p2_reader.h"

namespace pb::sources {

namespace {

error upstream_error(const std::string& url, const std::string& what) {
  return make_error(error_code::upstream, url + ": " + what);
}

task<result<json>> get_json(const upstream& u, std::string url) {
  auto r = co_await upstream_get(u, url);
  if (!r) co_return std::move(r).err();
  if (r->status != 200) co_return upstream_error(url, "HTTP " + std::to_string(r->status));
  auto doc = parse_json(r->text);
  if (!doc) co_return upstream_error(url, "invalid JSON: " + doc.err().message);
  if (!doc->is_object()) co_return upstream_error(url, "expected a JSON object");
  co_return std::move(*doc);
}

// Merges {"packages": {name: {version: data}}} (v1 shape; lists are accepted too) into into.
void merge_v1(json& into, const json& doc) {
  for (const auto& [name, versions] : doc["packages"].as_object()) {
    std::string key = ascii_lower(name);
    json* slot = into.find(key);
    if (!slot) slot = &into.set(key, json::object());
    if (versions.is_object()) {
      for (const auto& [v, data] : versions.as_object()) slot->set(v, data);
    } else {
      for (const auto& data : versions.as_array()) slot->set(data["version"].as_string(), data);
    }
  }
}

}  // namespace

task<result<composer_root>> read_composer_root(const upstream& u, std::string base) {
  composer_root root;
  root.base = base;
  std::string url = root_document_url(base);
  auto doc = co_await get_json(u, url);
  if (!doc) co_return std::move(doc).err();
  root.advertised = endpoints_of(*doc, url);
  if (const json* m = doc->find("metadata-url"); m && m->is_string()) {
    root.metadata_url = resolve_url(url, m->as_string());
    const json* available = doc->find("available-packages");
    if (!available || !available->is_array()) {
      // A v2 repository without a list cannot be enumerated (Composer itself only loads names on demand).
      if (const json* list = doc->find("list"); list && list->is_string()) {
        auto names = co_await get_json(u, resolve_url(url, list->as_string()));
        if (!names) co_return std::move(names).err();
        for (const auto& n : (*names)["packageNames"].as_array()) root.names.push_back(ascii_lower(std::string(n.as_string())));
      } else {
        co_return upstream_error(url, "the repository lists neither available-packages nor a list URL, so its packages "
                                      "cannot be enumerated");
      }
    } else {
      for (const auto& n : available->as_array()) root.names.push_back(ascii_lower(std::string(n.as_string())));
    }
    co_return root;
  }
  merge_v1(root.v1_packages, *doc);
  // includes: {"include/all$<sha1>.json": {"sha1": ...}}. Composer uses the sha1 only to cache the file;
  // a sync reads every include afresh.
  for (const auto& [path, info] : (*doc)["includes"].as_object()) {
    std::string inc_url = resolve_url(url, path);
    auto r = co_await upstream_get(u, inc_url);
    if (!r) co_return std::move(r).err();
    if (r->status != 200) co_return upstream_error(inc_url, "HTTP " + std::to_string(r->status));
    auto inc = parse_json(r->text);
    if (!inc) co_return upstream_error(inc_url, "invalid JSON: " + inc.err().message);
    merge_v1(root.v1_packages, *inc);
  }
  if (const json* providers = doc->find("providers-url"); providers && providers->is_string()) {
    root.providers_url = resolve_url(url, providers->as_string());
    // provider-includes: {"p/provider-latest$%hash%.json": {"sha256": ...}} list name -> hash.
    for (const auto& [path, info] : (*doc)["provider-includes"].as_object()) {
      std::string listing = path;
      std::size_t at = listing.find("%hash%");
      if (at != std::string::npos) listing.replace(at, 6, std::string(info["sha256"].as_string()));
      auto inc = co_await get_json(u, resolve_url(url, listing));
      if (!inc) co_return std::move(inc).err();
      for (const auto& [name, entry] : (*inc)["providers"].as_object())
        root.provider_hashes.set(ascii_lower(name), json(entry["sha256"].as_string()));
    }
    for (const auto& [name, entry] : (*doc)["providers"].as_object())
      root.provider_hashes.set(ascii_lower(name), json(entry["sha256"].as_string()));
    for (const auto& [name, hash] : root.provider_hashes.as_object()) root.names.push_back(name);
  }
  for (const auto& [name, versions] : root.v1_packages.as_object())
    if (!root.provider_hashes.find(name)) root.names.push_back(name);
  co_return root;
}

task<result<bool>> read_composer_package(const upstream& u, const composer_root& root, std::string name,
                                         const std::function<void(const json&)>& each) {
  if (root.metadata_url.empty()) {
    json packages = root.v1_packages;
    if (const json* hash = root.provider_hashes.find(name)) {
      std::string url = root.providers_url;
      for (auto [key, value] : {std::pair<std::string_view, std::string>{"%package%", name},
                                std::pair<std::string_view, std::string>{"%hash%", std::string(hash->as_string())}}) {
        std::size_t at = url.find(key);
        if (at != std::string::npos) url.replace(at, key.size(), value);
      }
      auto file = co_await get_json(u, url);
      if (!file) co_return std::move(file).err();
      merge_v1(packages, *file);
    }
    const json* versions = packages.find(name);
    if (!versions) co_return false;
    for (const auto& [v, data] : versions->as_object()) each(data);
    co_return true;
  }
  // Tags and branches in one round trip; each file read one version at a time (p2_reader.h) and its
  // text freed once read.
  auto [tagged, dev] = co_await when_all(upstream_get(u, expand_package(root.metadata_url, name)),
                                         upstream_get(u, expand_package(root.metadata_url, name + "~dev")));
  bool found = false;
  for (auto* r : {&tagged, &dev}) {
    if (!*r) co_return std::move(*r).err();
    if ((*r)->status == 404) continue;
    if ((*r)->status != 200) co_return upstream_error((*r)->url, "HTTP " + std::to_string((*r)->status));
    auto read = read_p2_versions((*r)->text, name, [&](const p2_version& v) {
      each(v.tree());
      return true;
    }, p2_lists::last);
    // A valid document that is not an object lists nothing, as Composer reads it; anything else is broken.
    if (!read) {
      auto doc = parse_json((*r)->text);
      if (!doc || doc->is_object()) co_return upstream_error((*r)->url, read.err().message);
    }
    std::string().swap((*r)->text);
    found = true;
  }
  co_return found;
}

}  // namespace pb::sources
