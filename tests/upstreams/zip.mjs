// Deterministic zip writer for the fake upstreams: deflate (node:zlib deflateRawSync) or stored
// entries, fixed DOS timestamps, CRC-32, central directory and end record. The same entries always give
// byte-identical archives, so a test can compute the sha1 a dist must have.
import { deflateRawSync } from "node:zlib";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// DOS date/time of a Date (UTC fields, 2-second resolution, clamped to 1980..2107).
export function dosDateTime(date) {
  const d = date instanceof Date ? date : new Date(date ?? Date.UTC(1980, 0, 1));
  const year = Math.min(2107, Math.max(1980, d.getUTCFullYear()));
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

const toBuffer = (c) => (Buffer.isBuffer(c) ? c : c instanceof Uint8Array ? Buffer.from(c) : Buffer.from(String(c), "utf8"));

// entries: { "path": string|Buffer } or [[path, content], ...]; a path ending in "/" is a directory
// entry (content ignored). Options:
//   prefix:   prepended to every path ("owner-repo-abc1234/"); its directory entry is added first when
//             directories is true
//   directories: add an entry for every parent directory (like `git archive`), default false
//   compress: deflate entries that shrink (default true); level: zlib level (default 6)
//   date:     timestamp of every entry (default 1980-01-01 00:00 UTC)
//   comment:  archive comment (GitHub puts the commit sha there)
//   sort:     sort paths (default true, so object key order does not matter)
export function zipFiles(entries, options = {}) {
  const { prefix = "", directories = false, compress = true, level = 6, date, comment = "", sort = true } = options;
  let list = (Array.isArray(entries) ? entries : Object.entries(entries)).map(([p, c]) => [String(p).replace(/^\/+/, ""), c]);
  if (sort) list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (directories) {
    const dirs = new Set();
    if (prefix) dirs.add("");
    for (const [p] of list) {
      const parts = p.split("/");
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/") + "/");
    }
    const existing = new Set(list.map(([p]) => p));
    const withDirs = [];
    for (const d of dirs) if (!existing.has(d)) withDirs.push([d, null]);
    list = list.concat(withDirs);
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  const { time: dosTime, date: dosDate } = dosDateTime(date);
  const locals = [];
  const central = [];
  let offset = 0;
  for (const [rel, content] of list) {
    const name = prefix + rel;
    if (!name) continue;
    const isDir = name.endsWith("/");
    const data = isDir ? Buffer.alloc(0) : toBuffer(content);
    const nameBuf = Buffer.from(name, "utf8");
    const crc = isDir ? 0 : crc32(data);
    let method = 0, stored = data;
    if (compress && !isDir && data.length > 0) {
      const d = deflateRawSync(data, { level });
      if (d.length < data.length) (method = 8), (stored = d);
    }
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(isDir ? 10 : 20, 4); // version needed
    lh.writeUInt16LE(0x0800, 6); // UTF-8 names
    lh.writeUInt16LE(method, 8);
    lh.writeUInt16LE(dosTime, 10);
    lh.writeUInt16LE(dosDate, 12);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(stored.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nameBuf.length, 26);
    lh.writeUInt16LE(0, 28);
    locals.push(lh, nameBuf, stored);

    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(0x0314, 4); // made by: unix, 2.0
    ch.writeUInt16LE(isDir ? 10 : 20, 6);
    ch.writeUInt16LE(0x0800, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt16LE(dosTime, 12);
    ch.writeUInt16LE(dosDate, 14);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(stored.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nameBuf.length, 28);
    ch.writeUInt16LE(0, 30); // extra
    ch.writeUInt16LE(0, 32); // comment
    ch.writeUInt16LE(0, 34); // disk
    ch.writeUInt16LE(0, 36); // internal attrs
    ch.writeUInt32LE(isDir ? ((0o40755 << 16) | 0x10) >>> 0 : (0o100644 << 16) >>> 0, 38); // external attrs
    ch.writeUInt32LE(offset, 42);
    central.push(ch, nameBuf);
    offset += 30 + nameBuf.length + stored.length;
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const commentBuf = Buffer.from(comment, "utf8");
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(commentBuf.length, 20);
  return Buffer.concat([...locals, ...central, end, commentBuf]);
}

// Reads a zip back (stored and deflated entries), checking every CRC: used by the tests and handy for
// asserting what an archive contains. Returns [{ name, data }] in central-directory order.
import { inflateRawSync } from "node:zlib";
export function readZip(buf) {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error("zip: no end of central directory record");
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error("zip: bad central directory entry");
    const method = buf.readUInt16LE(p + 10), crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20), usize = buf.readUInt32LE(p + 24);
    const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nlen).toString("utf8");
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`zip: bad local header for ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + csize);
    const data = method === 8 ? inflateRawSync(raw) : method === 0 ? Buffer.from(raw) : null;
    if (!data) throw new Error(`zip: unsupported method ${method} for ${name}`);
    if (data.length !== usize || crc32(data) !== crc) throw new Error(`zip: CRC or size mismatch for ${name}`);
    out.push({ name, data });
    p += 46 + nlen + xlen + clen;
  }
  return out;
}
