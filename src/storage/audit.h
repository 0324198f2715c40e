// The audit log over D1 effects: every admin change (who, what, before/after without secrets) and every
// denied access, filtered and paged for GET /admin/api/audit, pruned by the cron trigger. Denials are
// folded per isolate (one row per key and minute, with a count; the caller's key is actor, reason and,
// for known callers, path) so a client that keeps failing cannot turn each failure into a D1 write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bindings/effects.h"
#include "bindings/task.h"
#include "core/json.h"
#include "core/result.h"

namespace pb::storage {

struct audit_entry {
  std::string actor;  // "admin:3", "token:12", "anonymous", "cli:alice"
  std::string actor_name;
  std::string action;  // "token.create", "access.denied", ...
  std::string target;  // "token:12", "package:acme/widget"
  std::string method, path;
  int status = 0;
  std::string reason;
  json before, after;  // null when there is nothing to show
  std::int64_t count = 1;
};

fx::d1_statement audit_statement(const audit_entry& e, std::int64_t now_ms);
task<result<std::monostate>> record_audit(audit_entry e, std::int64_t now_ms);

// Denials: how many identical denials this row stands for, or nullopt when this isolate wrote one for
// the same key within the last minute (the count carries over into the next row).
std::optional<std::int64_t> admit_denial(const std::string& key, std::int64_t now_ms);
void reset_denials();  // tests

struct audit_query {
  std::int64_t since_ms = 0, until_ms = 0;  // 0: unbounded
  std::string actor;                        // an actor ("admin:3") or an actor name
  std::string action;                       // exact, or a prefix with '*' ("token.*")
  std::string target;
  std::int64_t before_id = 0;  // paging: entries older than this id (0: from the newest)
  std::int64_t limit = 50;
};
// Entries newest first, at most q.limit (callers ask one more to know whether a page follows), as the
// API shows them (audit_entry_json).
task<result<json_array>> list_audit(audit_query q);
json audit_entry_json(const json& row);

// Deletes entries older than `cutoff_ms`, at most `max_rows` per call; returns how many went.
task<result<std::int64_t>> prune_audit(std::int64_t cutoff_ms, std::int64_t max_rows = 5000);

}  // namespace pb::storage
