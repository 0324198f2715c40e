#include "storage/hot_cache.h"

#include "bindings/effects.h"

#include <list>
#include <unordered_map>

namespace pb::storage::hot_cache {

namespace {

constexpr std::size_t max_tokens = 1024;
constexpr std::size_t max_document_bytes = 16 * 1024 * 1024;  // of the isolate's 128 MB

template <class V>
struct ttl_map {
  struct entry {
    V value;
    std::int64_t stored_at;
    std::size_t bytes;
    typename std::list<std::string>::iterator order;
  };
  std::unordered_map<std::string, entry> map;
  std::list<std::string> order;  // oldest first
  std::size_t bytes = 0;

  const V* get(const std::string& key, std::int64_t now_ms) {
    auto it = map.find(key);
    if (it == map.end()) return nullptr;
    if (now_ms - it->second.stored_at > ttl_ms || now_ms < it->second.stored_at) {
      erase(key);
      return nullptr;
    }
    return &it->second.value;
  }
  void put(const std::string& key, V value, std::size_t size, std::int64_t now_ms, std::size_t max_entries,
           std::size_t max_bytes) {
    erase(key);
    if (size > max_bytes) return;
    while (!order.empty() && (map.size() >= max_entries || bytes + size > max_bytes)) erase(order.front());
    order.push_back(key);
    bytes += size;
    map.emplace(key, entry{std::move(value), now_ms, size, std::prev(order.end())});
  }
  void erase(const std::string& key) {
    auto it = map.find(key);
    if (it == map.end()) return;
    bytes -= it->second.bytes;
    order.erase(it->second.order);
    map.erase(it);
  }
  void clear() {
    map.clear();
    order.clear();
    bytes = 0;
  }
};

counters& stat() {
  static counters c;
  return c;
}

bool& broadcasting() {
  static bool on = false;
  return on;
}

ttl_map<token_record>& tokens() {
  static ttl_map<token_record> m;
  return m;
}
ttl_map<dist_row>& dists() {
  static ttl_map<dist_row> m;
  return m;
}
constexpr std::size_t max_dists = 4096;

ttl_map<std::shared_ptr<const stored_document>>& documents() {
  static ttl_map<std::shared_ptr<const stored_document>> m;
  return m;
}

}  // namespace

std::optional<token_record> token(const std::string& hash, std::int64_t now_ms) {
  const token_record* t = tokens().get(hash, now_ms);
  ++(t ? stat().token_hits : stat().token_misses);
  return t ? std::optional<token_record>(*t) : std::nullopt;
}

std::uint64_t& generation() {
  static std::uint64_t g = 0;
  return g;
}

std::uint64_t token_generation() { return generation(); }

void put_token(const std::string& hash, const token_record& t, std::int64_t now_ms, std::uint64_t generation_at_lookup) {
  if (generation_at_lookup != generation()) return;  // read before a revocation: possibly stale
  tokens().put(hash, t, 256, now_ms, max_tokens, max_tokens * 256);
}

void forget_tokens() {
  tokens().clear();
  ++generation();
}

void touched(std::int64_t token_id, std::int64_t now_ms) {
  for (auto& [hash, e] : tokens().map)
    if (e.value.id == token_id) e.value.last_used_at = now_ms;
}

std::shared_ptr<const stored_document> document(const std::string& key, std::int64_t now_ms) {
  const auto* d = documents().get(key, now_ms);
  ++(d ? stat().document_hits : stat().document_misses);
  return d ? *d : nullptr;
}

void put_document(const std::string& key, std::shared_ptr<const stored_document> d, std::int64_t now_ms) {
  if (!d) return;
  std::size_t size = d->body.size() + key.size() + 64;
  documents().put(key, std::move(d), size, now_ms, 100'000, max_document_bytes);
}

namespace {
struct catalog_entry {
  std::shared_ptr<catalog> c;
  std::int64_t stored_at = 0;
};
catalog_entry& the_catalog() {
  static catalog_entry c;
  return c;
}
std::uint64_t& catalog_gen() {
  static std::uint64_t g = 0;
  return g;
}
}  // namespace

void forget_document(const std::string& key) {
  documents().erase(key);
  dists().clear();
  forget_catalog();
}

std::optional<dist_row> dist(const std::string& key, std::int64_t now_ms) {
  const dist_row* d = dists().get(key, now_ms);
  return d ? std::optional<dist_row>(*d) : std::nullopt;
}

void put_dist(const std::string& key, dist_row row, std::int64_t now_ms) {
  if (row.v.dist_key.empty()) return;  // not stored yet: the next request must see the fetch-through's result
  row.v.composer_json.clear();
  std::size_t size = key.size() + row.v.dist_key.size() + row.v.upstream_dist_url.size() + 256;
  dists().put(key, std::move(row), size, now_ms, max_dists, max_dists * 1024);
}

std::shared_ptr<catalog> current_catalog(std::int64_t now_ms) {
  auto& e = the_catalog();
  if (!e.c) return nullptr;
  if (now_ms - e.stored_at > ttl_ms || now_ms < e.stored_at) {
    e.c.reset();
    return nullptr;
  }
  return e.c;
}

void put_catalog(std::shared_ptr<catalog> c, std::int64_t now_ms, std::uint64_t generation) {
  if (generation != catalog_gen()) return;
  the_catalog() = catalog_entry{std::move(c), now_ms};
}

std::uint64_t catalog_generation() { return catalog_gen(); }

std::uint64_t new_body_id() {
  static std::uint64_t last = 0;
  return ++last;
}

void forget_catalog() {
  the_catalog().c.reset();
  ++catalog_gen();
}

namespace {
struct probe_entry {
  json probe;
  std::int64_t at_ms = 0;
};
std::optional<probe_entry>& last_probe() {
  static std::optional<probe_entry> p;
  return p;
}
}  // namespace

std::optional<json> health_probe(std::int64_t now_ms) {
  auto& p = last_probe();
  if (!p || now_ms - p->at_ms >= ttl_ms || now_ms < p->at_ms) return std::nullopt;
  return p->probe;
}

void put_health_probe(json probe, std::int64_t now_ms) { last_probe() = probe_entry{std::move(probe), now_ms}; }

void clear() {
  forget_tokens();
  forget_catalog();
  documents().clear();
  dists().clear();
  last_probe().reset();
}

void set_broadcast(bool on) { broadcasting() = on; }

task<std::monostate> forget_everywhere(bool forget_all_tokens, std::vector<std::string> keys) {
  if (forget_all_tokens) forget_tokens();
  for (const auto& k : keys) forget_document(k);
  forget_catalog();
  if (broadcasting()) (void)co_await fx::invalidate_isolates(forget_all_tokens, std::move(keys));
  co_return std::monostate{};
}

void apply_invalidation(const json& m) {
  if (m["tokens"].as_bool()) forget_tokens();
  forget_catalog();  // every broadcast write may change /packages.json (a source change names no document)
  dists().clear();
  for (const auto& k : m["documents"].as_array()) forget_document(std::string(k.as_string()));
}

counters stats() { return stat(); }

}  // namespace pb::storage::hot_cache
