// The web UI on the self-hosted server: pb_server carries ui/ (embedded at build time) and serves it as
// Workers static assets serve it for the Worker (wrangler.toml [assets], tests/worker/ui-assets.test.mjs):
// every file at its path with its bytes and type, "auto-trailing-slash" redirects, ui/_headers' CSP and
// security headers, ETag revalidation, 405 for other methods on those paths, all without running the core
// (the request log's route is "static", with no effect); every route still reaches the core; PB_UI=off
// leaves the paths to the core.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { root } from "../worker/helpers.mjs";
import { CONTENT_TYPES, UI, assertAssetPathsRefuseChanges, assertRoutesReachTheApp, served, urlPath } from "../worker/ui-files.mjs";
import { requestLog, startServer } from "./stack.mjs";

// The headers ui/_headers gives every file ("/*" is its only rule).
function headersFileRules() {
  const out = {};
  for (const line of readFileSync(path.join(UI, "_headers"), "utf8").split("\n")) {
    const m = /^\s+([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m) out[m[1].toLowerCase()] = m[2].trim();
  }
  return out;
}

// The request log lines for these paths, once there are `count` of them (stdout arrives a little later).
async function waitForLog(srv, paths, count, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  const mine = () => requestLog(srv).filter((e) => paths.has(e.path));
  while (mine().length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} request log lines, have ${mine().length}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return mine();
}

describe("the web UI on the self-hosted server", { timeout: 5 * 60_000 }, () => {
  let srv;
  const get = (p, init) => fetch(srv.origin + p, { redirect: "manual", signal: AbortSignal.timeout(20_000), ...init });

  before(async () => {
    srv = await startServer({ PB_CRON_INTERVAL_S: "0" }, { label: "ui" });
  });
  after(async () => {
    await srv?.stop();
  });

  it("serves every file of ui/ at its path, with its bytes, type and _headers, without running the core", async () => {
    const expected = headersFileRules();
    assert.ok(expected["content-security-policy"], "ui/_headers sets a CSP");
    const paths = served().map((f) => [urlPath(f), f]);
    for (const [p, f] of paths) {
      const r = await get(p);
      assert.equal(r.status, 200, `${p}: ${r.status}`);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(readFileSync(f)), `${p}: the bytes of ${path.relative(root, f)}`);
      for (const [name, value] of Object.entries(expected)) assert.equal(r.headers.get(name), value, `${p}: ${name}`);
      assert.match(r.headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/, `${p}: a strong ETag`);
    }
    for (const [p, type] of Object.entries(CONTENT_TYPES)) {
      const r = await get(p, { method: "HEAD" });
      assert.match(r.headers.get("content-type"), type, p);
      assert.equal(r.headers.get("content-length"), String(readFileSync(path.join(UI, p.endsWith("/") ? `${p}index.html` : p)).length), `HEAD ${p}`);
    }
    const log = await waitForLog(srv, new Set(paths.map(([p]) => p)), paths.length + Object.keys(CONTENT_TYPES).length);
    for (const e of log) {
      assert.equal(e.route, "static", `${e.method} ${e.path} was answered before the core`);
      assert.equal(e.effects, 0);
    }
  });

  it("auto-trailing-slash: other spellings of a page are sent to it with 307, query kept", async () => {
    for (const [from, to] of [
      ["/admin", "/admin/"],
      ["/admin/index.html", "/admin/"],
      ["/admin/index", "/admin/"],
      ["/admin.html", "/admin/"],
      ["/index.html", "/"],
      ["/index", "/"],
      ["/admin?x=1", "/admin/?x=1"],
      ["/%61dmin", "/admin/"],
    ]) {
      const r = await get(from);
      assert.equal(r.status, 307, `${from}: ${r.status}`);
      assert.equal(r.headers.get("location"), to, from);
      await r.arrayBuffer();
    }
  });

  it("ETag revalidation answers 304 without the body", async () => {
    const first = await get("/assets/style.css");
    const etag = first.headers.get("etag");
    await first.arrayBuffer();
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const r = await get("/assets/style.css", { headers: { "if-none-match": inm } });
      assert.equal(r.status, 304, inm);
      assert.equal(r.headers.get("etag"), etag);
      assert.equal((await r.arrayBuffer()).byteLength, 0);
    }
    const stale = await get("/assets/style.css", { headers: { "if-none-match": '"stale"' } });
    assert.equal(stale.status, 200);
    await stale.arrayBuffer();
  });

  it("every route still reaches the core; other methods on an asset's path are refused as on Workers", async () => {
    await assertRoutesReachTheApp(get);
    const health = await get("/health");
    assert.equal(health.headers.get("content-security-policy"), null, "the core's responses keep their own headers");
    await health.arrayBuffer();
    await assertAssetPathsRefuseChanges(get);
    // With a body the server reads and drops it, and the connection stays usable.
    const upload = await get("/admin/", { method: "POST", body: "x".repeat(100_000) });
    assert.equal(upload.status, 405);
    assert.equal(upload.headers.get("allow"), "GET, HEAD");
    await upload.arrayBuffer();
  });
});

describe("PB_UI=off", { timeout: 2 * 60_000 }, () => {
  it("leaves the UI's paths to the core: a JSON 404, not a page", async () => {
    const srv = await startServer({ PB_CRON_INTERVAL_S: "0", PB_UI: "off" }, { label: "ui-off" });
    try {
      for (const p of ["/", "/admin/", "/assets/style.css"]) {
        const r = await fetch(srv.origin + p, { redirect: "manual" });
        assert.equal(r.status, 404, p);
        assert.equal((await r.json()).error.code, "not_found", p);
      }
    } finally {
      await srv.stop();
    }
  });
});
