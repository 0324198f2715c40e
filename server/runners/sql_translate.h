// The one place where the core's SQL (D1/SQLite dialect) becomes PostgreSQL: SQLite's parameter
// numbering (`?`, `?NNN`) to `$n`, `json_each(x)` to `json_array_elements_text(x::json)`,
// `json_extract(x, '$.a.b')` to `x::json #>> '{a,b}'` (text), `INSERT OR
// REPLACE/IGNORE` to `ON CONFLICT`, `IFNULL` to `COALESCE`, `LIKE` to `ILIKE` (SQLite's LIKE ignores
// ASCII case), bare column names in `ON CONFLICT ... DO UPDATE` expressions qualified with the table
// (PostgreSQL finds `count + excluded.count` ambiguous), and `RETURNING id` added to inserts into tables with an identity id so the runner can
// report D1's meta.last_row_id. Pure: no connection; the schema facts it needs come in `schema_info`.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pb::runners {

struct schema_info {
  std::map<std::string, std::vector<std::string>> primary_keys;  // table -> primary key columns
  std::map<std::string, bool> identity_id;                       // table -> has an identity column "id"
  std::map<std::string, std::set<std::string>> columns;          // table -> its columns
};

struct translated_sql {
  std::string sql;
  int parameter_count = 0;       // SQLite's sqlite3_bind_parameter_count: the largest index used
  bool returning_added = false;  // " RETURNING id" was appended for last_row_id: drop the rows
  bool read_only = false;        // a plain SELECT (or WITH ... SELECT)
  bool ddl = false;              // CREATE / ALTER / DROP: the schema facts change
  std::string error;             // non-empty: the statement cannot be translated
};

translated_sql to_postgres(std::string_view sqlite_sql, const schema_info& schema);

}  // namespace pb::runners
