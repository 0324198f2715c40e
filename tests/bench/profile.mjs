// CPU profile of the broker's isolate under load (docs/PERFORMANCE.md, "Profiling"): Miniflare with
// workerd's inspector, a small seeded repository, then N requests of one kind while V8's sampling
// profiler runs; prints the functions with the most self time (wasm functions by their names).
// Usage: node tests/bench/profile.mjs [p2|p2_304|packages_json|dist|floor] [requests=3000] [packages=20]
// ("floor" profiles the floor Worker answering a body of the p2 document's size, for comparison.)
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import path from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { applyMigrations, root } from "../worker/helpers.mjs";
import { seed } from "./seed.mjs";
import { measure, workerdPids } from "./load.mjs";
import { brokerWorker, floorWorker } from "./workers.mjs";

const [kind = "p2", requests = "3000", packages = "20"] = process.argv.slice(2);
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const inspectorPort = 9229 + Math.floor(Math.random() * 500);
const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  cf: false,
  inspectorPort,
  workers: [brokerWorker({ name: "broker", storage: "profile", adminToken: ADMIN_TOKEN }), floorWorker({ storage: "profile" })],
});
try {
  await mf.ready;
  const url = await mf.unsafeGetDirectURL("broker");
  await applyMigrations(mf);
  const s = await seed({ mf, base: url.origin, adminToken: ADMIN_TOKEN, packages: Number(packages), versions: 40 });
  const auth = `Basic ${Buffer.from(`token:${s.token}`).toString("base64")}`;
  const lm = new Map();
  let p2Bytes = 0;
  for (const n of s.names) {
    const r = await fetch(`${url.origin}/p2/${n}.json`, { headers: { authorization: auth } });
    p2Bytes = (await r.arrayBuffer()).byteLength;
    lm.set(n, r.headers.get("last-modified"));
  }
  const floorUrl = await mf.unsafeGetDirectURL("floor");
  const targets = {
    p2: (i) => ({ path: `/p2/${s.names[i % s.names.length]}.json`, headers: { authorization: auth } }),
    p2_304: (i) => ({ path: `/p2/${s.names[i % s.names.length]}.json`, headers: { authorization: auth, "if-modified-since": lm.get(s.names[i % s.names.length]) } }),
    packages_json: () => ({ path: "/packages.json", headers: { authorization: auth } }),
    dist: () => ({ path: s.big.path, headers: { authorization: auth, host: "pb-bench.workers.dev" } }),
    floor: () => ({ path: `/${p2Bytes}`, headers: {} }),
  };
  const target = targets[kind];
  if (!target) throw new Error(`unknown kind ${kind}`);
  const list = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const worker = kind === "floor" ? "floor" : "broker";
  const entry = list.find((t) => t.title?.includes(worker)) ?? list[0];
  const ws = new WebSocket(entry.webSocketDebuggerUrl);
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  let id = 0;
  const pending = new Map();
  ws.on("message", (m) => {
    const msg = JSON.parse(m);
    if (msg.id && pending.has(msg.id)) (pending.get(msg.id)(msg), pending.delete(msg.id));
  });
  const send = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
  const common = { concurrency: 8, warmup: 300, requests: Number(requests), seconds: 60, pids: workerdPids(), port: Number(kind === "floor" ? floorUrl.port : url.port), target, check: () => null };
  await measure({ ...common, name: "warm" });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const r = await measure({ ...common, name: kind });
  const { result } = await send("Profiler.stop");
  ws.close();
  const p = result.profile;
  // wasm-function[N] -> its C++ name (scripts/build links with --emit-symbol-map).
  const symbolsFile = path.join(root, "build/wasm/package_broker.wasm.symbols");
  const symbols = new Map();
  if (existsSync(symbolsFile))
    for (const l of readFileSync(symbolsFile, "utf8").split("\n")) {
      const i = l.indexOf(":");
      if (i > 0) symbols.set(l.slice(0, i), decodeURIComponent(l.slice(i + 1).replace(/\\([0-9a-f]{2})/g, "%$1")).slice(0, 110));
    }
  let wasmTotal = 0;
  const self = new Map();
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  let total = 0;
  for (const n of p.nodes) {
    const t = dt.get(n.id) ?? 0;
    total += t;
    const cf = n.callFrame;
    const wasm = /^wasm-function\[(\d+)\]$/.exec(cf.functionName);
    if (wasm) wasmTotal += t;
    const key = wasm
      ? `wasm ${symbols.get(wasm[1]) ?? cf.functionName}`
      : `${cf.functionName || "(anonymous)"} ${cf.url ? path.basename(cf.url) + ":" + (cf.lineNumber + 1) : ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + t);
  }
  console.log(`${kind}: ${r.requests} requests, ${r.rps.toFixed(0)} req/s, workerd ${r.workerd_cpu_ms_per_req.toFixed(3)} ms CPU/req; profile ${(total / 1000).toFixed(0)} ms sampled`);
  console.log(`all wasm functions: ${((100 * wasmTotal) / total).toFixed(1)}%, ${(wasmTotal / 1000 / r.requests).toFixed(4)} ms/req`);
  // PB_PROFILE_TOP=<n>: list n functions instead of 40; PB_PROFILE_WASM=1: only the wasm ones.
  const listed = [...self.entries()].filter(([k]) => !process.env.PB_PROFILE_WASM || k.startsWith("wasm "));
  for (const [k, t] of listed.sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PB_PROFILE_TOP) || 40))
    console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / 1000 / r.requests).toFixed(4)} ms/req  ${k}`);
  // PB_PROFILE_CALLERS=<substring>: who calls the functions whose name contains it (self time by caller
  // chain, three frames up), to find where a shared helper (strlen, malloc) is paid from.
  if (process.env.PB_PROFILE_CALLERS) {
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const nameOf = (n) => {
      const w = /^wasm-function\[(\d+)\]$/.exec(n.callFrame.functionName);
      return (w ? symbols.get(w[1]) ?? n.callFrame.functionName : n.callFrame.functionName || "(anonymous)").slice(0, 70);
    };
    const chains = new Map();
    for (const [id, t] of dt) {
      const n = byId.get(id);
      if (!n || !nameOf(n).includes(process.env.PB_PROFILE_CALLERS)) continue;
      const chain = [];
      for (let q = parent.get(n.id); q && chain.length < 3; q = parent.get(q.id)) chain.push(nameOf(q));
      const key = `${nameOf(n)} <- ${chain.join(" <- ")}`;
      chains.set(key, (chains.get(key) ?? 0) + t);
    }
    console.log(`callers of *${process.env.PB_PROFILE_CALLERS}*:`);
    for (const [k, t] of [...chains.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15))
      console.log(`${((100 * t) / total).toFixed(2).padStart(6)}%  ${k}`);
  }
  // Hot source lines of the shim (V8's positionTicks: samples per line within each function).
  const lines = new Map();
  for (const n of p.nodes)
    for (const { line, ticks } of n.positionTicks ?? [])
      if (n.callFrame.url && !/^wasm-function/.test(n.callFrame.functionName)) {
        const key = `${path.basename(n.callFrame.url)}:${line}`;
        lines.set(key, (lines.get(key) ?? 0) + ticks);
      }
  const ticksTotal = p.samples.length;
  console.log("hot lines (share of all samples):");
  for (const [k, t] of [...lines.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20))
    console.log(`${((100 * t) / ticksTotal).toFixed(1).padStart(5)}%  ${k}`);
} finally {
  await mf.dispose();
}
