// Administration end to end: the admin CLI (scripts/broker) for every command against the Worker under
// `scripts/dev`, and with --local against the same local D1; the real composer client for licences
// (`composer update` does not get a release after updates_until, `composer install` from an older lock
// file still works), rate limits (composer prints the warning), deletion (composer no longer sees the
// version, its archive is gone from R2) and listing (`composer show -a`, `composer search`, `composer
// outdated` with a packagist source configured). One `scripts/dev` for the whole file.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { root } from "../worker/helpers.mjs";
import { fetchJson, freePort, startGroup, stopGroup, waitFor } from "./process.mjs";
import { zipFiles } from "../upstreams/zip.mjs";
import * as composerRepo from "../upstreams/composer-repo.mjs";

const ADMIN = "e2e-admin-cli-secret-8c1d";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let work, state, origin, dev, upstream;

// ---------------------------------------------------------------------------------------------------
// helpers

function run(cmd, args, { env = {}, timeout = 180_000, cwd = root } = {}) {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd, timeout, killSignal: "SIGKILL", maxBuffer: 32 << 20, env: { ...process.env, ...env } }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 99) : 0, stdout: String(stdout), stderr: String(stderr) }),
    ),
  );
}

// The CLI against the Worker (--url) or the local D1 (--local); --json unless told otherwise.
async function broker(args, { local = false, json = true, token = ADMIN, env = {} } = {}) {
  const target = local ? ["--local", "--state", state] : ["--url", origin, "--token", token];
  const r = await run(path.join(root, "scripts/broker"), [...target, ...(json ? ["--json"] : []), ...args], { env });
  let parsed;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {}
  return { ...r, json: parsed, why: `broker ${args.join(" ")} (exit ${r.code})\n${r.stdout}\n${r.stderr}\n--- dev log ---\n${dev.output.split("\n").slice(-20).join("\n")}` };
}
async function ok(args, opts) {
  const r = await broker(args, opts);
  assert.equal(r.code, 0, r.why);
  return r.json;
}

function api(method, p, { body, auth = `Bearer ${ADMIN}` } = {}) {
  return fetchJson(origin + p, { method, headers: auth ? { authorization: auth } : {}, body });
}
const basic = (t) => `Basic ${Buffer.from(`token:${t}`).toString("base64")}`;

// A zip of a small package whose class says which version it is.
function packageZip(name, version, extra = {}) {
  const [vendor, short] = name.split("/");
  const ns = `${vendor[0].toUpperCase()}${vendor.slice(1)}\\${short[0].toUpperCase()}${short.slice(1).replace(/-/g, "")}`;
  const file = path.join(work, `${name.replace("/", "-")}-${version}.zip`);
  writeFileSync(
    file,
    zipFiles({
      "composer.json": JSON.stringify({ name, description: `The ${name} package`, type: "library", autoload: { "psr-4": { [`${ns}\\`]: "src/" } }, ...extra }),
      "src/Hello.php": `<?php\nnamespace ${ns};\nclass Hello { public static function says(): string { return '${name} ${version}'; } }\n`,
    }),
  );
  return file;
}
const upload = (name, version) => ok(["artifact", "upload", packageZip(name, version), "--version", version]);

function project(label, requires, token) {
  const dir = mkdtempSync(path.join(work, `${label}-`));
  writeFileSync(
    path.join(dir, "composer.json"),
    JSON.stringify({ name: `e2e/${label}`, require: requires, repositories: [{ type: "composer", url: origin }, { "packagist.org": false }], config: { "secure-http": false } }),
  );
  setToken(dir, token);
  return dir;
}
function setToken(dir, token) {
  writeFileSync(path.join(dir, "auth.json"), JSON.stringify({ "http-basic": { [new URL(origin).host]: { username: "token", password: token } } }));
}
function composer(dir, args) {
  return run("composer", [...args, "--no-interaction", "--no-ansi"], {
    cwd: dir,
    timeout: 180_000,
    env: { COMPOSER_HOME: path.join(dir, ".home"), COMPOSER_CACHE_DIR: path.join(dir, ".cache"), COMPOSER_ALLOW_SUPERUSER: "1", COLUMNS: "10000", no_proxy: "127.0.0.1" },
  }).then((r) => ({
    ...r,
    out: `${r.stdout}\n${r.stderr}`,
    why: `composer ${args.join(" ")} (exit ${r.code})\n${r.stdout}\n${r.stderr}\n--- dev log ---\n${dev.output.split("\n").slice(-40).join("\n")}`,
  }));
}
const locked = (dir) => Object.fromEntries(JSON.parse(readFileSync(path.join(dir, "composer.lock"), "utf8")).packages.map((p) => [p.name, p.version]));

// Whether R2 (the local state of scripts/dev) holds `key`, asked through wrangler itself.
async function inR2(key) {
  const out = path.join(work, `r2-${Date.now()}`);
  const r = await run(path.join(root, "node_modules/.bin/wrangler"), ["r2", "object", "get", `package-broker/${key}`, "--local", "--persist-to", state, "--file", out]);
  return r.code === 0;
}

// ---------------------------------------------------------------------------------------------------

describe("administration end to end (CLI, composer)", { timeout: 30 * 60_000 }, () => {
  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), "pb-e2e-admin-"));
    state = path.join(work, "state");
    upstream = await composerRepo.start({
      mode: "v2",
      username: "deploy",
      password: "upstream-secret",
      packages: [{ name: "up/lib", versions: [{ version: "1.0.0", files: { "README.md": "up/lib 1.0.0\n" } }] }],
    });
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    dev = startGroup("bash", ["scripts/dev"], { env: { PORT: String(port), PB_STATE_DIR: state, PB_SKIP_SETUP: "1", ADMIN_TOKEN: ADMIN } });
    await waitFor(`${origin}/health`, { proc: dev, seconds: 180 });
  }, { timeout: 240_000 });

  after(async () => {
    await stopGroup(dev);
    await upstream?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("the CLI runs every command against the Worker", { timeout: 600_000 }, async () => {
    // Admins.
    const maint = await ok(["admin", "create", "--name", "release-bot", "--role", "maintainer"]);
    assert.match(maint.token, /^pba_/);
    assert.ok((await ok(["admin", "list"])).some((a) => a.name === "release-bot"));

    // Artifacts and packages (as the maintainer).
    const up = await ok(["artifact", "upload", packageZip("acme/cli", "1.0.0"), "--version", "1.0.0"], { token: maint.token });
    assert.equal(up.name, "acme/cli");
    await ok(["artifact", "upload", packageZip("acme/cli", "1.1.0"), "--version", "1.1.0"]);
    assert.equal((await ok(["package", "list", "--query", "cli"])).length, 1);
    assert.equal((await ok(["package", "show", "acme/cli"])).versions.length, 2);
    const text = await broker(["package", "list"], { json: false });
    assert.match(text.stdout, /^NAME\s+SOURCE\s+VERSIONS/m, text.why);
    await upload("acme/doomed", "0.1.0");
    const doomed = await broker(["package", "delete", "acme/doomed"]); // --json: no question asked
    assert.equal(doomed.code, 0, doomed.why);
    assert.equal(doomed.json.objects_deleted.length, 1);
    assert.equal((await broker(["package", "show", "acme/doomed"])).code, 1);

    // Tokens.
    const t = await ok(["token", "create", "--name", "customer", "--packages", "acme/*", "--licence", "acme/cli:^1.0:2030-01-01", "--rate-limit", "500"]);
    assert.match(t.token, /^pbt_/);
    assert.equal(t.licences[0].updates_until, "2030-01-01T23:59:59Z");
    assert.equal((await ok(["token", "show", String(t.id)])).name, "customer");
    assert.equal((await ok(["token", "update", String(t.id), "--name", "customer-2", "--no-licences"])).licences.length, 0);
    assert.ok((await ok(["token", "list"])).some((x) => x.id === t.id));
    assert.equal((await api("GET", "/p2/acme/cli.json", { auth: basic(t.token) })).status, 200);
    assert.ok((await ok(["token", "revoke", String(t.id)])).revoked_at);
    assert.equal((await api("GET", "/p2/acme/cli.json", { auth: basic(t.token) })).status, 401);

    // Advisories.
    const adv = await ok(["advisory", "add", "--package", "acme/cli", "--title", "Bad thing", "--affected", "<1.1.0", "--severity", "high"]);
    assert.ok((await ok(["advisory", "list"])).some((a) => a.advisoryId === adv.advisoryId));
    await ok(["advisory", "remove", adv.advisoryId]);

    // A source: add, sync (with its progress), show, update, webhook secret; its archive reaches R2 on
    // first download; removing the source removes that copy.
    const src = await ok(["source", "add", "--type", "composer", "--url", upstream.url, "--username", "deploy", "--password", "upstream-secret"]);
    assert.ok(src.webhook_secret);
    assert.ok(!JSON.stringify(await ok(["source", "list"])).includes("upstream-secret"));
    const synced = await broker(["source", "sync", String(src.id)], { json: false });
    assert.equal(synced.code, 0, synced.why);
    assert.match(synced.stderr, /syncing source \d+: slice 1/, synced.why);
    const shown = await ok(["source", "show", String(src.id)]);
    assert.equal(shown.last_sync.status, "ok");
    assert.deepEqual(shown.skipped_refs, []);
    assert.deepEqual((await ok(["source", "update", String(src.id), "--include", "up/*"])).include, ["up/*"]);
    const rotated = await ok(["source", "webhook-secret", String(src.id)]);
    assert.notEqual(rotated.webhook_secret, src.webhook_secret);
    const reader = await ok(["token", "create", "--name", "reader"]);
    const lib = await ok(["package", "show", "up/lib"]);
    const dist = await api("GET", lib.versions[0].dist_url, { auth: basic(reader.token) });
    assert.equal(dist.status, 200, dist.text);
    for (let i = 0; i < 120 && !(await ok(["package", "show", "up/lib"])).versions[0].sha256; i++) await sleep(500);
    const removed = await ok(["--yes", "source", "remove", String(src.id)]);
    assert.deepEqual(removed.packages, ["up/lib"]);
    const mirrored = removed.objects_deleted.find((k) => k.startsWith("mirror/up/lib/"));
    assert.ok(mirrored, `a mirrored archive was deleted: ${JSON.stringify(removed)}`);
    assert.equal(await inR2(mirrored), false, "the mirrored archive is gone from R2");

    // Audit, stats, doctor.
    const audit = await ok(["audit", "--action", "token.*"]);
    assert.deepEqual([...new Set(audit.map((e) => e.action))].sort(), ["token.create", "token.revoke", "token.update"]);
    const byBot = await ok(["audit", "--actor", "release-bot"]);
    assert.ok(byBot.some((e) => e.action === "artifact.upload" && e.target === "package:acme/cli"), JSON.stringify(byBot));
    assert.ok((await ok(["audit", "--action", "access.denied"])).some((e) => e.actor === `token:${t.id}`));
    await api("POST", "/downloads", { auth: basic(reader.token), body: { downloads: [{ name: "acme/cli", version: "1.0.0.0" }] } });
    const stats = await ok(["stats", "--package", "acme/cli", "--days", "7"]);
    assert.deepEqual(stats.rows.map((r) => [r.version, r.downloads]), [["1.0.0.0", 1]]);
    assert.equal((await ok(["stats", "--group", "token"])).totals.downloads, 1);
    const unhealthy = await broker(["doctor"]);
    assert.equal(unhealthy.code, 4, `no cron run yet: doctor reports it\n${unhealthy.why}`);
    await fetch(`${origin}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    for (let i = 0; i < 60 && (await broker(["doctor"])).code !== 0; i++) await sleep(500);
    const doctor = await ok(["doctor"]);
    assert.ok(doctor.checks.every((c) => c.ok), JSON.stringify(doctor));

    // Errors scripts can rely on.
    assert.equal((await broker(["token", "show", "99999"])).code, 1);
    assert.equal((await broker(["token", "create"])).code, 2);
    assert.equal((await broker(["token", "create", "--name", "x", "--colour", "red"])).code, 2);
    assert.equal((await broker(["token", "list"], { token: "wrong" })).code, 1);
    assert.equal((await run(path.join(root, "scripts/broker"), ["--url", "http://127.0.0.1:1", "--token", "x", "token", "list"])).code, 3);
    const denied = await broker(["admin", "list"], { token: maint.token });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /HTTP 403/);
    await ok(["admin", "revoke", String(maint.id)]);
  });

  it("the CLI works on the local D1 with --local (what SQL can do)", { timeout: 600_000 }, async () => {
    const t = await ok(["token", "create", "--name", "local-made", "--packages", "acme/*"], { local: true });
    assert.match(t.token, /^pbt_/);
    // Made with SQL alone, it works against the Worker at once.
    assert.equal((await api("GET", "/packages.json", { auth: basic(t.token) })).status, 200);
    assert.equal((await ok(["token", "show", String(t.id)], { local: true })).name, "local-made");
    await ok(["token", "update", String(t.id), "--rate-limit", "7"], { local: true });
    assert.equal((await ok(["token", "list"], { local: true })).find((x) => x.id === t.id).rate_limit, 7);
    const viewer = await ok(["admin", "create", "--name", "local-viewer", "--role", "viewer"], { local: true });
    assert.equal((await api("GET", "/admin/api/me", { auth: `Bearer ${viewer.token}` })).json.role, "viewer");
    assert.ok((await ok(["admin", "list"], { local: true })).some((a) => a.name === "local-viewer"));
    await ok(["admin", "revoke", String(viewer.id)], { local: true });
    assert.ok((await ok(["package", "list"], { local: true })).some((p) => p.name === "acme/cli"));
    assert.equal((await ok(["package", "show", "acme/cli"], { local: true })).versions.length, 2);
    assert.ok(Array.isArray(await ok(["source", "list"], { local: true })));
    const adv = await ok(["advisory", "add", "--package", "acme/cli", "--title", "Local", "--affected", "<1.0.1"], { local: true });
    assert.ok((await ok(["advisory", "list"], { local: true })).some((a) => a.advisoryId === adv.advisoryId));
    await ok(["advisory", "remove", adv.advisoryId], { local: true });
    const localStats = await ok(["stats", "--days", "7"], { local: true });
    assert.ok(localStats.totals.downloads >= 1, JSON.stringify(localStats));
    await ok(["token", "revoke", String(t.id)], { local: true });
    const audit = await ok(["audit", "--actor", `cli:${userInfo().username}`, "--limit", "100"], { local: true });
    for (const a of ["token.create", "token.update", "token.revoke", "admin.create", "admin.revoke", "advisory.create", "advisory.delete"])
      assert.ok(audit.some((e) => e.action === a), `local audit has ${a}`);
    const doctor = await broker(["doctor"], { local: true });
    assert.ok([0, 4].includes(doctor.code), doctor.why);
    assert.ok(doctor.json.checks.some((c) => c.name === "schema" && c.ok), doctor.why);
    const apiOnly = await broker(["package", "delete", "acme/cli", "--yes"], { local: true });
    assert.equal(apiOnly.code, 2);
    assert.match(apiOnly.stderr, /needs the admin API/);
  });

  it("licences: composer update stops at updates_until; an older lock file still installs", { timeout: 600_000 }, async () => {
    await upload("vendor/licensed", "1.0.0");
    const v1 = (await ok(["package", "show", "vendor/licensed"])).versions[0];
    // Licensed for updates until just after 1.0.0 was released; 1.1.0 comes out later, 2.0.0 is outside ^1.0.
    const until = new Date(Date.parse(v1.released_at) + 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    while (Date.now() < Date.parse(until) + 1500) await sleep(200);
    await upload("vendor/licensed", "1.1.0");
    await upload("vendor/licensed", "2.0.0");
    const everything = await ok(["token", "create", "--name", "vendor-internal"]);
    const customer = await ok(["token", "create", "--name", "customer-2026", "--licence", `vendor/licensed:^1.0:${until}`]);
    assert.equal(customer.licences[0].updates_until, until);

    // A lock file from before the customer's expiry: made when 1.0.0 was the newest version they may have.
    const dir = project("licensed", { "vendor/licensed": "1.0.0" }, everything.token);
    const made = await composer(dir, ["update"]);
    assert.equal(made.code, 0, made.why);
    setToken(dir, customer.token);
    rmSync(path.join(dir, "vendor"), { recursive: true, force: true });
    const installed = await composer(dir, ["install"]);
    assert.equal(installed.code, 0, installed.why);
    assert.equal(locked(dir)["vendor/licensed"], "1.0.0");

    // composer update with the customer's token: 1.1.0 (after the expiry) and 2.0.0 (outside ^1.0) stay invisible.
    writeFileSync(path.join(dir, "composer.json"), readFileSync(path.join(dir, "composer.json"), "utf8").replace('"1.0.0"', '"*"'));
    const updated = await composer(dir, ["update"]);
    assert.equal(updated.code, 0, updated.why);
    assert.equal(locked(dir)["vendor/licensed"], "1.0.0", updated.why);
    const shown = await composer(dir, ["show", "-a", "vendor/licensed"]);
    assert.match(shown.out, /versions\s*:\s*\*?\s*1\.0\.0\s*$/m, shown.why);
    // The same project with the vendor's own token gets 2.0.0; the customer cannot download it.
    const archive = (await ok(["package", "show", "vendor/licensed"])).versions.find((v) => v.version === "2.0.0");
    assert.equal((await api("GET", archive.dist_url, { auth: basic(customer.token) })).status, 404);
    setToken(dir, everything.token);
    const vendorUpdate = await composer(dir, ["update"]);
    assert.equal(vendorUpdate.code, 0, vendorUpdate.why);
    assert.equal(locked(dir)["vendor/licensed"], "2.0.0");
  });

  it("rate limits: composer prints the broker's warning", { timeout: 300_000 }, async () => {
    await upload("acme/limited", "1.0.0");
    const t = await ok(["token", "create", "--name", "tiny-limit", "--rate-limit", "1"]);
    const dir = project("limited", { "acme/limited": "^1.0" }, t.token);
    const r = await composer(dir, ["update"]);
    assert.notEqual(r.code, 0, r.why);
    assert.match(r.out, /package-broker: the token "tiny-limit" made more than 1 requests this minute/, r.why);
    const hit = await api("GET", "/packages.json", { auth: basic(t.token) });
    assert.equal(hit.status, 429);
    assert.ok(Number(hit.headers.get("retry-after")) >= 1);
    assert.equal(hit.headers.get("x-ratelimit-limit"), "1");
    const audit = await ok(["audit", "--action", "access.rate_limited", "--actor", `token:${t.id}`]);
    assert.ok(audit.length >= 1);
  });

  it("deletion: composer no longer sees the version; its archive is gone from R2", { timeout: 300_000 }, async () => {
    await upload("acme/leaky", "1.0.0");
    await upload("acme/leaky", "1.0.1");
    const t = await ok(["token", "create", "--name", "leak-test"]);
    const dir = project("leaky", { "acme/leaky": "^1.0" }, t.token);
    const first = await composer(dir, ["update"]);
    assert.equal(first.code, 0, first.why);
    assert.equal(locked(dir)["acme/leaky"], "1.0.1");
    const del = await ok(["--yes", "version", "delete", "acme/leaky", "1.0.1"]);
    const key = del.objects_deleted[0];
    assert.match(key, /^artifacts\/acme\/leaky\//);
    assert.equal(await inR2(key), false, "the archive is gone from R2");
    const kept = (await ok(["package", "show", "acme/leaky"])).versions[0];
    assert.equal(kept.version, "1.0.0");
    const again = await composer(dir, ["update"]);
    assert.equal(again.code, 0, again.why);
    assert.equal(locked(dir)["acme/leaky"], "1.0.0", again.why);
    const entry = (await ok(["audit", "--action", "version.delete"]))[0];
    assert.equal(entry.before.deleted.version, "1.0.1");
  });

  it("composer show -a, search and outdated work with a packagist source configured", { timeout: 300_000 }, async () => {
    // A packagist source turns available-packages into patterns; list and search keep working.
    await ok(["source", "add", "--type", "packagist", "--url", "http://127.0.0.1:9", "--include", "psr/*"]);
    await upload("acme/searchable", "1.0.0");
    const t = await ok(["token", "create", "--name", "lister", "--packages", "acme/*"]);
    const dir = project("listing", { "acme/searchable": "1.0.0" }, t.token);
    const root = await api("GET", "/packages.json", { auth: basic(t.token) });
    assert.ok(root.json["available-package-patterns"], root.text);
    const installed = await composer(dir, ["update"]);
    assert.equal(installed.code, 0, installed.why);
    const all = await composer(dir, ["show", "-a", "--name-only"]);
    assert.equal(all.code, 0, all.why);
    assert.match(all.out, /^acme\/searchable\s*$/m, all.why);
    assert.match(all.out, /^acme\/cli\s*$/m, all.why);
    assert.doesNotMatch(all.out, /vendor\/licensed/, "outside the token's scope");
    const found = await composer(dir, ["search", "searchable"]);
    assert.equal(found.code, 0, found.why);
    assert.match(found.out, /acme\/searchable\s+The acme\/searchable package/, found.why);
    await upload("acme/searchable", "1.2.0");
    const outdated = await composer(dir, ["outdated", "--all"]);
    assert.match(outdated.out, /acme\/searchable\s+1\.0\.0\s+\S*\s*1\.2\.0/, outdated.why);
  });
});
