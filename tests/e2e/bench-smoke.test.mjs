// Smoke test of the serving benchmark (npm run bench): a tiny run must produce every row of
// docs/PERFORMANCE.md's table: each HTTP phase with its own floor, the mirror rewrite and the cold
// start. No timing is asserted: speed is measured by the benchmark itself, as ratios, never in tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "../worker/helpers.mjs";

test("npm run bench produces every row (tiny run)", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pb-bench-smoke-"));
  const out = path.join(dir, "results.json");
  try {
    const args = ["scripts/bench.mjs", "--quick", "--no-docs", "--out", out, "--requests", "30", "--warmup", "5", "--seconds", "30",
      "--packages", "6", "--versions", "3", "--big-packages", "120", "--mirror-mb", "0.2", "--rounds", "2"];
    const run = await new Promise((resolve) => {
      execFile(process.execPath, args, { cwd: root, timeout: 540_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
        resolve({ error, stdout, stderr }));
    });
    assert.equal(run.error, null, `bench failed:\n${run.stderr.slice(-4000)}`);
    const r = JSON.parse(readFileSync(out, "utf8"));
    const keys = r.phases.filter((p) => p.key !== "floor").map((p) => p.key);
    assert.deepEqual(keys, ["p2", "p2_304", "packages_json", "packages_json_big", "dist", "dist_counted"]);
    for (const p of r.phases) {
      assert.equal(p.failed, false, `${p.key}: ${p.error_samples?.join("; ")}`);
      assert.ok(p.requests > 0, `${p.key} measured no requests`);
      if (p.key !== "floor") assert.ok(p.rps_ratio > 0 && p.cpu_ratio >= 0, `${p.key} has no ratio to its floor`);
      // Two rounds, each against the floor run just before it, and the phase's requests are both rounds'.
      if (p.key !== "floor") assert.equal(p.round_ratios.length, 2, `${p.key}: ${JSON.stringify(p.round_ratios)}`);
      assert.equal(p.rounds.length, 2, `${p.key}: ${JSON.stringify(p.rounds)}`);
      assert.equal(p.requests, 30, `${p.key} measured ${p.requests} requests over its rounds, expected 30`);
    }
    // Each phase's floor answers its own size; /dist's streams the R2 object (dist_counted's also counts
    // each fetch in D1: the bench itself fails when the floor's count differs from the requests it answered).
    const floors = r.phases.filter((p) => p.key === "floor").map((p) => p.before);
    assert.deepEqual(floors, keys);
    assert.equal(r.seed.big_packages, 120);
    assert.deepEqual(Object.keys(r.targets).sort(), ["dist", "p2", "p2_304", "packages_json"]);
    assert.ok(r.mirror_rewrite.runs.length > 0 && r.mirror_rewrite.mb_per_s > 0, JSON.stringify(r.mirror_rewrite.failed));
    assert.ok(r.mirror_rewrite.versions > 10 && r.mirror_rewrite.output_bytes > 0);
    // Beside it, its two floors from the same module: a parse + a copy, and the design's two of each.
    assert.ok(r.mirror_rewrite.packagist_shaped.mb_per_s > 0 && r.mirror_rewrite.packagist_shaped.versions > 10, JSON.stringify(r.mirror_rewrite.packagist_shaped.failed));
    for (const f of ["parse_floor", "design_floor"]) assert.ok(r.mirror_rewrite[f].mb_per_s > 0, `${f}: ${JSON.stringify(r.mirror_rewrite[f])}`);
    assert.ok(r.cold_start.runs.length >= 3 && r.cold_start.total_ms > 0);
    for (const row of ["/p2/", "304", "/packages.json (6 packages)", "/packages.json (120 packages)", "/dist/", "a floor that also counts the fetch in D1", "mirror rewrite", "floor of the mirror rewrite, one simdjson parse", "floor of the mirror rewrite, the design's least work", "Packagist-shaped document", "cold start: total"])
      assert.ok(run.stdout.includes(row), `the printed table has no row "${row}"`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
