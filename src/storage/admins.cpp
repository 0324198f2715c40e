#include "storage/admins.h"

#include "bindings/effects.h"
#include "core/sha256.h"
#include "storage/columns.h"

namespace pb::storage {

namespace {

constexpr const char* columns = "id, name, role, token_prefix, created_at, created_by, revoked_at, last_used_at";

admin_record from_row(const json& r) {
  admin_record a;
  a.id = r["id"].as_int();
  a.name = std::string(r["name"].as_string());
  a.role = std::string(r["role"].as_string());
  a.token_prefix = std::string(r["token_prefix"].as_string());
  a.created_at = r["created_at"].as_int();
  a.created_by = std::string(r["created_by"].as_string());
  a.revoked_at = r["revoked_at"].as_int();
  a.last_used_at = r["last_used_at"].as_int();
  return a;
}

task<result<std::optional<admin_record>>> one(std::string sql, fx::sql_params params) {
  auto row = co_await fx::d1_first(std::move(sql), std::move(params));
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<admin_record>{};
  co_return std::optional<admin_record>{from_row(**row)};
}

}  // namespace

json admin_to_json(const admin_record& a) {
  json o = json::object();
  o.set("id", json(a.id));
  o.set("name", json(a.name));
  o.set("role", json(a.role));
  o.set("token_prefix", json(a.token_prefix));
  o.set("created_at", nullable_time(a.created_at));
  o.set("created_by", json(a.created_by));
  o.set("last_used_at", nullable_time(a.last_used_at));
  o.set("revoked_at", nullable_time(a.revoked_at));
  return o;
}

task<result<std::optional<admin_record>>> find_admin_by_hash(std::string token_hash) {
  co_return co_await one(std::string("SELECT ") + columns + " FROM admins WHERE token_hash = ?", {json(std::move(token_hash))});
}

task<result<std::optional<admin_record>>> find_admin(std::int64_t id) {
  co_return co_await one(std::string("SELECT ") + columns + " FROM admins WHERE id = ?", {json(id)});
}

task<result<std::pair<admin_record, std::string>>> create_admin(std::string name, std::string role, std::string created_by,
                                                                std::int64_t now_ms) {
  auto random = co_await fx::crypto_random_hex(24);
  if (!random) co_return std::move(random).err();
  std::string secret = "pba_" + *random;
  auto r = co_await fx::d1_first(
      std::string("INSERT INTO admins (name, role, token_hash, token_prefix, created_at, created_by) "
                  "VALUES (?, ?, ?, ?, ?, ?) RETURNING ") + columns,
      {json(name), json(std::move(role)), json(sha256_hex(secret)), json(secret.substr(0, 12)), json(now_ms),
       json(std::move(created_by))});
  if (!r) {
    if (r.err().message.find("UNIQUE") != std::string::npos)
      co_return make_error(error_code::conflict, "an admin named \"" + name + "\" exists");
    co_return std::move(r).err();
  }
  if (!r->has_value()) co_return make_error(error_code::internal, "admin insert returned no row");
  co_return std::pair<admin_record, std::string>{from_row(**r), std::move(secret)};
}

task<result<std::vector<admin_record>>> list_admins(std::int64_t after_id, std::int64_t limit) {
  auto rows = co_await fx::d1_all(std::string("SELECT ") + columns + " FROM admins WHERE id > ? ORDER BY id LIMIT ?",
                                  {json(after_id), json(limit)});
  if (!rows) co_return std::move(rows).err();
  std::vector<admin_record> out;
  for (const auto& r : rows->rows) out.push_back(from_row(r));
  co_return out;
}

task<result<std::optional<admin_record>>> revoke_admin(std::int64_t id, std::int64_t now_ms) {
  co_return co_await one(std::string("UPDATE admins SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING ") + columns,
                         {json(now_ms), json(id)});
}

task<result<std::monostate>> touch_admin(std::int64_t id, std::int64_t now_ms) {
  auto r = co_await fx::d1_run("UPDATE admins SET last_used_at = ? WHERE id = ?", {json(now_ms), json(id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

std::string session_csrf(std::string_view secret) {
  // Domain-separated so the token can never equal the hash stored for the cookie itself.
  return sha256_hex("package-broker csrf\n" + std::string(secret));
}

task<result<new_session>> create_session(std::int64_t admin_id, std::string admin_name, std::string role,
                                         std::int64_t now_ms, std::int64_t expires_at) {
  auto random = co_await fx::crypto_random_hex(24);
  if (!random) co_return std::move(random).err();
  std::string secret = "pbs_" + *random;
  new_session s{0, secret, session_csrf(secret)};
  auto r = co_await fx::d1_first(
      "INSERT INTO admin_sessions (token_hash, csrf_hash, admin_id, admin_name, role, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {json(sha256_hex(s.secret)), json(sha256_hex(s.csrf)), json(admin_id), json(std::move(admin_name)), json(std::move(role)),
       json(now_ms), json(expires_at)});
  if (!r) co_return std::move(r).err();
  if (!r->has_value()) co_return make_error(error_code::internal, "session insert returned no row");
  s.id = (**r)["id"].as_int();
  co_return s;
}

task<result<std::optional<session_record>>> find_session(std::string token_hash, std::int64_t now_ms) {
  auto row = co_await fx::d1_first(
      "SELECT s.id, s.admin_id, s.admin_name, s.role, s.csrf_hash, s.expires_at, a.revoked_at AS admin_revoked_at "
      "FROM admin_sessions s LEFT JOIN admins a ON a.id = s.admin_id "
      "WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?",
      {json(std::move(token_hash)), json(now_ms)});
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<session_record>{};
  const json& r = **row;
  session_record s{r["id"].as_int(), r["admin_id"].as_int(), std::string(r["admin_name"].as_string()),
                   std::string(r["role"].as_string()), std::string(r["csrf_hash"].as_string()), r["expires_at"].as_int(),
                   !r["admin_revoked_at"].is_null()};
  co_return std::optional<session_record>{std::move(s)};
}

task<result<std::monostate>> revoke_session(std::int64_t id, std::int64_t now_ms) {
  auto r = co_await fx::d1_run("UPDATE admin_sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                               {json(now_ms), json(id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

}  // namespace pb::storage
