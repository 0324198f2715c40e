#include "composer/zip_reader.h"

#include <array>

namespace pb::composer {

namespace {

constexpr std::string_view eocd_signature("PK\x05\x06", 4);
constexpr std::string_view zip64_locator_signature("PK\x06\x07", 4);
constexpr std::string_view central_signature("PK\x01\x02", 4);
constexpr std::string_view local_signature("PK\x03\x04", 4);
constexpr std::size_t eocd_size = 22;
constexpr std::size_t central_header_size = 46;
constexpr std::size_t local_header_size = 30;

std::uint16_t u16(std::string_view s, std::size_t at) {
  return static_cast<std::uint16_t>(std::uint8_t(s[at]) | std::uint8_t(s[at + 1]) << 8);
}
std::uint32_t u32(std::string_view s, std::size_t at) {
  return std::uint32_t(std::uint8_t(s[at])) | std::uint32_t(std::uint8_t(s[at + 1])) << 8 |
         std::uint32_t(std::uint8_t(s[at + 2])) << 16 | std::uint32_t(std::uint8_t(s[at + 3])) << 24;
}

error bad_zip(std::string message) { return make_error(error_code::unprocessable, std::move(message)); }

std::string quote_name(std::string_view name) {
  constexpr std::size_t max = 80;
  std::string q = "\"";
  q.append(name.substr(0, max));
  q += name.size() > max ? "...\"" : "\"";
  return q;
}

error zip64_unsupported(std::string_view where) {
  return bad_zip("zip64 archives are not supported (" + std::string(where) + ")");
}

// PHP's dirname() on a Unix build (zend_dirname): only '/' separates.
std::string_view php_dirname(std::string_view path) {
  if (path.empty()) return path;
  std::size_t end = path.size();  // exclusive
  while (end > 0 && path[end - 1] == '/') --end;
  if (end == 0) return "/";
  while (end > 0 && path[end - 1] != '/') --end;
  if (end == 0) return ".";
  while (end > 0 && path[end - 1] == '/') --end;
  if (end == 0) return "/";
  return path.substr(0, end);
}

std::string too_many_top_level(const std::vector<std::string>& paths) {
  std::string joined;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (i) joined += ',';
    joined += paths[i];
  }
  return "Archive has more than one top level directories, and no composer.json was found on the top level, so it's "
         "an invalid archive. Top level paths found were: " +
         joined;
}

// ZipArchive::locateName($name) with no flags: the first entry with exactly this name.
std::size_t locate_name(const std::vector<zip_entry>& entries, std::string_view name) {
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (entries[i].name == name) return i;
  return entries.size();
}

}  // namespace

result<zip_eocd> find_eocd(std::string_view tail, std::int64_t file_size) {
  if (file_size < 0 || static_cast<std::int64_t>(tail.size()) > file_size)
    return bad_zip("invalid zip read: " + std::to_string(tail.size()) + " tail bytes of a " +
                   std::to_string(file_size) + "-byte file");
  if (tail.size() < eocd_size)
    return bad_zip("not a zip archive: " + std::to_string(file_size) +
                   " bytes is too short for an end of central directory record");
  const std::int64_t tail_start = file_size - static_cast<std::int64_t>(tail.size());

  // Prefer a record whose comment ends exactly at the end of the file; accept trailing bytes after
  // the comment only when no exact candidate exists (some tools append data to archives).
  std::size_t found = std::string_view::npos;
  std::size_t loose = std::string_view::npos;
  for (std::size_t pos = tail.size() - eocd_size + 1; pos-- > 0;) {
    if (tail.compare(pos, 4, eocd_signature) != 0) continue;
    const std::size_t comment_len = u16(tail, pos + 20);
    if (pos + eocd_size + comment_len == tail.size()) {
      found = pos;
      break;
    }
    if (pos + eocd_size + comment_len < tail.size() && loose == std::string_view::npos) loose = pos;
  }
  if (found == std::string_view::npos) found = loose;
  if (found == std::string_view::npos)
    return bad_zip("not a zip archive: no end of central directory record in the last " +
                   std::to_string(tail.size()) + " bytes");

  const std::string_view rec = tail.substr(found, eocd_size);
  const std::uint16_t disk = u16(rec, 4), cd_disk = u16(rec, 6);
  const std::uint16_t disk_entries = u16(rec, 8), entries = u16(rec, 10);
  const std::uint32_t cd_size = u32(rec, 12), cd_offset = u32(rec, 16);
  if (entries == 0xFFFF || disk_entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF ||
      disk == 0xFFFF || cd_disk == 0xFFFF)
    return zip64_unsupported("end of central directory record holds zip64 markers");
  if (found >= 20 && tail.compare(found - 20, 4, zip64_locator_signature) == 0)
    return zip64_unsupported("zip64 end of central directory locator present");
  if (disk != 0 || cd_disk != 0 || disk_entries != entries)
    return bad_zip("multi-disk (split) zip archives are not supported (disk " + std::to_string(disk) +
                   ", central directory on disk " + std::to_string(cd_disk) + ")");

  const std::int64_t eocd_offset = tail_start + static_cast<std::int64_t>(found);
  if (std::int64_t(cd_offset) + std::int64_t(cd_size) > eocd_offset)
    return bad_zip("invalid zip archive: central directory (offset " + std::to_string(cd_offset) + ", size " +
                   std::to_string(cd_size) + ") does not end before the end of central directory record at " +
                   std::to_string(eocd_offset));
  if (entries > 0 && std::int64_t(cd_size) < std::int64_t(entries) * std::int64_t(central_header_size))
    return bad_zip("invalid zip archive: central directory of " + std::to_string(cd_size) + " bytes cannot hold " +
                   std::to_string(entries) + " entries");
  return zip_eocd{cd_offset, cd_size, entries};
}

result<std::vector<zip_entry>> parse_central_directory(std::string_view cd, std::int64_t expected_entries) {
  if (expected_entries < 0 || expected_entries > std::int64_t(cd.size() / central_header_size))
    return bad_zip("invalid zip archive: " + std::to_string(expected_entries) + " entries cannot fit in a " +
                   std::to_string(cd.size()) + "-byte central directory");
  std::vector<zip_entry> out;
  out.reserve(static_cast<std::size_t>(expected_entries));
  std::size_t pos = 0;
  for (std::int64_t i = 0; i < expected_entries; ++i) {
    const std::string where = "entry " + std::to_string(i) + " at central directory offset " + std::to_string(pos);
    if (cd.size() - pos < central_header_size)
      return bad_zip("invalid zip archive: central directory truncated in " + where);
    if (cd.compare(pos, 4, central_signature) != 0)
      return bad_zip("invalid zip archive: bad central directory signature in " + where);
    const std::size_t name_len = u16(cd, pos + 28), extra_len = u16(cd, pos + 30), comment_len = u16(cd, pos + 32);
    const std::size_t total = central_header_size + name_len + extra_len + comment_len;
    if (cd.size() - pos < total) return bad_zip("invalid zip archive: central directory truncated in " + where);
    zip_entry e;
    e.flags = u16(cd, pos + 8);
    e.method = u16(cd, pos + 10);
    e.crc32 = u32(cd, pos + 16);
    const std::uint32_t csize = u32(cd, pos + 20), usize = u32(cd, pos + 24), offset = u32(cd, pos + 42);
    const std::uint16_t disk_start = u16(cd, pos + 34);
    e.name.assign(cd.substr(pos + central_header_size, name_len));
    if (csize == 0xFFFFFFFF || usize == 0xFFFFFFFF || offset == 0xFFFFFFFF || disk_start == 0xFFFF)
      return zip64_unsupported("zip64 markers in " + where + " " + quote_name(e.name));
    e.compressed_size = csize;
    e.uncompressed_size = usize;
    e.local_header_offset = offset;
    out.push_back(std::move(e));
    pos += total;
  }
  if (pos != cd.size())
    return bad_zip("invalid zip archive: " + std::to_string(cd.size() - pos) +
                   " unexpected bytes after the last of " + std::to_string(expected_entries) +
                   " central directory entries");
  return out;
}

result<std::size_t> locate_composer_json(const std::vector<zip_entry>& entries) {
  constexpr std::string_view filename = "composer.json";
  // return root composer.json if it is there and is a file
  const std::size_t root = locate_name(entries, filename);
  if (root < entries.size()) return root;

  // Top-level paths in insertion order (PHP's array keys); a later duplicate is the same key.
  std::vector<std::string> top_level;
  auto add = [&](std::string path) -> bool {
    for (const auto& p : top_level)
      if (p == path) return true;
    top_level.push_back(std::move(path));
    return top_level.size() <= 1;
  };
  for (const zip_entry& e : entries) {
    const std::string_view name = e.name;
    const std::string_view dirname = php_dirname(name);
    // ignore OSX specific resource fork folder
    if (name.find("__MACOSX") != std::string_view::npos) continue;
    // handle archives with proper TOC
    if (dirname == ".") {
      if (!add(std::string(name))) return bad_zip(too_many_top_level(top_level));
      continue;
    }
    // handle archives which do not have a TOC record for the directory itself
    if (dirname.find('\\') == std::string_view::npos && dirname.find('/') == std::string_view::npos) {
      if (!add(std::string(dirname) + "/")) return bad_zip(too_many_top_level(top_level));
    }
  }
  if (!top_level.empty()) {
    const std::size_t nested = locate_name(entries, top_level.front() + std::string(filename));
    if (nested < entries.size()) return nested;
  }
  return bad_zip("No composer.json found either at the top level or within the topmost directory");
}

result<std::int64_t> local_data_offset(std::string_view prefix) {
  if (prefix.size() < local_header_size)
    return bad_zip("invalid zip archive: local file header truncated (" + std::to_string(prefix.size()) +
                   " of 30 bytes)");
  if (prefix.compare(0, 4, local_signature) != 0)
    return bad_zip("invalid zip archive: bad local file header signature");
  return std::int64_t(local_header_size) + u16(prefix, 26) + u16(prefix, 28);
}

result<> check_entry_supported(const zip_entry& entry) {
  if (entry.flags & 1) return bad_zip("zip entry " + quote_name(entry.name) + " is encrypted, which is not supported");
  if (entry.method != 0 && entry.method != 8)
    return bad_zip("zip entry " + quote_name(entry.name) + " uses compression method " + std::to_string(entry.method) +
                   "; only stored (0) and deflate (8) are supported");
  return std::monostate{};
}

std::uint32_t crc32(std::string_view bytes, std::uint32_t running) {
  static constexpr auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = ~running;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace pb::composer
