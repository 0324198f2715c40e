// The upload splice's benchmark module (tests/bench/splice.mjs): the wasm CPU of one more version on a
// package of N versions, spliced into the stored document (storage::splice_first, what an upload runs
// when it can) against the full rebuild (storage::build_documents over every row). Only the core's
// work: the D1 reads and writes around either are not in it.
#include <cstdint>
#include <string>
#include <vector>

#include "storage/packages.h"

namespace {

constexpr const char* package = "acme/big";
std::vector<pb::storage::version_row> rows;  // oldest first; the last one is the list's current first
pb::storage::version_row added;              // one more: a new highest tag
std::string stored;                          // the tagged document of `rows`

pb::storage::version_row row_of(int i) {
  const int major = 1 + i / 100, minor = (i / 10) % 10, patch = i % 10;
  pb::storage::version_row v;
  v.id = i + 1;
  v.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  v.version_normalized = v.version + ".0";
  v.reference = std::string(40, static_cast<char>('a' + i % 6));
  v.dist_type = "zip";
  v.dist_shasum = v.reference;
  v.release_time = 1700000000000 + static_cast<std::int64_t>(i) * 3600000;
  // A composer.json like the serving bench's (tests/bench/seed.mjs): requirements drift by major.
  v.composer_json = std::string("{\"name\":\"") + package + "\",\"description\":\"A large SDK, release " + v.version +
                    "\",\"type\":\"library\",\"keywords\":[\"sdk\",\"api\"],\"homepage\":\"https://example.test\","
                    "\"license\":\"MIT\",\"authors\":[{\"name\":\"Acme\",\"email\":\"dev@example.test\"}],"
                    "\"require\":{\"php\":\"" + (major >= 5 ? ">=8.1" : ">=7.4") + "\",\"ext-json\":\"*\",\"psr/log\":\"^" +
                    std::to_string(1 + major % 3) + ".0\"},\"require-dev\":{\"phpunit/phpunit\":\"^10." +
                    std::to_string(minor) + "\"},\"autoload\":{\"psr-4\":{\"Acme\\\\Big\\\\\":\"src/\"}}}";
  return v;
}

}  // namespace

// Builds the package of n versions and its stored document; returns the document's size.
extern "C" __attribute__((used, visibility("default"))) std::int64_t pb_bench_splice_setup(std::int32_t n) {
  rows.clear();
  for (int i = 0; i < n; ++i) rows.push_back(row_of(i));
  added = row_of(n);
  stored = pb::storage::build_documents(package, rows).tagged;
  return static_cast<std::int64_t>(stored.size());
}

// mode 0: the full rebuild of n + 1 versions; 1: the splice; 2: both, 1 if they are equal byte for byte.
extern "C" __attribute__((used, visibility("default"))) std::int64_t pb_bench_splice_run(std::int32_t mode) {
  std::string full, spliced;
  if (mode != 1) {
    rows.push_back(added);
    full = pb::storage::build_documents(package, rows).tagged;
    rows.pop_back();
  }
  if (mode != 0) {
    auto s = pb::storage::splice_first(package, stored, false, added, &rows.back());
    if (!s) return -1;
    spliced = std::move(*s);
  }
  if (mode == 2) return full == spliced ? 1 : 0;
  return static_cast<std::int64_t>(mode == 0 ? full.size() : spliced.size());
}
