// Smoke test of the README's run command: scripts/dev starts `wrangler dev` with local D1/KV/R2,
// migrated, /health answers 200 with every check ok, and the web UI's pages are served.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, startGroup, stopGroup, waitFor } from "./process.mjs";

test("scripts/dev serves /health, the customer page and the console from wrangler dev", { timeout: 180_000 }, async () => {
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
    // The web UI's static assets: the customer page and the console.
    for (const [p, says] of [["/", "A private Composer repository"], ["/admin/", "Admin console"]]) {
      const page = await fetch(`http://127.0.0.1:${port}${p}`);
      assert.equal(page.status, 200, p);
      assert.match(page.headers.get("content-type"), /^text\/html/, p);
      assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/, p);
      assert.match(await page.text(), new RegExp(says), p);
    }
  } finally {
    await stopGroup(proc);
    rmSync(state, { recursive: true, force: true });
  }
});
