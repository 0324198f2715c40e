// The serving benchmark (npm run bench): package-broker and a floor Worker (a constant body of the
// phase's own size, or the same R2 object) in ONE workerd process (Miniflare, in-memory D1/KV/R2), each on its own socket on 127.0.0.1, driven
// by a closed loop of keep-alive HTTP clients. Every phase alternates with its floor in rounds (floor,
// phase, floor, phase...: drift of the machine lands on both), and is reported as a ratio to that floor
// over all rounds: throughput and workerd CPU time per request, with each round's ratio beside it.
// Usage: node scripts/bench.mjs [--quick] [--concurrency N] [--requests N] [--seconds T] [--warmup N] [--rounds N]
//                               [--packages N] [--versions N] [--big-packages N] [--mirror-mb N]
//                               [--no-docs] [--log errors|requests|debug]
import { Miniflare } from "miniflare";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyMigrations, root } from "../tests/worker/helpers.mjs";
import { seed, seedNames } from "../tests/bench/seed.mjs";
import { mirrorRewrite, coldStart } from "../tests/bench/wasm.mjs";
import { brokerWorker, floorWorker } from "../tests/bench/workers.mjs";
import { combine, measure, workerdPids, cpuTicks, CLK_TCK } from "../tests/bench/load.mjs";
import { machine, rewriteSection } from "../tests/bench/report.mjs";
import { list, number, oneOf, readOptions, text } from "./lib/options.mjs";

const started = Date.now();
const argv = process.argv.slice(2);

const USAGE =
  "usage: scripts/bench [--quick] [--concurrency N=8] [--requests N=3000 (--quick: 300)] [--seconds T=10] [--warmup N=200] [--rounds N=3]\n" +
  "                     [--packages N=200] [--versions N=40] [--big-packages N=10000] [--mirror-mb N=5] [--no-docs] [--out results.json]\n" +
  "                     [--phases p2,p2_304,packages_json,packages_json_big,dist,dist_counted] [--no-wasm] [--log errors|requests|debug]";
const positive = number();
const opt = readOptions(argv, {
  quick: {},
  concurrency: { short: "c", check: positive, default: 8 },
  requests: { short: "n", check: positive },
  seconds: { short: "t", check: positive, default: 10 },
  warmup: { check: positive, default: 200 },
  rounds: { check: positive, default: 3 }, // each phase and its floor alternate this many times, requests split evenly
  packages: { check: positive, default: 200 },
  versions: { check: positive, default: 40 },
  "big-packages": { check: positive, default: 10000 },
  "mirror-mb": { check: positive, default: 5 },
  "no-docs": {},
  phases: { check: list(text()) }, // a subset, for profiling work (implies --no-docs)
  "no-wasm": {}, // skip the mirror rewrite and cold start (implies --no-docs)
  out: { check: text() }, // results JSON elsewhere than build/bench/results.json
  log: { check: oneOf("errors", "requests", "debug"), default: "errors" }, // PB_LOG of the Worker
}, { name: "bench", usage: USAGE });
opt.requests ??= opt.quick ? 300 : 3000;
opt.wasm = !opt.noWasm;
opt.docs = !opt.noDocs && !opt.phases && opt.wasm; // a partial run never rewrites the documented table
const log = (...a) => console.error(...a); // progress on stderr; stdout carries the table only
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const WASM = path.join(root, "build/wasm/package_broker.wasm");

// ---- lifetime: Miniflare (and its workerd) goes away on every exit path ----
let mf = null;
let disposing = null;
async function dispose() {
  if (!mf) return;
  disposing ??= mf.dispose().catch((e) => log(`bench: dispose failed: ${e.message}`));
  await disposing;
  mf = null;
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, async () => {
    log(`\nbench: ${sig}, shutting workerd down`);
    await dispose();
    process.exit(128 + os.constants.signals[sig]);
  });
}
process.on("uncaughtException", async (e) => {
  log(`bench: ${e.stack ?? e}`);
  await dispose();
  process.exit(1);
});

// ---- output helpers ----
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "–");
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toString() : "–");

function table(rows) {
  const head = "| phase | requests | req/s | p50 ms | p99 ms | workerd CPU ms/req | req/s ÷ floor | CPU ÷ floor | other load (cores) | status |";
  const sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|";
  const lines = rows.map((r) => {
    const floor = r.floor;
    const status = r.failed ? `FAILED (${r.errors + r.warmup_errors} errors)` : "ok";
    return `| ${r.label} | ${r.requests} | ${f0(r.rps)} | ${f2(r.p50_ms)} | ${f2(r.p99_ms)} | ${f3(r.workerd_cpu_ms_per_req)} | ${
      floor ? f2(r.rps / floor.rps) : "1"
    } | ${floor ? f2(r.workerd_cpu_ms_per_req / floor.workerd_cpu_ms_per_req) : "1"} | ${f2(r.other_cpu_cores)} | ${status} |`;
  });
  return [head, sep, ...lines].join("\n");
}

// ---- main ----
async function main() {
  if (!existsSync(WASM)) throw new Error(`${WASM} is missing: run scripts/build wasm`);
  const m = machine();
  log(`bench: ${m.nproc} cores, node ${m.node}, workerd ${m.workerd}; concurrency ${opt.concurrency}, ` +
      `${opt.warmup} warm-up + min(${opt.requests} requests, ${opt.seconds} s) per phase`);

  const runtime = { stdoutBytes: 0, stdoutLines: 0, stderrTail: [], partial: "", lastLine: "" };
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    // The broker logs one JSON line per request; count it instead of printing it.
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (c) => {
        runtime.stdoutBytes += c.length;
        for (const b of c) if (b === 10) runtime.stdoutLines++;
        const text = runtime.partial + c.toString();
        const cut = text.lastIndexOf("\n");
        if (cut >= 0) {
          const lines = text.slice(0, cut).split("\n");
          runtime.lastLine = lines[lines.length - 1];
          runtime.partial = text.slice(cut + 1).slice(-4096);
        } else runtime.partial = text.slice(-4096);
      });
      stderr.on("data", (c) => {
        runtime.stderrTail.push(c.toString());
        if (runtime.stderrTail.length > 20) runtime.stderrTail.shift();
      });
    },
    workers: [
      brokerWorker({ name: "broker", storage: "bench", adminToken: ADMIN_TOKEN, log: opt.log }),
      // The same broker over a repository of opt.bigPackages packages (seeded with SQL): /packages.json at scale.
      brokerWorker({ name: "broker_big", storage: "bench-big", adminToken: ADMIN_TOKEN, log: opt.log }),
      floorWorker({ storage: "bench" }), // the broker's bucket: the /dist floor streams the same object
    ],
  });
  await mf.ready;
  const brokerUrl = await mf.unsafeGetDirectURL("broker");
  const floorUrl = await mf.unsafeGetDirectURL("floor");
  const brokerBigUrl = await mf.unsafeGetDirectURL("broker_big");
  const base = brokerUrl.origin;
  const pids = workerdPids();
  if (!pids.length) throw new Error("found no workerd process among this node process's children");
  log(`bench: workerd pid(s) ${pids.join(", ")}; broker on ${base}, floor on ${floorUrl.origin}`);
  await applyMigrations(mf);

  // Are the routes there yet? An unauthenticated /packages.json must be 401, not 404.
  const probe = await fetch(`${base}/packages.json`);
  await probe.arrayBuffer();
  if (probe.status === 404) {
    log("bench: GET /packages.json answers 404: the composer routes are not implemented in this build yet");
    return { exitCode: 3 };
  }

  log(`bench: seeding ${opt.packages} packages × ${opt.versions} versions (+1 uploaded last)`);
  const seedStarted = Date.now();
  const s = await seed({ mf, base, adminToken: ADMIN_TOKEN, packages: opt.packages, versions: opt.versions, log });
  const seedMs = Date.now() - seedStarted;
  const auth = `Basic ${Buffer.from(`token:${s.token}`).toString("base64")}`;

  // Every p2 document must list versions+1 versions; remember its size and Last-Modified.
  const docs = new Map();
  for (const name of s.names) {
    const r = await fetch(`${base}/p2/${name}.json`, { headers: { authorization: auth } });
    const body = await r.text();
    if (r.status !== 200) throw new Error(`GET /p2/${name}.json: HTTP ${r.status} ${body.slice(0, 300)}`);
    const listed = JSON.parse(body).packages?.[name]?.length;
    if (listed !== opt.versions + 1) throw new Error(`/p2/${name}.json lists ${listed} versions, expected ${opt.versions + 1}`);
    docs.set(name, { bytes: Buffer.byteLength(body), lastModified: r.headers.get("last-modified") });
  }
  const sizes = [...docs.values()].map((d) => d.bytes);
  log(`bench: all ${s.names.length} p2 documents list ${opt.versions + 1} versions (${Math.min(...sizes)}–${Math.max(...sizes)} bytes)`);
  const pj = await fetch(`${base}/packages.json`, { headers: { authorization: auth } });
  const pjBody = await pj.text();
  if (pj.status !== 200 || JSON.parse(pjBody)["available-packages"]?.length !== s.names.length)
    throw new Error(`GET /packages.json: HTTP ${pj.status} ${pjBody.slice(0, 300)}`);
  const pjBytes = Buffer.byteLength(pjBody);
  const dist = await fetch(base + s.big.path, { headers: { authorization: auth } });
  const distBytes = Buffer.from(await dist.arrayBuffer());
  const { createHash } = await import("node:crypto");
  if (dist.status !== 200 || createHash("sha1").update(distBytes).digest("hex") !== s.big.sha1)
    throw new Error(`GET ${s.big.path}: HTTP ${dist.status}, ${distBytes.length} bytes (not the uploaded archive)`);

  // The big repository (opt.bigPackages names, seeded with SQL) on its own broker and D1.
  const bigBase = brokerBigUrl.origin;
  await applyMigrations(mf, "broker_big");
  log(`bench: seeding ${opt.bigPackages} packages with SQL for /packages.json at scale`);
  const big = await seedNames({ mf, workerName: "broker_big", base: bigBase, adminToken: ADMIN_TOKEN, count: opt.bigPackages });
  const bigAuth = `Basic ${Buffer.from(`token:${big.token}`).toString("base64")}`;
  const pjBig = await fetch(`${bigBase}/packages.json`, { headers: { authorization: bigAuth } });
  const pjBigBody = await pjBig.text();
  if (pjBig.status !== 200 || JSON.parse(pjBigBody)["available-packages"]?.length !== opt.bigPackages)
    throw new Error(`GET /packages.json (${opt.bigPackages} packages): HTTP ${pjBig.status} ${pjBigBody.slice(0, 300)}`);
  const pjBigBytes = Buffer.byteLength(pjBigBody);
  log(`  ${opt.bigPackages} package rows in ${big.ms} ms; /packages.json is ${pjBigBytes} bytes`);

  // The /dist floor streams the archive's own R2 object from the same bucket.
  const distKey = await (await mf.getD1Database("DB")).prepare("SELECT dist_key FROM versions WHERE dist_size = ?").bind(s.big.size).first("dist_key");
  const r2Floor = await fetch(`${floorUrl.origin}/r2/${encodeURIComponent(distKey)}`);
  const r2FloorBytes = Buffer.from(await r2Floor.arrayBuffer());
  if (r2Floor.status !== 200 || createHash("sha1").update(r2FloorBytes).digest("hex") !== s.big.sha1)
    throw new Error(`floor GET /r2/${distKey}: HTTP ${r2Floor.status}, ${r2FloorBytes.length} bytes (not the uploaded archive)`);

  // The counted floor must really count: after its runs, one fetch per request it answered (its
  // waitUntil writes finish within a moment of the last response).
  const floorCounted = async (answered) => {
    const db = await mf.getD1Database("FLOOR_DB", "floor");
    let sum = 0;
    for (let i = 0; i < 50 && sum !== answered; i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      sum = (await db.prepare("SELECT COALESCE(SUM(fetches), 0) AS n FROM floor_fetches").first("n")) ?? 0;
    }
    if (sum !== answered) throw new Error(`the counted floor counted ${sum} fetches for ${answered} requests`);
    await db.prepare("DELETE FROM floor_fetches").run(); // the next phase run counts from zero
  };
  const names = s.names;
  const common = { concurrency: opt.concurrency, warmup: opt.warmup, requests: opt.requests, seconds: opt.seconds, pids };
  const expectStatus = (status, bytes) => (r, i) =>
    r.status !== status ? `HTTP ${r.status} (expected ${status})` : bytes(i) != null && r.bytes !== bytes(i) ? `${r.bytes} bytes (expected ${bytes(i)})` : null;
  const floorPort = Number(floorUrl.port);
  // A floor answering a constant JSON body of `bytes` bytes.
  const constantFloor = (bytes) => ({
    label: `floor (constant ${bytes} B JSON)`,
    target: () => ({ path: `/${bytes}`, headers: {} }),
    check: expectStatus(200, () => bytes),
  });
  const p2Median = [...sizes].sort((a, b) => a - b)[Math.floor(sizes.length / 2)];
  const phases = [
    {
      key: "p2",
      label: `/p2/{vendor}/{name}.json 200 (${opt.versions + 1} versions)`,
      floor: constantFloor(p2Median),
      target: (i) => ({ path: `/p2/${names[i % names.length]}.json`, headers: { authorization: auth } }),
      check: expectStatus(200, (i) => docs.get(names[i % names.length]).bytes),
    },
    {
      key: "p2_304",
      label: "/p2/... If-Modified-Since → 304",
      floor: constantFloor(p2Median),
      target: (i) => {
        const name = names[i % names.length];
        return { path: `/p2/${name}.json`, headers: { authorization: auth, "if-modified-since": docs.get(name).lastModified } };
      },
      check: expectStatus(304, () => 0),
    },
    {
      key: "packages_json",
      label: `/packages.json (${names.length} packages)`,
      floor: constantFloor(pjBytes),
      target: () => ({ path: "/packages.json", headers: { authorization: auth } }),
      check: expectStatus(200, () => pjBytes),
    },
    {
      key: "packages_json_big",
      label: `/packages.json (${opt.bigPackages} packages)`,
      port: Number(brokerBigUrl.port),
      floor: constantFloor(pjBigBytes),
      target: () => ({ path: "/packages.json", headers: { authorization: bigAuth } }),
      check: expectStatus(200, () => pjBigBytes),
    },
    {
      key: "dist",
      label: `/dist/... ${(s.big.size / 1048576).toFixed(2)} MiB archive`,
      floor: {
        label: `floor (the same ${(s.big.size / 1048576).toFixed(2)} MiB object streamed from R2)`,
        target: () => ({ path: `/r2/${encodeURIComponent(distKey)}`, headers: {} }),
        check: expectStatus(200, () => s.big.size),
      },
      // Served under a workers.dev host name: the R2 path, as the floor. Elsewhere the broker would answer
      // from the edge cache, which Miniflare emulates through a loopback service to node: not what
      // Cloudflare's cache costs, so not measured here (docs/PERFORMANCE.md).
      target: () => ({ path: s.big.path, headers: { authorization: auth, host: "pb-bench.workers.dev" } }),
      check: expectStatus(200, () => s.big.size),
    },
    {
      // The same downloads against a floor that also counts each fetch with one D1 upsert (as the broker
      // counts every download for its statistics): what /dist costs besides keeping the count. In
      // Miniflare D1 runs in the same workerd process, so the count's database work is in both columns
      // here; on Cloudflare it runs in the database (docs/PERFORMANCE.md, "/dist").
      key: "dist_counted",
      label: `/dist/... ${(s.big.size / 1048576).toFixed(2)} MiB archive, vs a floor that also counts the fetch in D1`,
      floor: {
        label: `floor (the same ${(s.big.size / 1048576).toFixed(2)} MiB object streamed from R2, each fetch counted in D1)`,
        target: () => ({ path: `/r2c/${encodeURIComponent(distKey)}`, headers: {} }),
        check: expectStatus(200, () => s.big.size),
        counted: true,
      },
      target: () => ({ path: s.big.path, headers: { authorization: auth, host: "pb-bench.workers.dev" } }),
      check: expectStatus(200, () => s.big.size),
    },
  ];

  if (opt.phases) phases.splice(0, phases.length, ...phases.filter((p) => opt.phases.includes(p.key)));
  if (!phases.length) throw new Error(`--phases ${opt.phases} names no phase`);

  // Untimed pre-warm of both workers and of this process's HTTP client (JIT), so the first floor run is
  // not measured cold.
  log("bench: pre-warming (1000 floor requests, 400 p2 requests, not measured)");
  const f0p = phases[0].floor;
  const prewarm = await measure({ ...common, warmup: 0, requests: 1000, seconds: 30, name: "prewarm", port: floorPort, target: f0p.target, check: f0p.check });
  let countedBefore = f0p.counted ? prewarm.requests : 0; // fetches the counted floor answered outside a phase
  await measure({ ...common, warmup: 0, requests: 400, seconds: 30, name: "prewarm", port: Number(brokerUrl.port), target: phases[0].target, check: phases[0].check });

  // Each phase: `rounds` pairs of a floor run and a phase run, the requests (and warm-up) split evenly, so
  // that a slow stretch of the machine falls on both sides of the ratio instead of on one of them.
  const rounds = Math.max(1, Math.min(Math.floor(opt.rounds), opt.requests));
  const perRound = { ...common, requests: Math.ceil(opt.requests / rounds), warmup: Math.ceil(opt.warmup / rounds), seconds: opt.seconds / rounds };
  const rows = [];
  for (const p of phases) {
    const fls = [], rs = [];
    let lines = 0, sent = 0;
    for (let k = 0; k < rounds; k++) {
      const f = await measure({ ...perRound, name: "floor", port: floorPort, target: p.floor.target, check: p.floor.check });
      fls.push(f);
      const lines1 = runtime.stdoutLines;
      const x = await measure({ ...perRound, name: p.key, port: p.port ?? Number(brokerUrl.port), target: p.target, check: p.check });
      lines += runtime.stdoutLines - lines1;
      sent += x.requests + x.warmup_requests;
      rs.push(x);
      if (rounds > 1)
        log(`    round ${k + 1}: floor ${f0(f.rps)} req/s ${f3(f.workerd_cpu_ms_per_req)} ms CPU/req, ${p.key} ${f0(x.rps)} req/s ${f3(x.workerd_cpu_ms_per_req)} ms CPU/req: ` +
            `${f2(x.rps / f.rps)}× / ${f2(x.workerd_cpu_ms_per_req / f.workerd_cpu_ms_per_req)}×`);
    }
    const fl = combine(fls);
    if (p.floor.counted) {
      await floorCounted(countedBefore + fls.reduce((n, f) => n + f.requests + f.warmup_requests, 0));
      countedBefore = 0;
    }
    rows.push({ ...fl, key: "floor", label: `${p.floor.label}, before ${p.key}`, before: p.key });
    log(`  floor       ${f0(fl.rps)} req/s, p50 ${f2(fl.p50_ms)} ms, p99 ${f2(fl.p99_ms)} ms, ${f3(fl.workerd_cpu_ms_per_req)} ms CPU/req${fl.failed ? "  FAILED" : ""}`);
    const r = combine(rs);
    const row = {
      ...r,
      key: p.key,
      label: p.label,
      floor: fl,
      log_lines_per_req: lines / (sent || 1),
      // The Worker's own request log line (route, status, ms, cache outcome), when it logs requests (PB_LOG).
      sample_log_line: lines > 0 ? runtime.lastLine : null,
      // Each round's ratios to the floor run just before it: the spread is the run's own noise.
      round_ratios: rs.map((x, k) => ({ rps: x.rps / fls[k].rps, cpu: x.workerd_cpu_ms_per_req / fls[k].workerd_cpu_ms_per_req })),
    };
    rows.push(row);
    log(`  ${p.key.padEnd(11)} ${f0(r.rps)} req/s, p50 ${f2(r.p50_ms)} ms, p99 ${f2(r.p99_ms)} ms, ${f3(r.workerd_cpu_ms_per_req)} ms CPU/req, ` +
        `${f2(r.rps / fl.rps)}× floor throughput, ${f2(r.workerd_cpu_ms_per_req / fl.workerd_cpu_ms_per_req)}× floor CPU` +
        `${r.failed ? `  FAILED: ${r.error_samples.join("; ")}` : ""}`);
  }

  // Not HTTP: the mirror rewrite in wasm (MB/s) and the cold start (ms), each from its own runs.
  await dispose(); // workerd off the cores for the in-process measurements
  let mirror = { failed: [], runs: [], mb_per_s: NaN };
  const floors = { parse: { runs: [], mb_per_s: NaN }, design: { runs: [], mb_per_s: NaN } };
  let shaped = { failed: [], runs: [], mb_per_s: NaN };
  let cold = { runs: [], total_ms: NaN };
  if (opt.wasm) {
    log(`bench: mirror rewrite of a ${opt.mirrorMb} MB upstream p2 document in wasm (${opt.quick ? 3 : 7} runs)`);
    mirror = await mirrorRewrite({ mb: opt.mirrorMb, runs: opt.quick ? 3 : 7 });
    for (const f of mirror.failed) log(`  ${f.mb} MB: FAILED (${f.error})`);
    log(`  ${f1(mirror.mb_per_s)} MB/s (median of ${mirror.runs.length} runs; ${mirror.versions} versions, ${mirror.input_bytes} bytes in, ${mirror.output_bytes} bytes out, peak wasm memory ${f0(mirror.peak_memory_mb)} MB)`);
    // Beside it, in the same module: the floor of a parse (one simdjson parse + one copy) and the floor of
    // the design (two parses + two copies: the D1 round trip's two sides), tests/bench/mirror_rewrite.cpp.
    for (const [key, entry] of [["parse", "pb_bench_parse_floor"], ["design", "pb_bench_design_floor"]]) {
      floors[key] = await mirrorRewrite({ mb: opt.mirrorMb, runs: opt.quick ? 3 : 7, entry });
      log(`  ${key} floor: ${f1(floors[key].mb_per_s)} MB/s (CPU ${f1(floors[key].cpu_mb_per_s)} MB/s; at ${f1(floors[key].measured_mb ?? NaN)} MB)`);
    }
    // A document shaped like a large package on packagist.org (consecutive releases share most members),
    // at 0.6 of the size: about as many versions as the synthetic one, under the 5,000-version cap.
    shaped = await mirrorRewrite({ mb: opt.mirrorMb * 0.6, runs: opt.quick ? 3 : 7, shape: "packagist" });
    log(`  Packagist-shaped: ${f1(shaped.mb_per_s)} MB/s (${shaped.versions} versions in ${f1(shaped.input_bytes / 1e6)} MB)`);
    log(`bench: cold start (${opt.quick ? 3 : 9} runs, each in a fresh node process)`);
    cold = coldStart({ runs: opt.quick ? 3 : 9 });
    log(`  compile ${f1(cold.compile_ms)} ms + instantiate ${f1(cold.instantiate_ms)} ms + first request ${f1(cold.first_request_ms)} ms = ${f1(cold.total_ms)} ms (medians)`);
  }

  // Issue 11's targets: throughput ratio (and, for p2, CPU ratio) against each row's own floor.
  const TARGETS = {
    p2: { what: "p2 hit", rps: 0.8, cpu: 1.5 },
    p2_304: { what: "p2 304", rps: 0.85 },
    packages_json: { what: `packages.json (${names.length})`, rps: 0.7 },
    packages_json_big: { what: `packages.json (${opt.bigPackages})` },
    dist: { what: `dist ${(s.big.size / 1048576).toFixed(2)} MiB (vs R2 floor)`, rps: 0.8 },
    dist_counted: { what: `dist ${(s.big.size / 1048576).toFixed(2)} MiB (vs R2 floor that counts in D1)` },
  };
  const verdict = (r) => {
    const t = TARGETS[r.key];
    if (!t || t.rps == null) return null;
    const rps = r.rps / r.floor.rps;
    const cpu = r.workerd_cpu_ms_per_req / r.floor.workerd_cpu_ms_per_req;
    return !r.failed && rps >= t.rps && (t.cpu == null || cpu <= t.cpu);
  };
  const totalS = (Date.now() - started) / 1000;
  const date = new Date().toISOString().slice(0, 10);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}`;
  const tbl = table(rows);
  const ratioLine = (r) => {
    const t = TARGETS[r.key];
    const v = verdict(r);
    const goal = t.rps == null ? "" : ` — target ≥ ${t.rps}×${t.cpu ? ` / ≤ ${t.cpu}× CPU` : ""}: **${v ? "met" : "not met"}**`;
    const each = r.round_ratios.length > 1
      ? ` (rounds: ${r.round_ratios.map((x) => `${f2(x.rps)}× / ${f2(x.cpu)}×`).join(", ")})`
      : "";
    return `- ${t.what}: ${f2(r.rps / r.floor.rps)}× the floor's throughput, ${f2(r.workerd_cpu_ms_per_req / r.floor.workerd_cpu_ms_per_req)}× its workerd CPU per request` +
      each + goal + (r.failed ? ` — **FAILED** (${r.error_samples.join("; ")})` : "");
  };
  const wasmTable = [
    "| measurement | runs | median | min | max |",
    "|---|---:|---:|---:|---:|",
    ...mirror.failed.map((f) => `| mirror rewrite of a ${f1(f.mb)} MB upstream p2 document | 1 | **failed**: ${f.error} | | |`),
    mirror.runs.length
      ? `| mirror rewrite of a ${f1(mirror.input_bytes / 1e6)} MB upstream p2 document (${mirror.versions} versions: expand, rewrite, minify; peak wasm memory ${f0(mirror.peak_memory_mb)} MB), MB/s | ${mirror.runs.length} | ${f1(mirror.mb_per_s)} | ${f1(Math.min(...mirror.runs))} | ${f1(Math.max(...mirror.runs))} |`
      : "| mirror rewrite: no size fitted in wasm memory | | | | |",
    ...[["parse", "one simdjson parse + one copy of the document"], ["design", "the design's least work: two simdjson parses + two copies (the rows, then the documents)"]].map(([k, what]) =>
      floors[k].runs.length
        ? `| floor of the mirror rewrite, ${what}, ${f1(floors[k].input_bytes / 1e6)} MB, MB/s | ${floors[k].runs.length} | ${f1(floors[k].mb_per_s)} | ${f1(Math.min(...floors[k].runs))} | ${f1(Math.max(...floors[k].runs))} |`
        : `| floor of the mirror rewrite (${k}): no size fitted in wasm memory | | | | |`),
    shaped.runs.length
      ? `| mirror rewrite of a ${f1(shaped.input_bytes / 1e6)} MB Packagist-shaped document (${shaped.versions} versions; consecutive releases share most members, as on packagist.org), MB/s | ${shaped.runs.length} | ${f1(shaped.mb_per_s)} | ${f1(Math.min(...shaped.runs))} | ${f1(Math.max(...shaped.runs))} |`
      : "| mirror rewrite of a Packagist-shaped document: no size fitted in wasm memory | | | | |",
    `| cold start: wasm compile, ms | ${cold.runs.length} | ${f1(cold.compile_ms)} | ${f1(Math.min(...cold.runs.map((r) => r.compile_ms)))} | ${f1(Math.max(...cold.runs.map((r) => r.compile_ms)))} |`,
    `| cold start: instantiate (+ _initialize), ms | ${cold.runs.length} | ${f1(cold.instantiate_ms)} | ${f1(Math.min(...cold.runs.map((r) => r.instantiate_ms)))} | ${f1(Math.max(...cold.runs.map((r) => r.instantiate_ms)))} |`,
    `| cold start: first request (pb_configure + a 401), ms | ${cold.runs.length} | ${f1(cold.first_request_ms)} | ${f1(Math.min(...cold.runs.map((r) => r.first_request_ms)))} | ${f1(Math.max(...cold.runs.map((r) => r.first_request_ms)))} |`,
    `| cold start: total, ms | ${cold.runs.length} | ${f1(cold.total_ms)} | ${f1(Math.min(...cold.runs.map((r) => r.total_ms)))} | ${f1(Math.max(...cold.runs.map((r) => r.total_ms)))} |`,
  ].join("\n");
  const mirrorMet = mirror.failed.length === 0 && mirror.mb_per_s >= 100;
  const mirrorLine = `mirror rewrite: ${f1(mirror.mb_per_s)} MB/s` +
    (mirror.failed.length ? ` (measured at ${f1(mirror.measured_mb)} MB: the ${f1(opt.mirrorMb)} MB document exhausts the 128 MB wasm memory)` : "") +
    ` — target ≥ 100 MB/s at ${f1(opt.mirrorMb)} MB` +
    ` (in the same module: parse floor ${f1(floors.parse.mb_per_s)} MB/s, design floor ${f1(floors.design.mb_per_s)} MB/s)`;

  const noisy = rows.filter((r) => r.other_cpu_cores > 0.25);
  const noiseLine = noisy.length
    ? `Noise: other processes used more than 0.25 of a core during ${noisy.length} of ${rows.length} runs ` +
      `(up to ${f2(Math.max(...noisy.map((r) => r.other_cpu_cores)))} cores); compare with a quiet run before drawing conclusions.`
    : "Noise: other processes used less than 0.25 of a core during every run.";
  console.log(tbl);
  console.log("");
  console.log(wasmTable);
  console.log("");
  for (const r of rows.filter((r) => r.floor)) console.log(ratioLine(r).replaceAll("**", ""));
  console.log(`- ${mirrorLine}: ${mirrorMet ? "met" : "not met"}`);
  console.log(noiseLine);

  const section = [
    "## Serving benchmark",
    "",
    `Command: \`${command}\` (\`scripts/bench\`; \`--quick\` = 300 requests per phase). Date: ${date}. Machine: ` +
      `${m.nproc} cores (${m.cpu}), Node ${m.node}, workerd ${m.workerd} (Miniflare ${m.miniflare}). Full run: ${f0(totalS)} s ` +
      `(seeding ${f0(seedMs / 1000)} s).`,
    "",
    `One workerd process (Miniflare, in-memory D1/KV/R2) runs package-broker (twice: over the benchmark repository and ` +
      `over a repository of ${opt.bigPackages} packages seeded with SQL) and a floor Worker (\`tests/bench/floor-worker.mjs\`) ` +
      `that answers a constant JSON body of the same size as the phase's own answer (median p2 document: ${p2Median} B; ` +
      `packages.json: ${pjBytes} B and ${pjBigBytes} B) or, for /dist, streams the same object from the same R2 bucket; each ` +
      `on its own direct socket on 127.0.0.1. Repository: ${opt.packages} packages × ` +
      `${opt.versions + 1} versions (${opt.versions} seeded, 1 uploaded last, which rebuilt the p2 documents: ` +
      `${Math.min(...sizes)}–${Math.max(...sizes)} bytes each). Load: node:http keep-alive closed loop, concurrency ` +
      `${opt.concurrency}, ${opt.warmup} warm-up requests then min(${opt.requests} requests, ${opt.seconds} s) per phase, split into ` +
      `${rounds} round${rounds > 1 ? "s" : ""} that alternate with the floor's (floor, phase, floor, phase...; each ratio is over all ` +
      `rounds, each round's own ratio in brackets); p2 ` +
      `requests rotate over all packages with HTTP Basic auth; /dist is requested under a workers.dev host name, so the ` +
      `broker takes the R2 path as the floor does (Miniflare's Cache API emulation is not Cloudflare's edge cache). ` +
      `workerd CPU = utime + stime of the workerd process from /proc ` +
      `(CLK_TCK ${CLK_TCK}); the load generator shares the ${m.nproc} cores; "other load" is the CPU the rest of the ` +
      `machine used meanwhile (/proc/stat minus workerd and the load generator): high values mean a noisy run.`,
    "",
    tbl,
    "",
    ...rows.filter((r) => r.floor).map(ratioLine),
    "",
    `In-process measurements (\`tests/bench/wasm.mjs\`, after workerd stopped; Node ${m.node}'s V8 runs the wasm): the ` +
      `mirror rewrite runs \`build/wasm/pb_bench.wasm\`'s \`pb_bench_mirror_rewrite\` (the production code of a packagist ` +
      `mirror: parse and expand the upstream document, rewrite every version's dist to this repository, rebuild and ` +
      `minify both documents; the D1 round trip in between is left out) over a synthetic ${f1(mirror.input_bytes / 1e6)} MB ` +
      `document whose releases each change most members (the target's row; \`upstreamDocument\`), and over a document shaped ` +
      `like a large package on packagist.org (\`packagistDocument\`: consecutive releases share most members, so a megabyte ` +
      `holds more versions); the cold start compiles \`package_broker.wasm\`, instantiates it through the shim (\`worker/engine.mjs\`, ` +
      `pb_configure included) and drives a first request (GET /packages.json without credentials: 401, no I/O), each run ` +
      `in a fresh node process.`,
    "",
    wasmTable,
    "",
    `- ${mirrorLine}: **${mirrorMet ? "met" : "not met"}**`,
    `- the same rewrite of the Packagist-shaped document: ${f1(shaped.mb_per_s)} MB/s (${shaped.versions} versions in ${f1(shaped.input_bytes / 1e6)} MB; reported, no target of its own)`,
    `- cold start: ${f1(cold.total_ms)} ms (Workers' startup limit: 1 s)`,
    "",
    noiseLine,
    "",
    "Raw numbers: `build/bench/results.json`.",
    "",
  ].join("\n");

  const results = {
    date: new Date().toISOString(),
    command,
    options: opt,
    machine: m,
    workerd_pids: pids,
    seed: { ...s.timings, total_ms: seedMs, version_rows: s.versionRows, p2_bytes: { min: Math.min(...sizes), max: Math.max(...sizes), median: p2Median }, packages_json_bytes: pjBytes, big_packages: opt.bigPackages, big_packages_ms: big.ms, big_packages_json_bytes: pjBigBytes, dist: s.big, dist_key: distKey },
    phases: rows.map(({ floor, ...r }) => ({
      ...r,
      ...(floor
        ? {
            floor_rps: floor.rps,
            floor_cpu_ms_per_req: floor.workerd_cpu_ms_per_req,
            rps_ratio: r.rps / floor.rps,
            cpu_ratio: r.workerd_cpu_ms_per_req / floor.workerd_cpu_ms_per_req,
            cpu_ratio_schedstat: floor.workerd_cpu_ms_per_req_schedstat ? r.workerd_cpu_ms_per_req_schedstat / floor.workerd_cpu_ms_per_req_schedstat : null,
          }
        : {}),
    })),
    targets: Object.fromEntries(rows.filter((r) => r.floor && TARGETS[r.key].rps != null).map((r) => [r.key, { ...TARGETS[r.key], met: verdict(r) }])),
    mirror_rewrite: { ...mirror, target_mb_per_s: 100, met: mirrorMet, parse_floor: floors.parse, design_floor: floors.design, packagist_shaped: shaped },
    cold_start: cold,
    runtime_stdout: { bytes: runtime.stdoutBytes, lines: runtime.stdoutLines },
    total_seconds: totalS,
  };
  const out = opt.out ? path.resolve(opt.out) : path.join(root, "build/bench/results.json");
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  if (opt.docs) {
    rewriteSection("## Serving benchmark", section);
    log(`bench: wrote ${path.relative(root, out)} and the "Serving benchmark" section of docs/PERFORMANCE.md`);
  } else {
    log(`bench: wrote ${path.relative(root, out)} (--no-docs: docs/PERFORMANCE.md untouched)`);
  }
  log(`bench: done in ${f0(totalS)} s`);
  return { exitCode: rows.some((r) => r.failed) ? 1 : 0 };
}

let exitCode = 1;
try {
  ({ exitCode } = await main());
} catch (e) {
  log(`bench: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  await dispose();
}
process.exit(exitCode);
