// Reading another Composer repository: its root packages.json (protocol v2 metadata-url with
// available-packages, or v1 inline packages and sha1-checked includes), and each package's versions,
// expanded from minified composer/2.0 when needed, or v1 provider files (providers-url with
// provider-includes). Port of the reading side of Composer's ComposerRepository (loadRootServerFile,
// loadIncludes, loadProviderListings, the p2 fetch in loadAsyncPackages).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"
#include "sources/endpoints.h"
#include "sources/upstream.h"

namespace pb::sources {

struct composer_root {
  std::string base;          // the repository URL
  std::string metadata_url;  // v2 template with %package%, resolved; empty for v1
  std::vector<std::string> names;  // lower-cased package names the repository lists
  json v1_packages = json::object();  // name -> {version -> data} from inline packages and includes
  std::string providers_url;          // v1 lazy providers: template with %package% and %hash%, resolved
  json provider_hashes = json::object();  // name -> sha256 of its provider file
  endpoints advertised;                   // the document's other URLs (advisories, list, ...)
};

task<result<composer_root>> read_composer_root(const upstream& u, std::string base);

// Calls `each` with every version object of one package (tags and branches), expanded, one at a
// time (each valid during its call only); false when the repository does not have the package (404).
task<result<bool>> read_composer_package(const upstream& u, const composer_root& root, std::string name,
                                         const std::function<void(const json&)>& each);

}  // namespace pb::sources
