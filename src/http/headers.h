// HTTP header list with case-insensitive lookup. Order and duplicates are kept as received; header
// names are stored as given (the Worker hands them to us lower-cased).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pb::http {

bool iequals(std::string_view a, std::string_view b);

class headers {
 public:
  using entry = std::pair<std::string, std::string>;

  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // Replaces every header of that name with one value.
  void set(std::string_view name, std::string_view value);
  void add(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  const std::vector<entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<entry> entries_;
};

}  // namespace pb::http
