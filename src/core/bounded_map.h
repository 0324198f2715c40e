// Per-isolate maps with a size cap (rate-limit windows, audit denial slots): the policy for making room
// when a new key arrives at the cap, in one place. Entries are cheap to lose by design: each user of
// this keeps only counters whose loss means at most one extra row or one fresh window.
#pragma once

#include <cstddef>  // std::erase_if comes with the caller's map header

namespace pb {

// Before inserting a new key into `m` (at most `cap` entries): at the cap, drop the entries `stale`
// calls stale; if every entry is live, drop them all (start counting afresh) rather than grow.
template <class Map, class Stale>
void make_room(Map& m, std::size_t cap, Stale stale) {
  if (m.size() < cap) return;
  std::erase_if(m, [&](const auto& kv) { return stale(kv.second); });
  if (m.size() >= cap) m.clear();
}

}  // namespace pb
