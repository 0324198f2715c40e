// The files of ui/ and the URL paths Workers static assets give them (wrangler.toml [assets]:
// html_handling "auto-trailing-slash"), shared by the tests of the Worker's assets and of the
// self-hosted server, which serves the same files the same way.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { root } from "./helpers.mjs";

export const UI = path.join(root, "ui");
// Files of ui/ that configure the assets and are not served.
export const NOT_SERVED = new Set(["_headers", "_redirects", ".assetsignore"]);

export function files(dir = UI) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}
export const served = () => files().filter((f) => !NOT_SERVED.has(path.basename(f)));
// The URL path of a file (index.html is its folder, x.html is x).
export function urlPath(file) {
  const rel = `/${path.relative(UI, file).split(path.sep).join("/")}`;
  if (rel.endsWith("/index.html")) return rel.slice(0, -"index.html".length);
  return rel.endsWith(".html") ? rel.slice(0, -5) : rel;
}

// The Content-Type a few of the files are served with.
export const CONTENT_TYPES = {
  "/": /^text\/html/,
  "/admin/": /^text\/html/,
  "/assets/console/app.js": /javascript/,
  "/assets/vendor/preact.mjs": /javascript/,
  "/assets/style.css": /^text\/css/,
  "/assets/icon.svg": /^image\/svg\+xml/,
};

// Requests the assets must leave to the Worker (or the server's core): routes and unknown paths, GET or
// not. `get(path, init)` fetches from the site. Returns how many requests it made.
export async function assertRoutesReachTheApp(get) {
  const health = await get("/health");
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
  const paths = [["/packages.json", 401], ["/admin/api/me", 401], ["/admin/api/openapi.json", 200], ["/p2/acme/x.json", 401], ["/nope", 404], ["/assets/nope.js", 404]];
  for (const [p, status] of paths) {
    const r = await get(p);
    assert.equal(r.status, status, p);
    assert.match(r.headers.get("content-type"), /^application\/json/, p);
    await r.arrayBuffer();
  }
  const post = await get("/admin/api/sessions", { method: "POST" });
  assert.equal(post.status, 401);
  await post.arrayBuffer();
  return 1 + paths.length + 1;
}

// Any other method on a page's or file's path (or a spelling that redirects to one) is refused by the
// assets themselves: 405 with no body and ui/_headers' headers, and the app never sees it.
export async function assertAssetPathsRefuseChanges(get) {
  for (const [method, p] of [["POST", "/admin/"], ["PUT", "/"], ["DELETE", "/assets/style.css"], ["POST", "/admin"], ["OPTIONS", "/"]]) {
    const r = await get(p, { method });
    assert.equal(r.status, 405, `${method} ${p}`);
    assert.ok(r.headers.get("content-security-policy"), `${method} ${p}: the _headers apply`);
    assert.equal((await r.arrayBuffer()).byteLength, 0, `${method} ${p}: no body`);
  }
}
