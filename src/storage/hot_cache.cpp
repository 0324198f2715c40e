#include "storage/hot_cache.h"

#include "bindings/effects.h"

#include <functional>
#include <list>
#include <unordered_map>

namespace pb::storage::hot_cache {

namespace {

constexpr std::size_t max_tokens = 1024;
constexpr std::size_t max_document_bytes = 16 * 1024 * 1024;  // of the isolate's 128 MB

// Lookups by string_view: a warm hit builds no key string.
struct key_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
};

template <class V>
struct ttl_map {
  struct entry {
    V value;
    std::int64_t stored_at;
    std::size_t bytes;
    typename std::list<std::string>::iterator order;
  };
  std::unordered_map<std::string, entry, key_hash, std::equal_to<>> map;
  std::list<std::string> order;  // oldest first
  std::size_t bytes = 0;

  entry* get(std::string_view key, std::int64_t now_ms) {
    auto it = map.find(key);
    if (it == map.end()) return nullptr;
    if (now_ms - it->second.stored_at > ttl_ms || now_ms < it->second.stored_at) {
      erase(key);
      return nullptr;
    }
    return &it->second;
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
  void erase(std::string_view key) {
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

ttl_map<std::shared_ptr<const token_record>>& tokens() {
  static ttl_map<std::shared_ptr<const token_record>> m;
  return m;
}
ttl_map<dist_row>& dists() {
  static ttl_map<dist_row> m;
  return m;
}
constexpr std::size_t max_dists = 4096;

constexpr std::size_t max_served_per_document = 16;  // origins x licence sets seen

ttl_map<std::shared_ptr<document_entry>>& documents() {
  static ttl_map<std::shared_ptr<document_entry>> m;
  return m;
}

}  // namespace

std::shared_ptr<const token_record> token(std::string_view hash, std::int64_t now_ms) {
  auto* e = tokens().get(hash, now_ms);
  ++(e ? stat().token_hits : stat().token_misses);
  return e ? e->value : nullptr;
}

std::uint64_t& generation() {
  static std::uint64_t g = 0;
  return g;
}

std::uint64_t token_generation() { return generation(); }

void put_token(const std::string& hash, std::shared_ptr<const token_record> t, std::int64_t now_ms,
               std::uint64_t generation_at_lookup) {
  if (!t || generation_at_lookup != generation()) return;  // read before a revocation: possibly stale
  tokens().put(hash, std::move(t), 256, now_ms, max_tokens, max_tokens * 256);
}

void forget_tokens() {
  tokens().clear();
  ++generation();
}

void touched(std::int64_t token_id, std::int64_t now_ms) {
  // Records are shared with requests in flight: a touched one is replaced, never changed in place.
  for (auto& [hash, e] : tokens().map)
    if (e.value->id == token_id) {
      auto copy = std::make_shared<token_record>(*e.value);
      copy->last_used_at = now_ms;
      e.value = std::move(copy);
    }
}

namespace {
struct documents_confirmation {
  std::int64_t marker = 0;
  std::int64_t read_at = 0;
};
documents_confirmation& confirmed() {
  static documents_confirmation c;
  return c;
}
bool within_ttl(std::int64_t since_ms, std::int64_t now_ms) { return now_ms >= since_ms && now_ms - since_ms <= ttl_ms; }
}  // namespace

std::shared_ptr<document_entry> document(std::string_view key, std::int64_t now_ms, bool count_miss) {
  // Not ttl_map::get: an entry past ttl_ms stays (within the byte budget) while a confirmation may
  // still show it current.
  auto& m = documents().map;
  auto it = m.find(key);
  bool current = false;
  if (it != m.end()) {
    const documents_confirmation& c = confirmed();
    current = within_ttl(it->second.stored_at, now_ms) ||
              (it->second.value->marker != 0 && it->second.value->marker == c.marker && within_ttl(c.read_at, now_ms));
  }
  if (current) ++stat().document_hits;
  else if (count_miss) ++stat().document_misses;
  return current ? it->second.value : nullptr;
}

void confirm_documents(std::int64_t marker, std::int64_t read_at_ms) {
  documents_confirmation& c = confirmed();
  if (marker <= 0 || read_at_ms < c.read_at || (read_at_ms == c.read_at && marker < c.marker)) return;
  c = {marker, read_at_ms};
}

std::shared_ptr<document_entry> put_document(const std::string& key, std::shared_ptr<const stored_document> d,
                                             std::int64_t now_ms, std::int64_t marker) {
  auto e = std::make_shared<document_entry>(document_entry{std::move(d), {}, marker});
  if (!e->doc) return e;
  std::size_t size = e->doc->body.size() + key.size() + 64;
  documents().put(key, e, size, now_ms, 100'000, max_document_bytes);
  return e;
}

const served_body& add_served(std::string_view key, document_entry& e, served_body b) {
  auto& m = documents();
  if (e.served.size() >= max_served_per_document) e.served.clear();  // bytes stay counted until the entry goes
  std::size_t size = b.bytes->size() + b.licences.size() + b.origin.size() + 64;
  e.served.push_back(std::move(b));
  auto it = m.map.find(key);
  if (it != m.map.end() && it->second.value.get() == &e) {
    it->second.bytes += size;
    m.bytes += size;
    // Over the budget now: the oldest entries go, never this one.
    while (m.bytes > max_document_bytes && m.order.size() > 1 && m.order.front() != key) m.erase(m.order.front());
  }
  return e.served.back();
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
  auto* e = dists().get(key, now_ms);
  return e ? std::optional<dist_row>(e->value) : std::nullopt;
}

void put_dist(const std::string& key, dist_row row, std::int64_t now_ms) {
  if (row.v.dist_key.empty()) return;  // not stored yet: the next request must see the fetch-through's result
  row.v.composer_json.clear();
  std::size_t size = key.size() + row.v.dist_key.size() + row.v.upstream_dist_url.size() + 256;
  dists().put(key, std::move(row), size, now_ms, max_dists, max_dists * 1024);
}

std::shared_ptr<catalog> current_catalog(std::int64_t now_ms) {
  auto& e = the_catalog();
  if (!e.c || now_ms - e.stored_at > ttl_ms || now_ms < e.stored_at) return nullptr;
  return e.c;
}

std::shared_ptr<catalog> expired_catalog() { return the_catalog().c; }

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
  confirmed() = {};
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
