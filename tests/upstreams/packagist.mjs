// A packagist.org-like public repository, on two origins as the real one: the metadata server
// (repo.packagist.org: packages.json, v2 metadata with tags in p2/<name>.json and branches in
// ~dev.json, Last-Modified/If-Modified-Since, GitHub-like zipball dists with shasum "") and the API
// server (packagist.org: the metadata change feed, the security advisories API, the package list,
// providers, search, download notifications), which packages.json advertises. Neither answers the
// other's paths. See README.md.
import { startServer, json, raw, httpDate, archive } from "./server.mjs";
import { createRepo } from "./repo-model.mjs";
import { minify, normalizeVersion, compareNormalizedDesc } from "./composer-meta.mjs";

const MIN_SINCE = 15850612240000; // packagist rejects older cursors with 400

export async function start(options = {}) {
  const { packages = [], advisories = [], changeRetentionSec = 86400, tls = false, clock = () => Date.now() } = options;
  let offsetMs = 0;
  const now = () => clock() + offsetMs;
  let lastStampMs = 0;
  // Second-resolution stamps that always move forward, so each change gets a distinct Last-Modified.
  const stamp = () => (lastStampMs = Math.max(Math.floor(now() / 1000) * 1000, lastStampMs + 1000));

  const pkgs = new Map(); // name -> { name, repo, versions: Map(version -> {sha, fields}), modified: {tagged, dev}, abandoned }
  const events = new Map(); // key (name | name~dev) -> { type, ts (100µs units) }
  let oldestSyncPoint = Math.floor(now() * 10); // log starts when the server starts
  const advisoryList = [];

  // Feed entries carry the real time of the change (100µs units), strictly increasing, so a cursor
  // taken from the feed never skips a later change.
  let lastTs = 0;
  const record = (key, type) => {
    lastTs = Math.max(Math.floor(now() * 10), lastTs + 1);
    events.delete(key);
    events.set(key, { type, ts: lastTs });
  };

  const state = {
    packages: pkgs,
    advisories: advisoryList,
    events,
    // Moves the emulator's clock (Last-Modified, change feed) forward, e.g. past the retention window.
    advanceClock(ms) { offsetMs += ms; },
    now,
    // Publishes `version` of `name` (creating the package): commits composer.json (fields) and files on
    // the default branch of the package's repository, tags it (tagged versions) or sets the branch
    // (dev-x versions), refreshes the p2 file's Last-Modified and appends an `update` to the feed.
    publish(name, version, { files = {}, ...fields } = {}) {
      name = name.toLowerCase();
      let p = pkgs.get(name);
      if (!p) {
        p = { name, repo: createRepo({ name, defaultBranch: "main" }), versions: new Map(), modified: { tagged: 0, dev: 0 }, abandoned: false };
        pkgs.set(name, p);
      }
      const composerJson = { name, description: fields.description ?? `${name} test package`, ...fields };
      const dev = /^dev-/.test(version);
      const branch = dev ? version.slice(4) : p.repo.defaultBranch;
      const sha = p.repo.commit(branch, { "composer.json": composerJson, ...files }, { message: `${version}`, replace: true });
      if (!dev) p.repo.tag(version, sha);
      p.versions.set(version, { sha, fields: composerJson, date: p.repo.getCommit(sha).date });
      const ms = stamp();
      p.modified[dev ? "dev" : "tagged"] = ms;
      record(dev ? `${name}~dev` : name, "update");
      return sha;
    },
    // Marks a package abandoned (optionally with a replacement) and republishes its metadata.
    abandon(name, replacement = true) {
      const p = pkgs.get(name.toLowerCase());
      p.abandoned = replacement;
      const ms = stamp();
      p.modified.tagged = p.modified.dev = ms;
      record(p.name, "update");
      record(`${p.name}~dev`, "update");
    },
    // Deletes a package: p2 files 404 and the feed reports a `delete`.
    remove(name) {
      name = name.toLowerCase();
      if (!pkgs.delete(name)) return false;
      events.delete(`${name}~dev`);
      record(name, "delete");
      return true;
    },
    // Forces every feed client to resync (like setting packagist's metadata-oldest).
    forceResync() { oldestSyncPoint = Math.floor(now() * 10) + 1; },
    // Adds an advisory; fields default to packagist-like values.
    addAdvisory(a) {
      const n = advisoryList.length + 1;
      const remote = a.remoteId ?? `GHSA-test-${String(n).padStart(4, "0")}-emul`;
      const full = {
        advisoryId: a.advisoryId ?? `PKSA-test-${String(n).padStart(4, "0")}`, packageName: a.packageName.toLowerCase(), remoteId: remote,
        title: a.title ?? `Test vulnerability ${n} in ${a.packageName}`, link: a.link ?? `https://github.com/advisories/${remote}`,
        cve: a.cve ?? null, affectedVersions: a.affectedVersions, source: a.source ?? "GitHub",
        reportedAt: a.reportedAt ?? new Date(now()).toISOString().replace("T", " ").replace(/\.\d+Z$/, ""),
        composerRepository: a.composerRepository ?? "https://packagist.org", severity: a.severity ?? "high",
        sources: a.sources ?? [{ name: a.source ?? "GitHub", remoteId: remote }],
      };
      full.updatedAt = now();
      advisoryList.push(full);
      const p = pkgs.get(full.packageName);
      if (p) { p.modified.tagged = stamp(); record(p.name, "update"); }
      return full;
    },
  };
  for (const p of packages) {
    for (const v of p.versions ?? []) {
      const { version, ...rest } = typeof v === "string" ? { version: v } : v;
      state.publish(p.name, version, { ...(p.composer ?? {}), ...rest });
    }
  }
  for (const a of advisories) state.addAdvisory(a);

  function versionJson(origin, p, version) {
    const v = p.versions.get(version);
    const { name, description, ...rest } = v.fields;
    const out = { name, description, version, version_normalized: normalizeVersion(version) ?? version };
    Object.assign(out, rest);
    out.type ??= "library";
    out.license ??= ["MIT"];
    out.authors ??= [{ name: "Test Author", email: "author@example.test" }];
    out.source = { url: `${origin}/${p.name}.git`, type: "git", reference: v.sha };
    out.dist = { url: `${origin}/${p.name}/zipball/${v.sha}`, type: "zip", shasum: "", reference: v.sha };
    out.time ??= v.date.replace("Z", "+00:00");
    out.support ??= { source: `${origin}/${p.name}/tree/${version}`, issues: `${origin}/${p.name}/issues` };
    out.funding ??= [];
    if (p.abandoned) out.abandoned = p.abandoned;
    if (/^dev-/.test(version) && version === `dev-${p.repo.defaultBranch}`) out["default-branch"] = true;
    return out;
  }
  const versionsOf = (p, dev) => [...p.versions.keys()].filter((v) => /^dev-/.test(v) === dev)
    .sort((a, b) => compareNormalizedDesc(normalizeVersion(a) ?? a, normalizeVersion(b) ?? b));

  function advisoriesFor(names, updatedSince) {
    const out = {};
    if (names) {
      for (const n of names) {
        const list = advisoryList.filter((a) => a.packageName === n);
        if (list.length || pkgs.has(n)) out[n] = list.map(({ updatedAt, ...a }) => a);
      }
    } else {
      for (const a of advisoryList) {
        if (a.updatedAt < updatedSince * 1000) continue;
        const { updatedAt, ...rest } = a;
        (out[a.packageName] ??= []).push(rest);
      }
    }
    return out;
  }

  // The API's origin as a client of the metadata origin `origin` reaches it (through the proxy,
  // repo.packagist.org's API is packagist.org).
  const apiOriginFor = (ctx) => (ctx.host === "repo.packagist.org" ? ctx.origin.replace("://repo.", "://") : api.url);

  // PHP's parse_str of a query or form body: "k[]=v" appends, "k[i]=v" sets, a repeated plain "k=v"
  // keeps the last value; Symfony's $request->get() then prefers the query over the body.
  function phpParams(encoded) {
    const out = {};
    for (const [k, v] of new URLSearchParams(encoded)) {
      const m = /^([^[]+)\[([^\]]*)\]/.exec(k);
      if (!m) { out[k] = v; continue; }
      const arr = out[m[1]] !== null && typeof out[m[1]] === "object" ? out[m[1]] : (out[m[1]] = {});
      if (m[2] === "") {
        const next = Object.keys(arr).filter((x) => /^\d+$/.test(x)).reduce((a, x) => Math.max(a, Number(x) + 1), 0);
        arr[next] = v;
      } else arr[m[2]] = v;
    }
    return out;
  }

  async function metadataHandler(ctx) {
    const path = ctx.pathname;
    const origin = ctx.origin;
    const apiOrigin = apiOriginFor(ctx);
    let m;
    if (ctx.method === "GET" && path === "/packages.json") {
      return json({
        packages: [], notify: `${apiOrigin}/downloads/%package%`, "notify-batch": `${apiOrigin}/downloads/`,
        "providers-url": "/p/%package%$%hash%.json", "metadata-url": "/p2/%package%.json",
        "metadata-changes-url": `${apiOrigin}/metadata/changes.json`, search: `${apiOrigin}/search.json?q=%query%&type=%type%`,
        list: `${apiOrigin}/packages/list.json`,
        "security-advisories": { metadata: true, "api-url": `${apiOrigin}/api/security-advisories/` },
        "providers-api": `${apiOrigin}/providers/%package%.json`,
      });
    }
    if (ctx.method === "GET" && (m = /^\/p2\/([^/]+\/[^/~]+?)(~dev)?\.json$/.exec(path))) {
      const p = pkgs.get(m[1]);
      if (!p) return raw("Not Found", 404, { "content-type": "text/plain" });
      const dev = !!m[2];
      const doc = { packages: { [p.name]: minify(versionsOf(p, dev).map((v) => versionJson(origin, p, v))) }, minified: "composer/2.0" };
      if (!dev) doc["security-advisories"] = advisoryList.filter((a) => a.packageName === p.name).map((a) => ({ advisoryId: a.advisoryId, affectedVersions: a.affectedVersions }));
      const lm = p.modified[dev ? "dev" : "tagged"] || p.modified.tagged || p.modified.dev;
      const ims = ctx.headers["if-modified-since"];
      if (ims && !Number.isNaN(Date.parse(ims)) && Date.parse(ims) >= lm) return raw(Buffer.alloc(0), 304, { "last-modified": httpDate(lm) });
      return raw(Buffer.from(JSON.stringify(doc)), 200, { "content-type": "application/json", "last-modified": httpDate(lm) });
    }
    // dists: GitHub-like zipball URLs on this server
    if (ctx.method === "GET" && (m = /^\/([^/]+)\/([^/]+)\/zipball\/([^/]+)$/.exec(path))) {
      const p = pkgs.get(`${m[1]}/${m[2]}`.toLowerCase());
      const zip = p?.repo.archive(m[3], "github");
      if (!zip) return raw("Not Found", 404);
      // packagist's dist URLs are GitHub zipballs: codeload streams them chunked, with no length.
      return archive(zip, { "content-type": "application/zip", "content-disposition": `attachment; filename=${p.repo.archivePrefix(m[3], "github").slice(0, -1)}.zip` }, { gzip: !!options.archiveGzip });
    }
    return raw("Not Found", 404, { "content-type": "text/plain" });
  }

  async function apiHandler(ctx) {
    const path = ctx.pathname;
    const origin = ctx.origin;
    let m;
    if (ctx.method === "GET" && path === "/metadata/changes.json") {
      const nowTs = Math.max(Math.floor(now() * 10), lastTs + 1);
      const since = parseInt(ctx.query.get("since") ?? "", 10);
      if (!since || since < MIN_SINCE) {
        return json({ error: `Invalid or missing "since" query parameter, make sure you store the timestamp at the initial point you started mirroring, then send that to begin receiving changes, e.g. ${origin}/metadata/changes.json?since=${nowTs} for example.`, timestamp: nowTs }, 400);
      }
      const resync = { actions: [{ type: "resync", time: Math.floor(nowTs / 10000), package: "*" }], timestamp: nowTs };
      if (since < Math.max(oldestSyncPoint, nowTs - changeRetentionSec * 10000)) return json(resync);
      const actions = [];
      for (const [key, e] of [...events].sort((a, b) => a[1].ts - b[1].ts)) {
        if (e.ts >= since && e.ts < nowTs) actions.push({ type: e.type, package: key, time: Math.floor(e.ts / 10000) });
      }
      if (actions.length > 100_000) return json(resync);
      return json({ actions, timestamp: nowTs });
    }
    if ((path === "/api/security-advisories/" || path === "/api/security-advisories") && (ctx.method === "GET" || ctx.method === "POST")) {
      const query = phpParams(ctx.url.search.slice(1));
      const body = ctx.method === "POST" && /^application\/x-www-form-urlencoded/i.test(String(ctx.headers["content-type"] ?? ""))
        ? phpParams(ctx.body.toString("utf8")) : {};
      const given = "packages" in query ? query.packages : body.packages; // $request->get(): query first
      const list = given == null ? [] : typeof given === "object" ? Object.values(given) : [given];
      const names = list.filter((n) => typeof n === "string" && n !== "").map((n) => n.toLowerCase().replace(/^pkg:composer\//, ""));
      const updatedSince = parseInt(query.updatedSince ?? "", 10) || 0; // $request->query->getInt(): never the body
      if ((!names.length && !updatedSince) || (names.length && updatedSince)) {
        return json({ status: "error", message: 'Missing array of package names as the "packages" parameter' }, 400);
      }
      return json({ advisories: advisoriesFor(names.length ? names : null, updatedSince) });
    }
    if (ctx.method === "GET" && path === "/packages/list.json") {
      let names = [...pkgs.keys()].sort();
      const vendor = ctx.query.get("vendor"), filter = ctx.query.get("filter");
      if (vendor) names = names.filter((n) => n.startsWith(vendor.toLowerCase() + "/"));
      if (filter) { const re = new RegExp("^" + filter.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$", "i"); names = names.filter((n) => re.test(n)); }
      return json({ packageNames: names });
    }
    if (ctx.method === "GET" && (m = /^\/providers\/(.+)\.json$/.exec(path))) {
      const target = m[1].toLowerCase();
      const providers = [];
      for (const p of pkgs.values()) {
        if ([...p.versions.values()].some((v) => v.fields.provide && Object.keys(v.fields.provide).map((k) => k.toLowerCase()).includes(target))) {
          providers.push({ name: p.name, description: [...p.versions.values()].at(-1).fields.description ?? "", type: "library" });
        }
      }
      return json({ providers });
    }
    if (ctx.method === "GET" && path === "/search.json") {
      const q = (ctx.query.get("q") ?? "").toLowerCase();
      const results = [...pkgs.values()].filter((p) => p.name.includes(q)).map((p) => ({ name: p.name, description: "", url: `${origin}/packages/${p.name}`, repository: `${origin}/${p.name}`, downloads: 0, favers: 0 }));
      return json({ results, total: results.length });
    }
    if (ctx.method === "POST" && (path === "/downloads/" || /^\/downloads\/.+/.test(path))) return json({ status: "success" }, 201);
    return raw("Not Found", 404, { "content-type": "text/plain" });
  }

  const api = await startServer({ name: "packagist-api", tls, handler: apiHandler, state: {} });
  const handle = await startServer({ name: "packagist", tls, handler: metadataHandler, state });
  // The changes feed cursor for "now" (100µs units), e.g. to start mirroring.
  state.timestamp = () => Math.floor(now() * 10);
  state.apiUrl = api.url;
  const stop = async () => { await Promise.all([handle.stop(), api.stop()]); };
  // url: the metadata origin (repo.packagist.org); api: the API origin (packagist.org), with its own log.
  return { url: handle.url, apiUrl: api.url, port: handle.port, state, stop, api: { url: api.url, port: api.port, state: api.state, stop: api.stop } };
}
