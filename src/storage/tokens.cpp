#include "storage/tokens.h"

#include "bindings/effects.h"
#include "core/http_date.h"
#include "core/sha256.h"
#include "storage/hot_cache.h"
#include "storage/columns.h"

namespace pb::storage {

namespace {

constexpr const char* columns =
    "id, name, token_prefix, packages, access, expires_at, revoked_at, created_at, last_used_at, licences, rate_limit";

token_record from_row(const json& row) {
  token_record t;
  t.id = row["id"].as_int();
  t.name = std::string(row["name"].as_string());
  t.token_prefix = std::string(row["token_prefix"].as_string());
  if (auto p = parse_json(row["packages"].as_string("[]")); p)
    for (const auto& v : p->as_array()) t.packages.emplace_back(v.as_string());
  t.access = std::string(row["access"].as_string("read"));
  t.expires_at = row["expires_at"].as_int();
  t.revoked_at = row["revoked_at"].as_int();
  t.created_at = row["created_at"].as_int();
  t.last_used_at = row["last_used_at"].as_int();
  if (auto l = parse_json(row["licences"].as_string("[]")); l) t.licences = auth::licences_from_json(*l);
  t.rate_limit = row["rate_limit"].is_null() ? -1 : row["rate_limit"].as_int(-1);
  return t;
}

std::string patterns_json(const std::vector<std::string>& ps) {
  json a = json::array();
  for (const auto& p : ps) a.push_back(json(p));
  return a.dump();
}

json rate_param(std::int64_t rate_limit) { return rate_limit < 0 ? json() : json(rate_limit); }


}  // namespace

json token_to_json(const token_record& t) {
  json o = json::object();
  o.set("id", json(t.id));
  o.set("name", json(t.name));
  o.set("token_prefix", json(t.token_prefix));
  json pk = json::array();
  for (const auto& p : t.packages) pk.push_back(json(p));
  o.set("packages", std::move(pk));
  o.set("access", json(t.access));
  o.set("expires_at", nullable_time(t.expires_at));
  o.set("created_at", nullable_time(t.created_at));
  o.set("last_used_at", nullable_time(t.last_used_at));
  o.set("revoked_at", nullable_time(t.revoked_at));
  o.set("licences", auth::licences_to_json(t.licences, true));
  o.set("rate_limit", t.rate_limit < 0 ? json() : json(t.rate_limit));
  return o;
}

task<result<std::optional<token_record>>> find_token_by_hash(std::string token_hash) {
  auto row = co_await fx::d1_first(std::string("SELECT ") + columns + " FROM tokens WHERE token_hash = ?",
                                   {json(std::move(token_hash))});
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<token_record>{};
  co_return std::optional<token_record>{from_row(**row)};
}

task<result<std::pair<token_record, std::string>>> create_token(new_token t, std::int64_t now_ms) {
  auto random = co_await fx::crypto_random_hex(24);
  if (!random) co_return std::move(random).err();
  std::string secret = "pbt_" + *random;
  std::string prefix = secret.substr(0, 12);
  auto r = co_await fx::d1_first(
      std::string("INSERT INTO tokens (name, token_hash, token_prefix, packages, access, expires_at, created_at, licences, "
                  "rate_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ") + columns,
      {json(t.name), json(sha256_hex(secret)), json(prefix), json(patterns_json(t.packages)), json(t.access),
       t.expires_at ? json(t.expires_at) : json(), json(now_ms), json(auth::licences_to_json(t.licences, false).dump()),
       rate_param(t.rate_limit)});
  if (!r) co_return std::move(r).err();
  if (!r->has_value()) co_return make_error(error_code::internal, "token insert returned no row");
  co_return std::pair<token_record, std::string>{from_row(**r), std::move(secret)};
}

task<result<std::vector<token_record>>> list_tokens(std::int64_t after_id, std::int64_t limit) {
  auto rows = co_await fx::d1_all(std::string("SELECT ") + columns + " FROM tokens WHERE id > ? ORDER BY id LIMIT ?",
                                  {json(after_id), json(limit)});
  if (!rows) co_return std::move(rows).err();
  std::vector<token_record> out;
  for (const auto& row : rows->rows) out.push_back(from_row(row));
  co_return out;
}

task<result<std::optional<token_record>>> find_token(std::int64_t id) {
  auto row = co_await fx::d1_first(std::string("SELECT ") + columns + " FROM tokens WHERE id = ?", {json(id)});
  if (!row) co_return std::move(row).err();
  if (!row->has_value()) co_return std::optional<token_record>{};
  co_return std::optional<token_record>{from_row(**row)};
}

task<result<std::optional<token_record>>> update_token(std::int64_t id, new_token t) {
  hot_cache::forget_tokens();  // this isolate applies the new scope, licences and limit at once
  auto r = co_await fx::d1_first(
      std::string("UPDATE tokens SET name = ?, packages = ?, access = ?, expires_at = ?, licences = ?, rate_limit = ? "
                  "WHERE id = ? RETURNING ") + columns,
      {json(t.name), json(patterns_json(t.packages)), json(t.access), t.expires_at ? json(t.expires_at) : json(),
       json(auth::licences_to_json(t.licences, false).dump()), rate_param(t.rate_limit), json(id)});
  hot_cache::forget_tokens();  // as in revoke_token: a lookup in flight across the update read the old record
  if (!r) co_return std::move(r).err();
  (void)co_await hot_cache::forget_everywhere(true, {});  // the other instances, after the write
  if (!r->has_value()) co_return std::optional<token_record>{};
  co_return std::optional<token_record>{from_row(**r)};
}

task<result<std::optional<token_record>>> revoke_token(std::int64_t id, std::int64_t now_ms) {
  hot_cache::forget_tokens();  // this isolate stops accepting it at once
  auto r = co_await fx::d1_first(std::string("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING ") +
                                     columns,
                                 {json(now_ms), json(id)});
  // And again: a lookup that started while the update was in flight read the record unrevoked.
  hot_cache::forget_tokens();
  if (!r) co_return std::move(r).err();
  (void)co_await hot_cache::forget_everywhere(true, {});  // after the write, so no instance caches it again
  if (!r->has_value()) co_return std::optional<token_record>{};
  co_return std::optional<token_record>{from_row(**r)};
}

bool needs_touch(const token_record& t, std::int64_t now_ms) { return now_ms - t.last_used_at >= 3600 * 1000; }

task<result<std::monostate>> touch_token(std::int64_t id, std::int64_t now_ms) {
  hot_cache::touched(id, now_ms);
  auto r = co_await fx::d1_run("UPDATE tokens SET last_used_at = ? WHERE id = ?", {json(now_ms), json(id)});
  if (!r) co_return std::move(r).err();
  co_return std::monostate{};
}

}  // namespace pb::storage
