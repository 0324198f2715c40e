#include "http/headers.h"
#include "core/text.h"

#include <algorithm>

namespace pb::http {

namespace {
}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::optional<std::string_view> headers::get(std::string_view name) const {
  for (const auto& [k, v] : entries_)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

void headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void headers::add(std::string_view name, std::string_view value) { entries_.emplace_back(name, value); }

void headers::remove(std::string_view name) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const entry& e) { return iequals(e.first, name); }),
                 entries_.end());
}

}  // namespace pb::http
