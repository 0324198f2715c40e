// The isolate's hot cache: token records and p2 documents kept in wasm memory for a few seconds, so a
// p2 hit on a warm isolate needs no D1 read at all. Writes in this isolate (uploads, syncs, revocations)
// invalidate it at once; other isolates see a change within `ttl_ms` (documented in docs/API.md).
// Bounded in entries and bytes; the oldest entries go first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/json.h"
#include "storage/packages.h"
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

std::optional<stored_document> document(const std::string& key, std::int64_t now_ms);
void put_document(const std::string& key, const stored_document& d, std::int64_t now_ms);
void forget_document(const std::string& key);

// /health's storage probe (its D1 meta rows and KV/R2 reachability, as JSON): a load balancer calling
// every few seconds costs each isolate at most one probe per ttl_ms.
std::optional<json> health_probe(std::int64_t now_ms);
void put_health_probe(json probe, std::int64_t now_ms);

// Empties everything (tests start each case from a clean cache).
void clear();

}  // namespace pb::storage::hot_cache
