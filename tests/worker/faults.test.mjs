// Injected faults in workerd (tests/worker/fixtures/harness.mjs around the real .wasm): D1, KV and R2
// operations that fail or hang until the platform's timeout error, and a trap right after a write.
// Each case checks the answer (a JSON error with the right status and a plain message, details in
// the log only) and that what is stored is unchanged or consistent: no archive without its version
// nor a version without its archive, no half-written version set, no download count counted twice or
// silently dropped, and the next cron run repairs what a failure left behind.
import { test, describe, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startWorker, client, requestLines, until } from "./helpers.mjs";
import { zipFiles } from "../upstreams/zip.mjs";
import * as composerRepo from "../upstreams/composer-repo.mjs";

const ADMIN = "faults-admin-token";
const KEY = Buffer.alloc(32, 5).toString("base64");

describe("faults of D1, KV and R2 in workerd", () => {
  let mf, api, db, bucket, token, up, sourceId;
  const logs = [];
  const zip = (name, version) => zipFiles({ "composer.json": JSON.stringify({ name, version }), "src/A.php": `<?php // ${version}\n` });
  const upload = (name, version) => api("PUT", `/admin/api/artifacts/${name}`, { admin: true, body: zip(name, version), headers: { "content-type": "application/zip" } });
  const inject = (...faults) => api("POST", "/__fixture/faults", { body: faults });
  const hits = async () => (await api("GET", "/__fixture/faults")).json.hits;
  const cold = () => api("POST", "/__fixture/clock?advance_ms=11000"); // past the isolate cache's 10 s
  const objects = async (prefix) => (await bucket.list({ prefix })).objects.map((o) => o.key);
  const rows = (sql, ...params) => db.prepare(sql).bind(...params).all().then((r) => r.results);
  // The dist path of name@version, as its p2 document gives it.
  async function distPathOf(name, version) {
    const meta = await api("GET", `/p2/${name}.json`, { token });
    return new URL(meta.json.packages[name].find((x) => x.version === version).dist.url).pathname;
  }
  function assertPlainError(r, status, code) {
    assert.equal(r.status, status, r.text);
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.equal(r.json?.error?.code, code, r.text);
    assert.doesNotMatch(r.json.error.message, /D1_ERROR|injected|internal error\.|SELECT|INSERT|mirror\/|artifacts\//, r.text);
  }

  before(async () => {
    up = await composerRepo.start({
      mode: "v2",
      username: "u",
      password: "p",
      distMode: "chunked",
      packages: [{ name: "acme/mirrored", versions: [{ version: "1.0.0", files: { "src/M.php": "<?php\n" } }, { version: "1.1.0" }] }],
    });
    mf = await startWorker({
      script: "tests/worker/fixtures/harness.mjs",
      bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: KEY, PB_LOG: "debug" },
      logs,
    });
    api = client(mf, { adminToken: ADMIN });
    db = await mf.getD1Database("DB");
    bucket = await mf.getR2Bucket("BUCKET");
    assert.equal((await upload("acme/widget", "1.0.0")).status, 201);
    token = (await api("POST", "/admin/api/tokens", { admin: true, body: { name: "faults" } })).json.token;
    const src = await api("POST", "/admin/api/sources", { admin: true, body: { type: "composer", url: up.url, credentials: { type: "basic", username: "u", password: "p" } } });
    sourceId = src.json.id;
    assert.equal((await api("POST", `/admin/api/sources/${sourceId}/sync`, { admin: true })).json.result.status, "ok");
  });
  beforeEach(async () => {
    await api("DELETE", "/__fixture/faults");
  });
  after(async () => {
    await mf?.dispose();
    await up?.stop();
  });

  test("D1 down while reading the token: 503 with a plain message, the D1 error in the log", async () => {
    await cold();
    await inject({ binding: "DB", op: "first", match: "FROM tokens WHERE token_hash", kind: "fail", count: 2 });
    const p2 = await api("GET", "/p2/acme/widget.json", { token });
    assertPlainError(p2, 503, "unavailable");
    assert.equal(p2.json.error.message, "the token store is unavailable, try again later");
    assert.match(requestLines(logs, "/p2/acme/widget.json").at(-1).detail, /D1_ERROR: injected failure/);
    assertPlainError(await api("GET", "/packages.json", { token }), 503, "unavailable");
    assert.equal((await hits()).length, 2);
    assert.equal((await api("GET", "/p2/acme/widget.json", { token })).status, 200, "served again once D1 is back");
  });

  test("D1 hanging until the platform's timeout on the document read: 503, then served again", async () => {
    await cold();
    await inject({ binding: "DB", op: "batch", match: "FROM metadata_documents WHERE key", kind: "hang", ms: 1500 });
    const r = await api("GET", "/p2/acme/widget.json", { token });
    assertPlainError(r, 503, "unavailable");
    assert.match(requestLines(logs, "/p2/acme/widget.json").at(-1).detail, /timed out/);
    assert.equal((await api("GET", "/p2/acme/widget.json", { token })).status, 200);
  });

  test("an upload whose version insert fails stores nothing; its retry stores it once", async () => {
    await inject({ binding: "DB", op: "batch", match: "INSERT INTO versions", kind: "fail" });
    const before = await objects("artifacts/acme/widget/");
    const r = await upload("acme/widget", "1.1.0");
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, "unavailable");
    assert.deepEqual(await objects("artifacts/acme/widget/"), before, "the archive was deleted again");
    assert.deepEqual(await rows("SELECT v.version FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ?", "acme/widget"), [{ version: "1.0.0" }]);
    assert.equal((await upload("acme/widget", "1.1.0")).status, 201);
    assert.equal((await objects("artifacts/acme/widget/")).length, before.length + 1);
  });

  test("an upload whose R2 write fails stores nothing", async () => {
    await inject({ binding: "BUCKET", op: "put", match: "artifacts/acme/widget/", kind: "fail" });
    const before = await objects("artifacts/acme/widget/");
    const r = await upload("acme/widget", "1.2.0");
    assert.equal(r.status, 503, r.text); // R2's failure, not the upload's: send it again later
    assert.equal(r.json.error.code, "unavailable");
    assert.deepEqual(await objects("artifacts/acme/widget/"), before);
    assert.deepEqual(await rows("SELECT count(*) AS n FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.version = '1.2.0'", "acme/widget"), [{ n: 0 }]);
  });

  test("an upload whose document rebuild fails keeps version and archive together; the next cron rebuilds", async () => {
    await inject({ binding: "DB", op: "batch", match: "INSERT INTO metadata_documents", kind: "fail", count: 2 });
    const r = await upload("acme/widget", "1.3.0");
    assert.equal(r.status, 503, r.text);
    assert.match(r.json.error.message, /was stored, but its metadata could not be rebuilt.*need not be repeated/);
    const [v] = await rows("SELECT v.dist_key FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.version = '1.3.0'", "acme/widget");
    assert.ok(v?.dist_key, "the version is recorded");
    assert.ok(await bucket.head(v.dist_key), "with its archive");
    await cold();
    const stale = await api("GET", "/p2/acme/widget.json", { token });
    assert.ok(!stale.json.packages["acme/widget"].some((x) => x.version === "1.3.0"), "not yet in the document");
    const worker = await mf.getWorker();
    await worker.scheduled({ cron: "*/15 * * * *" });
    await until("the cron run rebuilt the documents", async () => {
      await cold();
      const r2 = await api("GET", "/p2/acme/widget.json", { token });
      return r2.json.packages["acme/widget"].some((x) => x.version === "1.3.0");
    });
  });

  test("R2 failing on a stored archive's read: 503 with a plain message, the key only in the log", async () => {
    const path = await distPathOf("acme/widget", "1.0.0");
    await inject({ binding: "BUCKET", op: "get", match: "artifacts/", kind: "fail" });
    const r = await api("GET", path, { token });
    assertPlainError(r, 503, "unavailable");
    assert.match(requestLines(logs, path).at(-1).detail, /artifacts\/acme\/widget\//);
    assert.equal((await api("GET", path, { token })).status, 200);
  });

  test("R2 failing while a first download is stored: 502, nothing recorded, the next download works", async () => {
    const path = await distPathOf("acme/mirrored", "1.0.0");
    await inject({ binding: "BUCKET", op: "put", match: "mirror/acme/mirrored/", kind: "fail" });
    const r = await api("GET", path, { token });
    assertPlainError(r, 502, "upstream");
    assert.deepEqual(await objects("mirror/acme/mirrored/"), []);
    assert.deepEqual(await rows("SELECT dist_key, fetch_lease_until FROM versions WHERE upstream_dist_url LIKE ?", "%acme/mirrored/1.0.0/%"), [{ dist_key: null, fetch_lease_until: null }]);
    const again = await api("GET", path, { token });
    assert.equal(again.status, 200, again.text);
    assert.ok(again.buf.equals(up.state.dist("acme/mirrored", "1.0.0").zip));
  });

  test("D1 failing while a first download is recorded: 502, the stored copy removed, the next download works", async () => {
    const path = await distPathOf("acme/mirrored", "1.1.0");
    await inject({ binding: "DB", op: "run", match: "UPDATE versions SET dist_key", kind: "fail" });
    const r = await api("GET", path, { token });
    assertPlainError(r, 502, "upstream");
    const ref = up.state.dist("acme/mirrored", "1.1.0").reference;
    assert.deepEqual((await objects("mirror/acme/mirrored/")).filter((k) => k.includes(ref)), [], "no archive without its record");
    const again = await api("GET", path, { token });
    assert.equal(again.status, 200, again.text);
    assert.ok(again.buf.equals(up.state.dist("acme/mirrored", "1.1.0").zip));
  });

  test("notify-batch with D1 failing: 503 and nothing counted; the retry counts each download once", async () => {
    const batch = { downloads: [{ name: "acme/widget", version: "1.0.0.0" }, { name: "acme/widget", version: "1.0.0.0" }] };
    const count = async () => (await rows("SELECT coalesce(sum(count), 0) AS n FROM downloads"))[0].n;
    const before = await count();
    await inject({ binding: "DB", op: "batch", match: "INSERT INTO downloads", kind: "fail" });
    const r = await api("POST", "/downloads", { token, body: batch });
    assertPlainError(r, 503, "unavailable");
    assert.equal(await count(), before, "all or nothing");
    const ok = await api("POST", "/downloads", { token, body: batch });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(await count(), before + 2);
  });

  test("KV down: /health reports it degraded with 503; the composer paths do not need KV", async () => {
    await inject({ binding: "KV", op: "getWithMetadata", kind: "fail", count: 5 });
    const h = await api("GET", "/health");
    assert.equal(h.status, 503, h.text);
    assert.equal(h.json.checks.kv.status, "error");
    assert.equal(h.json.checks.db.status, "ok");
    await cold();
    assert.equal((await api("GET", "/p2/acme/widget.json", { token })).status, 200);
  });
});
