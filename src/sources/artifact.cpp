#include "sources/artifact.h"

#include <algorithm>

#include "bindings/effects.h"
#include "composer/zip_reader.h"

namespace pb::sources {

namespace {
constexpr std::int64_t max_composer_json = 1024 * 1024;
constexpr std::int64_t eocd_search = 65557;  // 22-byte record + the longest comment
// The central directory is read into wasm in one piece (base64 inside the results document, parsed
// there): 2 MiB holds some 25,000 entries and keeps that read far from the isolate's 128 MB.
constexpr std::int64_t max_central_directory = 2 * 1024 * 1024;

error bad(std::string message) { return make_error(error_code::bad_request, std::move(message)); }

task<result<std::string>> read_range(std::string key, std::int64_t offset, std::int64_t length) {
  fx::r2_range r;
  r.offset = offset;
  r.length = length;
  auto obj = co_await fx::r2_get(std::move(key), fx::body_read::bytes, r);
  if (!obj) co_return std::move(obj).err();
  if (!obj->has_value()) co_return make_error(error_code::internal, "uploaded archive vanished from storage");
  if (static_cast<std::int64_t>((*obj)->text.size()) != length)
    co_return bad("the archive is truncated (a zip entry points past its end)");
  co_return std::move((*obj)->text);
}
}  // namespace

task<result<std::string>> read_composer_json_from_zip(std::string key, std::int64_t size) {
  if (size < 22) co_return bad("the body is not a zip archive (" + std::to_string(size) + " bytes)");
  std::int64_t tail_len = std::min(size, eocd_search);
  auto tail = co_await read_range(key, size - tail_len, tail_len);
  if (!tail) co_return std::move(tail).err();
  auto eocd = composer::find_eocd(*tail, size);
  if (!eocd) co_return bad(eocd.err().message);
  if (eocd->cd_offset + eocd->cd_size > size) co_return bad("the zip central directory points past the end of the archive");
  if (eocd->cd_size > max_central_directory)
    co_return bad("the zip central directory (" + std::to_string(eocd->cd_size) + " bytes, " +
                  std::to_string(eocd->entries) + " entries) is larger than 2 MiB");

  std::string cd;
  std::int64_t tail_start = size - tail_len;
  if (eocd->cd_offset >= tail_start) {
    cd = tail->substr(static_cast<std::size_t>(eocd->cd_offset - tail_start), static_cast<std::size_t>(eocd->cd_size));
  } else {
    auto r = co_await read_range(key, eocd->cd_offset, eocd->cd_size);
    if (!r) co_return std::move(r).err();
    cd = std::move(*r);
  }
  auto entries = composer::parse_central_directory(cd, eocd->entries);
  if (!entries) co_return bad(entries.err().message);
  auto index = composer::locate_composer_json(*entries);
  if (!index) co_return bad(index.err().message);
  const composer::zip_entry& e = (*entries)[*index];
  if (auto ok = composer::check_entry_supported(e); !ok) co_return bad(ok.err().message);
  if (e.uncompressed_size > max_composer_json || e.compressed_size > max_composer_json)
    co_return bad(e.name + " is larger than 1 MiB");

  auto header = co_await read_range(key, e.local_header_offset, 30);
  if (!header) co_return std::move(header).err();
  auto data_offset = composer::local_data_offset(*header);
  if (!data_offset) co_return bad(data_offset.err().message);
  auto data = co_await read_range(key, e.local_header_offset + *data_offset, e.compressed_size);
  if (!data) co_return std::move(data).err();

  std::string content;
  if (e.method == 8) {
    auto inflated = co_await fx::decompress("deflate-raw", std::move(*data), max_composer_json);
    if (!inflated) co_return bad(e.name + " could not be decompressed: " + inflated.err().message);
    content = std::move(*inflated);
  } else {
    content = std::move(*data);
  }
  if (static_cast<std::int64_t>(content.size()) != e.uncompressed_size || composer::crc32(content) != e.crc32)
    co_return bad(e.name + " is corrupt (size or CRC-32 does not match the zip directory)");
  co_return content;
}

}  // namespace pb::sources
