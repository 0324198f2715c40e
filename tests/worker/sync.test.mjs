// Syncs in workerd (the real .wasm; tests/worker/fixtures/harness.mjs): a GitHub repository with more
// refs than one slice may read (40 upstream requests) is synced by the admin call and then by cron runs,
// each continuing from the saved cursor, until every tag is served; and a trap in the middle of a slice
// of a Composer repository's sync (right after a package's version set was written) loses nothing: the
// version set is whole, and the next cron runs resume from the cursor and finish the sync.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, client, until } from "./helpers.mjs";
import * as github from "../upstreams/github.mjs";
import * as composerRepo from "../upstreams/composer-repo.mjs";
import { createRepo } from "../upstreams/repo-model.mjs";
import { expand } from "../upstreams/composer-meta.mjs";

const ADMIN = "sync-admin-token";
const KEY = Buffer.alloc(32, 3).toString("base64");
const GH_TOKEN = "ghp_sync_many_refs";

describe("syncs in workerd", () => {
  let mf, api, worker, token, gh, repoV2;
  const logs = [];
  const scheduledRuns = () => logs.filter((l) => l.kind === "scheduled" && !l.level).length; // finished runs
  // One cron run, waited for through its log line (a trapped run logs an error line instead).
  async function cron() {
    const n = logs.filter((l) => l.kind === "scheduled").length;
    await worker.scheduled({ cron: "*/15 * * * *" });
    await until("the cron run finished", () => logs.filter((l) => l.kind === "scheduled").length > n);
  }
  const source = async (id) => (await api("GET", `/admin/api/sources/${id}`, { admin: true })).json;
  async function versions(name, dev = false) {
    await api("POST", "/__fixture/clock?advance_ms=11000"); // past the isolate's document cache
    const r = await api("GET", `/p2/${name}${dev ? "~dev" : ""}.json`, { token });
    if (r.status === 404) return null;
    assert.equal(r.status, 200, r.text);
    return expand(r.json.packages[name]).map((v) => v.version);
  }

  before(async () => {
    const many = createRepo({ name: "acme/many", defaultBranch: "main", private: true });
    for (let i = 0; i < 60; i++) {
      many.commit("main", { "composer.json": { name: "acme/many", autoload: { "psr-4": { "Acme\\Many\\": "src/" } } }, "src/V.php": `<?php // ${i}\n` });
      many.tag(`v1.0.${i}`);
    }
    gh = await github.start({ repos: [many], token: GH_TOKEN });
    repoV2 = await composerRepo.start({
      mode: "v2",
      username: "u",
      password: "p",
      packages: ["one", "two", "three", "four", "five"].map((n) => ({ name: `acme/${n}`, versions: [{ version: "1.0.0" }, { version: "1.1.0" }, { version: "2.0.0" }] })),
    });
    mf = await startWorker({
      script: "tests/worker/fixtures/harness.mjs",
      bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: KEY, PB_SYNC_PACKAGES_PER_SLICE: "2" },
      logs,
    });
    api = client(mf, { adminToken: ADMIN });
    worker = await mf.getWorker();
    token = (await api("POST", "/admin/api/tokens", { admin: true, body: { name: "sync" } })).json.token;
  });
  after(async () => {
    await mf?.dispose();
    await gh?.stop();
    await repoV2?.stop();
  });

  test("a repository with more refs than a slice reads is synced over several slices", { timeout: 300_000 }, async () => {
    const src = await api("POST", "/admin/api/sources", {
      admin: true,
      body: { type: "github", url: `${gh.url}/acme/many`, api_url: gh.apiUrl, credentials: { type: "bearer", token: GH_TOKEN } },
    });
    assert.equal(src.status, 201, src.text);
    const first = await api("POST", `/admin/api/sources/${src.json.id}/sync`, { admin: true });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.mode, "enqueued", first.text);
    assert.equal(first.json.result.status, "running");
    assert.ok(first.json.result.remaining > 0, first.text);
    assert.equal((await source(src.json.id)).last_sync.status, "running");
    let slices = 1;
    for (let i = 0; i < 20 && (await source(src.json.id)).last_sync.status === "running"; i++) {
      await cron();
      slices++;
    }
    const done = await source(src.json.id);
    assert.equal(done.last_sync.status, "ok", JSON.stringify(done.last_sync));
    assert.ok(slices >= 2, `${slices} slices for 61 refs at 40 upstream requests a slice`);
    const tags = await versions("acme/many");
    assert.equal(tags.length, 60);
    assert.deepEqual(new Set(tags), new Set(Array.from({ length: 60 }, (_, i) => `v1.0.${i}`)));
    assert.deepEqual(await versions("acme/many", true), ["dev-main"]);
    // Every API request carried the source's token; the archives were not fetched (no download yet).
    const apiRequests = gh.state.requests.filter((e) => e.path.startsWith("/api/v3/"));
    assert.ok(apiRequests.length > 60 && apiRequests.every((e) => e.auth?.scheme === "bearer"), `${apiRequests.length} API requests`);
  });

  test("a trap in the middle of a sync slice loses nothing; the next cron runs resume and finish", { timeout: 300_000 }, async () => {
    const src = await api("POST", "/admin/api/sources", {
      admin: true,
      body: { type: "composer", url: repoV2.url, credentials: { type: "basic", username: "u", password: "p" } },
    });
    assert.equal(src.status, 201, src.text);
    const first = await api("POST", `/admin/api/sources/${src.json.id}/sync`, { admin: true });
    assert.equal(first.json.result.status, "running", first.text); // 2 of 5 packages, the cursor saved
    // The next slice writes acme/four's version set (acme/three's first), then the wasm traps.
    await api("POST", "/__fixture/faults", { body: [{ binding: "DB", op: "batch", match: "INSERT INTO versions", kind: "trap", after: 1 }] });
    const before = scheduledRuns();
    const errors = logs.filter((l) => l.level === "error").length;
    await worker.scheduled({ cron: "*/15 * * * *" });
    await until("the trapped cron run", () => logs.filter((l) => l.level === "error" && l.kind === "scheduled").length > 0 && logs.filter((l) => l.level === "error").length > errors);
    assert.equal(scheduledRuns(), before, "the trapped run did not finish");
    const hit = (await api("GET", "/__fixture/faults")).json.hits;
    assert.equal(hit.length, 1);
    assert.match(hit[0].subject, /INSERT INTO versions/);
    // Whatever was written is whole: acme/four has all three versions or none.
    const db = await mf.getD1Database("DB");
    const counts = Object.fromEntries(
      (await db.prepare("SELECT p.name, count(v.id) AS n FROM packages p LEFT JOIN versions v ON v.package_id = p.id GROUP BY p.name").all()).results.map((r) => [r.name, r.n]),
    );
    for (const [name, n] of Object.entries(counts)) if (name.startsWith("acme/") && name !== "acme/many") assert.ok(n === 0 || n === 3, `${name}: ${n} versions`);
    assert.equal(counts["acme/four"], 3, "the batch before the trap was applied whole");
    // The trapped invocation never gave its claim on the source back: it expires after 5 minutes
    // (src/sources/sync_run.h), and only then may a cron run take the sync over.
    await api("POST", "/__fixture/clock?advance_ms=301000");
    for (let i = 0; i < 10 && (await source(src.json.id)).last_sync.status === "running"; i++) await cron();
    const done = await source(src.json.id);
    assert.equal(done.last_sync.status, "ok", JSON.stringify(done.last_sync));
    for (const n of ["one", "two", "three", "four", "five"]) assert.deepEqual(await versions(`acme/${n}`), ["2.0.0", "1.1.0", "1.0.0"], `acme/${n}`);
  });
});
