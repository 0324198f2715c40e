// The runner table: one async function per effect op in bindings/PROTOCOL.md. Each takes the effect
// object and the invocation's io ({ env, ctx, handles, respond }) and returns the result value; a
// thrown error becomes {"ok":false,"error":{name,message}} for C++. Big bodies stay here as handles.
import { runGrouped } from "./d1group.mjs";

const encoder = new TextEncoder();

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (buf) => {
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s);
};

function named(name, message) {
  return Object.assign(new Error(message), { name });
}

export function errorOutcome(err) {
  return {
    ok: false,
    error: { name: String(err?.name ?? "Error"), message: String(err?.message ?? err) },
  };
}

function binding(env, name) {
  const b = env[name];
  if (!b) throw named("MissingBinding", `the Worker has no ${name} binding (check wrangler.toml)`);
  return b;
}

const stmt = (env, sql, params = []) => binding(env, "DB").prepare(sql).bind(...params);

function objectInfo(obj) {
  return {
    found: true,
    key: obj.key,
    size: obj.size,
    etag: obj.etag,
    uploaded_ms: obj.uploaded?.getTime?.() ?? 0,
    http_metadata: obj.httpMetadata ?? {},
    custom_metadata: obj.customMetadata ?? {},
    ...(obj.range ? { range: rangeOf(obj) } : {}),
  };
}

function rangeOf(obj) {
  const r = obj.range;
  if ("suffix" in r) return { offset: Math.max(0, obj.size - r.suffix), length: Math.min(r.suffix, obj.size) };
  const offset = r.offset ?? 0;
  return { offset, length: r.length ?? obj.size - offset };
}

function headerPairs(headers) {
  return [...headers];
}

// Text goes into wasm JSON-escaped: a control character takes six bytes there. The limit holds for
// the escaped form too (with room for the quotes and backslashes ordinary JSON has), so a hostile body
// cannot turn max_bytes into six times as much wasm memory.
async function readText(stream, maxBytes) {
  const text = new TextDecoder().decode(await readBytes(stream, maxBytes));
  if (maxBytes != null && text.length > maxBytes / 4 && JSON.stringify(text).length > maxBytes * 1.5) {
    throw named("PayloadTooLarge", `body is larger than ${maxBytes} bytes once escaped`);
  }
  return text;
}

async function readBytes(stream, maxBytes) {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (maxBytes != null && total > maxBytes) {
      await reader.cancel();
      throw named("PayloadTooLarge", `body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

// Hashes the bytes that pass through, with crypto.DigestStream (one per algorithm). update() runs before
// the chunk goes on, so a sink that takes over the buffer cannot change what was hashed.
class Hasher {
  constructor(algorithms = []) {
    this.algorithms = algorithms;
    this.streams = algorithms.map((a) => new crypto.DigestStream(a));
    this.writers = this.streams.map((d) => d.getWriter());
  }
  update(chunk) {
    return Promise.all(this.writers.map((w) => w.write(chunk)));
  }
  // {"sha1": hex, "sha256": hex, ...}: the names PROTOCOL.md gives r2.put's digests.
  async finish() {
    await Promise.all(this.writers.map((w) => w.close()));
    const values = await Promise.all(this.streams.map((d) => d.digest));
    const out = {};
    this.algorithms.forEach((a, i) => {
      out[a.toLowerCase().replace("-", "")] = hex(values[i]);
    });
    return out;
  }
  abort(err) {
    for (const w of this.writers) w.abort(err).catch(() => {});
  }
}

// R2 refuses multipart parts under 5 MiB (all but the last), and every part but the last must have the
// same size. A stream of unknown length is held in memory one part at a time.
export const R2_PART_BYTES = 5 * 1024 * 1024;

function tooLarge(maxBytes) {
  return named("PayloadTooLarge", `body is larger than ${maxBytes} bytes`);
}

// Streams `stream` into R2 under `key`. With a known size a FixedLengthStream carries it (a short or long
// stream fails the put). With an unknown size (a chunked or decompressed upstream body) it goes up as a
// multipart upload, completed only when the stream ended whole and aborted otherwise. Either way an
// object appears whole or not at all, and memory holds at most one part, whatever the object's size.
// A body that broke off or has another length than promised is the body's fault (BadBody), not R2's.
async function readChunk(reader) {
  try {
    return await reader.read();
  } catch (err) {
    throw named("BadBody", `the body broke off: ${err?.message ?? err}`);
  }
}

async function putStream(bucket, key, stream, { size, maxBytes, hasher, opts }) {
  const reader = stream.getReader();
  let upload = null;
  let writer = null;
  let put = null;
  try {
    if (maxBytes != null && size != null && size > maxBytes) throw tooLarge(maxBytes);
    if (size != null) {
      const fixed = new FixedLengthStream(size);
      writer = fixed.writable.getWriter();
      put = bucket.put(key, fixed.readable, opts);
      // A put that fails stops reading: every write waits on it too, or the copy would wait forever.
      const putFailed = put.then(() => new Promise(() => {}));
      putFailed.catch(() => {});
      let total = 0;
      for (;;) {
        const { done, value } = await readChunk(reader);
        if (done) break;
        total += value.byteLength;
        if (total > size) throw named("BadBody", `the body is longer than the ${size} bytes expected`);
        await hasher.update(value);
        await Promise.race([writer.write(value), putFailed]);
      }
      if (total !== size) throw named("BadBody", `the body ended after ${total} of the ${size} bytes expected`);
      await Promise.race([writer.close(), putFailed]);
      return await put;
    }
    // One part buffer, reused: a part is copied in, sent, and the buffer filled again.
    const part = new Uint8Array(R2_PART_BYTES);
    const parts = [];
    let filled = 0;
    let total = 0;
    const sendPart = async (bytes) => {
      upload ??= await bucket.createMultipartUpload(key, opts);
      parts.push(await upload.uploadPart(parts.length + 1, bytes));
    };
    for (;;) {
      const { done, value } = await readChunk(reader);
      if (done) break;
      total += value.byteLength;
      if (maxBytes != null && total > maxBytes) throw tooLarge(maxBytes);
      await hasher.update(value);
      for (let at = 0; at < value.byteLength; ) {
        const n = Math.min(value.byteLength - at, R2_PART_BYTES - filled);
        part.set(value.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === R2_PART_BYTES) {
          await sendPart(part);
          filled = 0;
        }
      }
    }
    if (!upload) return await bucket.put(key, part.slice(0, filled), opts); // small enough for one put
    if (filled > 0) await sendPart(part.subarray(0, filled));
    return await upload.complete(parts);
  } catch (err) {
    hasher.abort(err);
    reader.cancel(err).catch(() => {});
    writer?.abort(err).catch(() => {});
    if (put) await put.catch(() => {});
    if (upload) await upload.abort().catch(() => {});
    throw err;
  }
}

// Splits a stream into two that advance together: the source is read only when every branch still being
// read wants more, so a slow reader (a client on a slow link) holds the other back instead of chunks
// piling up in memory, as ReadableStream.tee lets them for the slower branch. A cancelled branch stops
// counting; the source is cancelled when both are.
function lockstepTee(source) {
  const reader = source.getReader();
  const branches = [{}, {}];
  let ended = false;
  let reading = false;
  const live = () => branches.filter((b) => !b.cancelled);
  const release = (b) => {
    const wants = b.wants;
    b.wants = null;
    wants?.();
  };
  function step() {
    const readers = live();
    if (ended || reading || readers.length === 0 || !readers.every((b) => b.wants)) return;
    reading = true;
    reader.read().then(
      ({ done, value }) => {
        reading = false;
        ended = done;
        readers.forEach((b, i) => {
          if (!b.cancelled) {
            if (done) b.controller.close();
            else b.controller.enqueue(i === 0 ? value : value.slice()); // each branch owns its bytes
          }
          release(b);
        });
      },
      (err) => {
        reading = false;
        ended = true;
        for (const b of readers) {
          if (!b.cancelled) b.controller.error(err);
          release(b);
        }
      },
    );
  }
  return branches.map(
    (b) =>
      new ReadableStream(
        {
          start(controller) {
            b.controller = controller;
          },
          pull() {
            return new Promise((resolve) => {
              b.wants = resolve;
              step();
            });
          },
          cancel(reason) {
            b.cancelled = true;
            release(b);
            if (live().length === 0) return reader.cancel(reason);
            step();
          },
        },
        { highWaterMark: 0 },
      ),
  );
}

// The Worker's own named cache, not caches.default: the zone's cache, which requests from outside go
// through, neither reads nor fills entries here, whatever URL they are keyed by.
// Opened per use: a Cache object belongs to the request that opened it.
export const EDGE_CACHE_NAME = "package-broker";
const edgeCache = () => caches.open(EDGE_CACHE_NAME);

export const runners = {
  async "d1.all"(e, { env }) {
    const r = await stmt(env, e.sql, e.params).all();
    return { results: r.results ?? [], meta: { changes: r.meta?.changes ?? 0, last_row_id: r.meta?.last_row_id ?? 0 } };
  },
  async "d1.first"(e, { env }) {
    return { row: (await stmt(env, e.sql, e.params).first()) ?? null };
  },
  async "d1.run"(e, { env }) {
    if (e.group) return runGrouped(e, binding(env, "DB"), (fields, error) => (error || env.PB_LOG === "debug") && console.log(JSON.stringify({ group: e.group, ...fields })));
    const r = await stmt(env, e.sql, e.params).run();
    return { results: [], meta: { changes: r.meta?.changes ?? 0, last_row_id: r.meta?.last_row_id ?? 0 } };
  },
  async "d1.batch"(e, { env }) {
    const db = binding(env, "DB");
    const rs = await db.batch(e.statements.map((s) => db.prepare(s.sql).bind(...(s.params ?? []))));
    return {
      results: rs.map((r) => ({
        results: r.results ?? [],
        meta: { changes: r.meta?.changes ?? 0, last_row_id: r.meta?.last_row_id ?? 0 },
      })),
    };
  },

  async "kv.get"(e, { env }) {
    const opts = { type: "text", ...(e.cache_ttl ? { cacheTtl: e.cache_ttl } : {}) };
    const { value, metadata } = await binding(env, "KV").getWithMetadata(e.key, opts);
    return { value: value ?? null, metadata: metadata ?? null };
  },
  async "kv.put"(e, { env }) {
    const opts = {};
    if (e.expiration_ttl) opts.expirationTtl = e.expiration_ttl;
    if (e.metadata != null) opts.metadata = e.metadata;
    await binding(env, "KV").put(e.key, e.value, opts);
    return {};
  },
  async "kv.delete"(e, { env }) {
    await binding(env, "KV").delete(e.key);
    return {};
  },
  async "kv.list"(e, { env }) {
    const r = await binding(env, "KV").list({ prefix: e.prefix, limit: e.limit, ...(e.cursor ? { cursor: e.cursor } : {}) });
    return {
      keys: r.keys.map((k) => ({ name: k.name, expiration: k.expiration ?? 0, metadata: k.metadata ?? null })),
      list_complete: r.list_complete,
      cursor: r.cursor ?? "",
    };
  },

  async "r2.get"(e, io) {
    const opts = e.range ? { range: e.range } : {};
    const obj = await binding(io.env, "BUCKET").get(e.key, opts);
    if (!obj) return { found: false };
    const info = objectInfo(obj);
    if (e.read === "text") return { ...info, body: await obj.text() };
    if (e.read === "base64") return { ...info, body_b64: toB64(await obj.arrayBuffer()) };
    const length = info.range ? info.range.length : obj.size;
    return { ...info, handle: io.handles.add(obj.body, { length }) };
  },
  async "r2.head"(e, { env }) {
    const obj = await binding(env, "BUCKET").head(e.key);
    return obj ? objectInfo(obj) : { found: false };
  },
  async "r2.put"(e, io) {
    const opts = {};
    if (e.http_metadata) opts.httpMetadata = e.http_metadata;
    if (e.custom_metadata) opts.customMetadata = e.custom_metadata;
    const bucket = binding(io.env, "BUCKET");
    const hasher = new Hasher(e.digests ?? []);
    let obj;
    if (e.handle == null) {
      const bytes = encoder.encode(e.body ?? "");
      if (e.max_bytes != null && bytes.byteLength > e.max_bytes) throw tooLarge(e.max_bytes);
      await hasher.update(bytes);
      obj = await bucket.put(e.key, bytes, opts);
    } else {
      const h = io.handles.take(e.handle);
      const stream = h.stream ?? new Blob([]).stream();
      obj = await putStream(bucket, e.key, stream, { size: e.expected_size ?? h.length, maxBytes: e.max_bytes, hasher, opts });
    }
    return { key: obj.key, size: obj.size, etag: obj.etag, ...(await hasher.finish()) };
  },
  async "r2.delete"(e, { env }) {
    await binding(env, "BUCKET").delete(e.keys);
    return {};
  },

  async "cache.match"(e, io) {
    const r = await (await edgeCache()).match(e.url);
    if (!r) return { found: false };
    const base = { found: true, status: r.status, headers: headerPairs(r.headers) };
    if (e.read === "text") return { ...base, body: await r.text() };
    const len = r.headers.get("content-length");
    return { ...base, handle: io.handles.add(r.body, len ? { length: Number(len) } : {}) };
  },
  async "cache.put"(e, io) {
    const body = e.handle != null ? io.handles.take(e.handle).stream : e.body ?? "";
    await (await edgeCache()).put(e.url, new Response(body, { status: e.status, headers: e.headers }));
    return {};
  },

  async fetch(e, io) {
    const init = { method: e.method ?? "GET", headers: e.headers ?? [], redirect: e.redirect ?? "manual" };
    if (e.body_handle != null) init.body = io.handles.take(e.body_handle).stream;
    else if (e.body != null) init.body = e.body;
    if (e.timeout_ms) init.signal = AbortSignal.timeout(e.timeout_ms);
    const r = await fetch(e.url, init);
    const base = { status: r.status, url: r.url || e.url, headers: headerPairs(r.headers) };
    if (e.read === "handle") {
      const len = r.headers.get("content-length");
      return { ...base, handle: io.handles.add(r.body, len != null && !r.headers.get("content-encoding") ? { length: Number(len) } : {}) };
    }
    return { ...base, body: await readText(r.body, e.max_bytes) };
  },

  async "body.tee"(e, io) {
    const h = io.handles.take(e.handle);
    const [a, b] = lockstepTee(h.stream ?? new Blob([]).stream());
    const meta = h.length != null ? { length: h.length } : {};
    return { handles: [io.handles.add(a, meta), io.handles.add(b, meta)] };
  },
  async "body.text"(e, io) {
    return { body: await readText(io.handles.take(e.handle).stream, e.max_bytes) };
  },

  async "compression.decompress"(e) {
    const stream = new Blob([fromB64(e.data_b64)]).stream().pipeThrough(new DecompressionStream(e.format));
    return { body_b64: toB64(await readBytes(stream, e.max_bytes)) };
  },

  async "crypto.digest"(e) {
    return { hex: hex(await crypto.subtle.digest(e.algorithm, encoder.encode(e.data))) };
  },
  async "crypto.hmac"(e) {
    const key = await crypto.subtle.importKey("raw", encoder.encode(e.key), { name: "HMAC", hash: e.algorithm }, false, [
      "sign",
    ]);
    return { hex: hex(await crypto.subtle.sign("HMAC", key, encoder.encode(e.data))) };
  },
  async "crypto.random"(e) {
    return { hex: hex(crypto.getRandomValues(new Uint8Array(e.bytes))) };
  },
  async "crypto.aes_gcm_encrypt"(e) {
    const key = await crypto.subtle.importKey("raw", fromB64(e.key_b64), "AES-GCM", false, ["encrypt"]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const params = { name: "AES-GCM", iv, ...(e.aad ? { additionalData: encoder.encode(e.aad) } : {}) };
    const ct = await crypto.subtle.encrypt(params, key, encoder.encode(e.plaintext));
    return { iv_b64: toB64(iv), ciphertext_b64: toB64(ct) };
  },
  async "crypto.aes_gcm_decrypt"(e) {
    const key = await crypto.subtle.importKey("raw", fromB64(e.key_b64), "AES-GCM", false, ["decrypt"]);
    const params = { name: "AES-GCM", iv: fromB64(e.iv_b64), ...(e.aad ? { additionalData: encoder.encode(e.aad) } : {}) };
    const pt = await crypto.subtle.decrypt(params, key, fromB64(e.ciphertext_b64));
    return { plaintext: new TextDecoder().decode(pt) };
  },

  async "clock.now"() {
    return { ms: Date.now() };
  },
  async "clock.sleep"(e) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(Number(e.ms) || 0, 10_000))));
    return { ms: Date.now() };
  },

  // R2 bindings cannot sign URLs (that needs the S3 API and its keys): the core streams the archive instead.
  async "blob.presign"() {
    throw named("NotSupported", "an R2 binding cannot pre-sign URLs; the archive is streamed");
  },
  // Isolates share nothing to broadcast on: other isolates see changes within the hot cache's 10 s.
  async "isolates.invalidate"() {
    return {};
  },

  // The sync queue (wrangler.toml [[queues.producers]]); its messages come back to index.mjs queue().
  async "queue.send"(e, io) {
    await binding(io.env, "SYNC_QUEUE").send(e.body, { delaySeconds: Math.max(0, Number(e.delay_s) || 0), contentType: "json" });
    return {};
  },

  // `after`: an effect to run once the Response is handed over; `body_r2`: the R2 object to answer with,
  // read here (PROTOCOL.md). A gone object sends nothing and runs no `after`: the core answers instead.
  async "http.respond"(e, io) {
    if (e.body_r2) {
      const obj = await binding(io.env, "BUCKET").get(e.body_r2.key);
      if (!obj) return { found: false };
      e.response.body_handle = io.handles.add(obj.body, { length: obj.size });
    }
    io.respond(e.response);
    if (e.after == null) return {};
    return { after: await performEffect(e.after, io).then((value) => ({ ok: true, value: value ?? {} }), errorOutcome) };
  },
};

export async function performEffect(effect, io) {
  const run = runners[effect.op];
  if (!run) throw named("UnknownEffect", `no runner for effect op "${effect.op}"`);
  return run(effect, io);
}
