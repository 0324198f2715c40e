// The Cloudflare API emulator is as strict as the real API on the calls deploy makes: these tests
// prove that it refuses what Cloudflare refuses, so the deploy tests cannot pass against a lenient fake.
import { test } from "node:test";
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { startEmulator } from "./emulator.mjs";

async function call(emu, method, path, { body, token = emu.state.token, headers = {} } = {}) {
  const init = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const r = await fetch(`${emu.apiBase}${path}`, init);
  return { status: r.status, json: await r.json() };
}

const envelopeError = (r) => ({ success: r.json.success, code: r.json.errors?.[0]?.code, result: r.json.result });

function upload(metadata, parts = { "index.mjs": ["export default {}", "application/javascript+module"] }) {
  const form = new FormData();
  form.set("metadata", JSON.stringify({ main_module: "index.mjs", compatibility_date: "2025-09-01", ...metadata }));
  for (const [name, [content, type]] of Object.entries(parts)) form.set(name, new File([content], name, { type }));
  return form;
}

test("unknown calls get Cloudflare's error envelope and are recorded", async () => {
  const emu = await startEmulator();
  try {
    const A = `/accounts/${emu.state.accountId}`;
    const r = await call(emu, "GET", `${A}/workers/scripts/x/tails`);
    assert.equal(r.status, 404);
    assert.deepEqual(envelopeError(r), { success: false, code: 7003, result: null });
    const q = await call(emu, "GET", `${A}/d1/database?per_page=10&surprise=1`);
    assert.equal(q.status, 400);
    assert.deepEqual(emu.state.unknown, [`GET /client/v4${A}/workers/scripts/x/tails`, `GET /client/v4${A}/d1/database?per_page=10&surprise=1 (unknown query parameter "surprise")`]);
  } finally {
    await emu.stop();
  }
});

test("auth and account are checked like Cloudflare", async () => {
  const emu = await startEmulator();
  try {
    assert.deepEqual(envelopeError(await call(emu, "GET", "/user/tokens/verify", { token: "nope" })), { success: false, code: 10000, result: null });
    const other = await call(emu, "GET", "/accounts/0123456789abcdef0123456789abcdef/d1/database");
    assert.equal(other.status, 403);
    assert.equal(other.json.errors[0].code, 9109);
    assert.deepEqual(emu.state.unknown, []);
  } finally {
    await emu.stop();
  }
});

test("names and duplicates are validated", async () => {
  const emu = await startEmulator();
  try {
    const A = `/accounts/${emu.state.accountId}`;
    assert.equal((await call(emu, "POST", `${A}/r2/buckets`, { body: { name: "Bad_Bucket" } })).json.errors[0].code, 10005);
    assert.equal((await call(emu, "POST", `${A}/r2/buckets`, { body: { name: "ok-bucket" } })).status, 200);
    assert.equal((await call(emu, "POST", `${A}/r2/buckets`, { body: { name: "ok-bucket" } })).json.errors[0].code, 10004);
    assert.equal((await call(emu, "POST", `${A}/d1/database`, { body: { name: "db" } })).status, 200);
    assert.equal((await call(emu, "POST", `${A}/d1/database`, { body: { name: "db" } })).json.errors[0].code, 7502);
    assert.equal((await call(emu, "POST", `${A}/storage/kv/namespaces`, { body: { title: "kv" } })).status, 200);
    assert.equal((await call(emu, "POST", `${A}/storage/kv/namespaces`, { body: { title: "kv" } })).json.errors[0].code, 10014);
    assert.equal((await call(emu, "POST", `${A}/storage/kv/namespaces`, { body: { title: "" } })).json.errors[0].code, 10019);
  } finally {
    await emu.stop();
  }
});

test("D1 queries run in SQLite: results, meta, errors, one transaction per call", async () => {
  const emu = await startEmulator();
  try {
    const A = `/accounts/${emu.state.accountId}`;
    const { uuid } = (await call(emu, "POST", `${A}/d1/database`, { body: { name: "db" } })).json.result;
    const q = (sql, params) => call(emu, "POST", `${A}/d1/database/${uuid}/query`, { body: { sql, ...(params ? { params } : {}) } });
    const created = await q("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2);");
    assert.equal(created.status, 200);
    assert.deepEqual(created.json.result.map((r) => r.meta.changes), [0, 2]);
    const sel = await q("SELECT a FROM t WHERE a > ?", [1]);
    assert.deepEqual(sel.json.result[0].results, [{ a: 2 }]);
    // A failing statement rolls back the whole call, as D1 does.
    const bad = await q("INSERT INTO t VALUES (3); INSERT INTO missing VALUES (1);");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errors[0].code, 7500);
    assert.match(bad.json.errors[0].message, /no such table: missing/);
    assert.deepEqual(emu.d1Query("db", "SELECT count(*) FROM t"), [[2]]);
    assert.equal((await call(emu, "POST", `${A}/d1/database/00000000-0000-0000-0000-000000000000/query`, { body: { sql: "SELECT 1" } })).json.errors[0].code, 7404);
  } finally {
    await emu.stop();
  }
});

test("a script upload must bind resources that exist (10021) and carry valid modules", async () => {
  const emu = await startEmulator();
  try {
    const A = `/accounts/${emu.state.accountId}`;
    const put = (form) => call(emu, "PUT", `${A}/workers/scripts/w?excludeScript=true&bindings_inherit=strict`, { body: form });
    const missingDb = await put(upload({ bindings: [{ type: "d1", name: "DB", id: "00000000-0000-4000-8000-000000000001" }] }));
    assert.equal(missingDb.status, 400);
    // The exact text wrangler turns into "You must use a real database in the database_id configuration".
    assert.deepEqual(missingDb.json.errors, [{ code: 10021, message: "binding DB of type d1 must have a valid `id` specified" }]);
    assert.equal((await put(upload({ bindings: [{ type: "kv_namespace", name: "KV", namespace_id: "0".repeat(32) }] }))).json.errors[0].code, 10021);
    assert.equal((await put(upload({ bindings: [{ type: "r2_bucket", name: "B", bucket_name: "nope" }] }))).json.errors[0].code, 10021);
    assert.equal((await put(upload({ surprise: true }))).json.errors[0].code, 10021);
    assert.equal((await put(upload({ main_module: "other.mjs" }))).json.errors[0].code, 10021);
    const badWasm = upload({}, { "index.mjs": ["export default {}", "application/javascript+module"], "m.wasm": ["not wasm", "application/wasm"] });
    assert.match((await put(badWasm)).json.errors[0].message, /not valid WebAssembly/);
    assert.equal(emu.state.scripts.size, 0, "nothing refused was stored");
    const ok = await put(upload({ bindings: [{ type: "plain_text", name: "X", text: "1" }] }));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(emu.state.scripts.get("w").versions.length, 1);
  } finally {
    await emu.stop();
  }
});

// --- static assets (emulator-assets.mjs) ------------------------------------------------------------

const hash32 = (text) => createHash("sha256").update(text).digest("hex").slice(0, 32); // any 32-hex hash will do
const manifestOf = (files) => Object.fromEntries(Object.entries(files).map(([p, text]) => [p, { hash: hash32(text), size: Buffer.byteLength(text) }]));

function assetForm(parts) {
  const form = new FormData();
  for (const [hash, content, type = "text/html"] of parts) form.append(hash, new File([content], hash, { type }), hash);
  return form;
}

const uploadAssets = (emu, jwt, parts, query = "?base64=true") =>
  call(emu, "POST", `/accounts/${emu.state.accountId}/workers/assets/upload${query}`, { body: assetForm(parts), token: jwt });
const b64 = (text) => Buffer.from(text).toString("base64");

test("assets: the manifest is checked like Cloudflare's (10304, the plan's file limit, 25 MiB a file)", async () => {
  const emu = await startEmulator();
  const paid = await startEmulator({ plan: "paid" });
  try {
    const session = (e, body) => call(e, "POST", `/accounts/${e.state.accountId}/workers/scripts/w/assets-upload-session`, { body });
    const ok = { hash: "0".repeat(32), size: 1 };
    for (const [manifest, message] of [
      [{ "index.html": ok }, /must start with "\/"/],
      [{ "/a/../b.html": ok }, /not a file path/],
      [{ "/bad%zz.html": ok }, /must be URI encoded/],
      [{ "/a.html": { hash: "xyz", size: 1 } }, /32 hexadecimal/],
      [{ "/a.html": { hash: "0".repeat(32), size: -1 } }, /whole number/],
      [{ "/a.html": { hash: "0".repeat(32), size: 25 * 1024 * 1024 + 1 } }, /at most 25 MiB/],
      [{ "/a.html": { ...ok, extra: 1 } }, /must be \{hash, size\}/],
      [{ "/a.html": ok, "/b.html": { ...ok, size: 2 } }, /two sizes/],
      [[], /must be an object/],
    ]) {
      const r = await session(emu, { manifest });
      assert.equal(r.status, 400, JSON.stringify(manifest));
      assert.equal(r.json.errors[0].code, 10304);
      assert.match(r.json.errors[0].message, /^Invalid manifest: /);
      assert.match(r.json.errors[0].message, message);
    }
    assert.equal((await session(emu, { manifest: {}, surprise: 1 })).json.errors[0].code, 10001);
    assert.equal((await call(emu, "POST", `/accounts/${emu.state.accountId}/workers/scripts/Bad_Name/assets-upload-session`, { body: { manifest: {} } })).json.errors[0].code, 10016);

    // 25 MiB exactly is allowed; 20,000 files on Free, 100,000 on Paid.
    assert.equal((await session(emu, { manifest: { "/big.bin": { hash: "1".repeat(32), size: 25 * 1024 * 1024 } } })).status, 200);
    const many = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`/f${i}.txt`, { hash: i.toString(16).padStart(32, "0"), size: 1 }]));
    const tooMany = await session(emu, { manifest: many(20_001) });
    assert.deepEqual(tooMany.json.errors, [{ code: 10304, message: "Invalid manifest: manifest contains 20,001 files which exceeds the limit of 20,000. You can upgrade to Workers Paid to increase this limit to 100,000." }]);
    assert.equal((await session(emu, { manifest: many(20_000) })).status, 200);
    assert.equal((await session(paid, { manifest: many(20_001) })).status, 200);
    assert.deepEqual(emu.state.unknown, []);
  } finally {
    await emu.stop();
    await paid.stop();
  }
});

test("assets: uploads need the session's token, only the asked-for files, at their manifest size; then a completion token", async () => {
  const emu = await startEmulator();
  try {
    const A = `/accounts/${emu.state.accountId}`;
    // 12 files, two with the same content: 11 hashes to upload, in buckets of at most 10.
    const files = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`/p${i}.html`, `<p>page ${i}</p>`]));
    files["/copy.html"] = files["/p0.html"];
    const manifest = manifestOf(files);
    const s = await call(emu, "POST", `${A}/workers/scripts/w/assets-upload-session`, { body: { manifest } });
    assert.equal(s.status, 200);
    const { jwt, buckets } = s.json.result;
    assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/, "a JWT");
    assert.deepEqual(buckets.map((b) => b.length), [10, 1]);
    assert.deepEqual(new Set(buckets.flat()), new Set(Object.values(manifest).map((e) => e.hash)));
    const byHash = new Map(Object.entries(files).map(([p, text]) => [manifest[p].hash, text]));
    const part = (h, text = byHash.get(h)) => [h, b64(text)];
    const [first, second] = buckets;

    // The API token, a forged token or no token: 10000. Without base64=true: refused.
    for (const token of [emu.state.token, `${jwt.slice(0, -4)}AAAA`, "not-a-jwt"]) {
      const r = await uploadAssets(emu, token, [part(first[0])]);
      assert.equal(r.status, 401);
      assert.equal(r.json.errors[0].code, 10000);
    }
    assert.equal((await uploadAssets(emu, jwt, [part(first[0])], "")).json.errors[0].code, 10001);
    // A hash the session did not ask for, a size other than the manifest's, a body that is not base64.
    const stranger = await uploadAssets(emu, jwt, [part(first[0]), ["f".repeat(32), b64("x")]]);
    assert.equal(stranger.status, 400);
    assert.match(stranger.json.errors[0].message, /was not requested by this upload session/);
    assert.match((await uploadAssets(emu, jwt, [part(first[0], "<p>a different size</p>")])).json.errors[0].message, /bytes, but the manifest gives/);
    assert.match((await uploadAssets(emu, jwt, [[first[0], "<p>raw</p>"]])).json.errors[0].message, /not base64/);
    assert.equal(emu.state.assets.files.size, 0, "a refused upload stores nothing");

    // The first bucket: accepted, no completion yet; the second: 201 and the completion token.
    const r1 = await uploadAssets(emu, jwt, first.map((h) => part(h)));
    assert.equal(r1.status, 202);
    assert.deepEqual(r1.json.result, {});
    const r2 = await uploadAssets(emu, jwt, second.map((h) => part(h)));
    assert.equal(r2.status, 201);
    const completion = r2.json.result.jwt;
    assert.match(completion, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(emu.state.assets.files.get(first[0]).bytes.toString(), byHash.get(first[0]));
    assert.equal(emu.state.assets.files.get(first[0]).contentType, "text/html");

    // The account keeps its files: the same manifest again needs no upload and answers the completion token.
    const again = await call(emu, "POST", `${A}/workers/scripts/w/assets-upload-session`, { body: { manifest } });
    assert.deepEqual(again.json.result.buckets, []);
    const uploads = emu.state.assets.uploads.length;
    // A completion token is not an upload token.
    assert.equal((await uploadAssets(emu, again.json.result.jwt, [part(first[0])])).status, 401);
    assert.equal(emu.state.assets.uploads.length, uploads);

    // Both completion tokens deploy the assets.
    for (const token of [completion, again.json.result.jwt]) {
      const put = await call(emu, "PUT", `${A}/workers/scripts/w?excludeScript=true&bindings_inherit=strict`, {
        body: upload({ assets: { jwt: token, config: { html_handling: "auto-trailing-slash", not_found_handling: "none" } } }),
      });
      assert.equal(put.status, 200, JSON.stringify(put.json));
      assert.equal(put.json.result.has_assets, true);
    }
    const v = emu.state.scripts.get("w").versions.at(-1);
    assert.deepEqual(v.assets, { manifest, config: { html_handling: "auto-trailing-slash", not_found_handling: "none" } });
    assert.deepEqual(emu.state.unknown, []);
  } finally {
    await emu.stop();
  }
});

test("assets: a script or version upload needs a valid completion token in assets.jwt (10021)", async () => {
  const emu = await startEmulator();
  try {
    const A = `/accounts/${emu.state.accountId}`;
    const files = { "/index.html": "<h1>hi</h1>" };
    const open = async (name) => (await call(emu, "POST", `${A}/workers/scripts/${name}/assets-upload-session`, { body: { manifest: manifestOf(files) } })).json.result;
    const s = await open("w");
    const done = (await uploadAssets(emu, s.jwt, [[s.buckets[0][0], b64(files["/index.html"])]])).json.result.jwt;
    const put = (metadata) => call(emu, "PUT", `${A}/workers/scripts/w?excludeScript=true&bindings_inherit=strict`, { body: upload(metadata) });
    const refused = async (metadata, message) => {
      const r = await put(metadata);
      assert.equal(r.status, 400, JSON.stringify(metadata));
      assert.equal(r.json.errors[0].code, 10021);
      assert.match(r.json.errors[0].message, message);
    };
    await refused({ assets: { jwt: s.jwt } }, /valid, unexpired completion token/); // the upload token
    await refused({ assets: { jwt: "x.y.z" } }, /valid, unexpired completion token/);
    await refused({ assets: {} }, /valid, unexpired completion token/);
    await refused({ assets: { jwt: (await open("other")).jwt } }, /issued for the Worker "other"/);
    await refused({ assets: { jwt: done, config: { html_handling: "sometimes" } } }, /html_handling must be one of/);
    await refused({ assets: { jwt: done, config: { not_found_handling: "404" } } }, /not_found_handling must be one of/);
    await refused({ assets: { jwt: done, config: { serve_directly: true } } }, /Unexpected field "assets.config.serve_directly"/);
    await refused({ assets: { jwt: done, config: { run_worker_first: ["api/*"] } } }, /must be a path pattern/);
    await refused({ assets: { jwt: done, config: { _headers: Array.from({ length: 101 }, (_, i) => `/p${i}\n  X-A: b`).join("\n") } } }, /101 rules, more than the 100/);
    await refused({ assets: { jwt: done }, surprise: 1 }, /Unexpected metadata field "surprise"/);
    await refused({ keep_assets: true }, /no assets to keep/);
    assert.equal(emu.state.scripts.size, 0, "nothing refused was stored");

    assert.equal((await put({ assets: { jwt: done, config: { run_worker_first: ["/api/*", "!/api/docs"] } } })).status, 200);
    // keep_assets: the next version has the same assets without a token; both at once is refused.
    const kept = await call(emu, "POST", `${A}/workers/scripts/w/versions?bindings_inherit=strict`, { body: upload({ keep_assets: true }) });
    assert.equal(kept.status, 200, JSON.stringify(kept.json));
    const [v1, v2] = emu.state.scripts.get("w").versions;
    assert.deepEqual(v2.assets, v1.assets);
    await refused({ keep_assets: true, assets: { jwt: done } }, /exclude each other/);
    // A version without assets has none.
    assert.equal((await put({})).status, 200);
    assert.equal(emu.state.scripts.get("w").versions.at(-1).assets, null);

    // The completion token is good for one hour.
    emu.state.assets.advanceClock(3601);
    await refused({ assets: { jwt: done } }, /valid, unexpired completion token/);
    assert.deepEqual(emu.state.unknown, []);
  } finally {
    await emu.stop();
  }
});
