// The sync benchmark (scripts/bench --sync, docs/PERFORMANCE.md "Syncs without cron"): wall time until a
// GitHub Enterprise repository with 90 tags (the fake GitHub of tests/upstreams, on 127.0.0.1) is fully
// synced on the Free plan's limits (PB_PLAN=free: 50 subrequests per invocation), from the source's
// creation, with the sync queue as wrangler.toml configures it (Miniflare's Queues in workerd). The
// baseline in the same run: the same sync without a queue, driven by cron triggers fired back to back;
// on Cloudflare each of those runs is 15 minutes apart. Bounded: every wait has a deadline.
// Usage: node scripts/bench-sync.mjs [--runs N=3] [--tags N=90]
import { startWorker, SYNC_QUEUE, BASE } from "../tests/worker/helpers.mjs";
import * as github from "../tests/upstreams/github.mjs";
import { repoFromSpec } from "../tests/upstreams/repo-model.mjs";
import { SUBREQUEST_OPS } from "./lib/bench-common.mjs";
import { number, readOptions } from "./lib/options.mjs";

const opt = readOptions(process.argv.slice(2), {
  runs: { check: number({ integer: true, min: 1 }), default: 3 },
  tags: { check: number({ integer: true, min: 1 }), default: 90 },
}, { name: "bench --sync", usage: "usage: scripts/bench --sync [--runs N=3] [--tags N=90]" });

const ADMIN = "bench-sync-admin";
const GH_TOKEN = "ghp_bench_sync";
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function oneRun(withQueue) {
  const repo = repoFromSpec({ name: "acme/widget", tags: Array.from({ length: opt.tags }, (_, i) => `v1.${i}.0`) });
  const gh = await github.start({ repos: [repo], token: GH_TOKEN, perPageMax: 100 });
  const logs = [];
  const mf = await startWorker({
    bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"), PB_PLAN: "free" },
    options: withQueue ? { ...SYNC_QUEUE, handleRuntimeStdio: (out) => out.on("data", (d) => logs.push(String(d))) } : {},
  });
  try {
    const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
    const t0 = performance.now();
    const created = await mf.dispatchFetch(`${BASE}/admin/api/sources`, {
      method: "POST", headers,
      body: JSON.stringify({ type: "github", url: `${gh.url}/acme/widget`, api_url: gh.apiUrl, credentials: { type: "bearer", token: GH_TOKEN } }),
    });
    const id = (await created.json()).id;
    const status = async () => (await (await mf.dispatchFetch(`${BASE}/admin/api/sources/${id}`, { headers })).json()).last_sync;
    let crons = 0, last = null;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      last = await status();
      if (last?.status === "ok" || last?.status === "error") break;
      if (withQueue) await new Promise((r) => setTimeout(r, 50));
      else {
        crons += 1;
        await (await mf.getWorker()).scheduled({ cron: "*/15 * * * *" });
      }
    }
    const ms = performance.now() - t0;
    if (last?.status !== "ok") throw new Error(`the sync did not complete: ${JSON.stringify(last)}`);
    const invocations = logs.join("").split("\n").filter((l) => l.startsWith('{"kind":"queue"')).map((l) => JSON.parse(l));
    const maxSub = Math.max(0, ...invocations.map((inv) => inv.batches.flat().filter((op) => SUBREQUEST_OPS.test(op)).length));
    return { ms, crons, invocations: invocations.length, maxSub, versions: last.versions };
  } finally {
    await mf.dispose();
    await gh.stop();
  }
}

const queued = [], cron = [];
for (let i = 0; i < opt.runs; i++) {
  queued.push(await oneRun(true));
  cron.push(await oneRun(false));
}
const q = median(queued.map((r) => r.ms));
const runsNeeded = median(cron.map((r) => r.crons));
console.log(`Sync of a GitHub repository with ${opt.tags} tags, PB_PLAN=free (50 subrequests per invocation), ${opt.runs} runs, medians:`);
console.log(`| path | wall time until fully synced | invocations | max subrequests in one invocation |`);
console.log(`|---|---:|---:|---:|`);
console.log(`| sync queue (from creating the source) | ${(q / 1000).toFixed(2)} s (runs: ${queued.map((r) => (r.ms / 1000).toFixed(2)).join(", ")}) | ${median(queued.map((r) => r.invocations))} queue invocations | ${Math.max(...queued.map((r) => r.maxSub))} |`);
console.log(`| cron only (baseline: runs fired back to back) | ${(median(cron.map((r) => r.ms)) / 1000).toFixed(2)} s of work in ${runsNeeded} cron runs = ${(runsNeeded - 1) * 15}-${runsNeeded * 15} min at */15 | ${runsNeeded} cron runs | |`);
console.log(`Versions synced: ${queued[0].versions}. Queue wall time / cron wall time on Cloudflare: ${(q / 1000 / ((runsNeeded - 1) * 900 || 900)).toExponential(1)}`);
