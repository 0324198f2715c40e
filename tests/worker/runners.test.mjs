// Every runner of worker/runners.mjs, run in workerd against Miniflare's D1/KV/R2/Cache and a local
// upstream on 127.0.0.1: results have the shapes bindings/PROTOCOL.md gives, errors come back as error
// values, and streamed bodies reach R2 and the client whole, or R2 not at all.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHash, createHmac } from "node:crypto";
import { startWorker, BASE, SYNC_QUEUE } from "./helpers.mjs";

const sha = (alg, data) => createHash(alg).update(data).digest("hex");

describe("runner table in workerd", () => {
  let mf, upstream, upstreamUrl;
  const big = Buffer.alloc(300_000, "z");
  const chunked = Buffer.alloc(12 * 1024 * 1024 + 12345); // more than two 5 MiB parts
  for (let i = 0; i < chunked.length; i += 4096) chunked.writeUInt32LE(i, i);
  for (let i = 0; i < big.length; i += 7) big[i] = 65 + (i % 26);

  before(async () => {
    upstream = http.createServer((req, res) => {
      if (req.url === "/text") {
        res.writeHead(200, { "content-type": "text/plain", "x-up": "1" });
        res.end("hello upstream");
      } else if (req.url === "/big") {
        res.writeHead(200, { "content-type": "application/zip", "content-length": big.length });
        res.end(big);
      } else if (req.url === "/chunked" || req.url === "/chunked-broken") {
        // Built on the fly: no Content-Length, 64 KiB pieces; "-broken" drops the connection halfway.
        res.writeHead(200, { "content-type": "application/zip" });
        const stop = req.url === "/chunked" ? chunked.length : chunked.length >> 1;
        (async () => {
          for (let at = 0; at < stop; at += 65536) {
            if (!res.write(chunked.subarray(at, Math.min(at + 65536, stop)))) await new Promise((r) => res.once("drain", r));
          }
          if (req.url === "/chunked") res.end();
          else res.destroy();
        })();
      } else if (req.url === "/controls") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("\u0001".repeat(1000));
      } else if (req.url === "/truncated") {
        res.writeHead(200, { "content-type": "application/zip", "content-length": big.length });
        res.write(big.subarray(0, 1000), () => res.destroy());
      } else {
        res.writeHead(404);
        res.end("nope");
      }
    });
    await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
    upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
    mf = await startWorker({ script: "tests/worker/fixtures/runner-probe.mjs", migrate: false, options: SYNC_QUEUE });
  });
  after(async () => {
    await mf?.dispose();
    upstream?.closeAllConnections?.();
    await new Promise((r) => upstream.close(r));
  });

  async function run(effects, extra = {}) {
    const r = await mf.dispatchFetch(`${BASE}/run`, { method: "POST", body: JSON.stringify({ effects, ...extra }) });
    return r.json();
  }
  const values = (out) =>
    out.results.map((r) => {
      assert.equal(r.ok, true, JSON.stringify(r));
      return r.value;
    });

  test("http.respond with after: the effect runs once the response is handed over, never when sending failed", async () => {
    const put = (key) => ({ op: "kv.put", key, value: "1" });
    assert.deepEqual(values(await run([{ op: "http.respond", response: { status: 200, headers: [] }, after: put("probe:after") }])), [
      { after: { ok: true, value: {} } },
    ]);
    assert.deepEqual(values(await run([{ op: "http.respond", response: { status: 200, headers: [] } }])), [{}], "no after: {}");
    const out = await run([
      { op: "http.respond", response: { status: 599, headers: [] }, after: put("probe:after-unsent") },
      { op: "kv.get", key: "probe:after-unsent" },
      { op: "kv.get", key: "probe:after" },
    ]);
    assert.equal(out.results[0].ok, false, JSON.stringify(out.results[0]));
    assert.equal(out.results[1].value.value, null, "not run: the response did not go out");
    assert.equal(out.results[2].value.value, "1");
    const failing = values(await run([{ op: "http.respond", response: { status: 200, headers: [] }, after: { op: "no.such" } }]));
    assert.equal(failing[0].after.ok, false, "its failure is its own outcome, the response went out");
    assert.equal(failing[0].after.error.name, "UnknownEffect");
  });

  test("http.respond with body_r2: the object read here is the response's body; a gone one sends nothing and runs no after", async () => {
    const bytes = Buffer.alloc(70_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    assert.equal((await run([{ op: "r2.put", key: "probe/r2body", body: bytes.toString("latin1") }])).results[0].ok, true);
    const stored = await (await mf.getR2Bucket("BUCKET")).get("probe/r2body");
    const want = Buffer.from(await stored.arrayBuffer());
    const put = (key) => ({ op: "kv.put", key, value: "1" });
    // The probe answers with handle 1: the one the runner made for the object.
    const r = await mf.dispatchFetch(`${BASE}/run`, {
      method: "POST",
      body: JSON.stringify({
        effects: [{ op: "http.respond", body_r2: { key: "probe/r2body" }, after: put("probe:after-r2"), response: { status: 200, headers: [], body: "" } }],
        respond_handle: 1,
      }),
    });
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(want), "the object's bytes");
    assert.deepEqual(JSON.parse(r.headers.get("x-results")), [{ ok: true, value: { after: { ok: true, value: {} } } }]);
    const gone = await run([
      { op: "http.respond", body_r2: { key: "probe/no-such-object" }, after: put("probe:after-gone"), response: { status: 200, headers: [], body: "" } },
      { op: "kv.get", key: "probe:after-gone" },
      { op: "kv.get", key: "probe:after-r2" },
    ]);
    assert.deepEqual(values(gone)[0], { found: false });
    assert.equal(gone.results[1].value.value, null, "after not run: nothing went out");
    assert.equal(gone.results[2].value.value, "1");
  });

  test("d1.run, d1.all, d1.first and d1.batch", async () => {
    const out = await run([
      { op: "d1.run", sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)", params: [] },
      { op: "d1.run", sql: "INSERT INTO t (name, score) VALUES (?, ?)", params: ["a", 1.5] },
      {
        op: "d1.batch",
        statements: [
          { sql: "INSERT INTO t (name, score) VALUES (?, ?)", params: ["b", 2] },
          { sql: "INSERT INTO t (name, score) VALUES (?, ?)", params: ["c", null] },
        ],
      },
      { op: "d1.all", sql: "SELECT name, score FROM t ORDER BY id", params: [] },
      { op: "d1.first", sql: "SELECT name FROM t WHERE name = ?", params: ["zzz"] },
      { op: "d1.first", sql: "SELECT count(*) AS n FROM t", params: [] },
    ]);
    const [, ins, batch, all, none, count] = values(out);
    assert.equal(ins.meta.changes, 1);
    assert.equal(ins.meta.last_row_id, 1);
    assert.equal(batch.results.length, 2);
    assert.equal(batch.results[1].meta.last_row_id, 3);
    assert.deepEqual(all.results, [
      { name: "a", score: 1.5 },
      { name: "b", score: 2 },
      { name: "c", score: null },
    ]);
    assert.equal(none.row, null);
    assert.deepEqual(count.row, { n: 3 });
  });

  test("a failing batch applies nothing and comes back as an error value", async () => {
    const out = await run([
      { op: "d1.run", sql: "CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT NOT NULL)", params: [] },
      {
        op: "d1.batch",
        statements: [
          { sql: "INSERT INTO u (v) VALUES (?)", params: ["ok"] },
          { sql: "INSERT INTO u (v) VALUES (?)", params: [null] },
        ],
      },
      { op: "d1.first", sql: "SELECT count(*) AS n FROM u", params: [] },
      { op: "d1.all", sql: "SELEKT nonsense", params: [] },
    ]);
    assert.equal(out.results[1].ok, false);
    assert.match(out.results[1].error.message, /NOT NULL/);
    assert.deepEqual(out.results[2].value.row, { n: 0 });
    assert.equal(out.results[3].ok, false);
    assert.match(out.results[3].error.message, /syntax error/);
  });

  test("d1.run with a group answers as a plain run: its own changes and row id, or its error", async () => {
    const out = await run([
      { op: "d1.run", sql: "CREATE TABLE g (id INTEGER PRIMARY KEY, v TEXT NOT NULL)", params: [] },
      { op: "d1.run", sql: "INSERT INTO g (v) VALUES (?)", params: ["x"], group: "probe" },
      { op: "d1.run", sql: "INSERT INTO g (v) VALUES (?)", params: [null], group: "probe" },
      { op: "d1.first", sql: "SELECT count(*) AS n FROM g", params: [] },
    ]);
    assert.equal(out.results[1].ok, true, JSON.stringify(out.results[1]));
    assert.deepEqual(out.results[1].value, { results: [], meta: { changes: 1, last_row_id: 1 } });
    assert.equal(out.results[2].ok, false);
    assert.match(out.results[2].error.message, /NOT NULL/);
    assert.deepEqual(out.results[3].value.row, { n: 1 });
  });

  test("kv.put with ttl and metadata, kv.get, kv.list, kv.delete", async () => {
    const out = await run([
      { op: "kv.put", key: "tok:1", value: "v1", expiration_ttl: 3600, metadata: { scope: "acme/*" } },
      { op: "kv.put", key: "tok:2", value: "v2" },
      { op: "kv.put", key: "other", value: "x" },
      { op: "kv.get", key: "tok:1" },
      { op: "kv.list", prefix: "tok:", limit: 10 },
      { op: "kv.delete", key: "tok:1" },
      { op: "kv.get", key: "tok:1" },
    ]);
    const [, , , got, list, , gone] = values(out);
    assert.deepEqual(got, { value: "v1", metadata: { scope: "acme/*" } });
    assert.deepEqual(
      list.keys.map((k) => k.name),
      ["tok:1", "tok:2"],
    );
    assert.ok(list.keys[0].expiration > Date.now() / 1000);
    assert.equal(list.list_complete, true);
    assert.deepEqual(gone, { value: null, metadata: null });
  });

  test("r2.put text with digests, r2.head, ranged r2.get, r2.delete", async () => {
    const text = "0123456789abcdef";
    const out = await run([
      {
        op: "r2.put",
        key: "dist/a.zip",
        body: text,
        http_metadata: { contentType: "application/zip" },
        custom_metadata: { reference: "abc" },
        digests: ["SHA-1", "SHA-256"],
      },
      { op: "r2.head", key: "dist/a.zip" },
      { op: "r2.get", key: "dist/a.zip", read: "text", range: { offset: 2, length: 3 } },
      { op: "r2.get", key: "dist/a.zip", read: "text", range: { suffix: 4 } },
      { op: "r2.get", key: "missing", read: "text" },
      { op: "r2.delete", keys: ["dist/a.zip"] },
      { op: "r2.head", key: "dist/a.zip" },
    ]);
    const [put, head, range, suffix, missing, , after] = values(out);
    assert.equal(put.size, 16);
    assert.equal(put.sha1, sha("sha1", text));
    assert.equal(put.sha256, sha("sha256", text));
    assert.equal(head.found, true);
    assert.equal(head.size, 16);
    assert.deepEqual(head.custom_metadata, { reference: "abc" });
    assert.equal(head.http_metadata.contentType, "application/zip");
    assert.equal(range.body, "234");
    assert.deepEqual(range.range, { offset: 2, length: 3 });
    assert.equal(suffix.body, "cdef");
    assert.deepEqual(suffix.range, { offset: 12, length: 4 });
    assert.deepEqual(missing, { found: false });
    assert.deepEqual(after, { found: false });
  });

  test("r2.put streams the request body; a size mismatch stores nothing", async () => {
    const body = Buffer.from("zip bytes ".repeat(1000));
    const up = async (effect) =>
      (
        await mf.dispatchFetch(`${BASE}/upload?effect=${encodeURIComponent(JSON.stringify(effect))}`, {
          method: "PUT",
          body,
          headers: { "content-length": String(body.length) },
        })
      ).json();
    const ok = await up({ op: "r2.put", key: "up/ok", handle: 0, digests: ["SHA-1"], expected_size: body.length });
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.equal(ok.value.size, body.length);
    assert.equal(ok.value.sha1, sha("sha1", body));
    const bad = await up({ op: "r2.put", key: "up/bad", handle: 0, expected_size: body.length + 5 });
    assert.equal(bad.ok, false);
    const out = await run([{ op: "r2.head", key: "up/bad" }]);
    assert.deepEqual(out.results[0].value, { found: false });
  });

  test("fetch reads text with headers, and enforces max_bytes", async () => {
    const out = await run([
      { op: "fetch", url: `${upstreamUrl}/text`, method: "GET", headers: [["accept", "text/plain"]], read: "text" },
      { op: "fetch", url: `${upstreamUrl}/big`, method: "GET", headers: [], read: "text", max_bytes: 1000 },
      { op: "fetch", url: `${upstreamUrl}/missing`, method: "GET", headers: [], read: "text" },
    ]);
    assert.equal(out.results[0].value.status, 200);
    assert.equal(out.results[0].value.body, "hello upstream");
    assert.ok(out.results[0].value.headers.some(([k, v]) => k === "x-up" && v === "1"));
    assert.equal(out.results[1].ok, false);
    assert.equal(out.results[1].error.name, "PayloadTooLarge");
    assert.equal(out.results[2].value.status, 404);
  });

  test("an upstream body streams to the client and to R2 at once, hashed", async () => {
    const r = await mf.dispatchFetch(`${BASE}/run`, {
      method: "POST",
      body: JSON.stringify({
        effects: [
          { op: "fetch", url: `${upstreamUrl}/big`, method: "GET", headers: [], read: "handle" },
          { op: "body.tee", handle: 1 },
          {
            op: "r2.put",
            key: "mirror/big.zip",
            handle: 2,
            digests: ["SHA-1", "SHA-256"],
            expected_size: big.length,
            background: true,
          },
        ],
        respond_handle: 3,
      }),
    });
    const got = Buffer.from(await r.arrayBuffer());
    assert.equal(got.length, big.length);
    assert.ok(got.equals(big));
    let stored = null;
    const deadline = Date.now() + 30_000; // generous: the suite runs on loaded machines
    for (let i = 0; i < 3000 && !stored && Date.now() < deadline; i++) {
      const v = await (await mf.getKVNamespace("KV")).get("probe:background");
      if (v) stored = JSON.parse(v);
      else await new Promise((res) => setTimeout(res, 10));
    }
    assert.ok(stored, "background put did not finish");
    assert.equal(stored[0].ok, true, JSON.stringify(stored));
    assert.equal(stored[0].value.sha1, sha("sha1", big));
    assert.equal(stored[0].value.sha256, sha("sha256", big));
    const head = await run([{ op: "r2.head", key: "mirror/big.zip" }]);
    assert.equal(head.results[0].value.size, big.length);
  });

  test("a truncated upstream transfer stores nothing in R2", async () => {
    const out = await run([
      { op: "fetch", url: `${upstreamUrl}/truncated`, method: "GET", headers: [], read: "handle" },
      { op: "r2.put", key: "mirror/truncated.zip", handle: 1, digests: ["SHA-1"], expected_size: big.length },
      { op: "r2.head", key: "mirror/truncated.zip" },
    ]);
    assert.equal(out.results[0].ok, true);
    assert.equal(out.results[1].ok, false);
    assert.deepEqual(out.results[2].value, { found: false });
  });

  test("r2.put of a stream without a length goes up in parts; a stream that breaks stores nothing", async () => {
    const out = await run([
      { op: "fetch", url: `${upstreamUrl}/chunked`, method: "GET", headers: [], read: "handle" },
      { op: "r2.put", key: "mirror/chunked.zip", handle: 1, digests: ["SHA-1", "SHA-256"] },
      { op: "r2.head", key: "mirror/chunked.zip" },
      { op: "fetch", url: `${upstreamUrl}/chunked-broken`, method: "GET", headers: [], read: "handle" },
      { op: "r2.put", key: "mirror/broken.zip", handle: 2, digests: ["SHA-1"] },
      { op: "r2.head", key: "mirror/broken.zip" },
    ]);
    const [fetched, put, head] = out.results.map((r) => r.value);
    assert.equal(fetched.headers.some(([k]) => k === "content-length"), false, "the upstream sent no length");
    assert.equal(put.size, chunked.length);
    assert.equal(put.sha1, sha("sha1", chunked));
    assert.equal(put.sha256, sha("sha256", chunked));
    assert.match(put.etag, /-3$/, "three parts: 5 MiB, 5 MiB and the rest");
    assert.equal(head.size, chunked.length);
    const got = Buffer.from(await (await (await mf.getR2Bucket("BUCKET")).get("mirror/chunked.zip")).arrayBuffer());
    assert.ok(got.equals(chunked), "the stored object is the stream, byte for byte");
    assert.equal(out.results[4].ok, false);
    assert.equal(out.results[4].error.name, "BadBody", JSON.stringify(out.results[4]));
    assert.deepEqual(out.results[5].value, { found: false });
  });

  test("r2.put refuses a body over max_bytes, with or without a known length, storing nothing", async () => {
    const out = await run([
      { op: "fetch", url: `${upstreamUrl}/chunked`, method: "GET", headers: [], read: "handle" },
      { op: "r2.put", key: "mirror/too-big-a.zip", handle: 1, max_bytes: 6 * 1024 * 1024 },
      { op: "fetch", url: `${upstreamUrl}/big`, method: "GET", headers: [], read: "handle" },
      { op: "r2.put", key: "mirror/too-big-b.zip", handle: 2, max_bytes: 1000 },
      { op: "r2.put", key: "mirror/too-big-c.txt", body: "x".repeat(2000), max_bytes: 1000 },
      { op: "r2.head", key: "mirror/too-big-a.zip" },
      { op: "r2.head", key: "mirror/too-big-b.zip" },
      { op: "r2.head", key: "mirror/too-big-c.txt" },
    ]);
    for (const i of [1, 3, 4]) assert.equal(out.results[i].error?.name, "PayloadTooLarge", JSON.stringify(out.results[i]));
    for (const i of [5, 6, 7]) assert.deepEqual(out.results[i].value, { found: false });
  });

  test("fetch as text counts the body as it enters wasm: escaped control characters", async () => {
    const out = await run([
      { op: "fetch", url: `${upstreamUrl}/controls`, method: "GET", headers: [], read: "text", max_bytes: 1000 },
      { op: "fetch", url: `${upstreamUrl}/controls`, method: "GET", headers: [], read: "text", max_bytes: 5000 },
    ]);
    assert.equal(out.results[0].error?.name, "PayloadTooLarge", "1000 bytes that take 6000 once escaped");
    assert.equal(out.results[1].value.body.length, 1000);
  });

  test("clock.sleep waits, then answers the clock", async () => {
    const before = Date.now();
    const out = await run([{ op: "clock.sleep", ms: 30 }, { op: "clock.sleep", ms: -5 }]);
    assert.ok(out.results[0].value.ms >= before + 30, JSON.stringify(out));
    assert.ok(out.results[1].value.ms >= out.results[0].value.ms);
  });

  test("cache.put and cache.match use the Worker's own cache, not the zone's caches.default", async () => {
    const url = "https://pb.example/__pb_cache/mirror/x.zip";
    const out = await run([{ op: "cache.put", url, status: 200, headers: [["cache-control", "max-age=60"]], body: "archive" }, { op: "cache.match", url, read: "text" }]);
    assert.equal(out.results[1].value.body, "archive");
    const zone = await (await mf.dispatchFetch(`${BASE}/default-cache?url=${encodeURIComponent(url)}`)).json();
    assert.deepEqual(zone, { found: false });
  });

  test("cache.put then cache.match", async () => {
    const url = "https://pb.example/p2/acme/widget.json";
    const out = await run([
      { op: "cache.match", url, read: "text" },
      {
        op: "cache.put",
        url,
        status: 200,
        headers: [
          ["content-type", "application/json"],
          ["cache-control", "max-age=60"],
        ],
        body: '{"packages":{}}',
      },
      { op: "cache.match", url, read: "text" },
    ]);
    const [miss, , hit] = values(out);
    assert.deepEqual(miss, { found: false });
    assert.equal(hit.found, true);
    assert.equal(hit.status, 200);
    assert.equal(hit.body, '{"packages":{}}');
  });

  test("body.text reads a handle and enforces max_bytes", async () => {
    const out = await run([
      { op: "fetch", url: `${upstreamUrl}/text`, method: "GET", headers: [], read: "handle" },
      { op: "body.text", handle: 1, max_bytes: 100 },
      { op: "fetch", url: `${upstreamUrl}/text`, method: "GET", headers: [], read: "handle" },
      { op: "body.text", handle: 2, max_bytes: 3 },
      { op: "body.text", handle: 2, max_bytes: 3 },
    ]);
    assert.equal(out.results[1].value.body, "hello upstream");
    assert.equal(out.results[3].error.name, "PayloadTooLarge");
    assert.equal(out.results[4].error.name, "BadHandle");
  });

  test("crypto: digest, hmac, random, AES-GCM round trip", async () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const out = await run([
      { op: "crypto.digest", algorithm: "SHA-256", data: "secret-token" },
      { op: "crypto.digest", algorithm: "SHA-1", data: "" },
      { op: "crypto.hmac", algorithm: "SHA-256", key: "hook-secret", data: '{"ref":"refs/tags/v1.0.0"}' },
      { op: "crypto.random", bytes: 32 },
      { op: "crypto.aes_gcm_encrypt", key_b64: key, plaintext: "p@ss wörd", aad: "source:1" },
    ]);
    const [d256, d1, mac, rnd, sealed] = values(out);
    assert.equal(d256.hex, sha("sha256", "secret-token"));
    assert.equal(d1.hex, sha("sha1", ""));
    assert.equal(mac.hex, createHmac("sha256", "hook-secret").update('{"ref":"refs/tags/v1.0.0"}').digest("hex"));
    assert.match(rnd.hex, /^[0-9a-f]{64}$/);
    const back = await run([
      { op: "crypto.aes_gcm_decrypt", key_b64: key, aad: "source:1", ...sealed },
      { op: "crypto.aes_gcm_decrypt", key_b64: key, aad: "source:2", ...sealed },
    ]);
    assert.equal(back.results[0].value.plaintext, "p@ss wörd");
    assert.equal(back.results[1].ok, false);
  });

  test("r2.get reads bytes as base64; compression.decompress inflates deflate-raw", async () => {
    const { deflateRawSync } = await import("node:zlib");
    const binary = Buffer.from([0, 255, 1, 254, 2, 253, 80, 75, 5, 6]);
    const payload = Buffer.from('{"name":"acme/widget"}'.repeat(50));
    const out = await run([
      { op: "r2.put", key: "bin", body: "" },
      { op: "compression.decompress", format: "deflate-raw", data_b64: deflateRawSync(payload).toString("base64"), max_bytes: 10000 },
      { op: "compression.decompress", format: "deflate-raw", data_b64: deflateRawSync(payload).toString("base64"), max_bytes: 10 },
      { op: "compression.decompress", format: "deflate-raw", data_b64: Buffer.from("not deflate").toString("base64"), max_bytes: 10000 },
    ]);
    assert.equal(Buffer.from(out.results[1].value.body_b64, "base64").toString(), payload.toString());
    assert.equal(out.results[2].error.name, "PayloadTooLarge");
    assert.equal(out.results[3].ok, false);
    const bucket = await mf.getR2Bucket("BUCKET");
    await bucket.put("bin", new Uint8Array(binary).buffer);
    const got = await run([{ op: "r2.get", key: "bin", read: "base64", range: { offset: 1, length: 4 } }]);
    assert.deepEqual([...Buffer.from(got.results[0].value.body_b64, "base64")], [255, 1, 254, 2]);
  });

  test("blob.presign is not supported on R2 bindings; isolates.invalidate is a no-op", async () => {
    const out = await run([
      { op: "blob.presign", key: "a/b.zip", expires_s: 60, content_type: "application/zip" },
      { op: "isolates.invalidate", tokens: true, documents: ["p2/acme/widget.json"] },
    ]);
    assert.equal(out.results[0].ok, false);
    assert.equal(out.results[0].error.name, "NotSupported");
    assert.deepEqual(out.results[1], { ok: true, value: {} });
  });

  test("queue.send delivers its JSON body to the Worker's queue consumer", async () => {
    const [sent] = values(await run([{ op: "queue.send", body: { sync: 7, start: true }, delay_s: 0 }]));
    assert.deepEqual(sent, {});
    const kv = await mf.getKVNamespace("KV");
    let seen = [];
    for (let i = 0; i < 200 && seen.length === 0; i++) {
      seen = JSON.parse((await kv.get("probe:queue")) ?? "[]");
      if (seen.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(seen, [{ sync: 7, start: true }]);
  });

  test("clock.now, and unknown ops fail as error values", async () => {
    const before = Date.now();
    const out = await run([{ op: "clock.now" }, { op: "teleport" }]);
    assert.ok(out.results[0].value.ms >= before - 5000);
    assert.equal(out.results[1].ok, false);
    assert.equal(out.results[1].error.name, "UnknownEffect");
  });
});
