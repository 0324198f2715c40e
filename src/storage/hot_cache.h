// The isolate's hot cache: token records, p2 documents (and their bodies as served) and the catalog
// behind /packages.json, kept in wasm memory for a few seconds, so a p2 hit or a packages.json on a warm
// isolate needs no D1 read at all. Writes in this isolate (uploads, syncs, source changes, revocations)
// invalidate it at once; other isolates see a change within `ttl_ms` (documented in docs/API.md).
// Bounded in entries and bytes; the oldest entries go first. Documents are shared, never copied out.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/task.h"
#include "core/json.h"
#include "storage/packages.h"
#include "storage/sources.h"
#include "storage/tokens.h"

namespace pb::storage::hot_cache {

inline constexpr std::int64_t ttl_ms = 10'000;

std::optional<token_record> token(const std::string& hash, std::int64_t now_ms);
// Token records carry the generation that was current when their lookup started: a lookup that was in
// flight across a revocation (forget_tokens) must not put the record it read back into the cache.
std::uint64_t token_generation();
void put_token(const std::string& hash, const token_record& t, std::int64_t now_ms, std::uint64_t generation);
// Empties the token cache and starts a new generation.
void forget_tokens();
// Records a token's last use in cached copies, so the hourly last_used_at write is not repeated.
void touched(std::int64_t token_id, std::int64_t now_ms);

// Documents by key: the stored ones ("p2/acme/widget.json"), the licence-filtered copies and the bodies
// as served (origin substituted) under keys the callers derive from those. A caller that derives an
// entry checks it against its basis's last_modified, which moves on every change.
std::shared_ptr<const stored_document> document(const std::string& key, std::int64_t now_ms);
void put_document(const std::string& key, std::shared_ptr<const stored_document> d, std::int64_t now_ms);
// Forgets the document, the package catalog and the archive rows (every document change may change
// the package list or remove versions).
void forget_document(const std::string& key);

// Archive rows for /dist by "package\nreference\nversion": only rows whose archive is stored (they do not
// change until the version goes away), without their composer.json; dropped with every document change
// in this isolate and after ttl_ms.
std::optional<dist_row> dist(const std::string& key, std::int64_t now_ms);
void put_dist(const std::string& key, dist_row row, std::int64_t now_ms);

// A fresh id for a body shared by many responses (http::response::shared_body_id); never reused while
// the instance lives.
std::uint64_t new_body_id();

// What /packages.json is made of: the package names and the enabled packagist sources, plus the bodies
// already rendered from them (by origin and token scope). One entry, dropped with every document or
// source change in this isolate and after ttl_ms.
struct catalog {
  std::vector<std::string> names;
  std::vector<source_record> mirrors;
  struct body {
    std::shared_ptr<const std::string> bytes;
    std::uint64_t id = 0;  // new_body_id()
  };
  std::map<std::string, body> rendered;  // by render key
};
std::shared_ptr<catalog> current_catalog(std::int64_t now_ms);  // null when absent or expired
// Stores a catalog unless a forget_catalog() happened since `generation` (taken before the D1 reads):
// what was read may predate that change, so it serves the request that read it and nothing else.
void put_catalog(std::shared_ptr<catalog> c, std::int64_t now_ms, std::uint64_t generation);
std::uint64_t catalog_generation();
void forget_catalog();

// /health's storage probe (its D1 meta rows and KV/R2 reachability, as JSON): a load balancer calling
// every few seconds costs each isolate at most one probe per ttl_ms.
std::optional<json> health_probe(std::int64_t now_ms);
void put_health_probe(json probe, std::int64_t now_ms);

// Empties everything (tests start each case from a clean cache).
void clear();

// Drops the entries (and always the catalog) here and, when the instance broadcasts invalidations
// (settings::broadcast_invalidations, set once per instance by pb_configure), in the host's other
// instances too (isolates.invalidate). The Worker does not broadcast: other isolates see changes
// within ttl_ms.
void set_broadcast(bool on);
task<std::monostate> forget_everywhere(bool tokens, std::vector<std::string> documents);
// Applies an invalidation another instance broadcast ({"tokens":bool,"documents":[...]}): the named
// documents, the catalog and the archive rows, and with "tokens" every token record.
void apply_invalidation(const json& message);

// Counters since the instance started (the server's /metrics).
struct counters {
  std::uint64_t token_hits = 0, token_misses = 0, document_hits = 0, document_misses = 0;
};
counters stats();

}  // namespace pb::storage::hot_cache
