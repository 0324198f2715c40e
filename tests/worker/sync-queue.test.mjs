// Syncs that do not wait for cron, in workerd with Miniflare's real Queues (the consumer configured as
// wrangler.toml does): a GitHub Enterprise repository with 90 tags (the fake GitHub of tests/upstreams)
// needs several slices on the Free plan's 50 subrequests per invocation. Creating the source queues its
// first slice; every slice that leaves work queues the next, so the sync completes in seconds without
// a cron run, each queue invocation within the budget. A failed upstream read and a failed D1 write half
// way neither lose nor repeat work: the retry resumes from the cursor in D1.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, BASE, SYNC_QUEUE } from "./helpers.mjs";
import * as github from "../upstreams/github.mjs";
import { repoFromSpec } from "../upstreams/repo-model.mjs";

const ADMIN = "sync-queue-test-admin";
const GH_TOKEN = "ghp_sync_queue";
const TAGS = Array.from({ length: 90 }, (_, i) => `v1.${i}.0`);
const SUBREQUEST_OPS = /^(d1\.|kv\.|r2\.|cache\.|queue\.|fetch$)/;

describe("syncs continue on the sync queue, without cron", { timeout: 600_000 }, () => {
  let mf, gh, token;
  const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
  const api = async (method, path, body) => {
    const r = await mf.dispatchFetch(`${BASE}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, json: await r.json() };
  };
  const probe = async () => (await mf.dispatchFetch(`${BASE}/__fixture/queue-log`)).json();

  before(async () => {
    const repos = ["acme/widget", "acme/flaky", "acme/d1fault"].map((name) => repoFromSpec({ name, tags: TAGS, composer: { require: { php: ">=8.1" } } }));
    gh = await github.start({ repos, token: GH_TOKEN, perPageMax: 100 });
    mf = await startWorker({
      script: "tests/worker/fixtures/queue-probe.mjs",
      bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString("base64"), PB_PLAN: "free" },
      options: SYNC_QUEUE,
    });
    token = (await api("POST", "/admin/api/tokens", { name: "t" })).json.token;
  });
  after(async () => {
    await mf?.dispose();
    await gh?.stop();
  });

  const create = async (name) => {
    const r = await api("POST", "/admin/api/sources", {
      type: "github", url: `${gh.url}/${name}`, api_url: gh.apiUrl, credentials: { type: "bearer", token: GH_TOKEN },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.id;
  };
  // Polls the source (bounded) until its sync is no longer running.
  const settled = async (id, seconds = 180) => {
    const deadline = Date.now() + seconds * 1000;
    let last;
    for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
      last = (await api("GET", `/admin/api/sources/${id}`)).json.last_sync;
      const cursor = await (await mf.getD1Database("DB")).prepare("SELECT sync_cursor FROM sources WHERE id = ?").bind(id).first("sync_cursor");
      if (last?.status === "ok" && cursor === null) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`source ${id} did not finish its sync in ${seconds} s: ${JSON.stringify(last)}`);
  };
  // 200 answers per composer.json URL of one repository.
  const reads = (repo) => {
    const n = new Map();
    for (const r of gh.state.requests)
      if (r.path.startsWith(`/api/v3/repos/${repo}/contents/composer.json`) && r.status === 200) n.set(r.path, (n.get(r.path) ?? 0) + 1);
    return n;
  };
  const p2 = async (name) => {
    const r = await mf.dispatchFetch(`${BASE}/p2/${name}.json`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    return (await r.json()).packages[name].map((v) => v.version);
  };

  test("a new source's 90-tag sync completes on the queue, every invocation within the Free plan's 50 subrequests", async () => {
    const id = await create("acme/widget");
    const last = await settled(id);
    assert.equal(last.versions, 91, JSON.stringify(last)); // 90 tags and the default branch
    assert.equal((await p2("acme/widget")).length, 90);
    const log = await probe();
    assert.equal(log.crons, 0, "no cron run took part");
    assert.ok(log.queue.length >= 3, `several queue invocations: ${log.queue.length}`);
    for (const inv of log.queue) {
      const ops = inv.batches.flat();
      const used = ops.filter((op) => SUBREQUEST_OPS.test(op)).length;
      // Every slice reads the source's claim from D1 at least: an empty list means the log lost the effects.
      assert.ok(used > 0, `a queue invocation logged no effects: ${JSON.stringify(inv)}`);
      assert.ok(used <= 50, `a queue invocation made ${used} subrequests: ${ops.join(",")}`);
      assert.equal(inv.retried, 0);
    }
    const n = reads("acme/widget");
    assert.equal(n.size, 90);
    assert.ok([...n.values()].every((c) => c === 1), "every composer.json was read once");
  });

  test("a failed upstream read half way is asked again after a pause; nothing else is read twice", async () => {
    gh.state.addFault({ path: /\/repos\/acme\/flaky\/contents\/composer\.json\?ref=/, type: "status500", count: 1 });
    const id = await create("acme/flaky");
    const last = await settled(id);
    assert.equal(last.versions, 91, JSON.stringify(last));
    const n = reads("acme/flaky");
    assert.equal(n.size, 90);
    assert.ok([...n.values()].every((c) => c === 1), `every composer.json answered once: ${JSON.stringify([...n])}`);
    const failed = gh.state.requests.filter((r) => r.path.startsWith("/api/v3/repos/acme/flaky/contents/") && r.status === 500);
    assert.equal(failed.length, 1);
  });

  test("a failed D1 write half way is retried from the last saved cursor", async () => {
    await mf.dispatchFetch(`${BASE}/__fixture/fail-d1`, { method: "POST", body: JSON.stringify({ sql: "UPDATE sources SET sync_cursor = ?", nth: 2 }) });
    const before = (await probe()).queue.length;
    const id = await create("acme/d1fault");
    const last = await settled(id);
    assert.equal(last.versions, 91, JSON.stringify(last));
    const log = await probe();
    assert.equal(log.fault.fired, 1, "the injected failure happened");
    assert.ok(log.queue.slice(before).some((inv) => inv.retried === 1), "the failed slice's message came back");
    // Reads committed before the failure were not made again; only the failed slice's were.
    const n = reads("acme/d1fault");
    assert.equal(n.size, 90);
    const twice = [...n.values()].filter((c) => c === 2).length;
    assert.ok([...n.values()].every((c) => c <= 2));
    assert.ok(twice > 0 && twice < 45, `only one slice's reads were repeated: ${twice}`);
    assert.equal((await p2("acme/d1fault")).length, 90);
  });
});
