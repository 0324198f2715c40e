// The load test (scripts/load): composer-like traffic from parallel keep-alive clients against
// `wrangler dev` (started here through scripts/dev, with its own state directory and port), while a
// composer source on a fake upstream (tests/upstreams/composer-repo.mjs) syncs new versions. Reports
// throughput, latency percentiles and errors per request kind; zero errors is the bar. Everything runs
// on 127.0.0.1 and is bounded in time and in request count; nothing outlives the run.
// Usage: node scripts/load.mjs [--seconds T=60] [--clients N=12] [--max-requests N=200000] [--packages N=12]
//                              [--versions N=3] [--upstream-packages N=20] [--json FILE] [--docs]
import { createHash, randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { root } from "../tests/worker/helpers.mjs";
import { freePort, startGroup, stopGroup, waitFor } from "../tests/e2e/process.mjs";
import { composerJson, packageNames, packageZip, uploadZip } from "../tests/bench/seed.mjs";
import { request, percentile, workerdPids, cpuTicks, machineJiffies, NCPU, CLK_TCK } from "../tests/bench/load.mjs";
import { machine, rewriteSection } from "../tests/bench/report.mjs";
import * as composerRepo from "../tests/upstreams/composer-repo.mjs";
import { expand } from "../tests/upstreams/composer-meta.mjs";
import { number, readOptions, text } from "./lib/options.mjs";

const started = Date.now();
const argv = process.argv.slice(2);
const log = (...a) => console.error(...a); // progress on stderr; stdout carries the report

const USAGE =
  "usage: scripts/load [--seconds T=60] [--clients N=12] [--max-requests N=200000] [--packages N=12] [--versions N=3]\n" +
  "                    [--upstream-packages N=20] [--json FILE] [--docs]";
const count = number({ integer: true, min: 1 });
const opt = readOptions(argv, {
  seconds: { short: "t", check: number({ integer: true, min: 1, max: 3600 }), default: 60 },
  clients: { short: "c", check: count, default: 12 },
  "max-requests": { short: "n", check: count, default: 200_000 },
  packages: { check: count, default: 12 },
  versions: { check: count, default: 3 },
  "upstream-packages": { check: count, default: 20 },
  json: { check: text() },
  docs: {},
}, { name: "load", usage: USAGE });
const ADMIN = `load-admin-${randomBytes(12).toString("hex")}`;
const sha1 = (b) => createHash("sha1").update(b).digest("hex");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toString() : "–");

// ---- lifetime: the broker's process group, the fake upstream and the state dir go away on every exit ----
let broker = null;
let upstream = null;
let work = null;
async function cleanup() {
  const b = broker;
  broker = null;
  if (b) await stopGroup(b);
  const u = upstream;
  upstream = null;
  if (u) await u.stop().catch(() => {});
  if (work) rmSync(work, { recursive: true, force: true });
  work = null;
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, async () => {
    log(`\nload: ${sig}, stopping`);
    await cleanup();
    process.exit(128 + os.constants.signals[sig]);
  });
}

// ---- the broker's admin API (plain fetch; not part of the measured traffic) ----
let origin = "";
async function api(method, p, { body, auth = `Bearer ${ADMIN}`, headers = {}, timeoutMs = 120_000 } = {}) {
  const r = await fetch(origin + p, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body != null ? { "content-type": "application/json" } : {}), ...headers },
    body: body == null ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, text, json, headers: r.headers };
}

function must(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 400)}`);
  return r.json;
}

// Rows of a SQL query on the broker's local D1 (wrangler d1 execute), for checks after the load.
function d1(sql, state) {
  return new Promise((resolve, reject) =>
    execFile(
      "wrangler",
      ["d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql],
      { cwd: root, timeout: 120_000, env: { ...process.env, CI: "true" } },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`wrangler d1 execute: ${error.message}\n${stderr}`));
        try {
          resolve(JSON.parse(stdout)[0].results);
        } catch (e) {
          reject(new Error(`wrangler d1 execute: unreadable output ${stdout.slice(0, 300)}`));
        }
      },
    ),
  );
}

// One upstream version spec (composer-repo.mjs): a small library.
const upstreamVersion = (name, version) => ({
  version,
  description: `${name} from the upstream repository`,
  require: { php: ">=8.1" },
  autoload: { "psr-4": { [`Up\\${name.split("/")[1].replace(/[^A-Za-z0-9]/g, "")}\\`]: "src/" } },
  files: { "src/Lib.php": `<?php // ${name} ${version}\n` },
});

// The source's sync: one slice through the admin API, then cron runs (/__scheduled, as the Worker's
// cron trigger) until the source reports a finished sync. Returns what happened; bounded in time.
async function runSync(sourceId, { seconds = 300 } = {}) {
  const t0 = Date.now();
  const first = must(await api("POST", `/admin/api/sources/${sourceId}/sync`), 200, "POST sync");
  let slices = 1;
  let status = first.result.status;
  const deadline = t0 + seconds * 1000;
  while (status === "running" && Date.now() < deadline) {
    const cron = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`, { signal: AbortSignal.timeout(120_000) });
    await cron.text();
    if (cron.status !== 200) throw new Error(`cron run: HTTP ${cron.status}`);
    slices++;
    const s = must(await api("GET", `/admin/api/sources/${sourceId}`), 200, "GET source");
    status = s.last_sync?.status ?? "unknown";
  }
  const s = must(await api("GET", `/admin/api/sources/${sourceId}`), 200, "GET source");
  return { status, slices, ms: Date.now() - t0, packages: s.last_sync?.packages, versions: s.last_sync?.versions, error: s.last_sync?.error ?? null };
}

// ---- the traffic ----
// Per 20 requests: 2 packages.json, 7 p2 without and 6 with If-Modified-Since, 3 dist downloads,
// 2 notify-batch posts (composer's mix for an install with a warm metadata cache, roughly).
const MIX = ["packages", "p2", "p2_ims", "p2", "dist", "p2_ims", "p2", "notify", "p2_ims", "p2", "packages", "dist", "p2_ims", "p2",
  "p2_ims", "notify", "p2", "dist", "p2_ims", "p2"];
const KINDS = ["packages", "p2", "p2_ims", "dist", "notify"];

function planTraffic(ctx) {
  const { names, docs, dists, basics } = ctx;
  return (i, client) => {
    const basic = basics[client];
    const kind = MIX[i % MIX.length];
    const k = Math.floor(i / MIX.length);
    const name = names[(k * 7 + i) % names.length];
    switch (kind) {
      case "packages":
        return { kind, path: "/packages.json", headers: { authorization: basic }, keepBody: true };
      case "p2":
        return { kind, name, path: `/p2/${name}.json`, headers: { authorization: basic }, keepBody: true };
      case "p2_ims":
        return { kind, name, path: `/p2/${name}.json`, headers: { authorization: basic, "if-modified-since": docs.get(name).lastModified }, keepBody: true, since: docs.get(name).lastModified };
      case "dist": {
        const d = dists[(k * 5 + i) % dists.length];
        return { kind, path: d.path, headers: { authorization: basic }, keepBody: true, sha1: d.sha1 };
      }
      case "notify": {
        const picks = [0, 1, 2].map((j) => dists[(k * 3 + j + i) % dists.length]);
        const body = JSON.stringify({ downloads: picks.map((d) => ({ name: d.name, version: d.version })) });
        return { kind, path: "/downloads", method: "POST", body, headers: { authorization: basic, "content-type": "application/json" }, counted: picks.length };
      }
    }
    throw new Error(`unknown kind ${kind}`);
  };
}

function parsed(body) {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

// Why a response is wrong for its request, or null.
function verdict(t, r) {
  if (r.error) return `network: ${r.error.message}`;
  switch (t.kind) {
    case "packages": {
      if (r.status !== 200) return `HTTP ${r.status}`;
      return parsed(r.body)?.["metadata-url"] ? null : "packages.json is not JSON with a metadata-url";
    }
    case "p2":
    case "p2_ims": {
      if (t.kind === "p2_ims" && r.status === 304) return r.bytes === 0 ? null : "a 304 with a body";
      if (r.status !== 200) return `HTTP ${r.status}`;
      if (t.kind === "p2_ims" && !(Date.parse(r.headers["last-modified"]) > Date.parse(t.since)))
        return `200 to If-Modified-Since ${t.since} with Last-Modified ${r.headers["last-modified"]}`;
      const list = parsed(r.body)?.packages?.[t.name];
      return Array.isArray(list) && list.length > 0 ? null : `no versions of ${t.name}`;
    }
    case "dist":
      if (r.status !== 200) return `HTTP ${r.status}`;
      return sha1(r.body) === t.sha1 ? null : `archive bytes do not match shasum ${t.sha1}`;
    case "notify":
      return r.status === 201 ? null : `HTTP ${r.status}`;
  }
  return "unknown kind";
}

async function drive(ctx, port, { onTick } = {}) {
  const target = planTraffic(ctx);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opt.clients, maxFreeSockets: opt.clients });
  const per = Object.fromEntries(KINDS.map((k) => [k, { latencies: [], errors: [], bytes: 0 }]));
  const all = [];
  let sent = 0;
  let notified = 0;
  const t0 = performance.now();
  const deadline = t0 + opt.seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: opt.clients }, async (_, client) => {
        while (sent < opt.maxRequests && performance.now() < deadline) {
          const i = sent++;
          const t = target(i, client);
          const r = await request(agent, port, { ...t, timeoutMs: 60_000 });
          const why = verdict(t, r);
          const p = per[t.kind];
          p.latencies.push(r.ms);
          all.push(r.ms);
          if (why) p.errors.push(`${t.method ?? "GET"} ${t.path}: ${why}`);
          else {
            p.bytes += r.bytes;
            if (t.kind === "notify") notified += t.counted;
          }
          onTick?.(performance.now() - t0);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { per, all, seconds: (performance.now() - t0) / 1000, notified };
}

function stats(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  return { requests: sorted.length, p50_ms: percentile(sorted, 50), p95_ms: percentile(sorted, 95), p99_ms: percentile(sorted, 99), max_ms: sorted[sorted.length - 1] ?? NaN };
}

// ---- main ----
async function main() {
  const m = machine();
  log(`load: ${m.nproc} cores, node ${m.node}, wrangler ${m.wrangler}; ${opt.clients} clients for ${opt.seconds} s (at most ${opt.maxRequests} requests)`);
  work = mkdtempSync(path.join(os.tmpdir(), "pb-load-"));
  const state = path.join(work, "state");

  // The fake upstream: a private Composer repository (v2, Basic auth).
  const upNames = packageNames(opt.upstreamPackages + opt.packages).slice(opt.packages).map((n) => `upstream-${n}`);
  const password = randomBytes(12).toString("hex");
  upstream = await composerRepo.start({
    mode: "v2",
    username: "load",
    password,
    packages: upNames.map((name) => ({ name, versions: ["1.0.0", "1.1.0"].map((v) => upstreamVersion(name, v)) })),
  });

  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  log(`load: starting wrangler dev (scripts/dev) on ${origin}, state in ${state}`);
  broker = startGroup("bash", ["scripts/dev"], {
    env: { PORT: String(port), PB_STATE_DIR: state, PB_SKIP_SETUP: "1", ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: randomBytes(32).toString("base64") },
  });
  await waitFor(`${origin}/health`, { proc: broker, seconds: 180 });

  // Seed: artifact packages through the admin API, the source and its first full sync, a token.
  const t0 = Date.now();
  const names = packageNames(opt.packages);
  const versions = Array.from({ length: opt.versions }, (_, k) => `1.${k}.0`);
  for (let i = 0; i < names.length; i++)
    for (const v of versions) await uploadZip(origin, ADMIN, names[i], v, packageZip(composerJson(names[i], i, v, names)));
  const source = must(
    await api("POST", "/admin/api/sources", { body: { type: "composer", url: upstream.url, credentials: { type: "basic", username: "load", password } } }),
    201,
    "POST /admin/api/sources",
  );
  const firstSync = await runSync(source.id);
  if (firstSync.status !== "ok") throw new Error(`the first sync ended ${firstSync.status}: ${firstSync.error}`);
  // One token per client, as composer runs on different machines; rate_limit 0 because the test measures
  // capacity, not the per-token limiter (1000 requests a minute by default).
  const basics = [];
  for (let c = 0; c < opt.clients; c++) {
    const t = must(await api("POST", "/admin/api/tokens", { body: { name: `load-${c}`, rate_limit: 0 } }), 201, "POST /admin/api/tokens");
    basics.push(`Basic ${Buffer.from(`token:${t.token}`).toString("base64")}`);
  }
  const basic = basics[0];
  const seedMs = Date.now() - t0;
  log(`load: seeded ${names.length} packages × ${versions.length} versions and synced ${upNames.length} upstream packages ` +
      `(${firstSync.slices} slices) in ${f0(seedMs / 1000)} s`);

  // What the clients will ask for: every package's p2 date and every archive with its shasum.
  const all = [...names, ...upNames];
  const docs = new Map();
  const dists = [];
  for (const name of all) {
    const r = await api("GET", `/p2/${name}.json`, { auth: basic });
    if (r.status !== 200) throw new Error(`GET /p2/${name}.json: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    docs.set(name, { lastModified: r.headers.get("last-modified") });
    for (const v of expand(r.json.packages[name])) {
      const u = new URL(v.dist.url);
      dists.push({ name, version: v.version_normalized, path: u.pathname, sha1: v.dist.shasum });
    }
  }
  if (dists.length < all.length) throw new Error(`only ${dists.length} archives listed for ${all.length} packages`);
  const traffic = { names: all, docs, dists, basics };

  // The sync during the load: new upstream versions appear, then the source syncs them.
  const brokerPids = workerdPids(broker.child.pid);
  let sync = null;
  let syncPromise = null;
  const syncAt = Math.min(5, opt.seconds * 0.2) * 1000;
  const onTick = (ms) => {
    if (syncPromise || ms < syncAt) return;
    const startedAt = ms;
    for (const name of upNames) upstream.state.addVersion(name, upstreamVersion(name, "2.0.0"));
    syncPromise = runSync(source.id).then(
      (r) => (sync = { ...r, started_at_s: startedAt / 1000 }),
      (e) => (sync = { status: "failed", error: e.message, started_at_s: startedAt / 1000 }),
    );
  };

  log(`load: ${opt.clients} clients over ${all.length} packages and ${dists.length} archives; a sync of ${upNames.length} packages starts after ${syncAt / 1000} s`);
  const cpu0 = cpuTicks(brokerPids);
  const mach0 = machineJiffies();
  const client0 = process.cpuUsage();
  const run = await drive(traffic, port, { onTick });
  const cpu1 = cpuTicks(brokerPids);
  const mach1 = machineJiffies();
  const client = process.cpuUsage(client0);
  const syncRunningAtEnd = sync == null;
  if (!syncPromise) onTick(Infinity); // a very short run: still sync once, after the load
  await syncPromise;
  log(`load: sync ${sync.status} (${sync.slices ?? "?"} slices, ${f2(sync.ms / 1000)} s, started ${f2(sync.started_at_s)} s into the load` +
      `${syncRunningAtEnd ? ", still running when the load ended" : ""})`);

  // Afterwards: the synced versions are served, and every counted download was recorded.
  const syncErrors = [];
  if (sync.status !== "ok") syncErrors.push(`sync ended ${sync.status}: ${sync.error}`);
  for (const name of upNames.slice(0, 5)) {
    const r = await api("GET", `/p2/${name}.json`, { auth: basic });
    if (r.status !== 200 || !expand(r.json.packages[name]).some((v) => v.version === "2.0.0")) syncErrors.push(`${name} 2.0.0 is not served after the sync`);
  }
  // Archive fetches are recorded after the response is sent (waitUntil): poll, bounded.
  const served = run.per.dist.latencies.length - run.per.dist.errors.length;
  let recorded = 0;
  let fetches = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    const [row] = await d1("SELECT COALESCE(SUM(count), 0) AS n, COALESCE(SUM(fetches), 0) AS f FROM downloads", state);
    ({ n: recorded, f: fetches } = row);
    if (recorded === run.notified && fetches === served) break;
    await sleep(1000);
  }
  if (recorded !== run.notified) syncErrors.push(`downloads recorded ${recorded}, notified ${run.notified}`);
  if (fetches !== served) syncErrors.push(`archive fetches recorded ${fetches}, served ${served}`);

  // ---- report ----
  const total = stats(run.all);
  const errors = KINDS.reduce((n, k) => n + run.per[k].errors.length, 0) + syncErrors.length;
  const kinds = Object.fromEntries(KINDS.map((k) => [k, { ...stats(run.per[k].latencies), errors: run.per[k].errors.length, rps: run.per[k].latencies.length / run.seconds }]));
  const workerdCores = (cpu1 - cpu0) / CLK_TCK / run.seconds;
  const machineCores = ((mach1.busy - mach0.busy) / (mach1.total - mach0.total || 1)) * NCPU;
  const clientCores = (client.user + client.system) / 1e6 / run.seconds;
  const results = {
    date: new Date().toISOString(),
    command: `scripts/load${argv.length ? ` ${argv.join(" ")}` : ""}`,
    options: opt,
    machine: m,
    seed: { packages: names.length, versions: versions.length, upstream_packages: upNames.length, archives: dists.length, first_sync: firstSync, ms: seedMs },
    seconds: run.seconds,
    requests: total.requests,
    throughput_rps: total.requests / run.seconds,
    p50_ms: total.p50_ms,
    p95_ms: total.p95_ms,
    p99_ms: total.p99_ms,
    max_ms: total.max_ms,
    errors,
    error_samples: [...new Set([...KINDS.flatMap((k) => run.per[k].errors), ...syncErrors])].slice(0, 10),
    kinds,
    sync: { ...sync, during_load: sync.started_at_s < run.seconds, running_at_end: syncRunningAtEnd, new_versions: upNames.length },
    downloads: { notified: run.notified, recorded, archives_served: served, fetches_recorded: fetches },
    cpu: { workerd_cores: workerdCores, client_cores: clientCores, machine_busy_cores: machineCores, other_cores: Math.max(0, machineCores - workerdCores - clientCores) },
    total_seconds: (Date.now() - started) / 1000,
  };

  const head = "| requests | kind | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |";
  const sep = "|---:|---|---:|---:|---:|---:|---:|---:|";
  const row = (label, s, rps, errs) => `| ${s.requests} | ${label} | ${f0(rps)} | ${f2(s.p50_ms)} | ${f2(s.p95_ms)} | ${f2(s.p99_ms)} | ${f2(s.max_ms)} | ${errs} |`;
  const labels = { packages: "packages.json", p2: "p2 (200)", p2_ims: "p2 If-Modified-Since (304, 200 once changed)", dist: "dist archive", notify: "notify-batch (3 downloads)" };
  const table = [head, sep, row("**all**", total, results.throughput_rps, errors), ...KINDS.map((k) => row(labels[k], kinds[k], kinds[k].rps, kinds[k].errors))].join("\n");
  const noise = `Load on the machine during the run: workerd ${f2(workerdCores)} cores, the load generator and fake upstream ${f2(clientCores)}, ` +
    `everything else ${f2(results.cpu.other_cores)} (of ${m.nproc}).`;
  const syncLine = `Sync during the load: ${upNames.length} upstream packages got a new version ${f2(sync.started_at_s)} s into the run; ` +
    `the source synced them in ${sync.slices} slices (${f2(sync.ms / 1000)} s), ${sync.status}${syncRunningAtEnd ? ", finishing after the load ended" : ""}. ` +
    `Downloads notified ${run.notified}, recorded ${recorded}; archives served ${served}, fetches recorded ${fetches}.`;
  console.log(table);
  console.log(`\n${f0(results.throughput_rps)} req/s, p50 ${f2(total.p50_ms)} ms, p95 ${f2(total.p95_ms)} ms, p99 ${f2(total.p99_ms)} ms, ${errors} errors`);
  console.log(syncLine);
  console.log(noise);
  if (errors) console.log(`errors:\n  ${results.error_samples.join("\n  ")}`);

  mkdirSync(path.join(root, "build/load"), { recursive: true });
  writeFileSync(path.join(root, "build/load/results.json"), JSON.stringify(results, null, 2) + "\n");
  if (opt.json) writeFileSync(opt.json, JSON.stringify(results, null, 2) + "\n");
  if (opt.docs) {
    rewriteSection("## Load test", [
      "## Load test",
      "",
      `Command: \`${results.command}\`. Date: ${results.date.slice(0, 10)}. Machine: ${m.nproc} cores (${m.cpu}), Node ${m.node}, ` +
        `wrangler ${m.wrangler} (workerd ${m.workerd}), shared with other work (see the noise line).`,
      "",
      `\`wrangler dev\` (started by the script through \`scripts/dev\`, local D1/KV/R2 in a fresh state directory) serves ` +
        `${names.length} uploaded packages × ${versions.length} versions and ${upNames.length} packages of a composer source on a fake ` +
        `upstream (tests/upstreams/composer-repo.mjs, Basic auth). ${opt.clients} keep-alive clients on 127.0.0.1, each with its own ` +
        `token (rate limit off: the test measures capacity, not the limiter), send composer's ` +
        `requests in a fixed mix (per 20: 2 packages.json, 7 p2, 6 p2 with If-Modified-Since, 3 dist downloads checked against ` +
        `their shasum, 2 notify-batch posts) for ${opt.seconds} s; every response is checked. Latencies are per request, ` +
        `from send to the last byte.`,
      "",
      table,
      "",
      `Throughput ${f0(results.throughput_rps)} req/s over ${f2(run.seconds)} s; **${errors} errors**.`,
      "",
      syncLine,
      "",
      noise,
      "",
      "Raw numbers: `build/load/results.json`.",
      "",
    ].join("\n"));
    log("load: wrote build/load/results.json and the \"Load test\" section of docs/PERFORMANCE.md");
  }
  return errors ? 1 : 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (e) {
  log(`load: ${e.stack ?? e}`);
  if (broker) log(`load: scripts/dev output (last lines):\n${broker.output.split("\n").slice(-30).join("\n")}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
