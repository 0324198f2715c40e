#include "sources/vcs_versions.h"

#include <algorithm>
#include <optional>

#include "core/json.h"
#include "core/text.h"
#include "sources/sync.h"
#include "versions/comparator.h"
#include "versions/version_parser.h"

namespace pb::sources::vcs {

namespace {

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

// composer.json as an object with a name, or the reason it is unusable.
result<json> composer_object(const ref_entry& r) {
  if (!r.reason.empty()) return make_error(error_code::bad_request, r.reason);
  auto doc = parse_json(r.body);
  if (!doc) return make_error(error_code::bad_request, "invalid composer.json: " + doc.err().message);
  if (!doc->is_object()) return make_error(error_code::bad_request, "invalid composer.json: not an object");
  if ((*doc)["name"].as_string().empty()) return make_error(error_code::bad_request, "composer.json has no \"name\"");
  return std::move(*doc);
}

}  // namespace

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


}  // namespace pb::sources::vcs
