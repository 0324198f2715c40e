#include "host/zip_writer.h"

#include <zlib.h>

#include <cstdint>

namespace pb::testing {

namespace {
void u16(std::string& s, std::uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void u32(std::string& s, std::uint32_t v) {
  u16(s, v & 0xffff);
  u16(s, v >> 16);
}

std::string deflate_raw(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(static_cast<uLong>(in.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
}  // namespace

std::string make_zip(const std::vector<zip_file>& files, std::string comment) {
  std::string body, cd;
  for (const auto& f : files) {
    bool dir = !f.name.empty() && f.name.back() == '/';
    bool deflated = f.deflate && !dir;
    std::string data = deflated ? deflate_raw(f.content) : f.content;
    std::uint32_t crc = static_cast<std::uint32_t>(::crc32(0L, reinterpret_cast<const Bytef*>(f.content.data()),
                                                           static_cast<uInt>(f.content.size())));
    std::uint32_t offset = static_cast<std::uint32_t>(body.size());
    u32(body, 0x04034b50);
    u16(body, 20);
    u16(body, 0);
    u16(body, deflated ? 8 : 0);
    u16(body, 0);
    u16(body, 0x21);
    u32(body, crc);
    u32(body, static_cast<std::uint32_t>(data.size()));
    u32(body, static_cast<std::uint32_t>(f.content.size()));
    u16(body, static_cast<std::uint32_t>(f.name.size()));
    u16(body, 0);
    body += f.name;
    body += data;

    u32(cd, 0x02014b50);
    u16(cd, 0x031e);
    u16(cd, 20);
    u16(cd, 0);
    u16(cd, deflated ? 8 : 0);
    u16(cd, 0);
    u16(cd, 0x21);
    u32(cd, crc);
    u32(cd, static_cast<std::uint32_t>(data.size()));
    u32(cd, static_cast<std::uint32_t>(f.content.size()));
    u16(cd, static_cast<std::uint32_t>(f.name.size()));
    u16(cd, 0);
    u16(cd, 0);
    u16(cd, 0);
    u16(cd, 0);
    u32(cd, dir ? 0x41ed0010u : 0x81a40000u);
    u32(cd, offset);
    cd += f.name;
  }
  std::string out = body + cd;
  u32(out, 0x06054b50);
  u16(out, 0);
  u16(out, 0);
  u16(out, static_cast<std::uint32_t>(files.size()));
  u16(out, static_cast<std::uint32_t>(files.size()));
  u32(out, static_cast<std::uint32_t>(cd.size()));
  u32(out, static_cast<std::uint32_t>(body.size()));
  u16(out, static_cast<std::uint32_t>(comment.size()));
  out += comment;
  return out;
}

}  // namespace pb::testing
