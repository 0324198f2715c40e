// The Cloudflare API emulator is as strict as the real API on the calls deploy makes: these tests
// prove that it refuses what Cloudflare refuses, so the deploy tests cannot pass against a lenient fake.
import { test } from "node:test";
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
