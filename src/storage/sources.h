// The sources table over D1 effects: create, read, update, delete, and the sync bookkeeping the admin
// API shows (last_sync). Credentials are sealed with AES-256-GCM (crypto effects, key from the
// PB_ENCRYPTION_KEY secret) before they reach D1 and are never returned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"

namespace pb::storage {

struct source_record {
  std::int64_t id = 0;
  std::string type;  // composer | packagist | github | gitlab | bitbucket
  std::string url;
  std::string api_url;
  std::string credentials_type;    // basic | bearer | "" (none or secret)
  std::string credentials_enc;     // sealed JSON {"iv","ct"}
  std::string credentials_secret;  // Worker secret name
  std::vector<std::string> include, exclude;
  std::string webhook_secret_enc;
  std::int64_t sync_interval_s = 3600;
  bool enabled = true;
  std::string sync_cursor;
  std::int64_t next_sync_at = 0;
  std::string last_sync_status;
  std::int64_t last_sync_started_at = 0, last_sync_finished_at = 0;
  std::int64_t last_sync_packages = 0, last_sync_versions = 0;
  std::string last_sync_error;
  std::int64_t created_at = 0, updated_at = 0;
};

task<result<std::optional<source_record>>> find_source(std::int64_t id);
// Sources with id > after_id, by id; at most limit.
task<result<std::vector<source_record>>> list_sources(std::int64_t after_id = 0, std::int64_t limit = 1000);
task<result<source_record>> insert_source(source_record s, std::int64_t now_ms);
// Writes every settable column of s (not the sync bookkeeping).
task<result<std::optional<source_record>>> update_source(source_record s, std::int64_t now_ms);
// Replaces the sealed webhook secret; false when there is no such source.
task<result<bool>> set_webhook_secret(std::int64_t id, std::string sealed, std::int64_t now_ms);
// Refs a VCS sync skipped, with why ({"ref","reason","seen_at"}), by ref after `after`; at most limit.
task<result<json_array>> skipped_refs(std::int64_t id, std::string after, std::int64_t limit);

struct sync_outcome {
  std::string status;  // running | ok | error
  std::int64_t packages = 0, versions = 0;
  std::string error;
};
task<result<std::monostate>> record_sync(std::int64_t id, sync_outcome o, std::int64_t now_ms);

// The admin view: no secrets, credentials only as {"type":..} or {"secret":NAME}.
json source_to_json(const source_record& s, std::string_view origin);

// True when a package name passes the source's include/exclude patterns (empty include = all).
bool source_allows(const source_record& s, std::string_view package);

}  // namespace pb::storage
