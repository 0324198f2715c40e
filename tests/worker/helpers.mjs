// Shared setup for the node:test + Miniflare suites: a Miniflare running the real worker (or a test
// fixture wrapping it) with in-memory D1/KV/R2, d1/migrations applied the way wrangler applies them;
// and the same with the web UI's static assets, configured from wrangler.toml, on a real port.
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// Splits a migration file into statements: comment lines dropped, statements end with ';' at a line end,
// except inside a trigger's body (a line ending in BEGIN, up to a line "END;"), whose statements end in
// ';' too. Wrangler's splitter keeps a trigger whole the same way (BEGIN ... an upper-case END).
export function migrationStatements(sql) {
  const out = [];
  let lines = [];
  let inBody = false;
  for (const line of sql.split("\n")) {
    const t = line.trim();
    if (t.startsWith("--")) continue;
    lines.push(line);
    if (/(^|\s)BEGIN$/.test(t)) inBody = true;
    if (inBody ? t === "END;" : t.endsWith(";")) {
      out.push(lines.join("\n").trim().replace(/;$/, ""));
      lines = [];
      inBody = false;
    }
  }
  out.push(lines.join("\n").trim());
  return out.filter(Boolean);
}

export async function applyMigrations(mf, workerName) {
  const db = await mf.getD1Database("DB", workerName);
  const dir = path.join(root, "d1/migrations");
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const stmts = migrationStatements(readFileSync(path.join(dir, f), "utf8"));
    await db.batch(stmts.map((s) => db.prepare(s)));
  }
}

// The sync queue as wrangler.toml declares it ([[queues.producers]] / [[queues.consumers]]), in
// Miniflare's own Queues: one message per invocation, delivered at once, 3 retries.
export const SYNC_QUEUE = {
  queueProducers: { SYNC_QUEUE: { queueName: "pb-sync" } },
  queueConsumers: { "pb-sync": { maxBatchSize: 1, maxBatchTimeout: 0, maxRetries: 3 } },
};

// One worker's options: the entry module (a path relative to the repo root: the worker, or a fixture
// importing it) with D1/KV/R2 bindings and more Miniflare options (e.g. SYNC_QUEUE). Workers given the same storage ids share the same storage.
function workerOptions({ name, script = "worker/index.mjs", bindings = {}, options = {} }) {
  return {
    ...(name ? { name } : {}),
    modules: true,
    modulesRoot: root,
    scriptPath: path.join(root, script),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2025-09-01",
    d1Databases: { DB: "test-db" },
    kvNamespaces: { KV: "test-kv" },
    r2Buckets: { BUCKET: "test-bucket" },
    bindings: { PB_TEST_HOOKS: "0", ...bindings },
    ...options,
  };
}

// logs: an array that receives every JSON line the workers log (the request log, errors); other lines
// are dropped (rawLogs, if given, receives every message as it came, runtime warnings too). isolates: more than 1 runs that many copies of the worker ("w0", "w1", ...), each in its
// own isolate, over the same D1/KV/R2 (dispatch to one with mf.getWorker("w1")).
export async function startWorker({ script, migrate = true, bindings = {}, logs, rawLogs, isolates = 1, options = {} } = {}) {
  const shared = {
    cf: false,
    ...(logs
      ? {
          handleStructuredLogs: ({ message }) => {
            rawLogs?.push(message);
            try {
              const j = JSON.parse(message);
              if (j && typeof j === "object") logs.push(j);
            } catch {}
          },
        }
      : {}),
  };
  const mf =
    isolates > 1
      ? new Miniflare({ ...shared, workers: Array.from({ length: isolates }, (_, i) => workerOptions({ name: `w${i}`, script, bindings, options })) })
      : new Miniflare({ ...shared, ...workerOptions({ script, bindings, options }) });
  await mf.ready;
  if (migrate) await applyMigrations(mf);
  return mf;
}

// Polls check() until it returns something truthy; fails with `what` after `seconds` (generous: the
// suite runs on loaded machines). Bounded in time and in count.
export async function until(what, check, { seconds = 60, everyMs = 50 } = {}) {
  const deadline = Date.now() + seconds * 1000;
  for (let i = 0; i < (seconds * 1000) / everyMs + 1 && Date.now() < deadline + everyMs; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what}: not within ${seconds} s`);
}

export const BASE = "http://127.0.0.1:8787";

// A small client for the broker under Miniflare: JSON in and out, admin or token credentials.
// target: the Miniflare instance, or a worker of it (mf.getWorker("w1")).
export function client(target, { adminToken } = {}) {
  return async function call(method, p, { body, token, admin = false, headers = {}, raw = false } = {}) {
    const h = { ...headers };
    if (admin) h.authorization = `Bearer ${adminToken}`;
    if (token) h.authorization = `Basic ${Buffer.from(`token:${token}`).toString("base64")}`;
    let payload = body;
    if (body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array) && !(body instanceof ReadableStream)) {
      payload = JSON.stringify(body);
      h["content-type"] ??= "application/json";
    }
    // A worker's fetch stub may send a buffered body as a stream: say its length, as a client would.
    if (typeof payload === "string" || payload instanceof Uint8Array) h["content-length"] ??= String(Buffer.byteLength(payload));
    const fetchFn = target instanceof Miniflare ? target.dispatchFetch.bind(target) : (url, init) => target.fetch(url, init);
    const r = await fetchFn(`${BASE}${p}`, { method, headers: h, body: payload, ...(payload instanceof ReadableStream ? { duplex: "half" } : {}) });
    if (raw) return r;
    const buf = Buffer.from(await r.arrayBuffer());
    let json;
    try {
      json = JSON.parse(buf.toString("utf8"));
    } catch {}
    return { status: r.status, headers: r.headers, buf, text: buf.toString("utf8"), json };
  };
}

// The request log lines (PB_LOG=debug) for a path, in order: { method, path, status, batches, detail?,
// phase? }. Lines with phase "after_response" hold the work done after the response went out.
export function requestLines(logs, pathname) {
  return logs.filter((l) => l.path === pathname && typeof l.method === "string" && !l.level);
}

// The Worker and its static assets as wrangler.toml declares them (unstable_getMiniflareWorkerOptions
// reads [assets] the way `wrangler dev` does: directory, html_handling, not_found_handling, and
// Miniflare applies ui/_headers), listening on http://127.0.0.1:<port> for a browser or composer, with
// in-memory D1/KV/R2. script: a fixture wrapping the worker instead of wrangler.toml's main.
const SITE_KEY = Buffer.alloc(32, 7).toString("base64");
export async function startSite({ script, bindings = {}, port = 0 } = {}) {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");  // large: only the suites that need it
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  const mf = new Miniflare({
    ...workerOptions,
    modules: true,
    modulesRoot: root,
    scriptPath: script ? path.join(root, script) : main,
    host: "127.0.0.1",
    port,
    cf: false,
    d1Databases: { DB: "site-db" },
    kvNamespaces: { KV: "site-kv" },
    r2Buckets: { BUCKET: "site-bucket" },
    // The secrets a deployment has (scripts/deploy sets both), so /health is "ok" whatever .dev.vars
    // holds: wrangler.toml's reader would take them from a developer's .dev.vars, which a clean clone
    // does not have.
    bindings: { ...workerOptions.bindings, ADMIN_TOKEN: "site-admin-token", PB_ENCRYPTION_KEY: SITE_KEY, ...bindings },
  });
  const url = await mf.ready;
  await applyMigrations(mf);
  return { mf, origin: url.origin, stop: () => mf.dispose() };
}
