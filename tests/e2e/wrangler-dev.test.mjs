// Smoke test of the README's run command: scripts/dev starts `wrangler dev` with local D1/KV/R2,
// migrated, and /health answers 200 with every check ok.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, startGroup, stopGroup, waitFor } from "./process.mjs";

test("scripts/dev serves /health from wrangler dev", { timeout: 180_000 }, async () => {
  const port = await freePort();
  const state = mkdtempSync(path.join(tmpdir(), "pb-dev-state-"));
  const proc = startGroup("bash", ["scripts/dev"], {
    env: { PORT: String(port), PB_STATE_DIR: state, PB_SKIP_SETUP: "1", ADMIN_TOKEN: "smoke-test-admin-token" },
  });
  try {
    const r = await waitFor(`http://127.0.0.1:${port}/health`, { proc, seconds: 120 });
    const body = await r.json();
    assert.equal(body.status, "ok");
    for (const c of ["db", "kv", "blob", "schema", "secrets"]) assert.equal(body.checks[c].status, "ok", c);
    assert.equal(body.checks.cron.status, "waiting", "no cron run yet under wrangler dev");
    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
  } finally {
    await stopGroup(proc);
    rmSync(state, { recursive: true, force: true });
  }
});
