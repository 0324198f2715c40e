#include "sources/p2_reader.h"

#include <optional>
#include <string>
#include <vector>

#include "composer/minifier.h"
#include "core/json_scan.h"
#include "core/text.h"
#include "simdjson.h"

namespace pb::sources {

using json_scan::broken;
using json_scan::go_on;
using json_scan::members;

result<std::monostate> read_p2_versions(std::string_view doc, std::string_view name,
                                        const std::function<bool(const json&)>& each, p2_lists which) {
  if (!simdjson::validate_utf8(doc.data(), doc.size())) return broken("the document is not UTF-8");
  if (doc.substr(0, 3) == "\xEF\xBB\xBF") doc.remove_prefix(3);  // a byte order mark, which simdjson skips too
  // "minified" may follow "packages" (Packagist writes it last): one pass for the top-level members,
  // one for the package lists. As json::operator[] does, the first of duplicate keys counts.
  std::optional<std::string_view> packages;
  bool minified = false, minified_seen = false;
  json_scanner top(doc);
  auto walked = members(top, [&](std::string_view key, std::string_view value) -> result<go_on> {
    if (key == "packages" && !packages) packages = value;
    if (key == "minified" && !minified_seen) {
      minified_seen = true;
      auto m = parse_json(value);
      if (!m) return std::move(m).err();
      minified = m->as_string() == "composer/2.0";
    }
    return go_on{};
  });
  if (!walked) return walked;
  top.skip_ws();
  if (!top.at_end()) return broken("content after the document");
  if (!packages || packages->front() != '{') return std::monostate{};  // no package lists: no versions

  // The lists to read: every key of the package (as a packagist mirror reads), or the last one (as
  // Composer's repository reader keeps it: a later key replaces an earlier one, list or not).
  std::vector<std::string_view> lists;
  json_scanner pk(*packages);
  auto found = members(pk, [&](std::string_view key, std::string_view value) -> result<go_on> {
    if (ascii_lower(key) != name) return go_on{};
    if (which == p2_lists::last) lists.clear();
    lists.push_back(value);
    return go_on{};
  });
  if (!found) return found;
  for (std::string_view list : lists) {
    if (list.front() != '[') continue;
    composer::expander expander;
    json_scanner sc(list);
    sc.take('[');
    if (sc.take(']')) continue;
    while (true) {
      auto text = sc.value();
      if (!text) return broken(sc.failure("a version entry was expected"));
      auto entry = parse_json(*text);
      if (!entry) return std::move(entry).err();
      const json& version = minified ? expander.next(std::move(*entry)) : *entry;
      if (!each(version)) return std::monostate{};
      if (sc.take(',')) continue;
      if (sc.take(']')) break;
      return broken("',' or ']' was expected");
    }
  }
  return std::monostate{};
}

}  // namespace pb::sources
