// The admins table over D1 effects: named admin tokens with a role, stored as SHA-256 hashes only (the
// secret exists only in create_admin's return value). The ADMIN_TOKEN secret is the bootstrap owner and
// has no row (routes/authenticate.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// Console sessions: a cookie secret and a CSRF token, both stored as SHA-256 only.
struct session_record {
  std::int64_t id = 0;
  std::int64_t admin_id = 0;  // 0: the ADMIN_TOKEN secret
  std::string admin_name;
  std::string role;
  std::string csrf_hash;
  std::int64_t expires_at = 0;
  bool admin_revoked = false;  // the named admin behind it was revoked since
};
// A session's CSRF token is derived from its cookie secret (SHA-256, domain-separated): the Worker can
// hand it again to a page that presents the cookie (GET /admin/api/sessions/current), so a console tab
// opened later needs no storage of its own, while a page on another site gets neither.
std::string session_csrf(std::string_view secret);
struct new_session {
  std::int64_t id = 0;
  std::string secret;  // the cookie's value
  std::string csrf;    // the X-CSRF-Token value
};
task<result<new_session>> create_session(std::int64_t admin_id, std::string admin_name, std::string role,
                                         std::int64_t now_ms, std::int64_t expires_at);
// A live session (not revoked, not expired) by its secret's hash.
task<result<std::optional<session_record>>> find_session(std::string token_hash, std::int64_t now_ms);
task<result<std::monostate>> revoke_session(std::int64_t id, std::int64_t now_ms);

}  // namespace pb::storage
