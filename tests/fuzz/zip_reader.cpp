// composer/zip_reader on any file: the input is the whole archive, read the way sources/artifact.cpp
// reads an upload from R2 (the tail, then the central directory, then one local header). Invariants:
// the central directory the reader accepts lies inside the file before its end record, it holds exactly
// the announced entries, and the composer.json it picks is one of them, named composer.json.
#include "composer/zip_reader.h"
#include "fuzz.h"

using namespace pb;
using namespace pb::composer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view file = fuzz::as_text(data, size);
  const auto file_size = static_cast<std::int64_t>(size);
  const std::size_t tail_len = static_cast<std::size_t>(std::min<std::int64_t>(file_size, zip_max_eocd_search));
  auto eocd = find_eocd(file.substr(size - tail_len), file_size);
  if (!eocd) {
    fuzz::check(!eocd.err().message.empty(), "an error without a message");
    return 0;
  }
  fuzz::check(eocd->cd_offset >= 0 && eocd->cd_size >= 0 && eocd->entries >= 0, "negative directory fields");
  fuzz::check(eocd->cd_offset + eocd->cd_size <= file_size - 22, "the central directory overlaps the end record");
  const std::string_view cd = file.substr(static_cast<std::size_t>(eocd->cd_offset), static_cast<std::size_t>(eocd->cd_size));
  auto entries = parse_central_directory(cd, eocd->entries);
  if (!entries) return 0;
  fuzz::check(static_cast<std::int64_t>(entries->size()) == eocd->entries, "not the announced number of entries");

  auto index = locate_composer_json(*entries);
  if (!index) return 0;
  fuzz::check(*index < entries->size(), "composer.json index out of range");
  const zip_entry& e = (*entries)[*index];
  const std::string_view name = e.name;
  fuzz::check(name.size() >= 13 && name.substr(name.size() - 13) == "composer.json", "picked an entry that is not composer.json",
              name);
  if (!check_entry_supported(e)) return 0;
  if (e.local_header_offset >= file_size) return 0;
  auto offset = local_data_offset(file.substr(static_cast<std::size_t>(e.local_header_offset), 30));
  if (!offset) return 0;
  fuzz::check(*offset >= 30 && *offset <= 30 + 2 * 65535, "local data offset out of range");
  const std::int64_t start = e.local_header_offset + *offset;
  if (start + e.compressed_size <= file_size && e.method == 0)
    (void)crc32(file.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(e.compressed_size)));
  return 0;
}
