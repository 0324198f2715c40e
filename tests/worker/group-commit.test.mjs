// Group commit of the download counts (worker/d1group.mjs, PROTOCOL.md d1.run "group") in workerd,
// through the fault harness (tests/worker/fixtures/harness.mjs): a "hold" fault keeps the first count's
// write in flight until the test releases it, so the downloads that arrive meanwhile are known to wait
// (the harness reports how many) and to go together in the next D1 batch; no timing is assumed but
// the gather window's, which its test widens to 6 s.
import { test, describe, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startWorker, client, until, requestLines } from "./helpers.mjs";
import { zipFiles } from "../upstreams/zip.mjs";

const ADMIN = "group-admin-token";
const COUNT_SQL = "DO UPDATE SET fetches = fetches + 1"; // the archive counter's upsert (routes/dist.cpp)

describe("group commit of download counts in workerd", () => {
  let mf, api, token, path;
  const logs = [];
  const rawLogs = [];
  const inject = (...faults) => api("POST", "/__fixture/faults", { body: faults });
  const groups = async () => (await api("GET", "/__fixture/d1-groups")).json;
  const hits = async () => (await api("GET", "/__fixture/faults")).json.hits;
  const fetches = async () => {
    const r = await api("GET", "/admin/api/stats?group=version", { admin: true });
    assert.equal(r.status, 200, r.text);
    return r.json.totals.fetches;
  };
  const download = async () => {
    const r = await api("GET", path, { token });
    assert.equal(r.status, 200, r.text);
  };

  before(async () => {
    mf = await startWorker({ script: "tests/worker/fixtures/harness.mjs", bindings: { ADMIN_TOKEN: ADMIN, PB_LOG: "debug" }, logs, rawLogs });
    api = client(mf, { adminToken: ADMIN });
    const zip = zipFiles({ "composer.json": JSON.stringify({ name: "acme/grouped", version: "1.0.0" }), "src/G.php": "<?php\n" });
    const up = await api("PUT", "/admin/api/artifacts/acme/grouped", { admin: true, body: zip, headers: { "content-type": "application/zip" } });
    assert.equal(up.status, 201, up.text);
    token = (await api("POST", "/admin/api/tokens", { admin: true, body: { name: "grouped" } })).json.token;
    const meta = await api("GET", "/p2/acme/grouped.json", { token });
    path = new URL(meta.json.packages["acme/grouped"][0].dist.url).pathname;
  });
  beforeEach(async () => {
    await api("DELETE", "/__fixture/faults"); // also releases anything still held
    await until("no count waiting", async () => (await groups()).waiting === 0);
  });
  after(async () => {
    await mf?.dispose();
  });
  // workerd cancels (with this warning) the continuation of a promise settled from another request
  // after its own request ended: a waiting count must never depend on one.
  const noCrossRequestWarning = () =>
    assert.deepEqual(rawLogs.filter((m) => /different request context/.test(m)), [], "no continuation canceled across requests");

  // Holds the next count's write, then sends `n` more downloads and waits until their counts queue.
  async function queueBehindHeldWrite(n) {
    await inject({ binding: "DB", op: "run", match: COUNT_SQL, kind: "hold" });
    await download();
    await until("the first count's write held", async () => (await groups()).held === 1);
    await Promise.all(Array.from({ length: n }, download));
    await until(`${n} counts waiting for the write in flight`, async () => (await groups()).waiting === n);
  }

  test("an idle download writes its count at once, alone, as a plain run", async () => {
    const before = await groups();
    const total = await fetches();
    await download();
    await until("the count written", async () => (await fetches()) === total + 1);
    const now = await groups();
    assert.equal(now.runs, before.runs + 1, "one plain D1 run");
    assert.equal(now.batches, before.batches, "no batch");
    assert.equal(now.waiting, 0);
  });

  // Under a workers.dev host name (no edge cache) a warm download is one effect: the response, whose body
  // the shim reads from R2 itself (http.respond "body_r2"), with its count riding on it ("after").
  test("a warm download takes one effect batch: the response read from R2, with its count", async () => {
    const total = await fetches();
    const authorization = `Basic ${Buffer.from(`token:${token}`).toString("base64")}`;
    for (let i = 0; i < 2; i++) {
      const r = await mf.dispatchFetch(`https://pb-group.workers.dev${path}`, { headers: { authorization } });
      assert.equal(r.status, 200);
      assert.equal((await r.arrayBuffer()).byteLength, Number(r.headers.get("content-length")));
    }
    await until("both counted", async () => (await fetches()) === total + 2);
    const warm = requestLines(logs, path).filter((l) => !l.phase).at(-1);
    assert.deepEqual(warm.batches, [["r2.get+http.respond+d1.run"]]);
    assert.equal(warm.cache, "r2");
  });

  test("N concurrent downloads: exactly N counted, in fewer D1 calls than N", async () => {
    const n = 12;
    const before = await groups();
    const total = await fetches();
    await queueBehindHeldWrite(n - 1);
    await api("POST", "/__fixture/release");
    await until("all counts written", async () => (await fetches()) === total + n);
    const now = await groups();
    assert.equal(now.runs - before.runs, 1, "the first count alone");
    assert.equal(now.batches - before.batches, 1, "the other N-1 in one batch");
    assert.equal(now.statements - before.statements, n);
    const lines = logs.filter((l) => l.kind === "d1_group" && l.group === "downloads");
    assert.equal(lines.at(-1).statements, n - 1, "the debug log names the batch");
    // The statistics are per version and token: N fetches, no download notified.
    const stats = (await api("GET", "/admin/api/stats?group=version", { admin: true })).json;
    assert.deepEqual(stats.rows.map((r) => [r.version, r.downloads, r.fetches]), [["1.0.0.0", 0, total + n]]);
    noCrossRequestWarning();
  });

  // The gather window (worker/d1group.mjs GATHER_MS): the batch after a write starts no sooner than the
  // window after that write started, and takes what arrived until then. Widened here to 6 s so that the
  // downloads sent after the release surely arrive inside it.
  test("downloads that arrive while the next batch gathers go in that batch", async () => {
    const before = await groups();
    const total = await fetches();
    await api("POST", "/__fixture/d1-gather?ms=6000");
    try {
      await queueBehindHeldWrite(1);
      await api("POST", "/__fixture/release"); // the held write ends; its follower gathers until 6 s after it started
      await until("the held count written", async () => (await fetches()) === total + 1);
      await Promise.all(Array.from({ length: 3 }, download));
      await until("3 more counts waiting", async () => (await groups()).waiting === 3);
      assert.equal(await fetches(), total + 1, "nothing written while the batch gathers");
      await until("all counts written", async () => (await fetches()) === total + 5, { seconds: 30 });
    } finally {
      await api("DELETE", "/__fixture/d1-gather");
    }
    const now = await groups();
    assert.equal(now.runs - before.runs, 1, "the held count alone");
    assert.equal(now.batches - before.batches, 1, "the four after it in one batch");
    const lines = logs.filter((l) => l.kind === "d1_group" && l.group === "downloads");
    assert.equal(lines.at(-1).statements, 4, "the debug log names the batch");
    noCrossRequestWarning();
  });

  // The bounds (worker/d1group.mjs WAIT_MS, 15 s): these two wait that long, on purpose.
  test("counts waiting behind a write that never ends take their statements back and write them", async () => {
    const n = 4;
    const before = await groups();
    const total = await fetches();
    await queueBehindHeldWrite(n - 1);
    // The first to give up writes itself and the group goes on from it: the others write themselves
    // too or ride in the batch after it, depending on when their timers fire.
    await until("the waiting counts written", async () => (await fetches()) === total + n - 1, { seconds: 90, everyMs: 500 });
    assert.ok((await groups()).fallbacks > before.fallbacks, "written by the fallback");
    await api("POST", "/__fixture/release");
    await until("the held write done too", async () => (await fetches()) === total + n);
    await download(); // the group goes on
    await until("the next count written", async () => (await fetches()) === total + n + 1);
    noCrossRequestWarning();
  });

  test("counts whose batch was sent but never ends are not written twice; each says so in the log", async () => {
    const n = 3;
    const total = await fetches();
    await queueBehindHeldWrite(n);
    await inject({ binding: "DB", op: "batch", match: COUNT_SQL, kind: "hold" });
    await api("POST", "/__fixture/release"); // the first write ends; the batch behind it is held
    await until("the batch held", async () => (await groups()).held === 1);
    const errorsBefore = logs.length;
    // The batch's first count runs it and waits for it as any D1 call; the other n-1 give up waiting.
    await until("the other counts gave up", async () => logs.slice(errorsBefore).filter((l) => /outcome is unknown/.test(l.msg ?? "")).length === n - 1, { seconds: 90 });
    await api("POST", "/__fixture/release");
    await until("the batch committed", async () => (await fetches()) === total + 1 + n);
    await until("nothing waiting", async () => (await groups()).waiting === 0);
    assert.equal(await fetches(), total + 1 + n, "no count written again");
    noCrossRequestWarning();
  });

  test("a failing grouped batch loses only its own counts, is logged, and the next batch works", async () => {
    const n = 5;
    const total = await fetches();
    await queueBehindHeldWrite(n);
    await inject({ binding: "DB", op: "batch", match: COUNT_SQL, kind: "fail" });
    const errorsBefore = logs.filter((l) => l.level === "error").length;
    await api("POST", "/__fixture/release");
    await until("the held count written", async () => (await fetches()) === total + 1);
    await until("the failed batch logged", () => logs.slice(errorsBefore).some((l) => l.level === "error" && /grouped D1 batch failed/.test(l.msg)));
    const failed = logs.slice(errorsBefore).find((l) => /grouped D1 batch failed/.test(l.msg ?? ""));
    assert.equal(failed.statements, n);
    assert.match(failed.error, /injected failure/);
    assert.ok((await hits()).some((h) => h.op === "batch" && h.kind === "fail"), "the batch hit the fault");
    await until("nothing waiting", async () => (await groups()).waiting === 0);
    assert.equal(await fetches(), total + 1, "the failed batch's counts are lost, nothing else");
    // The next batch works: again one held write and a group behind it.
    await queueBehindHeldWrite(3);
    await api("POST", "/__fixture/release");
    await until("the next counts written", async () => (await fetches()) === total + 1 + 4);
    noCrossRequestWarning();
  });

  // The object gone under a known row (deleted elsewhere): nothing of the archive's answer goes out, no
  // count; the core answers as before (gone(): 404 while the row is this isolate's, else a 500 about
  // the missing archive), with no "r2" label.
  test("a warm download whose R2 object is gone: an error answer, no count", async () => {
    const zip = zipFiles({ "composer.json": JSON.stringify({ name: "acme/vanishing", version: "1.0.0" }), "src/V.php": "<?php\n" });
    const up = await api("PUT", "/admin/api/artifacts/acme/vanishing", { admin: true, body: zip, headers: { "content-type": "application/zip" } });
    assert.equal(up.status, 201, up.text);
    const gonePath = new URL((await api("GET", "/p2/acme/vanishing.json", { token })).json.packages["acme/vanishing"][0].dist.url).pathname;
    const authorization = `Basic ${Buffer.from(`token:${token}`).toString("base64")}`;
    const get = () => mf.dispatchFetch(`https://pb-group.workers.dev${gonePath}`, { headers: { authorization } });
    const total = await fetches();
    const first = await get();
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    await until("counted", async () => (await fetches()) === total + 1);
    const bucket = await mf.getR2Bucket("BUCKET");
    const keys = (await bucket.list({ prefix: "artifacts/acme/vanishing/" })).objects.map((o) => o.key);
    assert.equal(keys.length, 1);
    await bucket.delete(keys);
    const r = await get();
    const body = await r.json();
    assert.ok([404, 500].includes(r.status), `an error, not the archive: ${r.status}`);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(body.error.code, r.status === 404 ? "not_found" : "internal");
    const line = requestLines(logs, gonePath).filter((l) => !l.phase).at(-1);
    assert.equal(line.status, r.status);
    assert.equal(line.cache ?? null, null, "no r2 label: nothing came from R2");
    // A download after it is counted alone: the gone one raised no count.
    await download();
    await until("the next download counted", async () => (await fetches()) >= total + 2);
    assert.equal(await fetches(), total + 2, "no count for the gone object");
  });
});
