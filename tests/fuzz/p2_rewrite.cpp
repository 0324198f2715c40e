// sources/p2_reader + the p2 writer (the packagist mirror's streaming rewrite) against the path they
// replaced (tests/reference/mirror_rewrite.h), on any input taken as an upstream p2 document for
// "acme/pkg": whenever the old path read the document, the new one reads it too and gives the same
// rows and byte-for-byte the same documents. Where the old path refused it (invalid JSON anywhere, more
// than max_json_values values), the new one may read it (it only scans parts it does not use) but must
// not crash.
#include "fuzz.h"
#include "reference/mirror_rewrite.h"

using namespace pb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view doc = fuzz::as_text(data, size);
  auto new_path = reference::production_rewrite(doc, "acme/pkg");
  auto old_path = reference::mirror_rewrite(doc, "acme/pkg");
  if (!old_path) return 0;
  fuzz::check(new_path.has_value(), "the reader refused a document the old path read", doc);
  const std::string diff = reference::difference(*old_path, *new_path);
  fuzz::check(diff.empty(), "the rewrite differs from the old path", diff + "\ninput: " + std::string(doc));
  return 0;
}
