// Reading a composer.json (or an upstream's version object): p2_builder's version_entry, which turns
// it into Packagist's version object, and sync's upstream_version_row, which keeps an upstream version.
// Invariants: the entry is an object with the keys Packagist always writes, its json_encode parses back
// to the same value as PHP would read it, and a kept upstream row is complete and re-readable.
#include "composer/p2_builder.h"
#include "core/text.h"
#include "fuzz.h"
#include "php_equal.h"
#include "sources/sync.h"
#include "versions/version_parser.h"

using namespace pb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = parse_json(fuzz::as_text(data, size));
  if (!parsed) return 0;
  const json& cj = *parsed;

  composer::version_fields f;
  f.name = std::string(cj["name"].as_string("acme/widget"));
  f.version = std::string(cj["version"].as_string("1.0.0"));
  auto normalized = versions::normalize(f.version);
  f.version_normalized = normalized ? *normalized : "dev-main";
  f.reference = std::string(cj["dist"]["reference"].as_string("0123456789abcdef0123456789abcdef01234567"));
  f.dist_type = std::string(cj["dist"]["type"].as_string("zip"));
  f.dist_url = "__PB_ORIGIN__/dist/" + ascii_lower(f.name) + "/" + f.version_normalized + "/" + f.reference + ".zip";
  f.dist_shasum = std::string(cj["dist"]["shasum"].as_string());
  f.time = std::string(cj["time"].as_string());

  const json entry = composer::version_entry(cj, f);
  fuzz::check(entry.is_object(), "version_entry did not give an object", cj.dump());
  for (const char* key : {"name", "version", "version_normalized"})
    fuzz::check(entry[key].is_string(), "version_entry lacks a key Packagist always writes", key);
  const std::string encoded = composer::packagist_json_encode(entry);
  auto back = parse_json(encoded);
  fuzz::check(back.ok(), "packagist_json_encode wrote text that does not parse", encoded);
  fuzz::check(fuzz::php_equal_encoded(*back, entry), "packagist_json_encode changed the value",
              encoded + "\nentry: " + entry.dump());

  auto row = sources::upstream_version_row(cj);
  if (row) {
    fuzz::check(!row->v.version_normalized.empty() && !row->upstream_dist_url.empty() && !row->v.reference.empty(),
                "an upstream row without its version, dist URL or reference", cj.dump());
    fuzz::check(row->stability == versions::parse_stability(row->v.version_normalized),
                "the row's stability is not its version's", cj.dump());
    auto kept = parse_json(row->v.composer_json);
    fuzz::check(kept.ok() && kept->is_object() == cj.is_object(), "the kept composer.json does not parse back",
                row->v.composer_json);
  } else {
    fuzz::check(!row.err().message.empty(), "a refused version without a reason", cj.dump());
  }
  return 0;
}
