// The web UI as Workers static assets (wrangler.toml [assets], directory ui/), in workerd through
// Miniflare configured from wrangler.toml: pages and scripts are served without running the Worker
// (no wasm call), every route of the route table still reaches it, no asset shares a path with a route,
// ui/_headers puts a CSP (whose hash matches the pages' import map) and the other security headers on
// every page, nothing is loaded from another host, the vendored libraries are the npm packages'
// exact files, and the whole UI stays within 80 KiB gzip (tests/e2e/deploy-size.test.mjs checks that
// `wrangler deploy --dry-run` takes the assets).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { root, startSite } from "./helpers.mjs";
import { routeTable } from "./openapi.mjs";
import { CONTENT_TYPES, UI, assertAssetPathsRefuseChanges, assertRoutesReachTheApp, served, urlPath } from "./ui-files.mjs";

const BUDGET_GZIP = 80 * 1024;
const routeRegex = (pattern) => new RegExp(`^${pattern.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}/?$`);

describe("the web UI as static assets", () => {
  let site;
  const get = (p, init) => fetch(site.origin + p, { redirect: "manual", ...init });
  const invocations = async () => (await (await get("/__fixture/invocations")).json()).invocations;

  before(async () => {
    site = await startSite({ script: "tests/worker/fixtures/count-invocations.mjs", bindings: { ADMIN_TOKEN: "ui-assets-admin" } });
  });
  after(async () => {
    await site?.stop();
  });

  test("pages, scripts and styles are served without running the Worker", async () => {
    const before = await invocations();
    for (const p of ["/", "/admin/", ...served().map(urlPath)]) {
      const r = await get(p);
      assert.equal(r.status, 200, `${p}: ${r.status}`);
      await r.arrayBuffer();
    }
    for (const [p, type] of Object.entries(CONTENT_TYPES)) assert.match((await get(p)).headers.get("content-type"), type, p);
    // /admin without the slash is sent to the page, still without the Worker.
    const bare = await get("/admin");
    assert.ok([301, 307, 308].includes(bare.status), `/admin: ${bare.status}`);
    assert.equal(bare.headers.get("location"), "/admin/");
    assert.equal(await invocations(), before, "no asset request reached the Worker");
  });

  test("every route of the route table still reaches the Worker", async () => {
    const before = await invocations();
    const made = await assertRoutesReachTheApp(get);
    assert.equal(await invocations(), before + made);
  });

  test("other methods on an asset's path are refused by the assets, without the Worker", async () => {
    const before = await invocations();
    await assertAssetPathsRefuseChanges(get);
    assert.equal(await invocations(), before);
  });

  test("no asset shares a path with a route", () => {
    const routes = routeTable().map((r) => ({ ...r, re: routeRegex(r.pattern) }));
    const clashes = [];
    for (const f of served()) for (const r of routes) if (r.re.test(urlPath(f))) clashes.push(`${urlPath(f)} ~ ${r.method} ${r.pattern}`);
    assert.deepEqual(clashes, []);
    assert.ok(routeRegex("/p2/{vendor}/{file}").test("/p2/a/b.json"), "the pattern translation works");
  });

  test("every page carries the CSP and security headers; the CSP's hash is the pages' import map", async () => {
    const r = await get("/");
    const csp = r.headers.get("content-security-policy");
    assert.ok(csp, "a Content-Security-Policy header");
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.equal(r.headers.get("x-frame-options"), "DENY");
    assert.equal(r.headers.get("referrer-policy"), "no-referrer");
    for (const page of ["/", "/admin/"]) {
      const html = await (await get(page)).text();
      const maps = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
      assert.equal(maps.length, 1, `${page} has one import map`);
      const hash = createHash("sha256").update(maps[0]).digest("base64");
      assert.ok(csp.includes(`'sha256-${hash}'`), `${page}: the CSP allows its import map (sha256-${hash})`);
      // No other inline script or style: the CSP would refuse it.
      assert.equal([...html.matchAll(/<script(?![^>]*\bsrc=)(?![^>]*type="importmap")[^>]*>/g)].length, 0, `${page}: inline script`);
      assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, `${page}: inline style or handler`);
      for (const target of Object.values(JSON.parse(maps[0]).imports)) assert.equal((await get(target)).status, 200, target);
      // The Worker's own responses are not the assets': their headers stay as they are.
    }
    assert.equal((await get("/health")).headers.get("content-security-policy"), null);
  });

  test("self-contained: no script, style, font or image from another host", () => {
    const bad = [];
    for (const f of served()) {
      const text = readFileSync(f, "utf8");
      const rel = path.relative(root, f);
      if (/\.css$/.test(f)) for (const m of text.matchAll(/url\(\s*["']?([^"')]+)/g)) if (/^(https?:)?\/\//.test(m[1])) bad.push(`${rel}: url(${m[1]})`);
      if (/\.css$/.test(f) && /@import/.test(text)) bad.push(`${rel}: @import`);
      if (/\.html$/.test(f)) for (const m of text.matchAll(/<(script|link|img|iframe|source)\b[^>]*\b(src|href)="([^"]+)"/g)) if (!m[3].startsWith("/")) bad.push(`${rel}: <${m[1]} ${m[2]}="${m[3]}">`);
      if (/\.m?js$/.test(f)) for (const m of text.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']/g)) {
        const spec = m[1] ?? m[2];
        if (/^(https?:)?\/\//.test(spec)) bad.push(`${rel}: import ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  test("the vendored libraries are the exact files of the npm packages package.json pins", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    const vendored = {
      "ui/assets/vendor/preact.mjs": ["preact", "dist/preact.mjs"],
      "ui/assets/vendor/hooks.mjs": ["preact", "hooks/dist/hooks.mjs"],
      "ui/assets/vendor/htm.mjs": ["htm", "dist/htm.mjs"],
    };
    for (const [file, [name, inPackage]] of Object.entries(vendored)) {
      const installed = JSON.parse(readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version;
      assert.equal(installed, pkg.devDependencies[name], `${name}: node_modules has the pinned version`);
      assert.ok(readFileSync(path.join(root, file)).equals(readFileSync(path.join(root, "node_modules", name, inPackage))),
        `${file} differs from ${name}@${installed}/${inPackage}: copy it again (docs/UI.md)`);
    }
    assert.deepEqual(readdirSync(path.join(UI, "assets/vendor")).sort(), ["hooks.mjs", "htm.mjs", "preact.mjs"]);
  });

  test(`the whole UI stays within ${BUDGET_GZIP / 1024} KiB gzip`, () => {
    let raw = 0, gz = 0;
    for (const f of served()) {
      const b = readFileSync(f);
      raw += b.length;
      gz += gzipSync(b, { level: 9 }).length;
    }
    console.log(`web UI: ${served().length} files, ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip (each file compressed alone)`);
    assert.ok(gz <= BUDGET_GZIP, `the UI is ${(gz / 1024).toFixed(1)} KiB gzip, over ${BUDGET_GZIP / 1024} KiB`);
  });
});
