// The real .wasm in workerd (Miniflare): /health, the JSON 404, an injected D1 failure, trap recovery,
// concurrent requests interleaving in one instance, the cron trigger, and warm p2 hits answered from
// the shim's kept heads (PROTOCOL.md "Finish, binary form").
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, client, BASE } from "./helpers.mjs";
import { zipFiles } from "../upstreams/zip.mjs";

const SECRETS = { ADMIN_TOKEN: "worker-test-admin", PB_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" };
const ADMIN = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };

describe("worker in workerd", () => {
  let mf;
  before(async () => {
    mf = await startWorker({ bindings: { PB_TEST_HOOKS: "1", ...SECRETS } });
  });
  after(async () => {
    await mf?.dispose();
  });

  test("GET /health is 200 with every check ok", async () => {
    const r = await mf.dispatchFetch(`${BASE}/health`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(r.headers.get("cache-control"), "no-store");
    const body = await r.json();
    assert.equal(body.status, "ok");
    assert.deepEqual(body.checks, {
      db: { status: "ok" },
      kv: { status: "ok" },
      blob: { status: "ok" },
      schema: { status: "ok" },
      cron: { status: "waiting" },
      secrets: { status: "ok" },
    });
    assert.match(body.version, /^\d+\.\d+\.\d+/);
  });

  test("unknown paths get a JSON 404", async () => {
    const r = await mf.dispatchFetch(`${BASE}/p3/nope.json`);
    assert.equal(r.status, 404);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.deepEqual(await r.json(), { error: { code: "not_found", message: "no route for /p3/nope.json" } });
  });

  test("HEAD answers GET's status and headers, without a body", async () => {
    for (const p of ["/health", "/p3/nope.json", "/packages.json"]) {
      const get = await mf.dispatchFetch(`${BASE}${p}`);
      await get.arrayBuffer();
      const head = await mf.dispatchFetch(`${BASE}${p}`, { method: "HEAD" });
      assert.equal(head.status, get.status, p);
      assert.equal(await head.text(), "", p);
      for (const h of ["content-type", "cache-control", "www-authenticate"]) assert.equal(head.headers.get(h), get.headers.get(h), `${p} ${h}`);
    }
  });

  test("a trap answers 500 JSON and the next request gets a fresh instance", async () => {
    const trapped = await mf.dispatchFetch(`${BASE}/__test/trap`);
    assert.equal(trapped.status, 500);
    const body = await trapped.json();
    assert.equal(body.error.code, "internal");
    for (let i = 0; i < 3; i++) {
      const r = await mf.dispatchFetch(`${BASE}/health`);
      assert.equal(r.status, 200);
      assert.equal((await r.json()).status, "ok");
    }
  });

  test("50 concurrent requests interleave in one instance", async () => {
    const rs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => mf.dispatchFetch(i % 2 ? `${BASE}/health` : `${BASE}/missing/${i}`)),
    );
    for (const [i, r] of rs.entries()) {
      assert.equal(r.status, i % 2 ? 200 : 404);
      const body = await r.json();
      if (i % 2 === 0) assert.equal(body.error.message, `no route for /missing/${i}`);
    }
  });

  test("the cron trigger runs C++ and records its run in D1", async () => {
    const worker = await mf.getWorker();
    const outcome = await worker.scheduled({ cron: "*/15 * * * *" });
    assert.equal(outcome.outcome, "ok");
    const db = await mf.getD1Database("DB");
    let row = null;
    const deadline = Date.now() + 30_000; // generous: the suite runs on loaded machines
    for (let i = 0; i < 3000 && !row && Date.now() < deadline; i++) {
      row = await db.prepare("SELECT value FROM pb_meta WHERE key = 'last_cron_ms'").first();
      if (!row) await new Promise((res) => setTimeout(res, 10));
    }
    assert.ok(row, "last_cron_ms was not written by the scheduled handler");
    assert.match(row.value, /^\d{13}$/);
  });
});

describe("worker with a failing D1", () => {
  let mf;
  before(async () => {
    mf = await startWorker({ script: "tests/worker/fixtures/faulty-db.mjs", migrate: false, bindings: SECRETS });
  });
  after(async () => {
    await mf?.dispose();
  });

  test("/health is 503 degraded and names the database error to the admin only", async () => {
    const anonymous = await mf.dispatchFetch(`${BASE}/health`);
    assert.equal(anonymous.status, 503);
    const words = await anonymous.text();
    assert.doesNotMatch(words, /injected failure/, "no storage error text for anonymous callers");
    assert.equal(JSON.parse(words).checks.db.status, "error");
    const r = await mf.dispatchFetch(`${BASE}/health`, { headers: ADMIN });
    assert.equal(r.status, 503);
    const body = await r.json();
    assert.equal(body.status, "degraded");
    assert.equal(body.checks.db.status, "error");
    assert.match(body.checks.db.message, /injected failure/);
    assert.equal(body.checks.kv.status, "ok");
    assert.equal(body.checks.blob.status, "ok");
  });
});

describe("worker with an unmigrated D1", () => {
  let mf;
  before(async () => {
    mf = await startWorker({ migrate: false, bindings: SECRETS });
  });
  after(async () => {
    await mf?.dispose();
  });

  test("/health is 503 until migrations are applied", async () => {
    const r = await mf.dispatchFetch(`${BASE}/health`, { headers: ADMIN });
    assert.equal(r.status, 503);
    assert.match((await r.json()).checks.db.message, /no such table: pb_meta/);
  });
});

// A warm p2 hit's status, headers and log labels come from a head the shim decoded once and keeps by its
// head id; what differs per answer (the rate headers of a limited token) must still be each answer's own.
describe("warm p2 hits in workerd", () => {
  let mf, api;
  const zip = (version) => zipFiles({ "composer.json": JSON.stringify({ name: "acme/heads", version }), "src/A.php": "<?php\n" });
  before(async () => {
    mf = await startWorker({ bindings: SECRETS });
    api = client(mf, { adminToken: SECRETS.ADMIN_TOKEN });
    const up = await api("PUT", "/admin/api/artifacts/acme/heads", { admin: true, body: zip("1.0.0"), headers: { "content-type": "application/zip" } });
    assert.equal(up.status, 201, up.text);
  });
  after(async () => {
    await mf?.dispose();
  });

  const token = async (body) => {
    const t = await api("POST", "/admin/api/tokens", { admin: true, body });
    assert.equal(t.status, 201, t.text);
    return t.json.token;
  };

  test("rate headers are each answer's own; the shared head is the same for every token", async () => {
    const limited = await token({ name: "limited", rate_limit: 5 });
    const unlimited = await token({ name: "unlimited", rate_limit: 0 });
    const first = await api("GET", "/p2/acme/heads.json", { token: unlimited });
    assert.equal(first.status, 200, first.text);
    const lastModified = first.headers.get("last-modified");
    assert.ok(lastModified);
    for (let i = 0; i < 4; i++) {
      const r = await api("GET", "/p2/acme/heads.json", { token: limited });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get("x-ratelimit-limit"), "5");
      assert.equal(r.headers.get("x-ratelimit-remaining"), String(4 - i));
      assert.equal(r.headers.get("last-modified"), lastModified);
      assert.equal(r.headers.get("content-type"), "application/json");
      assert.deepEqual(r.json, first.json);
      const u = await api("GET", "/p2/acme/heads.json", { token: unlimited });
      assert.equal(u.status, 200);
      assert.equal(u.headers.get("x-ratelimit-remaining"), null, "no rate headers carried over from another answer");
      assert.equal(u.headers.get("cache-control"), first.headers.get("cache-control"));
      assert.equal(u.buf.length, first.buf.length);
    }
    const over = await api("GET", "/p2/acme/heads.json", { token: limited });
    assert.equal(over.status, 200);
    const denied = await api("GET", "/p2/acme/heads.json", { token: limited });
    assert.equal(denied.status, 429, denied.text);
    assert.equal(denied.headers.get("x-ratelimit-remaining"), "0");
    assert.equal(denied.json.error.code, "rate_limited");
  });

  test("HEAD and 304 of a warm hit keep GET's headers without a body; new metadata is served at once", async () => {
    const t = await token({ name: "heads", rate_limit: 0 });
    const get = await api("GET", "/p2/acme/heads.json", { token: t });
    assert.equal(get.status, 200);
    for (let i = 0; i < 2; i++) {
      const head = await api("HEAD", "/p2/acme/heads.json", { token: t });
      assert.equal(head.status, 200);
      assert.equal(head.buf.length, 0);
      for (const h of ["content-type", "cache-control", "last-modified"]) assert.equal(head.headers.get(h), get.headers.get(h), h);
      const nm = await api("GET", "/p2/acme/heads.json", { token: t, headers: { "if-modified-since": get.headers.get("last-modified") } });
      assert.equal(nm.status, 304);
      assert.equal(nm.buf.length, 0);
      assert.equal(nm.headers.get("last-modified"), get.headers.get("last-modified"));
      assert.equal(nm.headers.get("content-type"), null, "a 304's head is its own, not the 200's");
    }
    const up = await api("PUT", "/admin/api/artifacts/acme/heads", { admin: true, body: zip("1.1.0"), headers: { "content-type": "application/zip" } });
    assert.equal(up.status, 201, up.text);
    const after = await api("GET", "/p2/acme/heads.json", { token: t });
    assert.equal(after.status, 200);
    assert.deepEqual(after.json.packages["acme/heads"].map((v) => v.version), ["1.1.0", "1.0.0"]);
  });
});
