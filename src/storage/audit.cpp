#include "storage/audit.h"

#include <unordered_map>

#include "core/bounded_map.h"
#include "storage/columns.h"

namespace pb::storage {

namespace {

constexpr std::int64_t denial_window_ms = 60'000;
constexpr std::size_t max_denial_keys = 4096;
constexpr std::size_t max_text = 500;  // paths and reasons come from clients: bounded

std::string capped(std::string_view s) { return std::string(s.substr(0, max_text)); }

json nullable_json(const json& j) { return j.is_null() ? json() : json(j.dump()); }

struct denial_slot {
  std::int64_t written_at = 0;
  std::int64_t suppressed = 0;
};

std::unordered_map<std::string, denial_slot>& denial_slots() {
  static std::unordered_map<std::string, denial_slot> m;
  return m;
}

}  // namespace

json audit_entry_json(const json& r) {
  json o = json::object();
  o.set("id", r["id"]);
  o.set("at", nullable_time(r["at"].as_int()));
  o.set("actor", r["actor"]);
  o.set("actor_name", r["actor_name"]);
  o.set("action", r["action"]);
  o.set("target", r["target"]);
  o.set("method", r["method"]);
  o.set("path", r["path"]);
  o.set("status", r["status"]);
  o.set("reason", r["reason"]);
  for (const char* k : {"before", "after"}) {
    json v;
    if (r[k].is_string())
      if (auto parsed = parse_json(r[k].as_string())) v = std::move(*parsed);
    o.set(k, std::move(v));
  }
  o.set("count", json(r["count"].as_int(1)));
  return o;
}

fx::d1_statement audit_statement(const audit_entry& e, std::int64_t now_ms) {
  return {"INSERT INTO audit_log (at, actor, actor_name, action, target, method, path, status, reason, before, after, count) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {json(now_ms), json(e.actor), nullable(e.actor_name), json(e.action), nullable(capped(e.target)), nullable(e.method),
           nullable(capped(e.path)), e.status ? json(e.status) : json(), nullable(capped(e.reason)), nullable_json(e.before),
           nullable_json(e.after), json(e.count)}};
}

task<result<std::monostate>> record_audit(audit_entry e, std::int64_t now_ms) {
  fx::d1_statement st = audit_statement(e, now_ms);
  auto r = co_await fx::d1_run(std::move(st.sql), std::move(st.params));
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

std::optional<std::int64_t> admit_denial(const std::string& key, std::int64_t now_ms) {
  auto& slots = denial_slots();
  auto it = slots.find(key);
  if (it != slots.end() && now_ms - it->second.written_at < denial_window_ms && now_ms >= it->second.written_at) {
    ++it->second.suppressed;
    return std::nullopt;
  }
  std::int64_t count = 1 + (it != slots.end() ? it->second.suppressed : 0);
  // Full: forget the quiet keys; if every key is busy, start over (a row per key and minute at worst).
  if (it == slots.end())
    make_room(slots, max_denial_keys, [&](const denial_slot& s) { return now_ms - s.written_at >= denial_window_ms; });
  slots[key] = denial_slot{now_ms, 0};
  return count;
}

void reset_denials() { denial_slots().clear(); }

task<result<json_array>> list_audit(audit_query q) {
  std::string sql = "SELECT * FROM audit_log WHERE 1 = 1";
  fx::sql_params p;
  if (q.since_ms) {
    sql += " AND at >= ?";
    p.push_back(json(q.since_ms));
  }
  if (q.until_ms) {
    sql += " AND at < ?";
    p.push_back(json(q.until_ms));
  }
  if (!q.actor.empty()) {
    sql += " AND (actor = ? OR actor_name = ?)";
    p.push_back(json(q.actor));
    p.push_back(json(q.actor));
  }
  if (!q.action.empty()) {
    sql += " AND action LIKE ? ESCAPE '\\'";
    p.push_back(json(like_pattern(q.action, true)));
  }
  if (!q.target.empty()) {
    sql += " AND target = ?";
    p.push_back(json(q.target));
  }
  if (q.before_id) {
    sql += " AND id < ?";
    p.push_back(json(q.before_id));
  }
  sql += " ORDER BY id DESC LIMIT ?";
  p.push_back(json(q.limit));
  auto rows = co_await fx::d1_all(std::move(sql), std::move(p));
  if (!rows) co_return std::move(rows).err();
  json_array entries;
  for (const auto& r : rows->rows) entries.push_back(audit_entry_json(r));
  co_return entries;
}

task<result<std::int64_t>> prune_audit(std::int64_t cutoff_ms, std::int64_t max_rows) {
  auto r = co_await fx::d1_run("DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)",
                               {json(cutoff_ms), json(max_rows)});
  if (!r) co_return std::move(r).err();
  co_return r->changes;
}

}  // namespace pb::storage
