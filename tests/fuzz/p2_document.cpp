// A p2 document from an upstream Composer repository, read the way a sync reads it (composer_repo:
// expand composer/2.0 lists; sync: upstream_version_row per version) and rebuilt the way
// rebuild_documents builds ours (version_entry per kept version, build_p2). Invariants: both built
// documents parse, have Packagist's shape, split tags from dev versions, and expand back to the very
// version objects that went in (as Composer reads them: top-level null and "__unset" are absent, and
// a float may come back as the integer PHP's json_encode writes for it).
#include "composer/minifier.h"
#include "composer/p2_builder.h"
#include "core/http_date.h"
#include "core/text.h"
#include "fuzz.h"
#include "php_equal.h"
#include "sources/sync.h"

using namespace pb;

namespace {
constexpr std::size_t max_packages = 3;
constexpr std::size_t max_versions = 40;

void check_document(const std::string& body, const std::string& key, const std::vector<json>& expected, bool dev,
                    const std::string& input) {
  auto doc = parse_json(body);
  fuzz::check(doc.ok(), "a built p2 document does not parse", body);
  fuzz::check((*doc)["minified"].as_string() == "composer/2.0", "a built p2 document is not minified", body);
  const json& packages = (*doc)["packages"];
  fuzz::check(packages.is_object() && packages.size() == 1 && packages.find(key), "the packages map is not {name: [...]}",
              body);
  const json& list = *packages.find(key);
  fuzz::check(list.is_array(), "a package's versions are not a list", body);
  const json expanded = composer::expand(list.as_array());
  fuzz::check(expanded.size() == expected.size(), "the document lost or gained versions", body + "\ninput: " + input);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const json& v = expanded.as_array()[i];
    fuzz::check(composer::is_dev_version(v["version_normalized"].as_string()) == dev, "a version in the wrong document",
                body);
    fuzz::check(fuzz::same_members(fuzz::composer_view(expected[i]), fuzz::composer_view(v), fuzz::php_equal_encoded),
                "a version does not expand back to what was built",
                "version " + std::to_string(i) + "\nbuilt:    " + expected[i].dump() + "\nexpanded: " + v.dump() +
                    "\ninput: " + input);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::as_text(data, size);
  auto doc = parse_json(in);
  if (!doc) return 0;
  const bool minified = (*doc)["minified"].as_string() == "composer/2.0";
  std::size_t packages = 0;
  for (const auto& [name, list] : (*doc)["packages"].as_object()) {
    if (++packages > max_packages) break;
    const json versions = minified ? composer::expand(list.as_array()) : list;
    const std::string package = ascii_lower(name);
    std::vector<json> entries;
    std::size_t seen = 0;
    for (const json& v : versions.as_array()) {
      if (++seen > max_versions) break;
      auto row = sources::upstream_version_row(v);
      if (!row) continue;
      auto cj = parse_json(row->v.composer_json);
      fuzz::check(cj.ok(), "a kept composer.json does not parse", row->v.composer_json);
      if (fuzz::has_duplicate_keys(*cj)) continue;  // PHP would have kept only the last
      composer::version_fields f;
      f.name = package;
      f.version = row->v.version;
      f.version_normalized = row->v.version_normalized;
      f.reference = row->v.reference;
      f.dist_type = row->v.dist_type;
      f.dist_url = "__PB_ORIGIN__/dist/" + package + "/" + row->v.version_normalized + "/" + row->v.reference + ".zip";
      f.dist_shasum = row->v.dist_shasum;
      f.time = row->v.release_time ? format_iso8601(row->v.release_time) : std::string();
      entries.push_back(composer::version_entry(*cj, f));
    }
    const composer::p2_documents built = composer::build_p2(package, entries);
    std::vector<json> tagged, dev;
    for (const json& e : entries) (composer::is_dev_version(e["version_normalized"].as_string()) ? dev : tagged).push_back(e);
    check_document(built.tagged, package, tagged, false, std::string(in.substr(0, 2000)));
    check_document(built.dev, package, dev, true, std::string(in.substr(0, 2000)));
  }
  return 0;
}
