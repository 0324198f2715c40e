#include "runners/sql.h"

#include "runners/failure.h"

namespace pb::runners {

std::vector<sql_statement> d1_statements(const json& e) {
  std::vector<sql_statement> out;
  std::string_view op = e["op"].as_string();
  auto add = [&](const json& s) {
    if (!s["sql"].is_string() || s["sql"].as_string().empty()) fail("Error", "D1_ERROR: Cannot prepare an empty SQL statement");
    const json& p = s["params"];
    if (!p.is_null() && !p.is_array()) fail("TypeError", "D1_TYPE_ERROR: params must be an array");
    if (p.size() > 100) fail("Error", "D1_ERROR: too many SQL variables (D1 allows 100 bound parameters)");
    for (const auto& v : p.is_array() ? p.as_array() : json_array{})
      if (v.is_array() || v.is_object())
        fail("Error", "D1_TYPE_ERROR: Type 'object' not supported for value " + v.dump());
    out.push_back({std::string(s["sql"].as_string()), p.is_array() ? p : json::array()});
  };
  if (op == "d1.batch") {
    if (!e["statements"].is_array()) fail("TypeError", "D1_ERROR: batch() expects an array of statements");
    for (const auto& s : e["statements"].as_array()) add(s);
  } else {
    add(e);
  }
  return out;
}

json statement_result(json rows, std::int64_t changes, std::int64_t last_row_id) {
  json meta = json::object();
  meta.set("changes", json(changes));
  meta.set("last_row_id", json(last_row_id));
  json out = json::object();
  out.set("results", std::move(rows));
  out.set("meta", std::move(meta));
  return out;
}

json d1_value(std::string_view op, std::vector<json> results) {
  json out = json::object();
  if (op == "d1.batch") {
    json list = json::array();
    for (auto& r : results) list.push_back(std::move(r));
    out.set("results", std::move(list));
    return out;
  }
  if (results.size() != 1) fail("Error", "D1_ERROR: expected one statement");
  if (op == "d1.first") {
    const auto& rows = results[0]["results"].as_array();
    out.set("row", rows.empty() ? json() : rows.front());
    return out;
  }
  if (op == "d1.run") results[0].set("results", json::array());
  return std::move(results[0]);
}

std::vector<std::string> migrate(sql_database& db) {
  std::vector<std::string> applied;
  for (const auto& m : embedded_migrations(db.dialect()))
    if (db.apply_migration(m)) applied.push_back(m.name);
  return applied;
}

}  // namespace pb::runners
