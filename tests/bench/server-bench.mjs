// The self-hosted server's benchmark (docs/PERFORMANCE.md, "Self-hosted server"): wrk against
// pb_server (optimized build) and, in the same run with the same load, nginx serving the same bytes as
// static files: a warm p2 hit, a 304, and a /dist archive. Then the p2 hit through HAProxy with one,
// two and three server instances (sharing one SQLite file and one blob directory, as replicas on one
// machine can). Each figure is the median of `--rounds` runs; the spread is printed beside it.
//   node tests/bench/server-bench.mjs [--seconds 8] [--connections 32] [--rounds 3]
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { zipFiles } from "../e2e/fixtures/composer-packages.mjs";
import { startHaproxy, startNginxStatic, startServer } from "../server/stack.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg("seconds", 8);
const CONNECTIONS = arg("connections", 32);
const ROUNDS = arg("rounds", 3);
const ADMIN = "bench-admin";

function wrk(url, headers = {}) {
  const args = ["-t2", `-c${CONNECTIONS}`, `-d${SECONDS}s`];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url);
  return new Promise((resolve, reject) =>
    execFile("wrk", args, { timeout: (SECONDS + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(err);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
      const errors = /Socket errors: (.*)/.exec(stdout)?.[1] ?? "";
      if (non2xx > 0) return reject(new Error(`${url}: ${non2xx} non-2xx/3xx answers\n${stdout}`));
      resolve({ rps, errors, stdout });
    }),
  );
}

async function median(fn) {
  const xs = [];
  for (let i = 0; i < ROUNDS; i++) xs.push((await fn()).rps);
  xs.sort((a, b) => a - b);
  return { median: xs[Math.floor(xs.length / 2)], min: xs[0], max: xs.at(-1) };
}

const fmt = (r) => `${Math.round(r.median)} req/s (${Math.round(r.min)}–${Math.round(r.max)})`;

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), "pb-server-bench-"));
  const stops = [];
  try {
    const shared = path.join(work, "shared");
    mkdirSync(shared);
    const env = {
      PB_DATA_DIR: shared,
      PB_LOG: "off",
      PB_CRON_INTERVAL_S: "0",
      PB_DB_THREADS: "2",
    };
    const s1 = await startServer(env, { label: "bench1", adminToken: ADMIN });
    stops.push(s1);
    const zip = zipFiles(work, "bench-widget", {
      "composer.json": JSON.stringify({ name: "bench/widget", type: "library", autoload: { "psr-4": { "Bench\\": "src/" } } }),
      "src/Widget.php": "<?php namespace Bench; class Widget {}\n",
      // Incompressible data, so the archive has the size of a typical library's (~190 KB).
      "src/data.txt": randomBytes(144 * 1024).toString("base64"),
    });
    const up = await fetch(`${s1.origin}/admin/api/artifacts/bench/widget?version=1.0.0`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/zip" },
      body: zip,
    });
    if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);
    const { reference } = await up.json();
    const tr = await fetch(`${s1.origin}/admin/api/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "bench" }),
    });
    const { token } = await tr.json();
    const auth = { authorization: `Basic ${Buffer.from(`token:${token}`).toString("base64")}` };
    const p2 = await fetch(`${s1.origin}/p2/bench/widget.json`, { headers: auth });
    const p2Body = Buffer.from(await p2.arrayBuffer());
    const lastModified = p2.headers.get("last-modified");
    const distPath = `/dist/bench/widget/1.0.0.0/${reference}.zip`;

    // nginx serves the same bytes from disk.
    const statics = path.join(work, "static");
    mkdirSync(path.join(statics, "p2/bench"), { recursive: true });
    mkdirSync(path.join(statics, "dist/bench/widget/1.0.0.0"), { recursive: true });
    writeFileSync(path.join(statics, "p2/bench/widget.json"), p2Body);
    writeFileSync(path.join(statics, distPath.slice(1)), zip);
    const nginx = await startNginxStatic(statics);
    stops.push(nginx);

    const rows = [];
    const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
    console.log(`load before: ${load()}; ${SECONDS}s × ${ROUNDS} rounds, ${CONNECTIONS} connections, wrk -t2`);
    for (const [what, p, headers] of [
      [`p2 hit (200, ${(p2Body.length / 1024).toFixed(1)} KB)`, "/p2/bench/widget.json", auth],
      ["p2 304 (If-Modified-Since)", "/p2/bench/widget.json", { ...auth, "if-modified-since": lastModified }],
      [`/dist archive (200, ${(zip.length / 1024).toFixed(1)} KB)`, distPath, auth],
    ]) {
      const server = await median(() => wrk(s1.origin + p, headers));
      const base = await median(() => wrk(nginx.origin + p, headers["if-modified-since"] ? { "if-modified-since": new Date(Date.now() + 86400e3).toUTCString() } : {}));
      rows.push(`| ${what} | ${fmt(server)} | ${fmt(base)} | ${(server.median / base.median).toFixed(2)}× |`);
      console.log(rows.at(-1));
    }

    // One, two, three instances behind HAProxy (p2 hit).
    const instances = [s1];
    for (let i = 2; i <= 3; i++) {
      const s = await startServer(env, { label: `bench${i}`, adminToken: ADMIN });
      stops.push(s);
      instances.push(s);
    }
    const scale = [];
    for (let n = 1; n <= 3; n++) {
      const lb = await startHaproxy(instances.slice(0, n).map((s) => s.port));
      const r = await median(() => wrk(lb.origin + "/p2/bench/widget.json", auth));
      await lb.stop();
      scale.push(r);
      rows.push(`| p2 hit through HAProxy, ${n} instance${n > 1 ? "s" : ""} | ${fmt(r)} | | ${(r.median / scale[0].median).toFixed(2)}× of 1 |`);
      console.log(rows.at(-1));
    }
    console.log(`load after: ${load()}`);
    console.log("\n| what | pb_server | nginx, same bytes | ratio |\n|---|---:|---:|---:|\n" + rows.join("\n"));
  } finally {
    for (const s of stops.reverse()) await s.stop().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
