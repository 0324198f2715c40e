// What an upstream Composer repository advertises in its packages.json, beyond metadata: where its
// change feed, security advisories API, package list, providers API and download notifications live.
// On packagist.org these are on another origin (packagist.org) than the metadata (repo.packagist.org),
// so they are read from the document, never guessed; the fallbacks (same origin, packagist's paths)
// apply only to what a repository does not advertise. Kept on the source row as JSON.
#pragma once

#include <string>
#include <string_view>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"
#include "sources/upstream.h"
#include "storage/sources.h"

namespace pb::sources {

struct endpoints {
  std::string metadata_url;    // metadata-url, with %package%
  std::string changes_url;     // metadata-changes-url
  std::string advisories_url;  // security-advisories.api-url
  std::string list_url;        // list
  std::string providers_api;   // providers-api, with %package%
  std::string notify_batch;    // notify-batch (recorded; downloads are not forwarded upstream)
};

// Every URL of a packages.json document, resolved against the URL it was read from.
endpoints endpoints_of(const json& root, std::string_view root_url);
// The source's stored endpoints, with fallbacks for what is missing (packagist's layout on url's origin).
endpoints stored_endpoints(const storage::source_record& s);
std::string endpoints_json(const endpoints& e);

// packages.json of a repository: base + "/packages.json" unless base names a .json file.
std::string root_document_url(std::string base);

// Reads the source's packages.json and returns what it advertises (fallbacks filled in).
task<result<endpoints>> discover_endpoints(const upstream& u, const storage::source_record& s);

// %package% of a template replaced by name.
std::string expand_package(std::string templ, std::string_view name);

}  // namespace pb::sources
