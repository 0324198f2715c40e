// Reading a zip archive's directory from byte ranges (the archive lives in R2; the caller fetches the
// tail, then the central directory, then a local header): the end-of-central-directory record, the
// central directory, the data offset of one entry, CRC-32, and which entry is the package's
// composer.json (port of Composer\Util\Zip::locateFile). No inflate and no I/O here; zip64 is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pb::composer {

// How many trailing bytes hold the end-of-central-directory record wherever it is: 22 bytes of record
// plus a comment of up to 65535 bytes.
inline constexpr std::int64_t zip_max_eocd_search = 22 + 65535;

struct zip_eocd {
  std::int64_t cd_offset = 0;  // from the start of the file
  std::int64_t cd_size = 0;
  std::int64_t entries = 0;
};

// Finds the end-of-central-directory record in `tail`, the last min(file_size, zip_max_eocd_search)
// bytes of a file of `file_size` bytes, searching backwards for a signature whose comment length
// reaches exactly the end of the file (or, failing that, fits before it). Errors (unprocessable):
// "not a zip archive", zip64 archives (0xFFFF/0xFFFFFFFF markers or a zip64 locator), multi-disk
// archives, a central directory that does not fit before the record.
[[nodiscard]] result<zip_eocd> find_eocd(std::string_view tail, std::int64_t file_size);

struct zip_entry {
  std::string name;  // raw bytes as stored (UTF-8 when flags bit 11 is set, else usually ASCII/CP437)
  std::uint16_t method = 0;
  std::uint16_t flags = 0;
  std::uint32_t crc32 = 0;
  std::int64_t compressed_size = 0;
  std::int64_t uncompressed_size = 0;
  std::int64_t local_header_offset = 0;

  bool is_directory() const { return !name.empty() && name.back() == '/'; }
};

// Parses exactly `expected_entries` central directory headers from `cd_bytes` (the cd_size bytes at
// cd_offset). Errors quote the entry index and offset: bad signature, truncation, zip64 markers,
// trailing bytes after the last entry.
[[nodiscard]] result<std::vector<zip_entry>> parse_central_directory(std::string_view cd_bytes,
                                                                     std::int64_t expected_entries);

// The index of the package's composer.json: port of Composer\Util\Zip::locateFile($zip, 'composer.json')
// (composer/composer src/Composer/Util/Zip.php). The root "composer.json" if present; otherwise the
// archive must have exactly one top-level path (entries containing "__MACOSX" are ignored; a
// directory without its own record counts through its files' names) and that path's composer.json.
// Errors (unprocessable) carry PHP's RuntimeException messages.
[[nodiscard]] result<std::size_t> locate_composer_json(const std::vector<zip_entry>& entries);

// Offset of an entry's data from the start of its local header: 30 + name length + extra length of
// the *local* header (which may differ from the central one). `local_header_prefix` holds at least
// the first 30 bytes of the local header.
[[nodiscard]] result<std::int64_t> local_data_offset(std::string_view local_header_prefix);

// Refuses entries this project cannot read: encrypted (flags bit 0) or compressed with anything but
// stored (0) or deflate (8).
[[nodiscard]] result<> check_entry_supported(const zip_entry& entry);

// CRC-32 (ISO-HDLC, the zip/gzip one), optionally continuing a running value.
[[nodiscard]] std::uint32_t crc32(std::string_view bytes, std::uint32_t running = 0);

}  // namespace pb::composer
