// pb_versions_bench: what checking versions against a parsed constraint costs, the way licences will use
// it (every version of a p2 document against a token's constraints).
//
//   pb_versions_bench --check   counts heap allocations made by constraint::matches_version() over the
//                               whole set (CTest runs this: the answer must be 0)
//   pb_versions_bench [rounds]  prints timings as ratios against baselines measured in the same run:
//                               one version_compare() per version, and normalize() of one version per
//                               constraint text
//
// The global operator new is replaced here (and only in this binary) to count allocations.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "versions/comparator.h"
#include "versions/constraint.h"
#include "versions/version_parser.h"

namespace {
std::size_t g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  std::abort();  // -fno-exceptions: no bad_alloc to throw
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace v = pb::versions;

// Constraints as licences and composer.json files write them.
constexpr const char* k_constraints[] = {
    "^1.2", "~2.0|^3.0", ">=7.4 <8.3", "1.0.*", "^2.0@beta", "dev-main", "^1.0 || ^2.0 !=2.0.1 || ^3.0",
    "*", ">=1.0.0-beta1 <1.1", "1.0 - 2.1",
};
// The parse baseline: one version of each constraint above, as normalize() reads it.
constexpr const char* k_versions[] = {
    "1.2", "2.0", "7.4", "1.0", "2.0-beta", "dev-main", "2.0.1", "1.0", "1.0.0-beta1", "2.1",
};

// A package's versions as a p2 document lists them: tags with a few pre-releases, and branches.
std::vector<std::string> normalized_versions() {
  std::vector<std::string> out;
  for (int major = 0; major < 5; ++major) {
    for (int minor = 0; minor < 10; ++minor) {
      for (int patch = 0; patch < 8; ++patch) {
        std::string text = std::to_string(major) + '.' + std::to_string(minor) + '.' + std::to_string(patch);
        if (patch == 0 && minor % 3 == 0) out.push_back(*v::normalize(text + "-beta1"));
        out.push_back(*v::normalize(text));
      }
    }
    out.push_back(*v::normalize(std::to_string(major) + ".x-dev"));
  }
  for (const char* branch : {"dev-main", "dev-feature/licences", "dev-master"}) out.push_back(*v::normalize(branch));
  return out;
}

std::vector<v::constraint> parsed_constraints() {
  std::vector<v::constraint> out;
  for (const char* text : k_constraints) {
    auto c = v::parse_constraints(text);
    if (!c.ok()) {
      std::fprintf(stderr, "cannot parse %s: %s\n", text, c.err().message.c_str());
      std::exit(2);
    }
    out.push_back(std::move(c).value());
  }
  return out;
}

template <class F>
double seconds(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

volatile std::size_t g_sink = 0;  // keeps the measured work from being optimised away

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> versions = normalized_versions();
  const std::vector<v::constraint> constraints = parsed_constraints();

  if (argc > 1 && std::string(argv[1]) == "--check") {
    std::size_t matched = 0;
    const std::size_t before = g_allocations;
    for (const v::constraint& c : constraints) {
      for (const std::string& version : versions) matched += c.matches_version(version) ? 1 : 0;
    }
    const std::size_t allocations = g_allocations - before;
    std::printf("%zu checks (%zu matched): %zu heap allocations\n", versions.size() * constraints.size(), matched,
                allocations);
    // every constraint above matches some of the versions and misses others, except "*"
    if (matched == 0 || matched >= versions.size() * constraints.size()) return 1;
    return allocations == 0 ? 0 : 1;
  }

  // Each figure is the best of 7 runs, and each baseline is measured next to what it is compared with,
  // so that load from other processes skews both alike.
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 100;
  auto compare_all = [&] {
    std::size_t sink = 0;
    for (int r = 0; r < rounds; ++r) {
      for (const std::string& version : versions) sink += v::version_compare(version, "2.5.0.0-dev") > 0 ? 1 : 0;
    }
    g_sink = sink;
  };
  std::printf("%-32s %8s %10s\n", "constraint", "ns/check", "x compare");
  double best_compare_overall = 1e9;
  for (std::size_t i = 0; i < constraints.size(); ++i) {
    double best_compare = 1e9;
    double best_match = 1e9;
    for (int run = 0; run < 7; ++run) {
      best_compare = std::min(best_compare, seconds(compare_all));
      best_match = std::min(best_match, seconds([&] {
        std::size_t sink = 0;
        for (int r = 0; r < rounds; ++r) {
          for (const std::string& version : versions) sink += constraints[i].matches_version(version) ? 1 : 0;
        }
        g_sink = sink;
      }));
    }
    best_compare_overall = std::min(best_compare_overall, best_compare);
    std::printf("%-32s %8.1f %10.2f\n", k_constraints[i], best_match * 1e9 / (rounds * versions.size()),
                best_match / best_compare);
  }
  std::printf("baseline: one version_compare() per version, %.1f ns (%zu versions x %d rounds)\n",
              best_compare_overall * 1e9 / (rounds * versions.size()), versions.size(), rounds);

  double best_normalize = 1e9;
  double best_parse = 1e9;
  for (int run = 0; run < 7; ++run) {
    best_normalize = std::min(best_normalize, seconds([&] {
      std::size_t sink = 0;
      for (int r = 0; r < rounds * 10; ++r) {
        for (const char* text : k_versions) sink += v::normalize(text).ok() ? 1 : 0;
      }
      g_sink = sink;
    }));
    best_parse = std::min(best_parse, seconds([&] {
      std::size_t sink = 0;
      for (int r = 0; r < rounds * 10; ++r) {
        for (const char* text : k_constraints) sink += v::parse_constraints(text).ok() ? 1 : 0;
      }
      g_sink = sink;
    }));
  }
  std::printf("parse_constraints: %.2f x normalize() of one of its versions (%.2f us per constraint)\n",
              best_parse / best_normalize, best_parse * 1e6 / (rounds * 10 * std::size(k_constraints)));
  return 0;
}
