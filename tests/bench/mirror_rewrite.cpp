// pb_bench.wasm: the mirror-rewrite benchmark's entry point (tests/bench/wasm.mjs, docs/PERFORMANCE.md).
// Runs the production code a packagist mirror runs on one upstream p2 document, minus the D1 round trip
// between its halves: the document read one version at a time (sources::read_p2_versions: split,
// parse, expand), one row per version (sources::upstream_version_row: dist rewritten to this
// repository), then both documents rebuilt and minified (storage::build_documents, one version at a
// time). Not part of the Worker: a separate module built next to it. pb_bench_parse_floor is the
// floor of that work in the same module: one simdjson parse of the whole document and one copy of it;
// pb_bench_design_floor the floor of the design (two parses and two copies: see there).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/json.h"
#include "simdjson.h"
#include "sources/p2_reader.h"
#include "sources/sync.h"
#include "storage/packages.h"

extern "C" __attribute__((used, visibility("default"))) std::int64_t pb_bench_mirror_rewrite(const char* doc, std::uint32_t len,
                                                                                            const char* name,
                                                                                            std::uint32_t name_len) {
  std::string package(name, name_len);
  // As in sources::mirror_package: the rows are what stays of the document once read.
  std::vector<pb::storage::version_row> rows;
  bool ok = true;
  auto read = pb::sources::read_p2_versions(std::string_view(doc, len), package, [&](const pb::sources::p2_version& v) {
    auto row = pb::sources::upstream_version_row(v);
    if (!row) return ok = false;
    rows.push_back(std::move(row->v));
    return true;
  });
  if (!read) return -1;
  if (!ok) return -2;
  pb::composer::p2_documents docs = pb::storage::build_documents(package, rows);
  return static_cast<std::int64_t>(docs.tagged.size() + docs.dev.size());
}

// The least any rewrite does with the document: parse it once (simdjson's DOM, the kernel the
// production reader uses, without building our trees) and write as many bytes as it read. `doc` has
// simdjson's padding after `len` (wasm.mjs allocates 64 bytes more).
namespace {
simdjson::dom::parser floor_parser;  // both floors' (one parser's memory, reused as the product reuses its own)
}

extern "C" __attribute__((used, visibility("default"))) std::int64_t pb_bench_parse_floor(const char* doc, std::uint32_t len,
                                                                                         const char*, std::uint32_t) {
  auto& parser = floor_parser;
  simdjson::dom::element root;
  if (parser.parse(reinterpret_cast<const std::uint8_t*>(doc), len, false).get(root)) return -1;
  std::string out(len, '\0');
  std::memcpy(out.data(), doc, len);
  return static_cast<std::int64_t>(out.size() + (root.is_object() ? 1 : 0));
}

// The least the product's design does (docs/PERFORMANCE.md, "the design floor"): the mirror parses the
// upstream document and writes the rows' text (about the same bytes), then, on the other side of the
// D1 round trip, parses the rows again and writes the two documents (about the same bytes again). So:
// two simdjson parses and two copies of the document, no rules, no trees of our own.
extern "C" __attribute__((used, visibility("default"))) std::int64_t pb_bench_design_floor(const char* doc, std::uint32_t len,
                                                                                          const char*, std::uint32_t) {
  auto& parser = floor_parser;
  simdjson::dom::element root;
  if (parser.parse(reinterpret_cast<const std::uint8_t*>(doc), len, false).get(root)) return -1;
  std::string rows(len + simdjson::SIMDJSON_PADDING, '\0');  // the rows' text, padded for the second parse
  std::memcpy(rows.data(), doc, len);
  bool object = root.is_object();
  if (parser.parse(reinterpret_cast<const std::uint8_t*>(rows.data()), len, false).get(root)) return -1;
  std::string documents(len, '\0');
  std::memcpy(documents.data(), rows.data(), len);
  return static_cast<std::int64_t>(documents.size() + (object && root.is_object() ? 1 : 0));
}
