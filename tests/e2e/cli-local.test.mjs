// The CLI's --local mode shares the local D1's SQLite file with a running `wrangler dev`. While another
// process holds that file's write lock, Miniflare refuses with SQLITE_BUSY ("internal error"): the CLI
// must wait it out instead of failing (the admin end-to-end test failed that way once in CI). The lock
// is held here by Debian's sqlite3 on the very file wrangler uses, and released only after the CLI has
// reported that it is waiting, so the test fails on a CLI that gives up at the first refusal.
import { it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");

it("the CLI's --local waits while another process holds the local D1's lock", { timeout: 300_000 }, async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), "pb-cli-local-"));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  await promisify(execFile)(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: root,
    env: { ...process.env, CI: "true" },
  });
  const dir = path.join(state, "v3/d1/miniflare-D1DatabaseObject");
  const [file] = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  assert.ok(file, `the local D1's file in ${dir}`);

  // Hold the write lock until told to let go.
  const holder = spawn("sqlite3", [path.join(dir, file)], { stdio: ["pipe", "pipe", "inherit"] });
  t.after(() => holder.kill());
  holder.stdin.write("BEGIN EXCLUSIVE; SELECT 'locked';\n");
  await new Promise((resolve, reject) => {
    holder.stdout.on("data", (d) => String(d).includes("locked") && resolve());
    holder.on("exit", () => reject(new Error("sqlite3 exited before taking the lock")));
  });

  const cli = spawn(path.join(root, "scripts/broker"), ["--local", "--state", state, "--json", "token", "list"], { cwd: root });
  let stdout = "";
  let stderr = "";
  cli.stdout.on("data", (d) => (stdout += d));
  const exited = new Promise((resolve) => cli.on("exit", resolve));
  // Wait for the CLI to say it is waiting (or to give up), then release the lock.
  const waiting = await Promise.race([
    new Promise((resolve) => cli.stderr.on("data", (d) => (stderr += d) && /local D1 is busy/.test(stderr) && resolve(true))),
    exited.then(() => false),
  ]);
  holder.stdin.end("COMMIT;\n");
  const code = await exited;
  assert.ok(waiting, `the CLI should wait for the lock, it said:\n${stderr}`);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), []);
});
