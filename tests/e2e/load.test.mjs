// Smoke test of scripts/load: a very short run against wrangler dev (with its sync during the load)
// produces every figure of the report and no error. The real run and its numbers: docs/PERFORMANCE.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root } from "../worker/helpers.mjs";

test("scripts/load reports throughput, p50/p95/p99 and zero errors", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pb-load-smoke-"));
  const out = path.join(dir, "results.json");
  try {
    const run = await new Promise((resolve) =>
      execFile(
        "bash",
        ["scripts/load", "--seconds", "4", "--clients", "12", "--packages", "3", "--versions", "2", "--upstream-packages", "10", "--json", out],
        { cwd: root, timeout: 540_000, env: { ...process.env, PB_SKIP_SETUP: "1" } },
        (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
      ),
    );
    assert.equal(run.code, 0, run.out);
    const r = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(r.errors, 0, JSON.stringify(r.error_samples));
    assert.ok(r.requests > 0 && r.throughput_rps > 0, run.out);
    for (const k of ["p50_ms", "p95_ms", "p99_ms"]) assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${k}: ${r[k]}`);
    assert.ok(r.p50_ms <= r.p95_ms && r.p95_ms <= r.p99_ms);
    for (const kind of ["packages", "p2", "p2_ims", "dist", "notify"]) {
      assert.ok(r.kinds[kind].requests > 0, `no ${kind} requests`);
      assert.equal(r.kinds[kind].errors, 0);
      assert.ok(Number.isFinite(r.kinds[kind].p99_ms), `${kind} p99`);
    }
    assert.equal(r.sync.status, "ok", JSON.stringify(r.sync));
    assert.ok(r.sync.during_load, "the sync started during the load");
    assert.equal(r.downloads.recorded, r.downloads.notified);
    assert.equal(r.downloads.fetches_recorded, r.downloads.archives_served);
    assert.ok(r.downloads.notified > 0);
    assert.ok(Number.isFinite(r.cpu.other_cores) && Number.isFinite(r.cpu.workerd_cores));
    assert.match(run.out, /req\/s, p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms, 0 errors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
