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

  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  const double compare_time = seconds([&] {
    std::size_t sink = 0;
    for (int r = 0; r < rounds; ++r) {
      for (const std::string& version : versions) sink += v::version_compare(version, "2.5.0.0-dev") > 0 ? 1 : 0;
    }
    g_sink = sink;
  });
  std::printf("%-32s %8s %10s\n", "constraint", "ns/check", "x compare");
  for (std::size_t i = 0; i < constraints.size(); ++i) {
    const double t = seconds([&] {
      std::size_t sink = 0;
      for (int r = 0; r < rounds; ++r) {
        for (const std::string& version : versions) sink += constraints[i].matches_version(version) ? 1 : 0;
      }
      g_sink = sink;
    });
    std::printf("%-32s %8.1f %10.2f\n", k_constraints[i], t * 1e9 / (rounds * versions.size()), t / compare_time);
  }
  std::printf("baseline version_compare: %.1f ns per call (%zu versions x %d rounds)\n",
              compare_time * 1e9 / (rounds * versions.size()), versions.size(), rounds);

  const double normalize_time = seconds([&] {
    std::size_t sink = 0;
    for (int r = 0; r < rounds * 20; ++r) {
      for (const char* text : k_versions) sink += v::normalize(text).ok() ? 1 : 0;
    }
    g_sink = sink;
  });
  const double parse_time = seconds([&] {
    std::size_t sink = 0;
    for (int r = 0; r < rounds * 20; ++r) {
      for (const char* text : k_constraints) sink += v::parse_constraints(text).ok() ? 1 : 0;
    }
    g_sink = sink;
  });
  std::printf("parse_constraints: %.2f x normalize() of one of its versions (%.1f us per constraint)\n",
              parse_time / normalize_time, parse_time * 1e6 / (rounds * 20 * std::size(k_constraints)));
  return 0;
}
