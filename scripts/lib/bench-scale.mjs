// `scripts/bench --scale`: how the broker's costs grow with versions and packages, measured in workerd
// (Miniflare, in-memory D1/KV/R2, 127.0.0.1 only), a fresh isolate per size:
// - versions: one package with V versions (seeded as the serving bench does: uploads + SQL rows), then
//   more uploads of a new highest tag, each of which splices the version into the stored p2 documents
//   (storage::documents_after_add; a full rebuild from every row when it cannot): wall time and
//   workerd CPU per upload, the document's size, the first p2 read after it, the wasm memory after it;
// - packages: a Composer-repository source (the fake upstream of tests/upstreams, protocol v2) of P
//   packages synced by cron runs alone (Free plan settings): how many runs until every package is in,
//   their wall time and CPU, and the wasm memory after serving the resulting packages.json.
// Usage: scripts/bench --scale [--versions 10,100,1000] [--packages 10,100,1000] [--uploads N=5] [--quick]
//                              [--no-docs] [--out FILE]
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as composerRepo from "../../tests/upstreams/composer-repo.mjs";
import { seed, composerJson, uploadZip } from "../../tests/bench/seed.mjs";
import { zipFiles } from "../../tests/upstreams/zip.mjs";
import { connectProfiler } from "./bench-profile.mjs";
import { measureSplice } from "../../tests/bench/splice.mjs";
import {
  ADMIN_TOKEN, adminApi, cpuNanos, f0, f1, log, machine, machineJiffies, busyCores, machineLine, median, onSignals,
  rewriteDocsSection, root, startBroker, SUBREQUEST_OPS,
} from "./bench-common.mjs";
import { SYNC_QUEUE } from "../../tests/worker/helpers.mjs";
import { list, number, readOptions, text } from "./options.mjs";

const FREE_CPU_MS = 10; // the Workers Free plan's CPU time per invocation
const CRON_MINUTES = 15; // wrangler.toml's */15
const MAX_SECONDS_PER_SIZE = 600;

const USAGE = "usage: scripts/bench --scale [--versions 10,100,1000] [--packages 10,100,1000] [--uploads N=5] [--quick] [--no-docs] [--out FILE]";

function parseArgs(args) {
  const sizes = list(number({ integer: true, min: 2, max: 5000 }));
  const o = readOptions(args, {
    versions: { check: sizes, default: [10, 100, 1000] },
    packages: { check: sizes, default: [10, 100, 1000] },
    uploads: { check: number({ integer: true, min: 1, max: 50 }), default: 5 },
    quick: {}, // small sizes, for the test suite's smoke run
    "no-docs": {},
    out: { check: text() },
  }, { name: "bench --scale", usage: USAGE });
  if (o.quick) Object.assign(o, { versions: [5, 20], packages: [5, 12], uploads: 2 });
  o.docs = !o.noDocs;
  return o;
}

let current = null; // what the running size started: { broker, upstream, profiler }
async function stopCurrent() {
  current?.profiler?.close();
  await current?.upstream?.stop().catch(() => {});
  await current?.broker?.dispose();
  current = null;
}

async function wasmMemory(base) {
  const r = await fetch(`${base}/__bench/wasm-memory`);
  if (r.status !== 200) throw new Error(`GET /__bench/wasm-memory: HTTP ${r.status}`);
  return (await r.json()).bytes;
}

// The profiles' top functions summed over the runs, per run.
function mergeTop(tops, runs) {
  const sum = new Map();
  for (const top of tops) for (const { fn, ms } of top) sum.set(fn, (sum.get(fn) ?? 0) + ms);
  return [...sum].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([fn, ms]) => ({ fn, ms_per_upload: ms / runs }));
}

const basic = (token) => ({ authorization: `Basic ${Buffer.from(`token:${token}`).toString("base64")}` });

// One package with `versions` versions, then `uploads` more uploads.
async function versionsSize(versions, uploads) {
  const broker = await startBroker({ script: "tests/bench/probe-worker.mjs", pbLog: "errors", inspect: true });
  current = { broker };
  const { base, mf, pids } = broker;
  const memStart = await wasmMemory(base);
  const profiler = await connectProfiler(broker.inspectorPort);
  current.profiler = profiler;
  const s = await seed({ mf, base, adminToken: ADMIN_TOKEN, packages: 1, versions: versions - 1, bigBytes: 0, uploadConcurrency: 1 });
  const name = s.names[0];
  const lastMajor = Number(s.plan.last.split(".")[0]);
  const runs = [];
  for (let k = 1; k <= uploads; k++) {
    const version = `${lastMajor}.0.${k}`;
    const cj = composerJson(name, 0, version, s.names);
    const zip = zipFiles({ "composer.json": JSON.stringify(cj, null, 4) + "\n", "src/Extra.php": `<?php\n// ${version}\n` });
    const mach0 = machineJiffies();
    await profiler.start();
    const cpu0 = cpuNanos(pids);
    const t0 = process.hrtime.bigint();
    await uploadZip(base, ADMIN_TOKEN, name, version, zip);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = (cpuNanos(pids) - cpu0) / 1e6;
    const prof = await profiler.stop();
    const busy = busyCores(mach0, machineJiffies(), machine().nproc);
    // The first read after the upload misses the hot cache: one D1 read of the new document.
    const r0 = process.hrtime.bigint();
    const r = await fetch(`${base}/p2/${name}.json`, { headers: basic(s.token) });
    const body = await r.text();
    const readMs = Number(process.hrtime.bigint() - r0) / 1e6;
    if (r.status !== 200) throw new Error(`GET /p2/${name}.json: HTTP ${r.status} ${body.slice(0, 300)}`);
    const listed = JSON.parse(body).packages[name].length;
    if (listed !== versions + k) throw new Error(`/p2/${name}.json lists ${listed} versions after upload ${k}, expected ${versions + k}`);
    runs.push({ ms, cpu_ms: cpu, worker_cpu_ms: prof.busy_ms, profile_top: prof.top, profile_categories: prof.categories, busy_cores: busy, p2_bytes: Buffer.byteLength(body), first_read_ms: readMs });
  }
  const memEnd = await wasmMemory(base);
  await stopCurrent();
  return {
    versions, uploads,
    upload_ms: median(runs.map((x) => x.ms)), upload_cpu_ms: median(runs.map((x) => x.cpu_ms)),
    upload_cpu_ms_max: Math.max(...runs.map((x) => x.cpu_ms)), first_read_ms: median(runs.map((x) => x.first_read_ms)),
    worker_cpu_ms: median(runs.map((x) => x.worker_cpu_ms)), worker_cpu_ms_mean: runs.reduce((a, x) => a + x.worker_cpu_ms, 0) / runs.length,
    profile_top: mergeTop(runs.map((x) => x.profile_top), runs.length),
    // Shares of the isolate's busy time: wasm (the C++ core), the D1 client's JS, the shim, the rest.
    profile_shares: Object.fromEntries(["wasm", "d1_client", "shim", "other"].map((k) => [k, runs.reduce((a, x) => a + x.profile_categories[k], 0) / (runs.reduce((a, x) => a + x.worker_cpu_ms, 0) || 1)])),
    p2_bytes: runs.at(-1).p2_bytes, wasm_memory_start: memStart, wasm_memory_end: memEnd,
    busy_cores: median(runs.map((x) => x.busy_cores)), runs,
  };
}

// A fake Composer repository of `packages` packages (3 versions each), a broker (with the sync queue or
// without), and the source added to it. `current` holds both for stopCurrent.
async function sourceOf(packages, { queue }) {
  const names = Array.from({ length: packages }, (_, i) => `upstream/pkg-${String(i).padStart(4, "0")}`);
  const upstream = await composerRepo.start({
    mode: "v2", username: "deploy", password: "repo-secret",
    packages: names.map((name, i) => ({
      name,
      versions: ["1.0.0", "1.1.0", "2.0.0"].map((version) => ({
        version, description: `Upstream package ${i}`, license: "MIT", require: { php: ">=8.1", ...(i ? { [names[i - 1]]: "^1.0 || ^2.0" } : {}) },
        autoload: { "psr-4": { [`Upstream\\Pkg${i}\\`]: "src/" } }, files: { "src/A.php": `<?php\n// ${name} ${version}\n` },
      })),
    })),
  });
  current = { upstream };
  const broker = await startBroker({
    script: "tests/bench/probe-worker.mjs", pbLog: "errors", keepLines: queue, options: queue ? SYNC_QUEUE : {},
    bindings: { PB_ENCRYPTION_KEY: randomBytes(32).toString("base64"), PB_PLAN: "free" },
  });
  current.broker = broker;
  const t0 = process.hrtime.bigint();
  const src = await adminApi(broker.base, "POST", "/admin/api/sources", {
    type: "composer", url: upstream.url, credentials: { type: "basic", username: "deploy", password: "repo-secret" },
  });
  if (src.status !== 201) throw new Error(`POST /admin/api/sources: HTTP ${src.status} ${src.text.slice(0, 300)}`);
  return { upstream, broker, id: src.json.id, t0 };
}

// Serves the resulting packages.json (checking it lists every package), then reads the memory's high-water mark.
async function servedAfterSync(base, packages) {
  const token = (await adminApi(base, "POST", "/admin/api/tokens", { name: "scale", rate_limit: 0 })).json.token;
  const t0 = process.hrtime.bigint();
  const pj = await fetch(`${base}/packages.json`, { headers: basic(token) });
  const pjBody = await pj.text();
  const pjMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (pj.status !== 200 || JSON.parse(pjBody)["available-packages"].length !== packages) throw new Error(`GET /packages.json: HTTP ${pj.status}`);
  return { packages_json_bytes: Buffer.byteLength(pjBody), packages_json_ms: pjMs, wasm_memory_end: await wasmMemory(base) };
}

// The same source synced by the sync queue (wrangler.toml's consumer settings, Miniflare's Queues): wall
// time from the source's creation until every package is in and the sync says ok, and how many queue
// invocations it took, each within the Free plan's 50 subrequests (the most any one used is reported).
async function packagesByQueue(packages) {
  const { upstream, broker, id, t0 } = await sourceOf(packages, { queue: true });
  const { base, mf, runtime, pids } = broker;
  const cpu0 = cpuNanos(pids);
  const db = await mf.getD1Database("DB");
  const deadline = Date.now() + MAX_SECONDS_PER_SIZE * 1000;
  let synced = 0;
  let state = null;
  while (Date.now() < deadline) {
    synced = await db.prepare("SELECT COUNT(*) AS n FROM packages WHERE source_id = ?").bind(id).first("n");
    state = (await adminApi(base, "GET", `/admin/api/sources/${id}`)).json?.last_sync ?? null;
    if (state?.status === "error") throw new Error(`the sync failed: ${state.error}`);
    if (synced === packages && state?.status === "ok") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = (cpuNanos(pids) - cpu0) / 1e6;
  if (synced !== packages || state?.status !== "ok")
    throw new Error(`${synced} of ${packages} packages synced by the queue in ${MAX_SECONDS_PER_SIZE} s (last status ${state?.status})`);
  const invocations = runtime.kept.filter((l) => l.startsWith('{"kind":"queue"')).map((l) => JSON.parse(l));
  const subrequests = invocations.map((inv) => inv.batches.flat().filter((op) => SUBREQUEST_OPS.test(op)).length);
  const served = await servedAfterSync(base, packages);
  await stopCurrent();
  return {
    packages, queue_wall_ms: ms, queue_invocations: invocations.length, queue_subrequests_max: Math.max(0, ...subrequests),
    workerd_cpu_ms: cpu, upstream_requests: upstream.state.requests.length, ...served,
  };
}

// The same source synced by cron runs alone (no queue): how many runs, their work and CPU.
async function packagesSize(packages) {
  const { upstream, broker, id } = await sourceOf(packages, { queue: false });
  const { base, mf, pids } = broker;
  const worker = await mf.getWorker();
  const db = await mf.getD1Database("DB");
  const maxRuns = Math.ceil(packages / 4) + 20;
  const deadline = Date.now() + MAX_SECONDS_PER_SIZE * 1000;
  const runs = [];
  let synced = 0;
  let state = null;
  while (runs.length < maxRuns && Date.now() < deadline) {
    const cpu0 = cpuNanos(pids);
    const up0 = upstream.state.requests.length;
    const t0 = process.hrtime.bigint();
    const outcome = await worker.scheduled({ cron: "*/15 * * * *" });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = (cpuNanos(pids) - cpu0) / 1e6;
    if (outcome.outcome !== "ok") throw new Error(`cron run ${runs.length + 1}: outcome ${outcome.outcome}`);
    synced = await db.prepare("SELECT COUNT(*) AS n FROM packages WHERE source_id = ?").bind(id).first("n");
    const view = await adminApi(base, "GET", `/admin/api/sources/${id}`);
    state = view.json?.last_sync ?? null;
    runs.push({ ms, cpu_ms: cpu, upstream_requests: upstream.state.requests.length - up0, synced, status: state?.status ?? null });
    if (state?.status === "error") throw new Error(`the sync failed: ${state.error}`);
    if (synced === packages && state?.status === "ok") break;
  }
  if (synced !== packages || state?.status !== "ok")
    throw new Error(`${synced} of ${packages} packages synced after ${runs.length} cron runs (last status ${state?.status})`);
  const served = await servedAfterSync(base, packages);
  await stopCurrent();
  const cronMs = runs.reduce((a, r) => a + r.ms, 0);
  return {
    packages, cron_runs: runs.length, cron_wall_ms_total: cronMs, cron_ms_median: median(runs.map((r) => r.ms)),
    cron_cpu_ms_median: median(runs.map((r) => r.cpu_ms)), cron_cpu_ms_max: Math.max(...runs.map((r) => r.cpu_ms)),
    upstream_requests: runs.reduce((a, r) => a + r.upstream_requests, 0),
    wall_at_cron_minutes: (runs.length - 1) * CRON_MINUTES, ...served, runs,
  };
}

const pct = (x) => `${Math.round(x * 100)}%`;
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;
const kib = (b) => `${f0(b / 1024)} KiB`;
const duration = (min) => (min >= 120 ? `${f1(min / 60)} h` : `${f0(min)} min`);

async function main(argv) {
  const opt = parseArgs(argv);
  const started = Date.now();
  const load0 = os.loadavg()[0];
  const m = machine();
  onSignals(stopCurrent);
  const vrows = [];
  for (const v of opt.versions) {
    log(`bench --scale: one package with ${v} versions, ${opt.uploads} more uploads`);
    const r = await versionsSize(v, opt.uploads);
    log(`  upload ${f0(r.upload_ms)} ms, isolate busy ${f1(r.worker_cpu_ms_mean)} ms (workerd ${f1(r.upload_cpu_ms)} ms), p2 ${kib(r.p2_bytes)}, wasm memory ${mib(r.wasm_memory_end)}`);
    log(`  profile: ${r.profile_top.slice(0, 5).map((t) => `${t.fn} ${f1(t.ms_per_upload)} ms`).join(", ")}`);
    vrows.push(r);
  }
  // The core's own share, in process: one more version spliced vs rebuilt from every row (wasm).
  const srows = measureSplice(opt.versions, opt.quick ? 5 : 21);
  const prows = [];
  for (const p of opt.packages) {
    log(`bench --scale: a composer source of ${p} packages, synced by cron runs`);
    const r = await packagesSize(p);
    log(`  ${r.cron_runs} cron runs (${f1(r.cron_wall_ms_total / 1000)} s of work, ${duration(r.wall_at_cron_minutes)} at */15), CPU ${f1(r.cron_cpu_ms_median)} ms per run`);
    log(`bench --scale: the same source synced by the sync queue`);
    r.queue = await packagesByQueue(p);
    log(`  ${f1(r.queue.queue_wall_ms / 1000)} s from creation, ${r.queue.queue_invocations} queue invocations (at most ${r.queue.queue_subrequests_max} subrequests)`);
    prows.push(r);
  }
  const totalS = (Date.now() - started) / 1000;
  const vtable = [
    `| versions in the package | p2 document | upload + rebuild, wall (median) | broker isolate busy per upload (profile, mean) | whole workerd CPU per upload (median / max) | first p2 read after it | wasm memory after |`,
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...vrows.map((r) => `| ${r.versions} → ${r.versions + r.uploads} | ${kib(r.p2_bytes)} | ${f0(r.upload_ms)} ms | ${f1(r.worker_cpu_ms_mean)} ms (${pct(r.profile_shares.wasm)} wasm, ${pct(r.profile_shares.d1_client)} D1 client) | ${f1(r.upload_cpu_ms)} / ${f1(r.upload_cpu_ms_max)} ms | ${f1(r.first_read_ms)} ms | ${mib(r.wasm_memory_end)} |`),
  ].join("\n");
  const stable = [
    "| versions in the package | p2 document | full rebuild in wasm (median) | splice in wasm (median) | rebuild / splice |",
    "|---:|---:|---:|---:|---:|",
    ...srows.map((r) => `| ${r.versions} → ${r.versions + 1} | ${kib(r.document_bytes)} | ${r.full_ms.toFixed(2)} ms | ${r.splice_ms.toFixed(3)} ms | ${f0(r.full_ms / r.splice_ms)}x |`),
  ].join("\n");
  const ptable = [
    "| packages in the source | with the sync queue: wall time from creation | queue invocations (most subrequests in one) | cron only: runs until synced | wall time at */15 | work per run, wall (median) | workerd CPU per run (median / max) | upstream requests | packages.json | wasm memory after |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...prows.map((r) => `| ${r.packages} | **${f1(r.queue.queue_wall_ms / 1000)} s** | ${r.queue.queue_invocations} (${r.queue.queue_subrequests_max} of 50) | ${r.cron_runs} | ${duration(r.wall_at_cron_minutes)} | ${f0(r.cron_ms_median)} ms | ${f1(r.cron_cpu_ms_median)} / ${f1(r.cron_cpu_ms_max)} ms | ${r.upstream_requests} | ${kib(r.packages_json_bytes)} | ${mib(r.wasm_memory_end)} |`),
  ].join("\n");
  console.log(vtable + "\n\n" + stable + "\n\n" + ptable);
  const out = { date: new Date().toISOString(), command: `npm run bench -- --scale${argv.length ? ` ${argv.join(" ")}` : ""}`, options: opt, machine: m, total_seconds: totalS, versions: vrows, splice: srows, packages: prows };
  const outFile = opt.out ?? path.join(root, "build/bench/scale.json");
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(out, null, 2) + "\n");
  if (opt.docs) {
    rewriteDocsSection("Scale", [
      "## Scale",
      "",
      `Command: \`${out.command}\` (\`scripts/lib/bench-scale.mjs\`). Date: ${out.date.slice(0, 10)}. Machine: ${machineLine(m)}. ` +
        `Full run: ${f0(totalS)} s. Each size runs in a fresh workerd (Miniflare, in-memory D1/KV/R2, 127.0.0.1), so the wasm ` +
        "memory is that size's own high-water mark (read from the instance's memory buffer through `tests/bench/probe-worker.mjs`; " +
        "wasm memory never shrinks).",
      "",
      `Versions: one package seeded with V versions (uploads and SQL rows, as the serving bench seeds), then ${opt.uploads} more ` +
        "uploads of a new highest tag, each splicing the version into the stored p2 documents (`storage::documents_after_add`; " +
        "the package's documents are rebuilt from every row only when the splice does not apply). Neither CPU column is exactly what the Free " +
        `plan's ${FREE_CPU_MS} ms limit counts (the CPU time of the broker's isolate); both are upper bounds of it. The ` +
        "isolate's busy time comes from V8's sampling profile of the broker's isolate during the upload (workerd's " +
        "inspector, `scripts/lib/bench-profile.mjs`; samples about every 10 ms here, averaged over the uploads): it leaves " +
        "out the local D1, R2 and HTTP but counts the time the thread waited for a core on this shared machine. The whole " +
        "workerd CPU (schedstat of the process) is CPU time only, but adds the local D1 (SQLite), R2 and HTTP, which on " +
        "Cloudflare run outside the Worker.",
      "",
      vtable,
      "",
      "The core's share of an upload, in process (`tests/bench/splice.mjs`, node's V8 on `pb_bench_splice.wasm`, the same " +
        "core): the package's tagged document built from every row (`storage::build_documents`, what a rebuild runs between " +
        "its D1 read and write) against one more version spliced into the stored text (`storage::splice_first`), medians; " +
        "both give the same bytes (checked per size). The D1 reads and writes around either are not in it.",
      "",
      stable,
      "",
      "Packages: a Composer repository (protocol v2, the fake upstream of `tests/upstreams/composer-repo.mjs`) with P " +
        "packages of 3 versions, added as a source with `PB_PLAN=free` (50 subrequests per invocation: " +
        "6 packages per slice) and synced twice, each time in a fresh workerd: by the sync queue as wrangler.toml configures it " +
        "(Miniflare's Queues; wall time from `POST /admin/api/sources` until every package is in and the sync is `ok`), " +
        `and by cron runs alone fired back to back (the baseline: "wall time at */15" is (runs − 1) × ${CRON_MINUTES} ` +
        "minutes, the time until the last package is served when nothing but the cron trigger drives the sync).",
      "",
      ptable,
      "",
      `Noise: load average (1 min) ${f1(load0)} at the start and ${f1(os.loadavg()[0])} at the end, on ${m.nproc} cores; the ` +
        `machine was busy ${f1(median(vrows.map((r) => r.busy_cores)))} cores (median) during the uploads. Wall times and ` +
        "busy times grow with that load; the counts (cron runs, requests, bytes, memory) do not.",
      "",
      "Raw numbers (with each upload's profile): `build/bench/scale.json`.",
      "",
    ].join("\n"));
    log("bench: wrote build/bench/scale.json and the Scale section of docs/PERFORMANCE.md");
  }
  log(`bench --scale: done in ${f0(totalS)} s`);
  return 0;
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (e) {
  log(`bench --scale: ${e.stack ?? e}`);
  await stopCurrent();
  process.exit(1);
}
