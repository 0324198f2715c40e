#include "composer/p2_builder.h"

#include <string>
#include <utility>

#include "composer/minifier.h"
#include "composer/p2_encode.h"
#include "composer/p2_fields.h"
#include "composer/packagist_rules.h"
#include "core/json_view.h"

// The version objects (p2_builder.h): version_entry calls the field rules (p2_fields.cpp) member by
// member, in Version::toArray's order.
namespace pb::composer {

namespace {

using sv = std::string_view;
using detail::ascii_lower;
using detail::bin_of;
using detail::encode_string;
using detail::entry_out;
using detail::filter_url;
using detail::funding_of;
using detail::is_container;
using detail::kept_url;
using detail::php_ext_of;
using detail::put_clean;
using detail::sanitize;
using detail::support_of;

}  // namespace

json encoded_entry::tree() const {
  json_object o;
  o.reserve(members.size());
  for (const member& m : members) {
    if (m.tree >= 0) {
      o.emplace_back(std::string(key(m)), trees[static_cast<std::size_t>(m.tree)]);
    } else {
      auto v = parse_json(value(m));  // the encoder's own text: valid JSON
      o.emplace_back(std::string(key(m)), v ? std::move(*v) : json());
    }
  }
  return json(std::move(o));
}

void version_entry(json_view cj, const member_texts& texts, const version_fields& f, encoded_entry& e) {
  // Keys in Version::toArray order. composer.json keys not listed are not part of Packagist's p2 output
  // and are dropped: version/name/time/dist/source (replaced by what the repository knows),
  // autoload-dev, minimum-stability, prefer-stable, repositories, config, scripts*, archive, readme,
  // non-feature-branches, notification-url, extra keys like "_comment".
  e.clear();
  entry_out o(e);
  std::string& out = o.text();
  o.string("name", f.name);
  const json_view descr = cj["description"];  // (string) of a sanitized non-empty string, else ""
  o.clean("description", descr.is_string() ? descr.as_string() : sv());
  o.begin("keywords");
  detail::keywords_of(out, cj);
  o.end();
  const json_view home = cj["homepage"];  // (string) filterUrl(): "" unless http(s)
  sv home_text = home.as_string();
  std::string home_url;
  if (!kept_url(home_text)) home_text = home_url = home.is_string() ? filter_url(home_text).value_or("") : std::string();
  o.string("homepage", home_text);
  o.clean("version", f.version);
  const std::string normalized = sanitize(f.version_normalized);
  o.string("version_normalized", normalized);
  e.dev = is_dev_version(normalized);
  o.begin("license");
  detail::license_of(out, cj);
  o.end();
  o.begin("authors");
  detail::authors_of(out, cj);
  o.end();
  // "source": Packagist writes the VCS source (or null); artifact uploads have none, so it is omitted.
  o.begin("dist");
  if (f.dist_type.empty()) {
    out += "null";
  } else {
    out += "{\"type\":";
    put_clean(out, f.dist_type);
    out += ",\"url\":";
    put_clean(out, f.dist_url);
    out += ",\"reference\":";
    encode_string(out, f.reference);
    out += ",\"shasum\":";
    encode_string(out, f.dist_shasum);
    out += '}';
  }
  o.end();
  // type: ArrayLoader lower-cases it and defaults to "library"; the Updater stores it only when truthy
  // (else the column stays null).
  if (const json_view t = cj["type"]; !t.is_string()) {
    o.raw("type", "\"library\"");
  } else if (const std::string lower = ascii_lower(t.as_string()); lower.empty() || lower == "0") {
    o.raw("type", "null");
  } else {
    o.clean("type", lower);
  }
  if (!detail::support_plain(o, cj))
    if (auto s = support_of(cj)) o.tree("support", *s);
  if (auto p = php_ext_of(cj)) o.tree("php-ext", *p);
  o.tree("funding", funding_of(cj));
  if (!f.time.empty()) o.string("time", f.time);

  const json_view autoload = cj["autoload"], extra = cj["extra"], include_path = cj["include-path"];
  const bool has_autoload = is_container(autoload) && autoload.size() > 0;
  const bool has_extra = is_container(extra) && extra.size() > 0;
  const bool has_include_path = is_container(include_path) && include_path.size() > 0;
  if (has_autoload) detail::passed_through(o, "autoload", autoload, texts[0]);
  if (has_extra) detail::passed_through(o, "extra", extra, texts[1]);
  if (const json_view t = cj["target-dir"]; t.is_string() && php_truthy(t)) {
    std::string dir = sanitize(t.as_string());
    if (php_truthy(json(dir))) o.string("target-dir", dir);
  }
  if (has_include_path) detail::passed_through(o, "include-path", include_path, texts[2]);
  if (auto b = bin_of(cj)) o.tree("bin", *b);
  // default-branch: set by the VCS driver on Packagist; ArrayLoader reads "default-branch": true.
  if (const json_view db = cj["default-branch"]; db.is_bool() && db.as_bool()) o.raw("default-branch", "true");

  const std::string self_lower = ascii_lower(f.name);
  detail::links_of(o, cj, "require", self_lower);
  detail::links_of(o, cj, "require-dev", self_lower);
  detail::suggest_of(o, cj, f.version);
  detail::links_of(o, cj, "conflict", self_lower);
  detail::links_of(o, cj, "provide", self_lower);
  detail::links_of(o, cj, "replace", self_lower);

  // abandoned: a package-level flag on Packagist (getReplacementPackage() ?: true); here it comes from
  // this version's composer.json as ArrayLoader reads it (true, or a replacement name; "" means true).
  if (const json_view ab = cj["abandoned"]; ab.is_bool() && ab.as_bool()) {
    o.raw("abandoned", "true");
  } else if (ab.is_string()) {
    const std::string replacement = sanitize(ab.as_string());
    if (replacement.empty())
      o.raw("abandoned", "true");
    else
      o.string("abandoned", replacement);
  }
}

json version_entry(json_view cj, const version_fields& f) {
  encoded_entry e;
  version_entry(cj, member_texts{}, f, e);
  return e.tree();
}

json version_entry(const json& composer_json, const version_fields& f) {
  // The rules read a view: a tree is written out and parsed again (uploads and tests; the mirror's rows
  // are parsed straight into a view, storage/packages.cpp). No text given: every member is encoded
  // from the view (the differential test holds the mirror's pass-through against this).
  auto view = parse_view(composer_json.dump());
  return version_entry(view ? *view : json_view(), f);
}

bool is_dev_version(std::string_view v) {
  if (const std::size_t hash = v.find('#'); hash != std::string_view::npos && hash + 1 < v.size())
    v = v.substr(0, hash);  // preg_replace('{#.+$}', '')
  return v.substr(0, 4) == "dev-" || (v.size() >= 4 && v.substr(v.size() - 4) == "-dev");
}

}  // namespace pb::composer
