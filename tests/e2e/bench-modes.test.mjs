// Smoke test of the benchmark modes (docs/PERFORMANCE.md): `scripts/bench --composer` and
// `scripts/bench --scale` at a tiny size produce every row of their tables, with composer having
// installed the whole tree through both setups. No timing is asserted; the figures are the benchmark's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root } from "../worker/helpers.mjs";

function bench(args, timeout) {
  return new Promise((resolve) => {
    // scripts/bench execs node in place of bash; a timeout kills that whole process (and its servers
    // through their own exit handlers) with SIGTERM.
    execFile("bash", ["scripts/bench", ...args], { cwd: root, timeout, killSignal: "SIGTERM", maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

const dir = mkdtempSync(path.join(tmpdir(), "pb-bench-smoke-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("scripts/bench --composer: install and update rows for nginx, the floor Worker and the broker", { timeout: 150_000 }, async () => {
  const out = path.join(dir, "composer.json");
  const r = await bench(["--composer", "--packages", "4", "--versions", "2", "--runs", "1", "--no-docs", "--out", out], 120_000);
  assert.equal(r.code, 0, `scripts/bench --composer failed:\n${r.stderr.slice(-4000)}`);
  const res = JSON.parse(readFileSync(out, "utf8"));
  assert.deepEqual(res.rows.map((x) => `${x.kind}/${x.setup}`), [
    "install/nginx", "install/floor", "install/broker", "update/nginx", "update/floor", "update/broker",
  ]);
  for (const row of res.rows) {
    assert.equal(row.runs, 1, JSON.stringify(row));
    assert.ok(row.median_ms > 0 && row.requests > 0, JSON.stringify(row));
  }
  // The same requests reached every server (the copies are faithful), and the update was all 304 for p2.
  const runs = (setup, kind) => res.runs.find((x) => x.setup === setup && x.kind === kind);
  for (const kind of ["install", "update"]) {
    const paths = (setup) => runs(setup, kind).request_log.map((l) => l.split(" ").slice(0, 2).join(" ")).sort();
    assert.deepEqual(paths("broker"), paths("nginx"), `${kind}: composer asked the broker and nginx for the same paths`);
    assert.deepEqual(paths("floor"), paths("nginx"), `${kind}: composer asked the floor Worker and nginx for the same paths`);
  }
  for (const setup of ["nginx", "floor", "broker"]) {
    const p2 = runs(setup, "update").request_log.filter((l) => l.includes("/p2/"));
    assert.equal(p2.length, 4, `${setup}: composer update asked for the 4 p2 documents`);
    assert.deepEqual(p2.filter((l) => !/ 304\b/.test(l)), [], `${setup}: p2 answered 304 on update`);
  }
  assert.ok(Number.isFinite(res.ratios.install) && Number.isFinite(res.ratios.update) && Number.isFinite(res.floor_ratios.update));
  for (const kind of ["install", "update"]) assert.match(r.stdout, new RegExp(`${kind === "install" ? "composer install" : "composer update"}.*\\| package-broker \\|`));
});

test("scripts/bench --scale: a row per versions size and per packages size", { timeout: 150_000 }, async () => {
  const out = path.join(dir, "scale.json");
  const r = await bench(["--scale", "--versions", "3,12", "--packages", "3,10", "--uploads", "1", "--no-docs", "--out", out], 120_000);
  assert.equal(r.code, 0, `scripts/bench --scale failed:\n${r.stderr.slice(-4000)}`);
  const res = JSON.parse(readFileSync(out, "utf8"));
  assert.deepEqual(res.versions.map((x) => x.versions), [3, 12]);
  assert.deepEqual(res.packages.map((x) => x.packages), [3, 10]);
  assert.deepEqual(res.splice.map((x) => x.versions), [3, 12]);
  for (const s of res.splice) assert.ok(s.full_ms > 0 && s.splice_ms > 0 && s.document_bytes > 0, JSON.stringify(s));
  for (const v of res.versions) assert.ok(v.p2_bytes > 0 && v.wasm_memory_end >= v.wasm_memory_start && v.wasm_memory_end > 0, JSON.stringify(v));
  // The bench itself fails unless every package of the source was synced.
  for (const p of res.packages) assert.ok(p.cron_runs >= 1 && p.wasm_memory_end > 0 && p.packages_json_bytes > 0, JSON.stringify(p));
  // And once more by the sync queue: 10 packages at 8 per slice need a continuation.
  const queued = res.packages.find((x) => x.packages === 10).queue;
  assert.ok(queued.queue_invocations >= 1 && queued.queue_subrequests_max <= 50 && queued.packages_json_bytes > 0, JSON.stringify(queued));
});
