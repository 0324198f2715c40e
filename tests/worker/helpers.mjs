// Shared setup for the node:test + Miniflare suites: a Miniflare running the real worker (or a test
// fixture wrapping it) with in-memory D1/KV/R2, d1/migrations applied the way wrangler applies them;
// and the same with the web UI's static assets, configured from wrangler.toml, on a real port.
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// Splits a migration file into statements: comment lines dropped, statements end with ';' at a line end.
export function migrationStatements(sql) {
  return sql
    .split("\n")
    .filter((l) => !l.trim().startsWith("--"))
    .join("\n")
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function applyMigrations(mf, workerName) {
  const db = await mf.getD1Database("DB", workerName);
  const dir = path.join(root, "d1/migrations");
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const stmts = migrationStatements(readFileSync(path.join(dir, f), "utf8"));
    await db.batch(stmts.map((s) => db.prepare(s)));
  }
}

// script: path relative to the repo root of the entry module (the worker, or a fixture importing it).
export async function startWorker({ script = "worker/index.mjs", migrate = true, bindings = {} } = {}) {
  const mf = new Miniflare({
    modules: true,
    modulesRoot: root,
    scriptPath: path.join(root, script),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2025-09-01",
    cf: false,
    d1Databases: { DB: "test-db" },
    kvNamespaces: { KV: "test-kv" },
    r2Buckets: { BUCKET: "test-bucket" },
    bindings: { PB_TEST_HOOKS: "0", ...bindings },
  });
  await mf.ready;
  if (migrate) await applyMigrations(mf);
  return mf;
}

export const BASE = "http://127.0.0.1:8787";

// The Worker and its static assets as wrangler.toml declares them (unstable_getMiniflareWorkerOptions
// reads [assets] the way `wrangler dev` does: directory, html_handling, not_found_handling, and
// Miniflare applies ui/_headers), listening on http://127.0.0.1:<port> for a browser or composer, with
// in-memory D1/KV/R2. script: a fixture wrapping the worker instead of wrangler.toml's main.
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
    bindings: { ...workerOptions.bindings, ...bindings },
  });
  const url = await mf.ready;
  await applyMigrations(mf);
  return { mf, origin: url.origin, stop: () => mf.dispose() };
}
