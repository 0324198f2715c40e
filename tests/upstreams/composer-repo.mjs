// A private Composer repository (think Satis or Private Packagist) behind HTTP Basic auth, in protocol
// v2 or one of the v1 layouts, serving its own dist zips. See README.md.
import { startServer, json, raw, sha1Hex, sha256Hex, httpDate } from "./server.mjs";
import { archive } from "./server.mjs";
import { zipFiles } from "./zip.mjs";
import { minify, normalizeVersion, isDevVersion, compareNormalizedDesc } from "./composer-meta.mjs";

export const MODES = ["v2", "v1-inline", "v1-includes", "v1-providers"];

export async function start(options = {}) {
  const {
    mode = "v2", username = "user", password = "secret", users = [], bearer, packages = [], tls = false,
    realm = "Private Composer Repository", notifyBatch = false,
  } = options;
  if (!MODES.includes(mode)) throw new Error(`composer-repo: unknown mode ${mode} (one of ${MODES.join(", ")})`);
  const basic = new Set([`${username}:${password}`, ...users.map((u) => `${u.username}:${u.password}`)]);
  const bearers = new Set(bearer == null ? [] : Array.isArray(bearer) ? bearer : [bearer]);

  let stampMs = 0;
  const stamp = () => (stampMs = Math.max(Math.floor(Date.now() / 1000) * 1000, stampMs + 1000));
  // name -> { name, versions: Map(version -> { spec, zip, reference }), modified: { tagged, dev } }
  const pkgs = new Map();
  const state = {
    mode,
    packages: pkgs,
    tamper: new Set(), // "name@version" (or "*"): /dist serves bytes that do not match the shasum
    // How /dist sends archives: "static" (a file: Content-Length), "chunked" (built on request: no
    // length), "gzip" (Content-Encoding: gzip when accepted, so the archive's own length is unknown).
    distMode: options.distMode ?? "static",
    // Adds (or replaces) a version. spec: { version, files?: {path: content}, ...composer.json fields };
    // zipOptions go to zipFiles (e.g. { compress: false } for a large archive built quickly).
    addVersion(name, spec, zipOptions = {}) {
      name = name.toLowerCase();
      let p = pkgs.get(name);
      if (!p) pkgs.set(name, (p = { name, versions: new Map(), modified: { tagged: stamp(), dev: stamp() } }));
      const { version, files = {}, ...fields } = spec;
      const composerJson = { name, ...fields };
      const zip = zipFiles({ "composer.json": JSON.stringify(composerJson, null, 4) + "\n", ...files }, zipOptions);
      const reference = sha1Hex(Buffer.concat([Buffer.from(`${name}@${version}\0`), zip]));
      p.versions.set(version, { spec, fields, zip, reference, shasum: sha1Hex(zip) });
      p.modified[isDevVersion(version) ? "dev" : "tagged"] = stamp();
      return { reference, shasum: sha1Hex(zip) };
    },
    removeVersion(name, version) {
      const p = pkgs.get(name.toLowerCase());
      if (!p || !p.versions.delete(version)) return false;
      p.modified[isDevVersion(version) ? "dev" : "tagged"] = stamp();
      if (p.versions.size === 0) pkgs.delete(p.name);
      return true;
    },
  };
  for (const p of packages) for (const v of p.versions ?? []) state.addVersion(p.name, v);

  function versionJson(origin, p, version) {
    const v = p.versions.get(version);
    const out = { name: p.name, version };
    const norm = normalizeVersion(version);
    if (norm) out.version_normalized = norm;
    Object.assign(out, v.fields);
    if (!out.type) out.type = "library";
    out.dist = { type: "zip", url: `${origin}/dist/${p.name}/${encodeURIComponent(version)}/${v.reference}.zip`, reference: v.reference, shasum: v.shasum };
    if (!out.time) out.time = "2024-01-01T00:00:00+00:00";
    return out;
  }
  const sortedVersions = (p, dev) => [...p.versions.keys()].filter((v) => isDevVersion(v) === dev)
    .sort((a, b) => compareNormalizedDesc(normalizeVersion(a) ?? a, normalizeVersion(b) ?? b));
  // v1 shape: { name: { version: data } }
  function v1Packages(origin, names = [...pkgs.keys()].sort()) {
    const out = {};
    for (const n of names) {
      const p = pkgs.get(n);
      out[n] = {};
      for (const v of [...sortedVersions(p, false), ...sortedVersions(p, true)]) out[n][v] = { ...versionJson(origin, p, v), uid: parseInt(p.versions.get(v).reference.slice(0, 7), 16) };
    }
    return out;
  }
  const body = (o) => Buffer.from(JSON.stringify(o));

  function authorized(ctx) {
    const a = ctx.auth;
    if (!a) return false;
    if (a.scheme === "basic") return basic.has(`${a.username}:${a.password}`);
    if (a.scheme === "bearer") return bearers.has(a.token);
    return false;
  }
  function conditional(ctx, lastModifiedMs, buf) {
    const lm = httpDate(lastModifiedMs);
    const ims = ctx.headers["if-modified-since"];
    if (ims && !Number.isNaN(Date.parse(ims)) && Date.parse(ims) >= Math.floor(lastModifiedMs / 1000) * 1000) return raw(Buffer.alloc(0), 304, { "last-modified": lm });
    return raw(buf, 200, { "content-type": "application/json", "last-modified": lm });
  }
  // includes / providers files are content-addressed: compute every layout's documents per request
  function v1Documents(origin) {
    const docs = new Map();
    if (mode === "v1-includes") {
      const inc = body({ packages: v1Packages(origin) });
      const h = sha1Hex(inc);
      docs.set(`/include/all$${h}.json`, inc);
      docs.set("/packages.json", body({ packages: [], includes: { [`include/all$${h}.json`]: { sha1: h } } }));
    } else if (mode === "v1-providers") {
      const providers = {};
      for (const n of [...pkgs.keys()].sort()) {
        const doc = body({ packages: v1Packages(origin, [n]) });
        const h = sha256Hex(doc);
        providers[n] = { sha256: h };
        docs.set(`/p/${n}$${h}.json`, doc);
      }
      const latest = body({ providers });
      const lh = sha256Hex(latest);
      docs.set(`/p/provider-latest$${lh}.json`, latest);
      docs.set("/packages.json", body({ packages: [], "providers-url": "/p/%package%$%hash%.json", "provider-includes": { "p/provider-latest$%hash%.json": { sha256: lh } } }));
    }
    return docs;
  }

  async function handler(ctx) {
    if (!authorized(ctx)) {
      return raw(`<html><head><title>401 Authorization Required</title></head><body><h1>401 Authorization Required</h1></body></html>`, 401,
        { "content-type": "text/html", "www-authenticate": `Basic realm="${realm}"` });
    }
    if (ctx.method !== "GET" && ctx.method !== "HEAD") {
      if (ctx.method === "POST" && ctx.pathname === "/downloads/") return json({ status: "success" }, 201);
      return raw("Method Not Allowed", 405);
    }
    const path = ctx.pathname;
    let m;
    if ((m = /^\/dist\/([^/]+\/[^/]+)\/([^/]+)\/([0-9a-f]{40})\.zip$/.exec(path))) {
      const p = pkgs.get(m[1]);
      const v = p?.versions.get(m[2]);
      if (!v || v.reference !== m[3]) return raw("Not Found", 404);
      let zip = v.zip;
      if (state.tamper.has("*") || state.tamper.has(`${p.name}@${m[2]}`)) zip = Buffer.concat([zip, Buffer.from("tampered")]);
      const headers = { "content-type": "application/zip", "last-modified": httpDate(Date.UTC(2024, 0, 1)) };
      if (state.distMode === "static") return raw(zip, 200, headers);
      return archive(zip, headers, { chunked: state.distMode === "chunked", gzip: state.distMode === "gzip" });
    }
    if (mode === "v2") {
      if (path === "/packages.json") {
        const root = { packages: [], "metadata-url": "/p2/%package%.json", "available-packages": [...pkgs.keys()].sort() };
        if (notifyBatch) root["notify-batch"] = `${ctx.origin}/downloads/`;
        return json(root);
      }
      if ((m = /^\/p2\/([^/]+\/[^/~]+?)(~dev)?\.json$/.exec(path))) {
        const p = pkgs.get(m[1]);
        const dev = !!m[2];
        const list = p ? sortedVersions(p, dev) : [];
        if (!p || (list.length === 0 && !dev && p.versions.size === 0)) return raw("Not Found", 404, { "content-type": "text/plain" });
        const doc = body({ packages: { [p.name]: minify(list.map((v) => versionJson(ctx.origin, p, v))) }, minified: "composer/2.0" });
        return conditional(ctx, p.modified[dev ? "dev" : "tagged"], doc);
      }
      return raw("Not Found", 404, { "content-type": "text/plain" });
    }
    if (mode === "v1-inline") {
      if (path === "/packages.json") return json({ packages: v1Packages(ctx.origin) });
      return raw("Not Found", 404, { "content-type": "text/plain" });
    }
    const doc = v1Documents(ctx.origin).get(path);
    return doc ? raw(doc, 200, { "content-type": "application/json" }) : raw("Not Found", 404, { "content-type": "text/plain" });
  }

  const handle = await startServer({ name: `composer-repo(${mode})`, tls, handler, state });
  state.username = username;
  // The archive bytes and shasum composer should see for a version.
  state.dist = (name, version) => { const v = pkgs.get(name.toLowerCase())?.versions.get(version); return v ? { zip: v.zip, shasum: v.shasum, reference: v.reference } : null; };
  return { url: handle.url, port: handle.port, state, stop: handle.stop };
}
