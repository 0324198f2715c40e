// scripts/deploy and `wrangler deploy --dry-run` from a clean copy of the repository (what a commit
// holds: no build/, no .wrangler/), with the real wrangler talking to the Cloudflare API emulator on
// 127.0.0.1. wrangler gets a scratch HOME/TMPDIR and its npm update check points at the emulator, so
// nothing leaves the machine. The emulator records every call it does not know: each test asserts none.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import http from "node:http";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root } from "../worker/helpers.mjs";
import { startEmulator } from "./emulator.mjs";

const scratch = mkdtempSync(path.join(tmpdir(), "pb-deploy-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

// A clean clone of the working tree: the files git tracks or would track, plus node_modules as hard links
// (what `npm ci` would install from the same lock file; scripts/setup finds it current and keeps it).
function cleanClone(name) {
  const dir = path.join(scratch, name);
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && existsSync(path.join(root, f)));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    cpSync(path.join(root, f), path.join(dir, f));
  }
  // Hard links (a copy across file systems): whatever the clone does to its node_modules stays there.
  execFileSync("sh", ["-c", 'cp -al "$0" "$1" 2>/dev/null || { rm -rf "$1"; cp -a "$0" "$1"; }', path.join(root, "node_modules"), path.join(dir, "node_modules")]);
  const stamp = path.join(dir, "node_modules/.pb-lock-sha256");
  rmSync(stamp, { force: true });
  writeFileSync(stamp, `${createHash("sha256").update(readFileSync(path.join(dir, "package-lock.json"))).digest("hex")}\n`);
  assert.ok(!existsSync(path.join(dir, "build")), "the clone has no build output");
  return dir;
}

// Runs a command without blocking this process (the emulator answers from its event loop).
function run(command, args, { cwd, env, timeoutMs = 900_000 }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

// The environment of a deploy: no proxies, scratch HOME/TMPDIR, wrangler pointed at the emulator.
function deployEnv(emu, extra = {}) {
  const home = mkdtempSync(path.join(scratch, "home-"));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(https?|all)_proxy$/i.test(k) || k.startsWith("CLOUDFLARE_")) delete env[k];
  return { ...env, ...(emu ? emu.wranglerEnv() : {}), HOME: home, TMPDIR: home, XDG_CONFIG_HOME: path.join(home, ".config"), ...extra };
}

// A stand-in for the deployed Worker's /health (the workers.dev host is not reachable from a test).
let health;
let healthAnswer = { status: 200, body: { status: "ok" } };
before(async () => {
  health = http.createServer((req, res) => {
    res.writeHead(req.url === "/health" ? healthAnswer.status : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(req.url === "/health" ? healthAnswer.body : { error: { code: "not_found", message: req.url } }));
  });
  await new Promise((r) => health.listen(0, "127.0.0.1", r));
});
after(() => new Promise((r) => health.close(r)));
const healthUrl = () => `http://127.0.0.1:${health.address().port}`;

// The files of a clone's ui/ that wrangler uploads as static assets, by manifest path: all but the files it
// reads as configuration (_headers, _redirects, .assetsignore at the top).
function uiAssets(clone) {
  const dir = path.join(clone, "ui");
  const files = new Map();
  for (const f of readdirSync(dir, { recursive: true })) {
    if (["_headers", "_redirects", ".assetsignore"].includes(f) || statSync(path.join(dir, f)).isDirectory()) continue;
    files.set(`/${f.split(path.sep).join("/")}`, readFileSync(path.join(dir, f)));
  }
  return files;
}

const MIGRATIONS = readdirSync(path.join(root, "d1/migrations")).filter((f) => f.endsWith(".sql")).sort();

// The tables each migration creates, read from the files themselves.
function migrationTables() {
  const tables = new Set();
  for (const f of MIGRATIONS)
    for (const m of readFileSync(path.join(root, "d1/migrations", f), "utf8").matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)) tables.add(m[1]);
  return [...tables];
}

test("scripts/deploy from a clean clone creates everything once; a second run changes nothing but the code", { timeout: 1_800_000 }, async () => {
  const emu = await startEmulator();
  try {
    const clone = cleanClone("deploy");
    const env = deployEnv(emu);
    const args = ["scripts/deploy", "--health-url", healthUrl()];

    const first = await run("bash", args, { cwd: clone, env });
    assert.equal(first.status, 0, first.output);
    assert.deepEqual(emu.state.unknown, []);
    const token = first.stdout.match(/Admin token \(shown once[^)]*\): (pba_[0-9a-f]{64})/)?.[1];
    assert.ok(token, `the first deploy prints the new admin token:\n${first.stdout}`);
    assert.match(first.stdout, /Deployed: https:\/\/package-broker\.pb-tests\.workers\.dev/);
    assert.match(first.stdout, /composer config repositories\.private composer https:\/\/package-broker\.pb-tests\.workers\.dev/);
    assert.match(first.stdout, /\/health: ok/);
    assert.ok(existsSync(path.join(clone, "build/wasm/package_broker.wasm")), "the deploy built the wasm");
    assert.deepEqual(readdirSync(env.TMPDIR).filter((f) => f.startsWith("pb-deploy-")), [], "the secrets file is deleted");

    // Resources: one of each, named after the Worker.
    assert.deepEqual([...emu.state.d1.values()].map((d) => d.name), ["package-broker"]);
    assert.deepEqual([...emu.state.kv.values()].map((n) => n.title), ["package-broker"]);
    assert.deepEqual([...emu.state.r2.keys()], ["package-broker"]);
    assert.deepEqual([...emu.state.queues.values()].map((q) => q.queue_name), ["package-broker-sync"]);
    // The Worker consumes its sync queue one message per invocation, at once (wrangler.toml).
    const queue = [...emu.state.queues.values()][0];
    assert.deepEqual(queue.consumers.map((c) => [c.script, c.settings]), [["package-broker", { batch_size: 1, max_retries: 3, max_wait_time_ms: 0 }]]);
    // Every migration ran: its tables exist and d1_migrations records it.
    const tables = emu.d1Tables("package-broker");
    for (const t of migrationTables()) assert.ok(tables.includes(t), `table ${t} exists after the deploy (have ${tables})`);
    assert.deepEqual(emu.d1Query("package-broker", "SELECT name FROM d1_migrations ORDER BY id").map((r) => r[0]), MIGRATIONS);

    const s = emu.state.scripts.get("package-broker");
    assert.ok(s, "the Worker was uploaded");
    assert.deepEqual([...s.secrets.keys()].sort(), ["ADMIN_TOKEN", "PB_ENCRYPTION_KEY"]);
    assert.equal(s.secrets.get("ADMIN_TOKEN"), token, "the printed admin token is the one set");
    assert.equal(Buffer.from(s.secrets.get("PB_ENCRYPTION_KEY"), "base64").length, 32, "a 256-bit encryption key");
    assert.ok(first.stdout.includes(`PB_ENCRYPTION_KEY (shown once; store it with your backups): ${s.secrets.get("PB_ENCRYPTION_KEY")}`));
    const secretsBefore = new Map(s.secrets);
    const versionsBefore = s.versions.length;

    // The web UI: every file of ui/ was uploaded once, byte for byte, and the version serves exactly them
    // with the [assets] settings of wrangler.toml and ui/_headers.
    const toml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
    const ui = uiAssets(clone);
    const firstVersion = s.versions.at(-1);
    const manifest = firstVersion.assets?.manifest;
    assert.ok(manifest, "the first version carries static assets");
    assert.deepEqual(Object.keys(manifest).sort(), [...ui.keys()].sort(), "the manifest lists every file of ui/");
    for (const [p, bytes] of ui) {
      assert.equal(manifest[p].size, bytes.length, `size of ${p}`);
      assert.ok(emu.state.assets.files.get(manifest[p].hash)?.bytes.equals(bytes), `the uploaded ${p} is the file of ui/`);
    }
    const uploaded = emu.state.assets.uploads.map((u) => u.hash);
    assert.deepEqual([...uploaded].sort(), [...new Set(Object.values(manifest).map((e) => e.hash))].sort(), "each distinct file uploaded exactly once");
    assert.ok(emu.state.requests.filter((c) => /\/workers\/assets\/upload\?base64=true$/.test(c)).length >= 2, "the files went up in several buckets");
    assert.equal(emu.state.assets.files.get(manifest["/index.html"].hash).contentType, "text/html; charset=utf-8");
    assert.deepEqual(firstVersion.assets.config, {
      html_handling: toml.match(/^html_handling = "([^"]+)"$/m)[1],
      not_found_handling: toml.match(/^not_found_handling = "([^"]+)"$/m)[1],
      _headers: readFileSync(path.join(clone, "ui/_headers"), "utf8"),
    });

    const calls = emu.state.requests.length;
    const sessionsBefore = emu.state.assets.sessions.size;
    const second = await run("bash", args, { cwd: clone, env });
    assert.equal(second.status, 0, second.output);
    assert.deepEqual(emu.state.unknown, []);
    assert.doesNotMatch(second.stdout, /\(shown once; store/, "no new secret shown on a second run");
    assert.match(second.stdout, /no migrations to apply/);
    const secondCalls = emu.state.requests.slice(calls);
    const writes = secondCalls.filter((c) => /^(POST|PUT|PATCH|DELETE) /.test(c));
    // The only writes: D1's read-only migration bookkeeping queries, and the new code version.
    const allowed = [/\/d1\/database\/[^/]+\/query$/, /\/workers\/scripts\/package-broker\/assets-upload-session$/, /\/workers\/scripts\/package-broker\/versions\?/, /\/workers\/scripts\/package-broker\/deployments$/,
      /\/workers\/scripts\/package-broker\/script-settings$/, /\/workers\/scripts\/package-broker\/subdomain$/, /\/workers\/scripts\/package-broker\/schedules$/,
      /\/queues\/[^/]+\/consumers\/[^/]+$/];  // wrangler puts the same consumer settings again
    for (const w of writes) assert.ok(allowed.some((re) => re.test(w)), `the second run only deploys code, but made ${w}`);
    assert.equal(emu.state.d1.size, 1);
    assert.equal(emu.state.kv.size, 1);
    assert.equal(emu.state.r2.size, 1);
    assert.equal(emu.state.queues.size, 1);
    assert.equal([...emu.state.queues.values()][0].consumers.length, 1);
    assert.deepEqual(new Map(s.secrets), secretsBefore, "the second run changes no secret");
    assert.equal(s.versions.length, versionsBefore + 1, "the second run uploads one new version");
    // No asset went up again: the session asked for nothing, and the new version serves the same files.
    assert.equal(emu.state.assets.uploads.length, uploaded.length, "the second run uploads no asset");
    assert.equal(emu.state.assets.sessions.size, sessionsBefore + 1, "the second run opens one assets session");
    assert.deepEqual([...emu.state.assets.sessions.values()].at(-1).buckets, [], "which asks for no file");
    assert.deepEqual(s.versions.at(-1).assets, firstVersion.assets, "the second version serves the same assets");
    assert.deepEqual(emu.d1Query("package-broker", "SELECT name FROM d1_migrations ORDER BY id").map((r) => r[0]), MIGRATIONS);

    // The deployed version binds the created resources, carries the wasm module, and the cron is set.
    const v = s.versions.find((x) => x.id === s.active_version);
    const binding = (name) => v.bindings.find((b) => b.name === name);
    const d1 = [...emu.state.d1.values()][0];
    const kv = [...emu.state.kv.values()][0];
    assert.deepEqual({ type: binding("DB").type, id: binding("DB").id }, { type: "d1", id: d1.uuid });
    assert.deepEqual({ type: binding("KV").type, id: binding("KV").namespace_id }, { type: "kv_namespace", id: kv.id });
    assert.deepEqual({ type: binding("BUCKET").type, name: binding("BUCKET").bucket_name }, { type: "r2_bucket", name: "package-broker" });
    assert.deepEqual({ type: binding("SYNC_QUEUE").type, name: binding("SYNC_QUEUE").queue_name }, { type: "queue", name: "package-broker-sync" });
    assert.equal(binding("PB_TEST_HOOKS").text, "0");
    assert.equal(binding("PB_PLAN").text, "free");
    assert.equal(binding("PB_LOG").text, "requests");
    assert.ok(v.modules.some((m) => m.type === "compiled_wasm" && m.size > 10_000), `a wasm module is uploaded: ${JSON.stringify(v.modules)}`);
    assert.equal(v.modules.find((m) => m.name === v.metadata.main_module)?.type, "esm");
    assert.deepEqual(v.metadata.observability, { enabled: true });
    assert.deepEqual(s.schedules.map((x) => x.cron), [toml.match(/crons = \["([^"]+)"\]/)[1]]);
    assert.equal(s.subdomain.enabled, true);

    // The committed config never holds account data; the generated one is git-ignored.
    assert.doesNotMatch(readFileSync(path.join(clone, "wrangler.toml"), "utf8"), new RegExp(d1.uuid));
    const ignored = execFileSync("git", ["check-ignore", ".wrangler/deploy/package-broker/wrangler.json"], { cwd: root, encoding: "utf8" });
    assert.match(ignored, /wrangler\.json/);

    // --dry-run: looks, bundles, changes nothing.
    const beforeDry = emu.state.requests.length;
    const dry = await run("bash", ["scripts/deploy", "--dry-run"], { cwd: clone, env });
    assert.equal(dry.status, 0, dry.output);
    assert.match(dry.stdout, /Dry run: nothing was changed on your account/);
    assert.match(dry.stdout, /No migrations to apply/);
    const dryWrites = emu.state.requests.slice(beforeDry).filter((c) => /^(POST|PUT|PATCH|DELETE) /.test(c) && !/\/query$/.test(c));
    assert.deepEqual(dryWrites, [], "a dry run writes nothing");
    assert.equal(s.versions.length, versionsBefore + 1);

    // A staging environment with a custom domain: its own resources, the domain attached.
    const staging = await run("bash", ["scripts/deploy", "--env", "staging", "--domain", "packages.example.com", "--plan", "paid", "--no-health-check"], { cwd: clone, env });
    assert.equal(staging.status, 0, staging.output);
    assert.match(staging.stdout, /Deployed: https:\/\/packages\.example\.com/);
    assert.match(staging.stdout, /http-basic\.packages\.example\.com token/);
    assert.deepEqual([...emu.state.d1.values()].map((d) => d.name).sort(), ["package-broker", "package-broker-staging"]);
    const st = emu.state.scripts.get("package-broker-staging");
    assert.deepEqual(st.domains.map((d) => d.hostname), ["packages.example.com"]);
    assert.equal(st.versions.at(-1).bindings.find((b) => b.name === "PB_PLAN").text, "paid");
    // The account already holds the UI's files: the staging Worker gets them without an upload.
    assert.equal(emu.state.assets.uploads.length, uploaded.length, "staging uploads no asset the account has");
    assert.deepEqual(st.versions.at(-1).assets.manifest, manifest);
    assert.notEqual(st.secrets.get("ADMIN_TOKEN"), s.secrets.get("ADMIN_TOKEN"), "each environment has its own admin token");
    assert.deepEqual(emu.state.unknown, []);

    // A wrangler failure stops the script with wrangler's message and what to do; nothing half done.
    const activeBefore = s.active_version;
    emu.inject("POST", /\/workers\/scripts\/package-broker\/versions$/, { status: 400, code: 10021, message: "Uncaught Error: the emulator refused this upload" });
    const failed = await run("bash", args, { cwd: clone, env });
    assert.equal(failed.status, 1, failed.output);
    assert.match(failed.stderr, /deploying the Worker: `wrangler deploy --config/);
    assert.match(failed.stderr, /the emulator refused this upload/);
    assert.match(failed.stderr, /What to do: /);
    assert.match(failed.stderr, /Nothing was changed on your Cloudflare account by this run/);
    assert.equal(s.active_version, activeBefore, "the running version is untouched");

    // /health answering degraded is reported with its URL and a distinct exit code.
    healthAnswer = { status: 503, body: { status: "degraded", checks: { schema: { status: "error" } } } };
    const unhealthy = await run("bash", args, { cwd: clone, env });
    healthAnswer = { status: 200, body: { status: "ok" } };
    assert.equal(unhealthy.status, 3, unhealthy.output);
    assert.match(unhealthy.stderr, new RegExp(`${healthUrl()}/health is not healthy: HTTP 503`));

    // A lost PB_ENCRYPTION_KEY is never replaced while sealed credentials exist.
    s.secrets.delete("PB_ENCRYPTION_KEY");
    emu.d1Query("package-broker", "INSERT INTO sources (type, url, credentials_type, credentials_enc, created_at, updated_at) VALUES ('composer', 'https://repo.example.com', 'basic', '{\"iv\":\"x\",\"ct\":\"y\"}', 0, 0)");
    const sealed = await run("bash", args, { cwd: clone, env });
    assert.equal(sealed.status, 1, sealed.output);
    assert.match(sealed.stderr, /PB_ENCRYPTION_KEY is not set, but 1 source\(s\) hold credentials sealed with a key/);
    assert.equal(s.secrets.has("PB_ENCRYPTION_KEY"), false);

    // A bad token: wrangler's message and the advice about the token.
    const badToken = await run("bash", args, { cwd: clone, env: { ...env, CLOUDFLARE_API_TOKEN: "wrong-token" } });
    assert.equal(badToken.status, 1, badToken.output);
    assert.match(badToken.stderr, /Authentication error \[code: 10000\]/);
    assert.match(badToken.stderr, /What to do: check CLOUDFLARE_API_TOKEN/);
    assert.deepEqual(emu.state.unknown, []);
  } finally {
    await emu.stop();
  }
});

test("wrangler deploy --dry-run from a clean clone builds the wasm through [build]", { timeout: 1_200_000 }, async () => {
  const clone = cleanClone("dry-run");
  const out = path.join(scratch, "dry-run-out");
  // No account at all: a dry run needs none, and with no API base URL set, any call would be a failure.
  const env = deployEnv(null, { CLOUDFLARE_API_BASE_URL: "http://127.0.0.1:9/client/v4", npm_registry: "http://127.0.0.1:9/npm/" });
  const r = await run(path.join(clone, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], { cwd: clone, env });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output.replace(/\x1b\[[0-9;]*m/g, ""), /\[custom build\].*Linking CXX executable package_broker\.wasm/);
  assert.ok(existsSync(path.join(clone, "build/wasm/package_broker.wasm")), "the [build] command built the wasm");
  assert.ok(readdirSync(out).some((f) => f.endsWith(".wasm")), "the bundle holds the wasm module");
  assert.match(r.stdout, /--dry-run: exiting now/);
});

test("scripts/deploy rejects bad arguments before touching anything", async () => {
  for (const [args, message] of [
    [["--name", "Bad_Name"], /cannot name the Worker/],
    [["--domain", "not a host"], /--domain must be a host name/],
    [["--plan", "enterprise"], /--plan must be free or paid/],
    [["--bogus"], /unknown argument "--bogus"/],
  ]) {
    const r = await run("node", ["scripts/lib/deploy.mjs", ...args], { cwd: root, env: deployEnv(null) });
    assert.equal(r.status, 2, r.output);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /usage: scripts\/deploy/);
  }
});
