// Hostile input against the real .wasm in workerd (tests/worker/fixtures/harness.mjs): path traversal
// and odd encodings in /p2 and /dist paths, wrong auth schemes and tokens with odd bytes, oversized and
// malformed bodies and headers, JSON bombs in an upstream's metadata (deep, long, wide, many versions,
// escaping), zip bombs and zip64 archives in uploads. Nothing may crash the instance (a trap would make
// a new one: the instance count must not move), answer 500, leak another scope's package, or push the
// wasm memory past 128 MB.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { execFileSync } from "node:child_process";
import { deflateRawSync } from "node:zlib";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startWorker, client } from "./helpers.mjs";
import { zipFiles } from "../upstreams/zip.mjs";

const ADMIN = "hostile-admin-token";
const KEY = Buffer.alloc(32, 4).toString("base64");
const MAX_WASM_BYTES = 128 * 1024 * 1024;

describe("hostile input in workerd", () => {
  let mf, api, scoped, all, updater, bombs, secretRef;
  const cj = (name, version) => JSON.stringify({ name, version });
  const upload = (name, body, headers = {}) =>
    api("PUT", `/admin/api/artifacts/${name}`, { admin: true, body, headers: { "content-type": "application/zip", ...headers } });
  const wasm = async () => (await api("GET", "/__fixture/wasm")).json;

  // A Composer repository whose metadata is hostile (the documents stay under the 4 MiB fetch limit).
  const hostileDocs = {
    "bomb/deep": () => `{"packages":{"bomb/deep":[{"version":"1.0.0","extra":${"[".repeat(100_000)}${"]".repeat(100_000)}}]}}`,
    "bomb/long": () => JSON.stringify({ packages: { "bomb/long": [{ version: "1.0.0", description: "x".repeat(3_900_000), dist: { type: "zip", url: "http://127.0.0.1:9/x.zip", reference: "a".repeat(40) } }] } }),
    "bomb/wide": () => {
      const extra = {};
      for (let i = 0; i < 220_000; i++) extra[`k${i}`] = i;
      return JSON.stringify({ packages: { "bomb/wide": [{ version: "1.0.0", extra, dist: { type: "zip", url: "http://127.0.0.1:9/x.zip", reference: "b".repeat(40) } }] } });
    },
    "bomb/values": () => `{"packages":{"bomb/values":[{"version":"1.0.0","extra":[${"0,".repeat(1_500_000)}0]}]}}`,
    "bomb/versions": () => {
      const vs = [];
      for (let i = 0; i < 25_000; i++) vs.push({ version: `1.0.${i}`, dist: { type: "zip", url: `http://127.0.0.1:9/${i}.zip`, reference: "c".repeat(40) } });
      return JSON.stringify({ packages: { "bomb/versions": vs } });
    },
    "bomb/escapes": () => `{"packages":{"bomb/escapes":[{"version":"1.0.0","description":"${"\u0001".repeat(3_000_000)}"}]}}`,
    "bomb/huge": () => JSON.stringify({ packages: { "bomb/huge": [{ version: "1.0.0", description: "y".repeat(12_000_000) }] } }),
  };

  before(async () => {
    bombs = http.createServer((req, res) => {
      const m = /^\/p2\/(.+)\.json$/.exec(req.url);
      if (req.url === "/packages.json") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ packages: [], "metadata-url": "/p2/%package%.json", "available-packages": Object.keys(hostileDocs) }));
      } else if (m && hostileDocs[m[1]]) {
        res.setHeader("content-type", "application/json");
        res.end(hostileDocs[m[1]]());
      } else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
    await new Promise((r) => bombs.listen(0, "127.0.0.1", r));
    mf = await startWorker({
      script: "tests/worker/fixtures/harness.mjs",
      bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: KEY, PB_TEST_HOOKS: "1", PB_SYNC_PACKAGES_PER_SLICE: "10" },
    });
    api = client(mf, { adminToken: ADMIN });
    assert.equal((await upload("acme/widget", zipFiles({ "composer.json": cj("acme/widget", "1.0.0") }))).status, 201);
    const secret = await upload("other/secret", zipFiles({ "composer.json": cj("other/secret", "1.0.0"), "SECRET.txt": "do not leak" }));
    assert.equal(secret.status, 201);
    secretRef = secret.json.reference;
    const token = async (body) => (await api("POST", "/admin/api/tokens", { admin: true, body })).json.token;
    scoped = await token({ name: "acme only", packages: ["acme/*"] });
    all = await token({ name: "all" });
    updater = await token({ name: "updater", access: "update" });
    assert.equal((await wasm()).instances, 1);
  });
  after(async () => {
    await mf?.dispose();
    await new Promise((r) => bombs?.close(r));
  });

  // Every answer: a JSON error (or success), never a 500 (a trap or a bug), never the other scope's archive.
  function assertSafe(r, note) {
    assert.notEqual(r.status, 500, `${note}: ${r.text.slice(0, 200)}`);
    assert.ok(!r.text.includes("do not leak") && !r.buf.includes(Buffer.from("SECRET.txt")), `${note}: leaked other/secret`);
  }

  test("path traversal and odd encodings in /p2 and /dist: 4xx JSON, nothing of another scope", async () => {
    const paths = [
      "/p2/acme/..%2Fother%2Fsecret.json", "/p2/acme/%2e%2e/other/secret.json", "/p2/..%2Fother/secret.json",
      "/p2/acme%2F..%2Fother/secret.json", "/p2/OTHER/Secret.json", "/p2/other/secret.json", "/p2/other/secret~dev.json",
      "/p2/acme/widget%00.json", "/p2/acme/widget.json%00", "/p2/acme/%c0%ae%c0%ae.json", "/p2/acme/%ff%fe.json",
      "/p2/acme/%.json", "/p2/acme/%zz.json", "/p2/acme/widget~dev~dev.json", "/p2/acme/.json", "/p2/acme/~dev.json",
      "/p2//acme/widget.json", "/p2/acme//widget.json", "/p2/acme/widget.json/", `/p2/acme/${"a".repeat(20_000)}.json`,
      `/p2/${"a/".repeat(2_000)}x.json`, "/p2/%2e/%2e.json",
      `/dist/other/secret/1.0.0.0/${secretRef}.zip`, `/dist/acme/..%2Fother/secret/${secretRef}.zip`,
      `/dist/acme/widget/1.0.0.0/..%2F..%2Fother%2Fsecret%2F${secretRef}.zip`, `/dist/acme/widget/1.0.0.0/${secretRef}.zip`,
      `/dist/acme/widget/1.0.0.0/${secretRef}%00.zip`, "/dist/acme/widget/1.0.0.0/.zip", "/dist/acme/widget/1.0.0.0/x.",
      "/dist/acme/widget/%2e%2e/x.zip", `/dist/OTHER/SECRET/1.0.0.0/${secretRef}.zip`,
    ];
    for (const p of paths) {
      const r = await api("GET", p, { token: scoped });
      assertSafe(r, p);
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.equal(r.json?.error?.code, r.status === 404 ? "not_found" : "bad_request", `${p}: ${r.text.slice(0, 200)}`);
    }
    // The all-packages token does get other/secret through the plain paths (the cases above are not
    // just unreachable for everyone).
    assert.equal((await api("GET", "/p2/other/secret.json", { token: all })).status, 200);
    assert.equal((await api("GET", `/dist/other/secret/1.0.0.0/${secretRef}.zip`, { token: all })).status, 200);
    assert.equal((await wasm()).instances, 1, "no trap");
  });

  test("wrong auth schemes and tokens with odd bytes: 401 JSON with a warning", async () => {
    const b64 = (s) => Buffer.from(s, "latin1").toString("base64");
    const headers = [
      "Digest username=x", "Basic", "Basic ", "Bearer", "Bearer ", "basic " + b64("token:nope"), "Basic !!!!", "Basic " + b64("no-colon"),
      "Basic " + b64(":"), "Basic " + b64("token:\u0000\u0001\u00ff"), "Bearer \u00ff\u00fe", "Bearer " + "x".repeat(50_000),
      "Basic " + b64("token:" + "y".repeat(40_000)), "Bearer " + scoped + " trailing", "Bearer  " + "\t" + "pbt_x", "Token " + scoped,
      "Basic " + b64("token:" + scoped.slice(0, -1)), "Bearer " + scoped.toUpperCase(),
    ];
    for (const h of headers) {
      const r = await api("GET", "/p2/acme/widget.json", { headers: { authorization: h } });
      assertSafe(r, h.slice(0, 40));
      assert.equal(r.status, 401, `${h.slice(0, 40)}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.equal(r.json.error.code, "unauthorized");
      assert.ok(r.json.warning.length > 0);
    }
    assert.equal((await wasm()).instances, 1);
  });

  test("oversized and malformed bodies and headers", async () => {
    const post = (body, headers = {}) => api("POST", "/downloads", { token: all, body, headers: { "content-type": "application/json", ...headers } });
    const cases = [
      ["2 MB body", "{" + `"a":"${"x".repeat(2_000_000)}"}`, 413, "payload_too_large"],
      ["nesting 10,000 deep", "[".repeat(10_000) + "]".repeat(10_000), 400, "bad_request"],
      // Many keys within the 256 KiB a notify-batch body may have; more is refused before parsing.
      ["15,000 keys", JSON.stringify(Object.fromEntries(Array.from({ length: 15_000 }, (_, i) => [`k${i}`, i]))), 400, "bad_request"],
      ["50,000 keys", JSON.stringify(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]))), 413, "payload_too_large"],
      ["not JSON", "\u0000\u0001\u0002", 400, "bad_request"],
      ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 400, "bad_request"],
      ["downloads not a list", JSON.stringify({ downloads: "all" }), 400, "bad_request"],
      ["200,000 downloads", JSON.stringify({ downloads: Array.from({ length: 60_000 }, () => ({ name: "acme/widget", version: "1.0.0.0" })) }), null, null],
    ];
    for (const [note, body, status, code] of cases) {
      const r = await post(body);
      assertSafe(r, note);
      if (status) {
        assert.equal(r.status, status, `${note}: ${r.text.slice(0, 200)}`);
        assert.equal(r.json.error.code, code, note);
      }
    }
    // A 60 KB header and 500 headers.
    const big = await api("GET", "/p2/acme/widget.json", { token: scoped, headers: { "x-big": "z".repeat(60_000) } });
    assertSafe(big, "60 KB header");
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-h${i}`, "v"]));
    const r = await api("GET", "/p2/acme/widget.json", { token: scoped, headers: many });
    assert.equal(r.status, 200);
    // An upload without a Content-Length is exactly 411.
    const chunked = await api("PUT", "/admin/api/artifacts/acme/widget?version=9.0.0", {
      admin: true,
      body: new ReadableStream({ start(c) { c.enqueue(zipFiles({ "composer.json": cj("acme/widget") })); c.close(); } }),
    });
    assert.equal(chunked.status, 411, chunked.text);
    assert.deepEqual(chunked.json, { error: { code: "bad_request", message: "a Content-Length header is required" } });
    assert.equal((await wasm()).instances, 1);
  });

  test("JSON bombs in an upstream's metadata: clean sync errors, no trap, memory under 128 MB", { timeout: 300_000 }, async () => {
    const src = await api("POST", "/admin/api/sources", { admin: true, body: { type: "composer", url: `http://127.0.0.1:${bombs.address().port}` } });
    assert.equal(src.status, 201, src.text);
    const r = await api("POST", `/admin/api/sources/${src.json.id}/sync`, { admin: true });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.status, "error", r.text);
    const errors = r.json.result.errors.join("\n");
    for (const [name, why] of [
      ["bomb/deep", /too deep/],
      ["bomb/values", /more than 500000 values/],
      ["bomb/versions", /25000 versions, more than the 5000/],
      ["bomb/escapes", /larger than 4194304 bytes once escaped/],
      ["bomb/huge", /larger than 4194304 bytes/],
    ])
      assert.match(errors, new RegExp(`${name}[^\n]*${why.source}|${why.source}[^\n]*${name}`), `${name} in:\n${errors}`);
    // The long string and the wide object are well-formed and within the parsing limits; a version's
    // composer.json of several MB is more than a D1 value holds, so they end as errors too.
    for (const name of ["bomb/long", "bomb/wide"]) assert.match(errors, new RegExp(`${name}|too big`), name);
    const w = await wasm();
    assert.equal(w.instances, 1, "no trap");
    assert.ok(w.memory_bytes <= MAX_WASM_BYTES, `${w.memory_bytes} bytes`);
  });

  test("a JSON bomb met by lazy packagist mirroring answers a plain 502", async () => {
    const src = await api("POST", "/admin/api/sources", { admin: true, body: { type: "packagist", url: `http://127.0.0.1:${bombs.address().port}`, include: ["bomb/*"] } });
    assert.equal(src.status, 201, src.text);
    try {
      for (const name of ["bomb/deep", "bomb/values", "bomb/huge", "bomb/escapes"]) {
        const r = await api("GET", `/p2/${name}.json`, { token: updater });
        assertSafe(r, name);
        assert.equal(r.status, 502, `${name}: ${r.text.slice(0, 200)}`);
        assert.deepEqual(r.json, { error: { code: "upstream", message: `the metadata of ${name} could not be fetched from its upstream` } });
      }
    } finally {
      await api("DELETE", `/admin/api/sources/${src.json.id}`, { admin: true });
    }
    assert.equal((await wasm()).instances, 1);
  });

  test("zip bombs, lying zips, zip64 and a huge central directory in uploads: 400, nothing stored", async () => {
    const bucket = await mf.getR2Bucket("BUCKET");
    const before = (await bucket.list({ prefix: "artifacts/acme/zipbomb/" })).objects.length;
    // composer.json that inflates to 300 MB (declared honestly, and with lying sizes in the directory).
    const bomb = zipFiles({ "composer.json": Buffer.alloc(300 * 1024 * 1024, 0x20) });
    const lying = Buffer.from(bomb);
    const cd = lying.lastIndexOf(Buffer.from("PK\u0001\u0002", "latin1"));
    lying.writeUInt32LE(100, cd + 24); // uncompressed size in the central directory: 100 bytes
    const lyingLocal = Buffer.from(lying);
    // A genuine zip64 archive from Info-ZIP (zip -fz).
    const dir = mkdtempSync(path.join(tmpdir(), "pb-zip64-"));
    let zip64;
    try {
      writeFileSync(path.join(dir, "composer.json"), cj("acme/zipbomb", "1.0.0"));
      execFileSync("zip", ["-q", "-fz", "a.zip", "composer.json"], { cwd: dir });
      zip64 = readFileSync(path.join(dir, "a.zip"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // 40,000 entries: a central directory far over 2 MiB.
    const manyEntries = zipFiles(Object.fromEntries([["composer.json", cj("acme/zipbomb", "1.0.0")], ...Array.from({ length: 40_000 }, (_, i) => [`src/deep/path/to/a/file/number/${i}.php`, ""])]), { compress: false });
    const cases = [
      ["zip bomb", bomb, /larger than 1 MiB/],
      ["lying sizes", lyingLocal, /larger than 1 MiB|could not be decompressed|corrupt/],
      ["zip64", zip64, /zip64 archives are not supported/],
      ["40,000 entries", manyEntries, /central directory .* is larger than 2 MiB/],
      ["deflate garbage", zipFiles({ "composer.json": cj("acme/zipbomb", "1.0.0") }).fill(0xaa, 40, 60), /corrupt|could not be decompressed|not a zip|bad/],
    ];
    for (const [note, body, why] of cases) {
      const r = await upload("acme/zipbomb?version=1.0.0", body);
      assertSafe(r, note);
      assert.equal(r.status, 400, `${note}: ${r.text.slice(0, 300)}`);
      assert.match(r.json.error.message, why, note);
    }
    assert.equal((await bucket.list({ prefix: "artifacts/acme/zipbomb/" })).objects.length, before, "nothing stored");
    assert.equal((await api("GET", "/admin/api/packages/acme/zipbomb", { admin: true })).status, 404);
    const w = await wasm();
    assert.equal(w.instances, 1, "no trap");
    assert.ok(w.memory_bytes <= MAX_WASM_BYTES);
    void deflateRawSync;
  });
});
