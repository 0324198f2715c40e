// The runner table: one async function per effect op in bindings/PROTOCOL.md. Each takes the effect
// object and the invocation's io ({ env, ctx, handles, respond }) and returns the result value; a
// thrown error becomes {"ok":false,"error":{name,message}} for C++. Big bodies stay here as handles.
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

async function readText(stream, maxBytes) {
  return new TextDecoder().decode(await readBytes(stream, maxBytes));
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

async function digestStream(stream, algorithm) {
  const ds = new crypto.DigestStream(algorithm);
  await stream.pipeTo(ds);
  return hex(await ds.digest);
}

// Builds the body R2 (and the digests) read from: a string, or a handle's stream. A stream of known
// size goes through FixedLengthStream, which R2 needs, and which fails the put on a short or long body.
function putSource(e, io) {
  if (e.handle == null) {
    const bytes = encoder.encode(e.body ?? "");
    return { body: bytes, digestInputs: (e.digests ?? []).map(() => new Blob([bytes]).stream()), size: bytes.byteLength };
  }
  const h = io.handles.take(e.handle);
  let stream = h.stream ?? new Blob([]).stream();
  const digestInputs = [];
  for (let i = 0; i < (e.digests ?? []).length; i++) {
    const [a, b] = stream.tee();
    stream = a;
    digestInputs.push(b);
  }
  const size = e.expected_size ?? h.length;
  if (size != null) {
    const fixed = new FixedLengthStream(size);
    stream.pipeTo(fixed.writable).catch(() => {}); // the put sees the error through the readable side
    return { body: fixed.readable, digestInputs, size };
  }
  return { body: new Response(stream).arrayBuffer(), digestInputs, size: null };
}

export const runners = {
  async "d1.all"(e, { env }) {
    const r = await stmt(env, e.sql, e.params).all();
    return { results: r.results ?? [], meta: { changes: r.meta?.changes ?? 0, last_row_id: r.meta?.last_row_id ?? 0 } };
  },
  async "d1.first"(e, { env }) {
    return { row: (await stmt(env, e.sql, e.params).first()) ?? null };
  },
  async "d1.run"(e, { env }) {
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
    const { body, digestInputs } = putSource(e, io);
    const algorithms = e.digests ?? [];
    const digests = digestInputs.map((s, i) => digestStream(s, algorithms[i]));
    const opts = {};
    if (e.http_metadata) opts.httpMetadata = e.http_metadata;
    if (e.custom_metadata) opts.customMetadata = e.custom_metadata;
    const bucket = binding(io.env, "BUCKET");
    let obj;
    try {
      obj = await bucket.put(e.key, await body, opts);
    } catch (err) {
      await Promise.allSettled(digests);
      throw err;
    }
    const values = await Promise.all(digests);
    const out = { key: obj.key, size: obj.size, etag: obj.etag };
    algorithms.forEach((a, i) => {
      out[a.toLowerCase().replace("-", "")] = values[i];
    });
    return out;
  },
  async "r2.delete"(e, { env }) {
    await binding(env, "BUCKET").delete(e.keys);
    return {};
  },

  async "cache.match"(e, io) {
    const r = await caches.default.match(e.url);
    if (!r) return { found: false };
    const base = { found: true, status: r.status, headers: headerPairs(r.headers) };
    if (e.read === "text") return { ...base, body: await r.text() };
    const len = r.headers.get("content-length");
    return { ...base, handle: io.handles.add(r.body, len ? { length: Number(len) } : {}) };
  },
  async "cache.put"(e, io) {
    const body = e.handle != null ? io.handles.take(e.handle).stream : e.body ?? "";
    await caches.default.put(e.url, new Response(body, { status: e.status, headers: e.headers }));
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
    const [a, b] = (h.stream ?? new Blob([]).stream()).tee();
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

  // The sync queue (wrangler.toml [[queues.producers]]); its messages come back to index.mjs queue().
  async "queue.send"(e, io) {
    await binding(io.env, "SYNC_QUEUE").send(e.body, { delaySeconds: Math.max(0, Number(e.delay_s) || 0), contentType: "json" });
    return {};
  },

  async "http.respond"(e, io) {
    io.respond(e.response);
    return {};
  },
};

export async function performEffect(effect, io) {
  const run = runners[effect.op];
  if (!run) throw named("UnknownEffect", `no runner for effect op "${effect.op}"`);
  return run(effect, io);
}
