// A/B of two checkouts of the broker in ONE workerd (docs/PERFORMANCE.md, "A/B in one workerd"): each
// checkout's worker/ and build/wasm run as their own Worker (own isolate) over the same seeded D1/KV/R2,
// and short phases of warm requests alternate between them (A B, B A, ...), so both see the same machine
// load; per round, the workerd process's CPU per request of A over B's. On a shared machine one round of
// the same code moves by ±10-30%: read the median and how many rounds fall on each side.
// Usage: node tests/bench/ab.mjs <dirA> <dirB> [rounds=12] [requests=4000] [p2|p2_304|packages_json|dist] [packages]
// (packages: how many are seeded; 50 by default, 200 for packages_json as in scripts/bench.mjs;
// dist: the seeded 1 MiB archive under a workers.dev host name, R2 path, as scripts/bench's dist phase)
// PB_AB_CLIENT=composer: each request also carries the headers composer 2.5 sends with curl (User-Agent,
// Accept, Accept-Encoding), not only Host, Connection and Authorization.
// (each dir: a checkout or `git archive` export with build/wasm/package_broker.wasm and node_modules)
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import path from "node:path";
import { applyMigrations } from "../worker/helpers.mjs";
import { seed } from "./seed.mjs";
import { measure, workerdPids } from "./load.mjs";

const [dirA, dirB, rounds = "12", requests = "4000", kind = "p2", packages = kind === "packages_json" ? "200" : "50"] = process.argv.slice(2);
if (!dirA || !dirB || !["p2", "p2_304", "packages_json", "dist"].includes(kind)) {
  console.error("usage: node tests/bench/ab.mjs <dirA> <dirB> [rounds=12] [requests=4000] [p2|p2_304|packages_json|dist] [packages]");
  process.exit(2);
}
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const broker = (name, dir) => ({
  name,
  modules: true,
  modulesRoot: path.resolve(dir),
  scriptPath: path.resolve(dir, "worker/index.mjs"),
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
  compatibilityDate: "2025-09-01",
  d1Databases: { DB: "ab-db" },
  kvNamespaces: { KV: "ab-kv" },
  r2Buckets: { BUCKET: "ab-bucket" },
  bindings: { PB_TEST_HOOKS: "0", ADMIN_TOKEN, PB_LOG: "errors" },
  unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
});
const median = (v) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];

const mf = new Miniflare({ host: "127.0.0.1", port: 0, cf: false, workers: [broker("a", dirA), broker("b", dirB)] });
try {
  await mf.ready;
  const urlA = await mf.unsafeGetDirectURL("a");
  const urlB = await mf.unsafeGetDirectURL("b");
  await applyMigrations(mf, "a");
  const s = await seed({ mf, base: urlA.origin, adminToken: ADMIN_TOKEN, packages: Number(packages), versions: 40 });
  const auth = `Basic ${Buffer.from(`token:${s.token}`).toString("base64")}`;
  const client =
    process.env.PB_AB_CLIENT === "composer"
      ? { "user-agent": "Composer/2.5.5 (Linux; 6.1.0; PHP 8.2.7; cURL 7.88.1)", accept: "*/*", "accept-encoding": "gzip" }
      : {};
  const modified = new Map();
  for (const n of s.names) {
    const r = await fetch(`${urlA.origin}/p2/${n}.json`, { headers: { authorization: auth } });
    await r.arrayBuffer();
    modified.set(n, r.headers.get("last-modified"));
  }
  const name = (i) => s.names[i % s.names.length];
  const targets = {
    p2: (i) => ({ path: `/p2/${name(i)}.json`, headers: { ...client, authorization: auth } }),
    p2_304: (i) => ({ path: `/p2/${name(i)}.json`, headers: { ...client, authorization: auth, "if-modified-since": modified.get(name(i)) } }),
    packages_json: () => ({ path: "/packages.json", headers: { ...client, authorization: auth } }),
    dist: () => ({ path: s.big.path, headers: { ...client, authorization: auth, host: "pb-bench.workers.dev" } }),
  };
  const target = targets[kind];
  const want = kind === "p2_304" ? 304 : 200;
  const pids = workerdPids();
  const run = (url) =>
    measure({ name: kind, port: Number(url.port), target, check: (r) => (r.status === want ? null : `status ${r.status}`), requests: Number(requests), seconds: 60, pids });
  const cpuA = [];
  const cpuB = [];
  for (let i = 0; i < Number(rounds); i++) {
    const aFirst = i % 2 === 0;
    const first = await run(aFirst ? urlA : urlB);
    const second = await run(aFirst ? urlB : urlA);
    const [a, b] = aFirst ? [first, second] : [second, first];
    if (a.failed || b.failed) throw new Error(`wrong answers: ${JSON.stringify([...a.error_samples, ...b.error_samples])}`);
    const ca = a.workerd_cpu_ms_per_req_schedstat ?? a.workerd_cpu_ms_per_req;
    const cb = b.workerd_cpu_ms_per_req_schedstat ?? b.workerd_cpu_ms_per_req;
    cpuA.push(ca);
    cpuB.push(cb);
    const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
    console.log(`round ${i + 1}: A ${ca.toFixed(4)} ms/req (${a.rps.toFixed(0)} req/s)  B ${cb.toFixed(4)} ms/req (${b.rps.toFixed(0)} req/s)  A/B ${(ca / cb).toFixed(3)}  load ${load}`);
  }
  const ratios = cpuA.map((a, i) => a / cpuB[i]).sort((p, q) => p - q);
  console.log(`median CPU ms/req: A ${median(cpuA).toFixed(4)}, B ${median(cpuB).toFixed(4)}`);
  console.log(`A/B per round: ${ratios.map((r) => r.toFixed(3)).join(" ")}; median ${median(ratios).toFixed(3)}; A lower in ${ratios.filter((r) => r < 1).length} of ${ratios.length}`);
} finally {
  await mf.dispose();
}
