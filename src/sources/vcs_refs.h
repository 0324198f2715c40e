// The VCS source's model of one repository, shared by the sync slice (vcs.cpp) and the version rules
// (vcs_versions.cpp): the provider's URLs (GitHub, GitLab, Bitbucket), the tags and branches found so
// far with their composer.json, the resumable cursor kept in sources.sync_cursor, and how each
// provider's listing pages and composer.json answers become refs. Pure: no effects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings/effects.h"
#include "core/result.h"
#include "storage/sources.h"

namespace pb::sources::vcs {

// The repository's URLs at one provider, all derived from the source's url and api_url.
struct provider {
  char kind = 'h';        // h: GitHub, l: GitLab, b: Bitbucket
  std::string api;        // API base without a trailing slash
  std::string repo_api;   // the repository's API resource
  std::string web;        // web URL without a trailing slash or .git
};

result<provider> provider_of(const storage::source_record& s);
// A listing page of tags or branches (the first page).
std::string list_url(const provider& p, bool branches);
std::string composer_json_url(const provider& p, const std::string& sha);
// The provider's archive of a commit (the versions' dist URL upstream).
std::string dist_url(const provider& p, const std::string& sha);

// One tag or branch, and what the sync learned about it so far.
struct ref_entry {
  bool tag = false;
  std::string name, sha, time;
  bool fetched = false;  // composer.json was read (body), or the ref is already skipped (reason)
  std::string body, reason;
};

// The resumable state kept in sources.sync_cursor.
struct vcs_cursor {
  bool have_repo = false;     // the repository (default branch) was read
  std::string default_branch;
  std::string next_list;      // the next listing page; empty when listing is done
  bool listing_branches = false;
  std::vector<ref_entry> refs;
  std::int64_t wait_until = 0;  // rate limited, or waiting to retry after a failure, until (ms)
  std::int64_t fails = 0;       // transient upstream failures in a row (reset by a slice without one)
};

vcs_cursor read_cursor(const std::string& text);
std::string write_cursor(const vcs_cursor& c);
// Every listing page is read (the repository and all tags and branches are known).
bool listed(const vcs_cursor& c);

std::string http_failure(const fx::fetch_response& r, const std::string& url);
// Composer's VcsRepository::validateTag, after stripping "release-".
std::string tag_version(std::string_view tag);
// A listing page's refs into the cursor; answers the next page's URL (on our own api_url), or empty.
result<std::string> add_refs(vcs_cursor& c, char kind, const fx::fetch_response& r, const std::string& url);
// A composer.json response: the file's text, or empty with the reason it is missing.
result<std::pair<std::string, std::string>> composer_file(char kind, const fx::fetch_response& r, const std::string& url);

}  // namespace pb::sources::vcs
