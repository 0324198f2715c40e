// The real .wasm in workerd (Miniflare): /health, the JSON 404, an injected D1 failure, trap recovery,
// concurrent requests interleaving in one instance, and the cron trigger.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, BASE } from "./helpers.mjs";

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
