// pb_bench.wasm: the mirror-rewrite benchmark's entry point (tests/bench/wasm.mjs, docs/PERFORMANCE.md).
// Runs the production code a packagist mirror runs on one upstream p2 document, minus the D1 round trip
// between its halves: parse, expand (sources::p2_versions), one row per version
// (sources::upstream_version_row: dist rewritten to this repository), then both documents rebuilt and
// minified (storage::build_documents). Not part of the Worker: a separate module built next to it.
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "sources/sync.h"
#include "storage/packages.h"

extern "C" __attribute__((used, visibility("default"))) std::int64_t pb_bench_mirror_rewrite(const char* doc, std::uint32_t len,
                                                                                            const char* name,
                                                                                            std::uint32_t name_len) {
  std::string package(name, name_len);
  std::vector<pb::json> versions;
  {  // as in sources::read_p2: the parsed document lives only until its versions are expanded
    auto parsed = pb::parse_json(std::string_view(doc, len));
    if (!parsed) return -1;
    versions = pb::sources::p2_versions(*parsed, package);
  }
  // As in sources::mirror_package, the expanded versions stay alive until the documents are rebuilt.
  std::vector<pb::storage::version_row> rows;
  for (const auto& v : versions) {
    auto row = pb::sources::upstream_version_row(v);
    if (!row) return -2;
    rows.push_back(std::move(row->v));
  }
  pb::composer::p2_documents docs = pb::storage::build_documents(package, rows);
  return static_cast<std::int64_t>(docs.tagged.size() + docs.dev.size());
}
