// The SQL runners (server/runners): the SQLite-to-PostgreSQL translator, D1's semantics on whichever
// database the suite runs on (SQLite in memory, or PostgreSQL when PB_TEST_DATABASE_URL is set — CTest
// runs the whole suite both ways), and the two schemas' agreement.
#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "host/native_host.h"
#include "runners/failure.h"
#include "runners/postgres_database.h"
#include "runners/sql_translate.h"
#include "runners/sqlite_database.h"

using namespace pb;
using namespace pb::testing;
using runners::schema_info;
using runners::to_postgres;

namespace {

schema_info sample_schema() {
  schema_info s;
  s.primary_keys["skipped_refs"] = {"source_id", "ref"};
  s.primary_keys["tokens"] = {"id"};
  s.identity_id["tokens"] = true;
  s.columns["downloads"] = {"package_id", "version_normalized", "token_id", "day", "count"};
  s.columns["metadata_documents"] = {"key", "body", "revision"};
  return s;
}

json effect(std::string op, std::string sql, json params = json::array()) {
  json e = json::object();
  e.set("op", json(op));
  e.set("sql", json(sql));
  e.set("params", std::move(params));
  return e;
}

json batch(std::vector<std::pair<std::string, json>> statements) {
  json list = json::array();
  for (auto& [sql, params] : statements) {
    json s = json::object();
    s.set("sql", json(sql));
    s.set("params", params);
    list.push_back(std::move(s));
  }
  json e = json::object();
  e.set("op", json("d1.batch"));
  e.set("statements", std::move(list));
  return e;
}

json run(native_host& h, const json& e, std::optional<effect_error>& err) {
  err.reset();
  return h.perform(e, err);
}

}  // namespace

TEST_CASE("to_postgres numbers parameters the way SQLite does", "[server][sql]") {
  auto t = to_postgres("SELECT ?2, ?3, x FROM t WHERE a = ? AND b = ?1 AND c = ?", {});
  CHECK(t.sql == "SELECT $2, $3, x FROM t WHERE a = $4 AND b = $1 AND c = $5");
  CHECK(t.parameter_count == 5);
  CHECK(t.read_only);
  auto lit = to_postgres("SELECT '?', \"a?\" FROM t WHERE x = ? -- what?\n", {});
  CHECK(lit.sql == "SELECT '?', \"a?\" FROM t WHERE x = $1 -- what?");
  CHECK(lit.parameter_count == 1);
  CHECK_FALSE(to_postgres("SELECT 'unterminated", {}).error.empty());
}

TEST_CASE("to_postgres rewrites SQLite's functions and upserts", "[server][sql]") {
  schema_info s = sample_schema();
  CHECK(to_postgres("SELECT value FROM json_each(?)", s).sql == "SELECT value FROM json_array_elements_text(CAST($1 AS json))");
  CHECK(to_postgres("SELECT IFNULL(a, 0) FROM t WHERE n LIKE ?", s).sql == "SELECT COALESCE(a, 0) FROM t WHERE n ILIKE $1");
  CHECK(to_postgres("SELECT json_extract(v.composer_json, '$.description') AS d FROM versions v", s).sql ==
        "SELECT (CAST(v.composer_json AS json) #>> '{description}') AS d FROM versions v");
  CHECK(to_postgres("SELECT json_extract(x, '$.a.b') FROM t", s).sql == "SELECT (CAST(x AS json) #>> '{a,b}') FROM t");
  CHECK_FALSE(to_postgres("SELECT json_extract(x, ?) FROM t", s).error.empty());
  CHECK(to_postgres("INSERT OR REPLACE INTO skipped_refs (source_id, ref, reason, seen_at) VALUES (?, ?, ?, ?)", s).sql ==
        "INSERT INTO skipped_refs (source_id, ref, reason, seen_at) VALUES ($1, $2, $3, $4) ON CONFLICT (source_id, ref) "
        "DO UPDATE SET reason = excluded.reason, seen_at = excluded.seen_at");
  CHECK(to_postgres("INSERT OR IGNORE INTO t (a) VALUES (?)", s).sql == "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING");
  CHECK_FALSE(to_postgres("INSERT OR REPLACE INTO unknown (a) VALUES (1)", s).error.empty());
  // A bare column in DO UPDATE is the existing row's in SQLite; PostgreSQL needs it qualified.
  CHECK(to_postgres("INSERT INTO downloads (package_id, day, count) VALUES (?, ?, ?) ON CONFLICT (package_id, day) "
                    "DO UPDATE SET count = count + excluded.count",
                    s)
            .sql == "INSERT INTO downloads (package_id, day, count) VALUES ($1, $2, $3) ON CONFLICT (package_id, day) "
                    "DO UPDATE SET count = downloads.count + excluded.count");
  CHECK(to_postgres("INSERT INTO metadata_documents (key, body, revision) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                    "body = excluded.body WHERE excluded.revision > revision",
                    s)
            .sql == "INSERT INTO metadata_documents (key, body, revision) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET "
                    "body = excluded.body WHERE excluded.revision > metadata_documents.revision");
}

TEST_CASE("to_postgres adds RETURNING id to inserts so last_row_id can be reported", "[server][sql]") {
  schema_info s = sample_schema();
  auto t = to_postgres("INSERT INTO tokens (name) VALUES (?);", s);
  CHECK(t.sql == "INSERT INTO tokens (name) VALUES ($1) RETURNING id");
  CHECK(t.returning_added);
  CHECK_FALSE(t.read_only);
  auto own = to_postgres("INSERT INTO tokens (name) VALUES (?) RETURNING name", s);
  CHECK(own.sql == "INSERT INTO tokens (name) VALUES ($1) RETURNING name");
  CHECK_FALSE(own.returning_added);
}

TEST_CASE("d1 effects keep D1's semantics on the suite's database", "[server][sql]") {
  native_host h;
  std::optional<effect_error> err;
  std::string id = h.on_postgres() ? "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" : "id INTEGER PRIMARY KEY";
  json created = run(h, effect("d1.run", "CREATE TABLE t (" + id + ", name TEXT NOT NULL UNIQUE, n BIGINT)"), err);
  REQUIRE_FALSE(err);

  SECTION("last_row_id, changes, rows as objects with their types") {
    json a = run(h, effect("d1.run", "INSERT INTO t (name, n) VALUES (?, ?)", json(json_array{json("a"), json(5)})), err);
    REQUIRE_FALSE(err);
    json b = run(h, effect("d1.run", "INSERT INTO t (name, n) VALUES (?, ?)", json(json_array{json("b"), json()})), err);
    REQUIRE_FALSE(err);
    CHECK(b["meta"]["last_row_id"].as_int() == a["meta"]["last_row_id"].as_int() + 1);
    CHECK(b["meta"]["changes"].as_int() == 1);
    CHECK(b["results"].size() == 0);
    json all = run(h, effect("d1.all", "SELECT id, name, n FROM t ORDER BY id"), err);
    REQUIRE_FALSE(err);
    REQUIRE(all["results"].size() == 2);
    CHECK(all["results"].as_array()[0]["n"].is_integer());
    CHECK(all["results"].as_array()[0]["name"].as_string() == "a");
    CHECK(all["results"].as_array()[1]["n"].is_null());
    json up = run(h, effect("d1.run", "UPDATE t SET n = COALESCE(n, 0) + ? WHERE n IS NULL OR n > ?", json(json_array{json(1), json(0)})), err);
    REQUIRE_FALSE(err);
    CHECK(up["meta"]["changes"].as_int() == 2);
    json first = run(h, effect("d1.first", "SELECT name FROM t WHERE name = ?", json(json_array{json("zzz")})), err);
    REQUIRE_FALSE(err);
    CHECK(first["row"].is_null());
  }

  SECTION("a batch is all or nothing, and a unique violation reads like D1's") {
    (void)run(h, batch({{"INSERT INTO t (name) VALUES (?)", json(json_array{json("x")})},
                        {"INSERT INTO t (name) VALUES (?)", json(json_array{json("x")})}}),
              err);
    REQUIRE(err);
    CHECK(err->message.find("UNIQUE constraint failed") != std::string::npos);
    CHECK(h.query("SELECT name FROM t").size() == 0);
    json ok = run(h, batch({{"INSERT INTO t (name) VALUES (?)", json(json_array{json("y")})},
                            {"SELECT name FROM t", json::array()}}),
                  err);
    REQUIRE_FALSE(err);
    CHECK(ok["results"].as_array()[1]["results"].size() == 1);
  }

  SECTION("parameter counts and kinds are checked as D1 checks them") {
    (void)run(h, effect("d1.all", "SELECT * FROM t WHERE name = ?", json::array()), err);
    REQUIRE(err);
    CHECK(err->message.find("Wrong number of parameter bindings") != std::string::npos);
    json many = json::array();
    for (int i = 0; i < 101; ++i) many.push_back(json(i));
    (void)run(h, effect("d1.all", "SELECT 1", many), err);
    REQUIRE(err);
    CHECK(err->message.find("too many SQL variables") != std::string::npos);
    (void)run(h, effect("d1.all", "SELECT * FROM t WHERE name = ?", json(json_array{json::object()})), err);
    REQUIRE(err);
    CHECK(err->message.find("D1_TYPE_ERROR") != std::string::npos);
    (void)run(h, effect("d1.all", "SELECT * FROM no_such_table"), err);
    REQUIRE(err);
    CHECK(err->message.find("no such table: no_such_table") != std::string::npos);
  }

  SECTION("SQLite's own idioms the core writes: json_each, numbered parameters, VALUES column names") {
    json r = run(h, effect("d1.run", "INSERT INTO t (name, n) SELECT x.column1, ?1 FROM (VALUES (?), (?)) AS x WHERE true",
                           json(json_array{json(7), json("p"), json("q")})),
                 err);
    REQUIRE_FALSE(err);
    CHECK(r["meta"]["changes"].as_int() == 2);
    json ex = run(h, effect("d1.first", "SELECT json_extract(?, '$.a.b') AS v", json(json_array{json(R"({"a":{"b":"deep"}})")})), err);
    REQUIRE_FALSE(err);
    CHECK(ex["row"]["v"].as_string() == "deep");
    json in = run(h, effect("d1.all", "SELECT name FROM t WHERE name IN (SELECT value FROM json_each(?)) ORDER BY name",
                            json(json_array{json("[\"q\",\"nope\"]")})),
                  err);
    REQUIRE_FALSE(err);
    REQUIRE(in["results"].size() == 1);
    CHECK(in["results"].as_array()[0]["name"].as_string() == "q");
  }
}

TEST_CASE("every D1 migration has a PostgreSQL twin of the same name", "[server][sql]") {
  namespace fs = std::filesystem;
  std::set<std::string> d1, pg;
  for (const auto& e : fs::directory_iterator(fs::path(PB_SOURCE_DIR) / "d1" / "migrations")) d1.insert(e.path().filename());
  for (const auto& e : fs::directory_iterator(fs::path(PB_SOURCE_DIR) / "d1" / "postgres")) pg.insert(e.path().filename());
  CHECK(d1 == pg);
  std::vector<std::string> embedded_sqlite, embedded_pg;
  for (const auto& m : runners::embedded_migrations("sqlite")) embedded_sqlite.push_back(m.name);
  for (const auto& m : runners::embedded_migrations("postgres")) embedded_pg.push_back(m.name);
  CHECK(embedded_sqlite == std::vector<std::string>(d1.begin(), d1.end()));
  CHECK(embedded_pg == std::vector<std::string>(pg.begin(), pg.end()));
}

TEST_CASE("the SQLite and PostgreSQL schemas have the same tables, columns and indexes", "[server][sql][postgres]") {
  const char* url = std::getenv("PB_TEST_DATABASE_URL");
  if (!url || !*url) SKIP("needs PB_TEST_DATABASE_URL (CTest's native_suite_on_postgres runs it)");
  std::map<std::string, std::set<std::string>> lite, pg;
  runners::sqlite_database s(":memory:");
  runners::migrate(s);
  json tables = s.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'd1_migrations'");
  for (const auto& t : tables.as_array()) {
    json cols = s.query("SELECT name FROM pragma_table_info('" + std::string(t["name"].as_string()) + "')");
    for (const auto& c : cols.as_array()) lite[std::string(t["name"].as_string())].insert(std::string(c["name"].as_string()));
  }

  native_host h;  // a fresh PostgreSQL schema with d1/postgres applied
  REQUIRE(h.on_postgres());
  // Partitions (downloads_default, downloads_2026_01, ...) are storage of `downloads`, not tables of
  // their own in the D1 schema.
  json columns = h.query("SELECT c.table_name, c.column_name FROM information_schema.columns c "
                         "JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = current_schema()::regnamespace "
                         "WHERE c.table_schema = current_schema() AND NOT k.relispartition AND c.table_name <> 'd1_migrations'");
  for (const auto& r : columns.as_array())
    pg[std::string(r["table_name"].as_string())].insert(std::string(r["column_name"].as_string()));
  CHECK(lite == pg);
  CHECK(lite.count("downloads") == 1);

  // The indexes the migrations create by name (not those behind PRIMARY KEY/UNIQUE, which each
  // database names its own way), on the tables themselves (partitions inherit them).
  std::set<std::string> lite_indexes, pg_indexes;
  json lite_idx = s.query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL");
  for (const auto& r : lite_idx.as_array()) lite_indexes.insert(std::string(r["name"].as_string()));
  json idx = h.query("SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                     "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relnamespace = current_schema()::regnamespace "
                     "AND NOT t.relispartition AND t.relname <> 'd1_migrations' "
                     "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)");
  for (const auto& r : idx.as_array()) pg_indexes.insert(std::string(r["name"].as_string()));
  CHECK(lite_indexes == pg_indexes);
  CHECK(lite_indexes.count("downloads_by_day") == 1);
}

TEST_CASE("PostgreSQL: unnamed statements (pool_mode=transaction) give the same answers", "[server][sql][postgres]") {
  const char* url = std::getenv("PB_TEST_DATABASE_URL");
  if (!url || !*url) SKIP("needs PB_TEST_DATABASE_URL (CTest's native_suite_on_postgres runs it)");
  native_host h;
  runners::postgres_database named(runners::parse_postgres_url(std::string(url)));
  std::string schema = std::string(h.query("SELECT current_schema() AS s").as_array()[0]["s"].as_string());
  (void)schema;
  for (bool unnamed : {false, true}) {
    auto u = runners::parse_postgres_url(std::string(url) + "?application_name=pbtest" + (unnamed ? "&pool_mode=transaction" : ""));
    CHECK(u.named_statements == !unnamed);
    CHECK(u.conninfo.find("pool_mode") == std::string::npos);
    runners::postgres_database db(u);
    for (int i = 0; i < 3; ++i) {  // the second and third runs reuse the prepared statement (named mode)
      json r = db.run(effect("d1.first", "SELECT ? + 1 AS n, ? AS s", json(json_array{json(41), json("x")})));
      CHECK(r["row"]["n"].as_int() == 42);
      CHECK(r["row"]["s"].as_string() == "x");
    }
    // Named: the SELECT above and this query itself; unnamed: none.
    json names = db.query("SELECT count(*) AS n FROM pg_prepared_statements");
    CHECK(names.as_array()[0]["n"].as_int() == (unnamed ? 0 : 2));
  }
  CHECK(runners::parse_postgres_url("postgres://u:secret@h:5/db?sslmode=disable&pool_size=3").redacted ==
        "postgres://u:***@h:5/db?sslmode=disable");
  CHECK(runners::parse_postgres_url("postgres://u:secret@h:5/db?pool_size=3").pool_size == 3);
  CHECK_THROWS_AS(runners::parse_postgres_url("mysql://x"), runners::failure);
}
