// composer.json out of a zip, for `broker artifact upload` (the package name comes from it). Reads the
// end record and the central directory and inflates one entry with node:zlib. Written here because it
// is 60 lines and the same rule as the Worker's (src/composer/zip_reader.cpp): composer.json at the root
// or inside exactly one top-level folder; a zip library would be a dependency for this alone.
import { readFileSync } from "node:fs";
import { inflateRawSync } from "node:zlib";

export function composerJsonOf(file) {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip archive (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: corrupt central directory`);
    const method = buf.readUInt16LE(at + 10);
    const csize = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    entries.push({ name: buf.toString("utf8", at + 46, at + 46 + nameLen), method, csize, local });
    at += 46 + nameLen + extraLen + commentLen;
  }
  const candidates = entries.filter((e) => /^([^/]+\/)?composer\.json$/.test(e.name) && !e.name.startsWith("__MACOSX/"));
  const root = candidates.find((e) => e.name === "composer.json");
  const pick = root ?? (candidates.length === 1 ? candidates[0] : null);
  if (!pick) throw new Error(`${file} has no composer.json at its root or in one top-level folder`);
  const lh = pick.local;
  const start = lh + 30 + buf.readUInt16LE(lh + 26) + buf.readUInt16LE(lh + 28);
  const data = buf.subarray(start, start + pick.csize);
  if (pick.method !== 0 && pick.method !== 8) throw new Error(`${file}: composer.json uses an unsupported compression method`);
  const raw = pick.method === 0 ? data : inflateRawSync(data);
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (e) {
    throw new Error(`${file}: composer.json is not valid JSON (${e.message})`);
  }
}
