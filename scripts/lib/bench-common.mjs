// What the benchmark modes of scripts/bench share (--composer in bench-composer.mjs, --scale in
// bench-scale.mjs): the broker in workerd through Miniflare on a direct socket (as the serving bench
// runs it), process-group CPU meters, medians, the machine line and the rewrite of one section of
// docs/PERFORMANCE.md.
import { Miniflare } from "miniflare";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyMigrations, root } from "../../tests/worker/helpers.mjs";
import { cpuNanos, workerdPids, machineJiffies } from "../../tests/bench/load.mjs";
import { freePort } from "../../tests/e2e/process.mjs";
import { api } from "../../tests/bench/seed.mjs";

export { root, cpuNanos, machineJiffies };

export const log = (...a) => console.error(...a); // progress on stderr; stdout carries the tables
export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

export const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toString() : "–");
export const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
export const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");

export function median(xs) {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function machine() {
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim()) || nproc;
  } catch {}
  const pkg = (p) => JSON.parse(readFileSync(path.join(root, "node_modules", p, "package.json"), "utf8")).version;
  return { nproc, node: process.version, workerd: pkg("workerd"), miniflare: pkg("miniflare"), cpu: os.cpus()[0]?.model?.trim() ?? "unknown cpu" };
}

export const machineLine = (m) => `${m.nproc} cores (${m.cpu}), Node ${m.node}, workerd ${m.workerd} (Miniflare ${m.miniflare})`;

// Pids of a process group (the servers are started with setsid, so the group id is the leader's pid).
export function groupPids(pgid) {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[2]) === pgid) out.push(Number(d));
    } catch {} // exited meanwhile
  }
  return out;
}

// Busy share of the machine (in cores) between two machineJiffies() readings.
export function busyCores(a, b, nproc) {
  return ((b.busy - a.busy) / (b.total - a.total || 1)) * nproc;
}

// One Worker in its own workerd (Miniflare) on a direct socket of 127.0.0.1 (`port`, 0 = any). Counts
// the Worker's stdout lines and keeps them when `keepLines`. Returns { mf, base, port, pids, runtime,
// dispose }; `pids` are the workerd processes started since the call.
// With `inspect`, workerd's inspector is served on `inspectorPort` (for bench-profile.mjs).
export async function startWorkerd({ script, port = 0, keepLines = false, inspect = false, options = {} }) {
  const runtime = { lines: 0, partial: "", kept: [], stderrTail: [] };
  const before = new Set(workerdPids());
  const inspectorPort = inspect ? await freePort() : undefined;
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    ...(inspect ? { inspectorPort } : {}),
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (c) => {
        const text = runtime.partial + c.toString();
        const cut = text.lastIndexOf("\n");
        if (cut < 0) {
          runtime.partial = text.slice(-65536);
          return;
        }
        const lines = text.slice(0, cut).split("\n");
        runtime.lines += lines.length;
        if (keepLines) runtime.kept.push(...lines);
        runtime.partial = text.slice(cut + 1);
      });
      stderr.on("data", (c) => {
        runtime.stderrTail.push(c.toString());
        if (runtime.stderrTail.length > 20) runtime.stderrTail.shift();
      });
    },
    workers: [
      {
        name: "main",
        modules: true,
        modulesRoot: root,
        scriptPath: path.join(root, script),
        compatibilityDate: "2025-09-01",
        unsafeDirectSockets: [{ host: "127.0.0.1", port }],
        ...(inspect ? { unsafeInspectorProxy: true } : {}),
        ...options,
      },
    ],
  });
  let disposing = null;
  const dispose = () => (disposing ??= mf.dispose().catch((e) => log(`bench: dispose failed: ${e.message}`)));
  try {
    await mf.ready;
    const url = await mf.unsafeGetDirectURL("main");
    const pids = workerdPids().filter((p) => !before.has(p));
    if (!pids.length) throw new Error("found no new workerd process among this node process's children");
    return { mf, base: url.origin, port: Number(url.port), pids, runtime, dispose, inspectorPort };
  } catch (e) {
    await dispose();
    throw e;
  }
}

// The broker (worker/index.mjs, or a wrapper `script` around it) with in-memory D1/KV/R2, migrated.
// The effects that count against an invocation's subrequest budget (in the shim's effect log).
export const SUBREQUEST_OPS = /^(d1\.|kv\.|r2\.|cache\.|queue\.|fetch$)/;

// `options`: more Miniflare worker options (e.g. the sync queue's producer and consumer).
export async function startBroker({ script = "worker/index.mjs", bindings = {}, pbLog = "requests", keepLines = false, inspect = false, options = {} } = {}) {
  const w = await startWorkerd({
    script,
    keepLines,
    inspect,
    options: {
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
      d1Databases: { DB: "bench-db" },
      kvNamespaces: { KV: "bench-kv" },
      r2Buckets: { BUCKET: "bench-bucket" },
      bindings: { PB_TEST_HOOKS: "0", ADMIN_TOKEN, PB_LOG: pbLog, ...bindings },
      ...options,
    },
  });
  try {
    await applyMigrations(w.mf);
    return w;
  } catch (e) {
    await w.dispose();
    throw e;
  }
}

// Admin API call with the bench's admin token; JSON body when `body` is a plain object.
export function adminApi(base, method, p, body, headers = {}) {
  const isJson = body != null && !(body instanceof Uint8Array) && typeof body !== "string";
  return api(base, ADMIN_TOKEN, method, p, isJson ? JSON.stringify(body) : body, { ...(isJson ? { "content-type": "application/json" } : {}), ...headers });
}

export async function createToken(base, name = "bench") {
  const tok = await adminApi(base, "POST", "/admin/api/tokens", { name, rate_limit: 0 });
  if (tok.status !== 201 || !tok.json?.token) throw new Error(`POST /admin/api/tokens: HTTP ${tok.status} ${tok.text.slice(0, 300)}`);
  return tok.json.token;
}

// Replaces the section that starts with `## <title>` in docs/PERFORMANCE.md (appends it when missing).
export function rewriteDocsSection(title, section) {
  const file = path.join(root, "docs/PERFORMANCE.md");
  const text = readFileSync(file, "utf8");
  const esc = title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const start = text.search(new RegExp(`^## ${esc}[ \\t]*$`, "m"));
  let out;
  if (start < 0) out = text.replace(/\s*$/, "\n\n") + section;
  else {
    const rest = text.slice(start + 1);
    const next = rest.search(/^## /m);
    out = text.slice(0, start) + section + (next < 0 ? "" : "\n" + text.slice(start + 1 + next));
  }
  writeFileSync(file, out.replace(/\n*$/, "\n"));
}

// Exits cleanly on signals: `cleanup` stops what the mode started.
export function onSignals(cleanup) {
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, async () => {
      log(`\nbench: ${sig}, stopping`);
      await cleanup();
      process.exit(128 + os.constants.signals[sig]);
    });
  }
}
