// The CLI's --local/--remote backend: SQL through `wrangler d1 execute` (no Worker needed). Only what SQL
// can do alone lives here: tokens, admins, advisories, reading packages, sources, audit and stats.
// New secrets are generated and hashed here; only the hash is written. Every change also writes its
// audit entry (actor "cli:<user>"). The statements are the recipes docs/ADMIN.md shows.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { userInfo } from "node:os";
import path from "node:path";
import { CliError, EXIT } from "./output.mjs";

// An SQL literal. wrangler d1 execute --command takes no bound parameters, so every value goes
// through here: strings quoted with '' doubled, numbers checked, nothing else accepted.
export function lit(v) {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new CliError(`not an integer: ${v}`, EXIT.usage);
    return String(v);
  }
  if (typeof v === "boolean") return v ? "1" : "0";
  if (typeof v !== "string" || v.includes("\0")) throw new CliError(`cannot store ${JSON.stringify(v)}`, EXIT.usage);
  return `'${v.replaceAll("'", "''")}'`;
}

export const iso = (ms) => (ms ? new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, "Z") : null);
export const sha256 = (s) => createHash("sha256").update(s).digest("hex");
export const newSecret = (prefix) => `${prefix}_${randomBytes(24).toString("hex")}`;

// What a local D1 says when another process (wrangler dev) holds its SQLite file's lock.
export const transientLocal = /internal error|database is locked|SQLITE_BUSY/i;
const localAttempts = 8;

export function d1Client({ root, remote, env, stateDir, wrangler }) {
  const actor = `cli:${(() => {
    try {
      return userInfo().username;
    } catch {
      return "unknown";
    }
  })()}`;
  const where = remote ? ["--remote", ...(env ? ["--env", env] : [])] : ["--local", "--persist-to", stateDir];

  // One `wrangler d1 execute`: resolves to its JSON answer, or rejects with the reason it gives.
  function execute(sql) {
    return new Promise((resolve, reject) => {
      execFile(
        wrangler,
        ["d1", "execute", "DB", ...where, "--json", "--command", sql],
        { cwd: root, maxBuffer: 64 << 20, timeout: 300_000, env: { ...process.env, CI: "true" } },
        (err, stdout, stderr) => {
          let parsed;
          try {
            parsed = JSON.parse(stdout);
          } catch {}
          if (err || !Array.isArray(parsed)) {
            reject(new Error(parsed?.error?.text ?? (String(stderr).trim() || String(stdout).trim() || err?.message)));
            return;
          }
          resolve(parsed.map((r) => r.results ?? []));
        },
      );
    });
  }

  // Runs the statements; returns one result list per statement. A local D1 is one SQLite file shared
  // with a running `wrangler dev`: while that workerd holds the write lock, Miniflare answers the
  // second process with SQLITE_BUSY, which reaches us as "internal error; reference = ...". wrangler
  // runs the statements as one batch (one transaction), so a refused attempt changed nothing and is
  // retried, a few times with a growing pause. Remote D1 answers real errors only: no retry there.
  async function run(sql) {
    const attempts = remote ? 1 : localAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await execute(sql);
      } catch (e) {
        if (attempt >= attempts || !transientLocal.test(e.message)) {
          throw new CliError(`wrangler d1 execute (${remote ? "remote" : `local, ${stateDir}`}) failed: ${e.message}`, EXIT.unreachable);
        }
        process.stderr.write(
          `broker: the local D1 is busy (another process such as wrangler dev holds its lock); trying again (${attempt}/${attempts - 1})\n`,
        );
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  const audit = (action, target, before, after, now) =>
    `INSERT INTO audit_log (at, actor, actor_name, action, target, before, after, count) VALUES (${lit(now)}, ${lit(actor)}, ` +
    `${lit(actor.slice(4))}, ${lit(action)}, ${target}, ${lit(before ? JSON.stringify(before) : null)}, ` +
    `${lit(after ? JSON.stringify(after) : null)}, 1)`;

  return { run, audit, actor, label: remote ? `remote D1${env ? ` (env ${env})` : ""}` : `local D1 in ${path.resolve(root, stateDir)}` };
}
