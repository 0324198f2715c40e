// Input checks for the admin API: request bodies (unknown fields rejected, each field's type, length and
// pattern checked, every failure a 400 naming the field) and paging (?limit=&cursor=). Handlers run
// every check before their first write, so a rejected request changes nothing.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "http/url.h"

namespace pb::routes {

// bad_request naming the first member of body that is not in `allowed`.
result<std::monostate> only_fields(const json& body, std::initializer_list<std::string_view> allowed);

// A string member of min..max characters (bytes of UTF-8); nullopt when absent (or null and nullable).
result<std::optional<std::string>> string_field(const json& body, std::string_view name, std::size_t min, std::size_t max,
                                                bool nullable = false);
// An integer member in [min, max]; nullopt when absent or null.
result<std::optional<std::int64_t>> integer_field(const json& body, std::string_view name, std::int64_t min,
                                                  std::int64_t max);
// An ISO 8601 time ("2027-01-01T00:00:00Z" or a date); nullopt when absent or null. A bare date means
// its last millisecond when end_of_day is set (an inclusive "until").
result<std::optional<std::int64_t>> time_field(const json& body, std::string_view name, bool end_of_day = false);
// A list of package patterns (1..max entries); nullopt when absent or null.
result<std::optional<std::vector<std::string>>> patterns_field(const json& body, std::string_view name,
                                                               std::size_t max = 100);

// ?limit= (1..200, default 50) and ?cursor= (opaque, at most 200 characters).
struct page_request {
  std::int64_t limit = 50;
  std::string cursor;
};
result<page_request> read_page(const http::url& u);
// A cursor that is an id ("" -> 0).
result<std::int64_t> id_cursor(const page_request& p);

// A page as the API answers it: {key: [the first `limit` items], "next_cursor": the last listed item's
// cursor, or null when no further item was read}. Callers read limit + 1 items to know.
template <class Items, class ToJson, class CursorOf>
json page_json(std::string_view key, const Items& items, std::int64_t limit, ToJson to_json, CursorOf cursor_of) {
  json list = json::array();
  json next;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (static_cast<std::int64_t>(i) == limit) {
      next = json(cursor_of(items[i - 1]));
      break;
    }
    list.push_back(to_json(items[i]));
  }
  json out = json::object();
  out.set(key, std::move(list));
  out.set("next_cursor", std::move(next));
  return out;
}

// A numeric path id; not_found naming `what` otherwise.
result<std::int64_t> path_id(std::string_view text, std::string_view what);

// What a lookup by path id found: its error as is, not_found with `message` when it found nothing.
template <class T>
result<T> found_or_not_found(result<std::optional<T>> lookup, std::string message) {
  if (!lookup) return std::move(lookup).err();
  if (!lookup->has_value()) return make_error(error_code::not_found, std::move(message));
  return std::move(**lookup);
}

// A time query parameter (?since=): ISO 8601 or a date; 0 when absent.
result<std::int64_t> time_param(const http::url& u, std::string_view name);

}  // namespace pb::routes
