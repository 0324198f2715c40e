// The tokens table over D1 effects: look up by secret hash, create, list, revoke, mark as used.
// Only SHA-256 hashes of secrets are stored; the secret exists only in create()'s return value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/licences.h"
#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"

namespace pb::storage {

struct token_record {
  std::int64_t id = 0;
  std::string name;
  std::string token_prefix;
  std::vector<std::string> packages;  // name patterns
  std::string access;                 // "read" | "update"
  std::int64_t expires_at = 0;        // unix ms; 0 = never
  std::int64_t revoked_at = 0;        // unix ms; 0 = not revoked
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;
  std::vector<auth::licence> licences;  // parsed once, when the record is loaded
  std::int64_t rate_limit = -1;         // requests per minute; -1 = the deployment's default, 0 = none
};

// The settable fields of a token (create and update).
struct new_token {
  std::string name;
  std::vector<std::string> packages;
  std::string access = "read";
  std::int64_t expires_at = 0;
  std::vector<auth::licence> licences;
  std::int64_t rate_limit = -1;
};

task<result<std::optional<token_record>>> find_token_by_hash(std::string token_hash);
// Returns the record and the secret.
task<result<std::pair<token_record, std::string>>> create_token(new_token t, std::int64_t now_ms);
// Tokens with id > after_id, by id; at most limit.
task<result<std::vector<token_record>>> list_tokens(std::int64_t after_id = 0, std::int64_t limit = 1000);
task<result<std::optional<token_record>>> find_token(std::int64_t id);
// Writes every settable field; nullopt for an unknown id. Drops this isolate's cached token records.
task<result<std::optional<token_record>>> update_token(std::int64_t id, new_token t);
// The revoked record (already revoked ones keep their first revocation time); nullopt if no such id.
task<result<std::optional<token_record>>> revoke_token(std::int64_t id, std::int64_t now_ms);
// Records use at most once an hour, so reads do not turn into a write per request.
bool needs_touch(const token_record& t, std::int64_t now_ms);
task<result<std::monostate>> touch_token(std::int64_t id, std::int64_t now_ms);

json token_to_json(const token_record& t);

}  // namespace pb::storage
