// The admins table over D1 effects: named admin tokens with a role, stored as SHA-256 hashes only (the
// secret exists only in create_admin's return value). The ADMIN_TOKEN secret is the bootstrap owner and
// has no row (auth/authenticate.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"

namespace pb::storage {

struct admin_record {
  std::int64_t id = 0;
  std::string name;
  std::string role;  // owner | maintainer | viewer
  std::string token_prefix;
  std::int64_t created_at = 0;
  std::string created_by;
  std::int64_t revoked_at = 0;
  std::int64_t last_used_at = 0;
};

task<result<std::optional<admin_record>>> find_admin_by_hash(std::string token_hash);
// The record and its secret ("pba_" + 48 hex); conflict when the name is taken.
task<result<std::pair<admin_record, std::string>>> create_admin(std::string name, std::string role, std::string created_by,
                                                                std::int64_t now_ms);
// Admins with id > after_id, by id; at most limit.
task<result<std::vector<admin_record>>> list_admins(std::int64_t after_id, std::int64_t limit);
task<result<std::optional<admin_record>>> find_admin(std::int64_t id);
// The revoked record (a second revocation keeps the first time); nullopt for an unknown id.
task<result<std::optional<admin_record>>> revoke_admin(std::int64_t id, std::int64_t now_ms);
task<result<std::monostate>> touch_admin(std::int64_t id, std::int64_t now_ms);

json admin_to_json(const admin_record& a);

}  // namespace pb::storage
