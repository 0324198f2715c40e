// The self-hosted server's sync queue (server/host/sync_queue): a sync bigger than one slice completes
// without any cron run. The cron trigger is off (PB_CRON_INTERVAL_S=0) and a slice takes 2 packages, so
// a composer repository of 7 packages needs 4 slices: creating the source queues the first, every
// slice that leaves work queues the next, each delivered as its own "queue" invocation on the server's
// event loop. Without the queue (queue.send failing) the sync would stop after its first slice and wait
// for a cron run that never comes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as composerRepo from "../upstreams/composer-repo.mjs";
import { fetchJson } from "../e2e/process.mjs";
import { requestLog, startServer } from "./stack.mjs";

const ADMIN = "sync-queue-test-admin";
const NAMES = Array.from({ length: 7 }, (_, i) => `queue/pkg${i}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe("the server's sync queue", { timeout: 300_000 }, () => {
  let upstream, srv;
  const api = (method, p, body) => fetchJson(srv.origin + p, { method, headers: { authorization: `Bearer ${ADMIN}` }, body, timeoutMs: 30_000 });
  const metric = async (name, labels) => {
    const text = await (await fetch(srv.origin + "/metrics", { signal: AbortSignal.timeout(30_000) })).text();
    const line = text.split("\n").find((l) => l.startsWith(name + labels + " "));
    return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : NaN;
  };

  before(async () => {
    upstream = await composerRepo.start({ packages: NAMES.map((name) => ({ name, versions: [{ version: "1.0.0" }, { version: "1.1.0" }] })) });
    srv = await startServer({ PB_CRON_INTERVAL_S: "0", PB_SYNC_PACKAGES_PER_SLICE: "2" }, { label: "syncqueue", adminToken: ADMIN });
  });
  after(async () => {
    await srv?.stop();
    await upstream?.stop();
  });

  it("a new source's 4-slice sync completes with the cron trigger off, one queue invocation per slice", async () => {
    const created = await api("POST", "/admin/api/sources", { type: "composer", url: upstream.url, credentials: { type: "basic", username: "user", password: "secret" } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id;
    // Polls (bounded in count and time) until the sync is over.
    let last;
    const deadline = Date.now() + 180_000;
    for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
      last = (await api("GET", `/admin/api/sources/${id}`)).json?.last_sync;
      if (last?.status && last.status !== "running") break;
      await sleep(250);
    }
    assert.equal(last?.status, "ok", `the sync finished by itself: ${JSON.stringify(last)}`);
    // Every package is served, with both versions.
    const tok = (await api("POST", "/admin/api/tokens", { name: "t" })).json.token;
    for (const name of NAMES) {
      const r = await fetch(`${srv.origin}/p2/${name}.json`, { headers: { authorization: `Bearer ${tok}` }, signal: AbortSignal.timeout(30_000) });
      assert.equal(r.status, 200, name);
      assert.deepEqual((await r.json()).packages[name].map((v) => v.version).sort(), ["1.0.0", "1.1.0"], name);
    }
    // Four slices, each in a queue invocation of its own; no cron run took part.
    assert.equal(await metric("pb_cron_runs_total", ""), 0);
    assert.ok((await metric("pb_sync_queue_messages_total", '{event="delivered"}')) >= 4, "a delivery per slice");
    assert.equal(await metric("pb_sync_queue_messages_total", '{event="dropped"}'), 0);
    assert.equal(await metric("pb_sync_queue_waiting", ""), 0, "nothing left waiting");
    assert.equal(requestLog(srv).filter((e) => e.path?.endsWith("/sync")).length, 0, "no sync was asked for through the API");
  });
});
