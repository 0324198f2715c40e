#include "routes/validate.h"

#include "auth/credentials.h"
#include "core/http_date.h"
#include "core/text.h"

namespace pb::routes {

namespace {

error bad(std::string message) { return make_error(error_code::bad_request, std::move(message)); }
std::string quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

}  // namespace

result<std::monostate> only_fields(const json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.as_object()) {
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return bad("unknown field " + quoted(key.substr(0, 60)) + " (allowed: " + list + ")");
    }
  }
  return std::monostate{};
}

result<std::optional<std::string>> string_field(const json& body, std::string_view name, std::size_t min, std::size_t max,
                                                bool nullable) {
  const json* v = body.find(name);
  if (!v || (nullable && v->is_null())) return std::optional<std::string>{};
  if (!v->is_string() || v->as_string().size() < min || v->as_string().size() > max)
    return bad(quoted(name) + " must be a string of " + std::to_string(min) + " to " + std::to_string(max) + " characters");
  return std::optional<std::string>{std::string(v->as_string())};
}

result<std::optional<std::int64_t>> integer_field(const json& body, std::string_view name, std::int64_t min,
                                                  std::int64_t max) {
  const json* v = body.find(name);
  if (!v || v->is_null()) return std::optional<std::int64_t>{};
  if (!v->is_integer() || v->as_int() < min || v->as_int() > max)
    return bad(quoted(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return std::optional<std::int64_t>{v->as_int()};
}

result<std::optional<std::int64_t>> time_field(const json& body, std::string_view name, bool end_of_day) {
  const json* v = body.find(name);
  if (!v || v->is_null()) return std::optional<std::int64_t>{};
  auto ms = v->is_string() && v->as_string().size() <= 40 ? parse_iso8601(v->as_string()) : std::nullopt;
  if (!ms) return bad(quoted(name) + " must be an ISO 8601 time such as 2027-01-01T00:00:00Z or a date, got " + v->dump().substr(0, 60));
  if (end_of_day && v->as_string().size() == 10) *ms += 86'400'000 - 1;
  return std::optional<std::int64_t>{*ms};
}

result<std::optional<std::vector<std::string>>> patterns_field(const json& body, std::string_view name, std::size_t max) {
  const json* v = body.find(name);
  if (!v || v->is_null()) return std::optional<std::vector<std::string>>{};
  if (!v->is_array() || v->size() == 0 || v->size() > max)
    return bad(quoted(name) + " must be a list of 1 to " + std::to_string(max) + " package patterns");
  std::vector<std::string> out;
  for (const auto& p : v->as_array()) {
    std::string pattern = ascii_lower(p.as_string());
    if (!p.is_string() || !auth::valid_pattern(pattern))
      return bad("invalid package pattern " + p.dump().substr(0, 60) + " in " + quoted(name) + " (use vendor/name, vendor/*, *)");
    out.push_back(std::move(pattern));
  }
  return std::optional<std::vector<std::string>>{std::move(out)};
}

result<page_request> read_page(const http::url& u) {
  page_request p;
  if (auto l = u.query_param("limit")) {
    std::int64_t n = 0;
    bool ok = !l->empty() && l->size() <= 3;
    for (char c : *l) {
      ok = ok && c >= '0' && c <= '9';
      n = n * 10 + (c - '0');
    }
    if (!ok || n < 1 || n > 200) return bad("\"limit\" must be an integer from 1 to 200");
    p.limit = n;
  }
  if (auto c = u.query_param("cursor")) {
    if (c->size() > 200) return bad("\"cursor\" is not a cursor this API returned");
    p.cursor = *c;
  }
  return p;
}

result<std::int64_t> id_cursor(const page_request& p) {
  if (p.cursor.empty()) return std::int64_t{0};
  std::int64_t n = 0;
  if (p.cursor.size() > 17) return bad("\"cursor\" is not a cursor this API returned");
  for (char c : p.cursor) {
    if (c < '0' || c > '9') return bad("\"cursor\" is not a cursor this API returned");
    n = n * 10 + (c - '0');
  }
  return n;
}

result<std::int64_t> path_id(std::string_view text, std::string_view what) {
  std::int64_t id = 0;
  bool ok = !text.empty() && text.size() <= 17;
  for (char c : text) {
    ok = ok && c >= '0' && c <= '9';
    if (!ok) break;  // no arithmetic on what is not a digit (found by the wire fuzzer: signed overflow)
    id = id * 10 + (c - '0');
  }
  if (!ok) return make_error(error_code::not_found, "no " + std::string(what) + " \"" + std::string(text.substr(0, 60)) + "\"");
  return id;
}

result<std::int64_t> time_param(const http::url& u, std::string_view name) {
  auto v = u.query_param(name);
  if (!v || v->empty()) return std::int64_t{0};
  auto ms = v->size() <= 40 ? parse_iso8601(*v) : std::nullopt;
  if (!ms) return bad(quoted(name) + " must be an ISO 8601 time or a date (2027-01-31)");
  return *ms;
}

}  // namespace pb::routes
