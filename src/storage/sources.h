// The sources table over D1 effects: create, read, update, delete, and the sync bookkeeping the admin
// API shows (last_sync). Credentials are sealed with AES-256-GCM (crypto effects, key from the
// PB_ENCRYPTION_KEY secret) before they reach D1 and are never returned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bindings/effects.h"
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
  std::string webhook_secret_enc;  // legacy (sealed random secrets); webhook secrets are derived now
  std::string webhook_nonce;       // part of the webhook URL; the secret derives from it (sources/webhook.h)
  std::int64_t sync_interval_s = 3600;
  bool enabled = true;
  std::string sync_cursor;
  std::int64_t next_sync_at = 0;
  std::string last_sync_status;
  std::int64_t last_sync_started_at = 0, last_sync_finished_at = 0;
  std::int64_t last_sync_packages = 0, last_sync_versions = 0;
  std::string last_sync_error;
  std::int64_t created_at = 0, updated_at = 0;
  std::string endpoints;    // JSON: what the upstream's packages.json advertises (sources/endpoints.h)
  std::string feed_cursor;  // packagist: the change feed's `since`
  std::string advisories_status, advisories_error;  // the last upstream advisories call
  std::int64_t advisories_at = 0;
  // The claim under which this invocation runs a slice of the sync (sources/sync.h, claim_sync); the
  // slice's bookkeeping writes only while the row still carries it. Empty: no claim.
  std::string sync_lease_id;
};

task<result<std::optional<source_record>>> find_source(std::int64_t id);
// The enabled packagist sources by id, as one statement (so a batch can read them together with other
// rows: storage::load_listing_inputs) and the records its rows hold.
fx::d1_statement packagist_sources_statement();
std::vector<source_record> sources_from_rows(const json_array& rows);
// Sources with id > after_id, by id; at most limit.
task<result<std::vector<source_record>>> list_sources(std::int64_t after_id = 0, std::int64_t limit = 1000);
// Inserts with s.id when it is set (credentials sealed for that id), else lets D1 choose.
// error_code::conflict when s.id is taken meanwhile.
task<result<source_record>> insert_source(source_record s, std::int64_t now_ms);
// The id the next insert_source would most likely get (credentials are sealed for an id before insert).
task<result<std::int64_t>> next_source_id();
// Writes every settable column of s (not the sync bookkeeping).
task<result<std::optional<source_record>>> update_source(source_record s, std::int64_t now_ms);
// Refs a VCS sync skipped, with why ({"ref","reason","seen_at"}), by ref after `after`; at most limit.
task<result<json_array>> skipped_refs(std::int64_t id, std::string after, std::int64_t limit);

struct sync_outcome {
  std::string status;  // running | ok | error
  std::int64_t packages = 0, versions = 0;
  std::string error;
};
task<result<std::monostate>> record_sync(std::int64_t id, sync_outcome o, std::int64_t now_ms);
// Claims the source's sync for one slice (sources/sync_run.h): sets the lease when nobody holds one
// (or it expired) and the source is enabled and, with only_when_due, has a sync running or due.
// nullopt: not claimed (held elsewhere, disabled, gone or not due). One D1 statement.
task<result<std::optional<source_record>>> claim_sync(std::int64_t id, std::string lease_id, std::int64_t now_ms,
                                                      std::int64_t until_ms, bool only_when_due);
// Gives the claim back without touching the cursor (when s still carries it).
task<result<std::monostate>> release_sync(const source_record& s);
task<result<std::monostate>> save_endpoints(std::int64_t id, std::string endpoints_json);
task<result<std::monostate>> save_feed_cursor(std::int64_t id, std::string cursor);
// Records the outcome of an upstream advisories call; writes only when it differs from the stored one.
task<result<std::monostate>> record_advisories(const source_record& s, std::string error, std::int64_t now_ms);

// The admin view: no secrets, credentials only as {"type":..} or {"secret":NAME}.
json source_to_json(const source_record& s, std::string_view origin);

// "<origin>/hooks/<id>/<nonce>": where the source's webhooks go.
std::string webhook_url(const source_record& s, std::string_view origin);

// True when a package name passes the source's include/exclude patterns (empty include = all).
bool source_allows(const source_record& s, std::string_view package);

}  // namespace pb::storage
