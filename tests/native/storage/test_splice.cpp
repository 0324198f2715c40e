// Differential test of the upload's splice (storage::documents_after_add, packages_splice.cpp) against
// the full rebuild: generated packages uploaded in many orders through the real upload route on two
// native hosts (real SQLite), one where the splice runs and one where it is made to fail (so every
// upload rebuilds); after each upload both hosts' stored documents (body, Last-Modified, revision) must
// be identical, and equal to storage::build_documents over the same rows.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "host/native_client.h"
#include "host/native_host.h"
#include "host/zip_writer.h"
#include "storage/packages.h"
#include "storage/packages_detail.h"

using namespace pb;
using namespace pb::testing;

namespace {

json admin_vars() {
  json v = json::object();
  v.set("ADMIN_TOKEN", json("adm"));
  return v;
}

struct upload_host {
  native_host h;
  client c{h, "https://repo.test", admin_vars()};
  int full_reads = 0;  // batches that read every version row (the full rebuild)
  int splice_reads = 0;

  explicit upload_host(bool splice_fails) {
    h.fault_if = [this, splice_fails](const json& e) -> std::optional<effect_error> {
      if (e["op"].as_string() != "d1.batch") return std::nullopt;
      for (const auto& st : e["statements"].as_array()) {
        const std::string_view sql = st["sql"].as_string();
        if (sql.find("WHERE p.name = ? ORDER BY v.id") != std::string_view::npos) ++full_reads;
        if (sql.find("CASE WHEN d.key = ? THEN d.body END") != std::string_view::npos) {
          ++splice_reads;
          if (splice_fails) return effect_error{"Error", "D1_ERROR: injected failure"};
        }
      }
      return std::nullopt;
    };
  }

  int upload(const std::string& name, const std::string& version, const std::string& composer_json) {
    std::string zip = make_zip({{"composer.json", composer_json}, {"src/X.php", "<?php // " + version}});
    header_list hs{{"authorization", "Bearer adm"}, {"content-length", std::to_string(zip.size())}};
    return c.call("PUT", "/admin/api/artifacts/" + name + "?version=" + version, hs, zip).status;
  }

  json documents() { return h.query("SELECT key, body, blob_key, last_modified, revision FROM metadata_documents ORDER BY key"); }

  std::vector<storage::version_row> rows(const std::string& name) {
    std::vector<storage::version_row> out;
    // The columns rebuild_documents reads, named as its D1 answer names them.
    std::string columns;
    for (std::string_view rest = storage::detail::version_columns; !rest.empty();) {
      const std::size_t comma = rest.find(", ");
      std::string_view one = rest.substr(0, comma);
      columns += std::string(columns.empty() ? "" : ", ") + std::string(one) + " AS " + std::string(one.substr(2));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    const json rows = h.query("SELECT " + columns + " FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = '" +
                              name + "' ORDER BY v.id");
    for (const auto& r : rows.as_array()) out.push_back(storage::detail::from_row(r));
    return out;
  }
};

// A composer.json whose optional fields come and go between versions (the diffs' "__unset"), with
// branch aliases, floats that print like integers, and now and then a default branch.
std::string random_composer_json(std::mt19937& rng, const std::string& name, bool default_branches, bool same_keys) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string j = "{\"name\":\"" + name + "\"";
  // The usual release: the same fields as the one before, some values changed.
  if (same_keys)
    return j + ",\"description\":\"release " + std::to_string(pick(3)) + "\",\"require\":{\"php\":\">=7." +
           std::to_string(pick(3)) + "\"},\"autoload\":{\"psr-4\":{\"Gen\\\\\":\"src/\"}}}";
  if (pick(4)) j += ",\"description\":\"" + std::vector<std::string>{"a package", "the package", "ünïcode \\u2028"}[pick(3)] + "\"";
  if (pick(3)) j += ",\"type\":\"library\"";
  if (!pick(3)) j += ",\"homepage\":\"https://example.test/" + std::to_string(pick(2)) + "\"";
  if (!pick(5)) j += ",\"homepage\":null";
  switch (pick(4)) {
    case 0: j += ",\"license\":\"MIT\""; break;
    case 1: j += ",\"license\":[\"MIT\",\"GPL-2.0-only\"]"; break;
    default: break;
  }
  if (!pick(3)) j += ",\"keywords\":[\"x\",\"y" + std::to_string(pick(2)) + "\"]";
  if (pick(2)) j += ",\"require\":{\"php\":\">=7." + std::to_string(pick(3)) + "\"" + (pick(2) ? ",\"psr/log\":\"^1.0\"" : "") + "}";
  switch (pick(6)) {
    case 0: j += ",\"extra\":{\"branch-alias\":{\"dev-main\":\"" + std::to_string(1 + pick(3)) + ".x-dev\"}}"; break;
    case 1: j += ",\"extra\":{\"ratio\":1.0}"; break;
    case 2: j += ",\"extra\":{\"ratio\":1}"; break;
    case 3: j += ",\"extra\":{\"ratio\":1.5}"; break;
    default: break;
  }
  if (pick(2)) j += ",\"autoload\":{\"psr-4\":{\"Gen\\\\\":\"src/\"}}";
  if (default_branches && !pick(12)) j += ",\"default-branch\":true";
  return j + "}";
}

std::string tagged_version(std::mt19937& rng) {
  static const std::vector<std::string> suffixes{"", "", "", "-beta1", "-RC2", "-alpha3"};
  std::string v = (rng() % 4 == 0 ? "v" : "") + std::to_string(rng() % 4) + "." + std::to_string(rng() % 10) + "." +
                  std::to_string(rng() % 10);
  return v + suffixes[rng() % suffixes.size()];
}

std::string dev_version(std::mt19937& rng) {
  switch (rng() % 4) {
    case 0: return "dev-main";
    case 1: return std::to_string(rng() % 4) + ".x-dev";
    default: return "dev-feature-" + std::to_string(rng() % 20);
  }
}

struct scenario_result {
  int uploads = 0;
  int spliced = 0;  // uploads that read no full version list on the splicing host
};

// Uploads `versions` in order to both hosts and compares after each one.
scenario_result run(std::mt19937& rng, const std::string& name, const std::vector<std::string>& versions,
                    bool default_branches, std::int64_t max_clock_step_ms, bool same_keys = false) {
  upload_host with(false), without(true);
  scenario_result out;
  std::int64_t now_ms = 1767225600000;  // the request clock: release times and Last-Modified
  for (const std::string& v : versions) {
    const std::string cj = random_composer_json(rng, name, default_branches, same_keys);
    const std::int64_t step = max_clock_step_ms ? static_cast<std::int64_t>(rng() % static_cast<unsigned>(max_clock_step_ms)) : 0;
    now_ms += step;
    with.c.now_ms = without.c.now_ms = now_ms;
    const int before = with.full_reads;
    const int a = with.upload(name, v, cj);
    const int b = without.upload(name, v, cj);
    INFO(name << " " << v << " " << cj);
    REQUIRE(a == b);
    if (a == 409) continue;  // the same normalized version again
    REQUIRE(a == 201);
    ++out.uploads;
    if (with.full_reads == before) ++out.spliced;
    const json docs_json = with.documents();
    REQUIRE(docs_json.dump() == without.documents().dump());
    const json_array& docs = docs_json.as_array();
    // And both are what build_documents makes of the rows, byte for byte.
    composer::p2_documents built = storage::build_documents(name, with.rows(name));
    REQUIRE(docs.size() == 2);
    CHECK(docs[0]["key"].as_string() == "p2/" + name + ".json");
    CHECK(docs[0]["body"].as_string() == built.tagged);
    CHECK(docs[1]["body"].as_string() == built.dev);
    const json package = with.h.query("SELECT revision FROM packages");
    const std::int64_t revision = package.as_array()[0]["revision"].as_int();
    CHECK(docs[0]["revision"].as_int() == revision);
    CHECK(docs[1]["revision"].as_int() == revision);
  }
  CHECK(without.splice_reads > 0);  // the comparison host did try (and fall back) every time
  return out;
}

}  // namespace

TEST_CASE("splice: ascending tags are spliced, and equal the full rebuild byte for byte", "[storage][splice][native]") {
  std::mt19937 rng(11);
  std::vector<std::string> versions;
  for (int i = 0; i < 24; ++i) versions.push_back(std::to_string(i / 8) + "." + std::to_string(i % 8) + ".0");
  scenario_result r = run(rng, "gen/ascending", versions, false, 3000, true);
  CHECK(r.uploads == 24);
  CHECK(r.spliced == 23);  // all but the first version
  // Fields that come and go (a key the new version lacks moves to the end of the minifier's state,
  // which later diffs depend on) are rebuilt; still byte for byte the same.
  r = run(rng, "gen/ascending", versions, false, 3000);
  CHECK(r.spliced > 5);
}

TEST_CASE("splice: new dev branches and the first version of each kind", "[storage][splice][native]") {
  std::mt19937 rng(12);
  // A first tag, the first dev branch (an empty ~dev list), a 2nd tag, then new branches, newest first.
  scenario_result r = run(rng, "gen/branches",
                          {"1.0.0", "dev-main", "1.1.0", "dev-feature-a", "dev-feature-b", "2.x-dev", "dev-feature-c", "1.2.0"},
                          false, 5000, true);
  CHECK(r.uploads == 8);
  // All but the first: "2.x-dev" sorts above dev-* branches, and dev-feature-c, uploaded after it, below.
  CHECK(r.spliced == 6);
}

TEST_CASE("splice: random versions in random orders equal the full rebuild", "[storage][splice][native]") {
  int uploads = 0, spliced = 0;
  for (unsigned seed = 1; seed <= 10; ++seed) {
    std::mt19937 rng(seed * 7919);
    std::vector<std::string> versions;
    for (int i = 0; i < 18; ++i) versions.push_back(rng() % 4 == 0 ? dev_version(rng) : tagged_version(rng));
    if (seed % 3 == 0) std::sort(versions.begin(), versions.end());  // mostly ascending, lexically
    // Same-millisecond uploads (seed 2, 5...) order by the comparator's later tie-breaks.
    scenario_result r = run(rng, "gen/random" + std::to_string(seed), versions, seed % 2 == 0, seed % 3 == 2 ? 0 : 4000);
    uploads += r.uploads;
    spliced += r.spliced;
  }
  // Both paths ran: the test would not notice a splice that never happens.
  CHECK(spliced > 10);
  CHECK(spliced < uploads);
}

TEST_CASE("dist_path: the archive's path, a '/' of a branch name escaped", "[storage][native]") {
  CHECK(storage::dist_path("acme/a", "1.2.3.0", "abc", "zip") == "/dist/acme/a/1.2.3.0/abc.zip");
  CHECK(storage::dist_path("acme/a", "dev-feature/x/y", "0f", "tar") == "/dist/acme/a/dev-feature%2Fx%2Fy/0f.tar");
  CHECK(storage::dist_path("acme/a", "dev-/", "", "zip") == "/dist/acme/a/dev-%2F/.zip");
}
