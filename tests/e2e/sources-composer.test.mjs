// Upstream sources end to end: the Worker under scripts/dev pulls packages from a private Composer
// repository (v2 and v1 with includes, both behind Basic auth) and mirrors a packagist-like repository
// lazily (its API on a second origin, as packagist.org's); the real composer client installs through
// package-broker only. Also: `composer audit` sees the upstream's advisory, a version published upstream
// appears after a signed webhook and after one cron run (the feed cursor was taken at creation), and
// upstream faults leave every served package intact. Fake upstreams: tests/upstreams/.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fetchJson, freePort, startGroup, stopGroup, waitFor } from "./process.mjs";
import * as composerRepo from "../upstreams/composer-repo.mjs";
import * as packagist from "../upstreams/packagist.mjs";
import { fingerprint } from "../upstreams/server.mjs";

const ADMIN = "e2e-sources-admin-token";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha1 = (b) => createHash("sha1").update(b).digest("hex");

let work, origin, broker, v2, v1, v1p, pk, token, sources = {};

const classFile = (ns, cls, says) => `<?php\nnamespace ${ns};\nclass ${cls} { public static function says(): string { return '${says}'; } }\n`;
function pkg(name, version, extra = {}) {
  const [vendor, short] = name.split("/");
  const ns = `${vendor[0].toUpperCase()}${vendor.slice(1)}\\${short[0].toUpperCase()}${short.slice(1)}`;
  return {
    version,
    autoload: { "psr-4": { [`${ns}\\`]: "src/" } },
    files: { "src/Hello.php": classFile(ns, "Hello", `${name} ${version}`) },
    ...extra,
  };
}

function api(method, p, { body, auth = `Bearer ${ADMIN}`, headers = {} } = {}) {
  return fetchJson(origin + p, { method, headers: { ...(auth ? { authorization: auth } : {}), ...headers }, body });
}

const basicAuth = (t) => `Basic ${Buffer.from(`token:${t}`).toString("base64")}`;

function project(label, requires) {
  const dir = mkdtempSync(path.join(work, `${label}-`));
  writeFileSync(
    path.join(dir, "composer.json"),
    JSON.stringify({
      name: "e2e/sources",
      require: requires,
      "minimum-stability": "stable",
      repositories: [{ type: "composer", url: origin }, { "packagist.org": false }],
      config: { "secure-http": false },
    }),
  );
  const host = new URL(origin).host;
  writeFileSync(path.join(dir, "auth.json"), JSON.stringify({ "http-basic": { [host]: { username: "token", password: token } } }));
  return dir;
}

function composer(dir, args, { timeout = 120_000, cache = path.join(dir, ".cache") } = {}) {
  return new Promise((resolve) => {
    execFile(
      "composer",
      [...args, "--no-interaction", ...(args[0] === "audit" ? [] : ["--no-progress"])],
      {
        cwd: dir,
        timeout,
        env: { ...process.env, COMPOSER_HOME: path.join(dir, ".home"), COMPOSER_CACHE_DIR: cache, COMPOSER_NO_INTERACTION: "1", GIT_SSH_COMMAND: "false" },
      },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

function php(dir, code) {
  return new Promise((resolve) =>
    execFile("php", ["-r", `require 'vendor/autoload.php'; ${code}`], { cwd: dir, timeout: 30_000 }, (e, out, err) => resolve(`${out}${err}`)),
  );
}

async function versionsOf(name) {
  const r = await api("GET", `/p2/${name}.json`, { auth: basicAuth(token) });
  if (r.status !== 200) return [];
  // Minified: later entries inherit; "version" is present in every entry (it always changes).
  return r.json.packages[name].map((v) => v.version);
}

// Lines of the Worker's log (scripts/dev runs it with PB_LOG=requests) that are JSON objects.
function workerLog() {
  const out = [];
  for (const line of broker.output.split("\n")) {
    const l = line.trim();
    if (!l.startsWith("{")) continue;
    try {
      out.push(JSON.parse(l));
    } catch {}
  }
  return out;
}

async function until(what, check, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  assert.fail(`${what} did not happen within ${seconds}s\n${broker.output.split("\n").slice(-30).join("\n")}`);
}

describe("upstream sources through package-broker", { timeout: 600_000 }, () => {
  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), "pb-e2e-sources-"));
    v2 = await composerRepo.start({
      mode: "v2",
      username: "deploy",
      password: "repo-secret",
      packages: [
        { name: "acme/alpha", versions: [pkg("acme/alpha", "1.0.0", { require: { "acme/beta": "^1.0" } })] },
        { name: "acme/beta", versions: [pkg("acme/beta", "1.0.0")] },
      ],
    });
    v1 = await composerRepo.start({
      mode: "v1-includes",
      username: "deploy",
      password: "v1-secret",
      packages: [{ name: "acme/gamma", versions: [pkg("acme/gamma", "1.0.0")] }],
    });
    v1p = await composerRepo.start({
      mode: "v1-providers",
      username: "deploy",
      password: "providers-secret",
      packages: [{ name: "acme/delta", versions: [pkg("acme/delta", "1.0.0")] }],
    });
    pk = await packagist.start({
      packages: [{ name: "psr/log", versions: ["1.0.0", "2.0.0"], composer: { autoload: { "psr-4": { "Psr\\Log\\": "src/" } } } }],
      advisories: [{ packageName: "psr/log", affectedVersions: ">=1.0.0,<1.0.1", title: "Log injection in psr/log", cve: "CVE-2099-4242" }],
    });
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    broker = startGroup("bash", ["scripts/dev"], {
      env: { PORT: String(port), PB_STATE_DIR: path.join(work, "state"), PB_SKIP_SETUP: "1", ADMIN_TOKEN: ADMIN },
    });
    await waitFor(`${origin}/health`, { proc: broker, seconds: 120 });

    for (const [key, body] of [
      ["v2", { type: "composer", url: v2.url, credentials: { type: "basic", username: "deploy", password: "repo-secret" } }],
      ["v1", { type: "composer", url: v1.url, credentials: { type: "basic", username: "deploy", password: "v1-secret" } }],
      ["v1p", { type: "composer", url: v1p.url, credentials: { type: "basic", username: "deploy", password: "providers-secret" } }],
      ["packagist", { type: "packagist", url: pk.url, include: ["psr/*"] }],
    ]) {
      const r = await api("POST", "/admin/api/sources", { body });
      assert.equal(r.status, 201, r.text);
      sources[key] = r.json;
    }
    for (const key of ["v2", "v1", "v1p"]) {
      const r = await api("POST", `/admin/api/sources/${sources[key].id}/sync`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.status, "ok", r.text);
    }
    const t = await api("POST", "/admin/api/tokens", { body: { name: "e2e", access: "update" } });
    token = t.json.token;
  });

  after(async () => {
    await stopGroup(broker);
    await Promise.allSettled([v2?.stop(), v1?.stop(), v1p?.stop(), pk?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("installs packages from v2, v1 (includes) and v1 (providers) Composer sources and a lazily mirrored packagist package", async () => {
    const dir = project("install", { "acme/alpha": "^1.0", "acme/gamma": "^1.0", "acme/delta": "^1.0", "psr/log": "^2.0" });
    const res = await composer(dir, ["install"]);
    assert.equal(res.code, 0, res.out);
    for (const [cls, says] of [
      ["Acme\\Alpha\\Hello", "acme/alpha 1.0.0"],
      ["Acme\\Beta\\Hello", "acme/beta 1.0.0"],
      ["Acme\\Gamma\\Hello", "acme/gamma 1.0.0"],
      ["Acme\\Delta\\Hello", "acme/delta 1.0.0"],
    ])
      assert.equal(await php(dir, `echo ${cls}::says();`), says);
    assert.match(res.out, /psr\/log \(2\.0\.0\)/);
    // The source credentials went to the private repositories; the client's token never did.
    const v2Auth = v2.state.requests.filter((e) => e.auth);
    assert.ok(v2Auth.length > 0 && v2Auth.every((e) => e.auth.fingerprint === fingerprint("repo-secret")));
    const v1Auth = v1.state.requests.filter((e) => e.auth);
    assert.ok(v1Auth.length > 0 && v1Auth.every((e) => e.auth.fingerprint === fingerprint("v1-secret")), "the v1 source's own credentials, only");
    assert.ok(pk.state.requests.length > 0, "the packagist mirror was asked");
    assert.ok([...pk.state.requests, ...pk.api.state.requests].every((e) => !e.auth), "no credentials to the packagist mirror");
    const listing = await api("GET", `/admin/api/sources/${sources.v2.id}`);
    assert.equal(listing.json.last_sync.status, "ok");
    assert.equal(listing.text.includes("repo-secret"), false);
  });

  it("composer audit reports the mirrored package's advisory", async () => {
    const dir = project("audit", { "psr/log": "1.0.0" });
    const res = await composer(dir, ["install"]);
    assert.equal(res.code, 0, res.out);
    const audit = await composer(dir, ["audit", "--format=plain"]);
    const direct = await api("POST", "/api/security-advisories", {
      auth: basicAuth(token),
      body: "packages%5B%5D=psr%2Flog",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.notEqual(audit.code, 0, `${audit.out}\n${direct.status} ${direct.text}\n${broker.output.split("\n").slice(-15).join("\n")}`);
    assert.match(audit.out, /CVE-2099-4242|Log injection/, audit.out);
    // Asked where packages.json says the API is, never on the metadata origin.
    assert.ok(pk.api.state.requests.some((e) => e.method === "POST" && e.path === "/api/security-advisories/" && e.status === 200));
    assert.ok(!pk.state.requests.some((e) => e.path.startsWith("/api/")));
    const src = await api("GET", `/admin/api/sources/${sources.packagist.id}`);
    assert.equal(src.json.advisories?.status, "ok", src.text);
  });

  it("a version published upstream appears after a signed webhook", async () => {
    v2.state.addVersion("acme/beta", pkg("acme/beta", "1.1.0"));
    const payload = JSON.stringify({ ref: "refs/tags/1.1.0" });
    const hook = new URL(sources.v2.webhook_url).pathname;
    const unsigned = await api("POST", hook, { auth: null, body: payload, headers: { "x-hub-signature-256": "sha256=00" } });
    assert.equal(unsigned.status, 401);
    const sig = createHmac("sha256", sources.v2.webhook_secret).update(payload).digest("hex");
    const r = await api("POST", hook, { auth: null, body: payload, headers: { "x-hub-signature-256": `sha256=${sig}`, "x-github-event": "push" } });
    assert.equal(r.status, 202, r.text);
    await until("acme/beta 1.1.0 in p2", async () => (await versionsOf("acme/beta")).includes("1.1.0"));
    const dir = project("webhook", { "acme/beta": "^1.1" });
    const res = await composer(dir, ["install"]);
    assert.equal(res.code, 0, res.out);
    assert.equal(await php(dir, "echo Acme\\Beta\\Hello::says();"), "acme/beta 1.1.0");
  });

  it("a version published on the packagist mirror appears after one cron run", async () => {
    await until("psr/log mirrored", async () => (await versionsOf("psr/log")).includes("2.0.0"));
    // Published before any cron run: the feed cursor was taken when the source was created, so the
    // first run already reports it (read from the API origin packages.json names).
    // A later second on the fake's clock, so the new version's Last-Modified is newer than what the
    // mirror holds (HTTP dates have one-second resolution), without the test waiting for it.
    pk.state.advanceClock(2000);
    pk.state.publish("psr/log", "2.0.1", { autoload: { "psr-4": { "Psr\\Log\\": "src/" } } });
    const cron = await api("GET", "/__scheduled?cron=*/15+*+*+*+*", { auth: null });
    assert.equal(cron.status, 200, cron.text);
    await until("psr/log 2.0.1 after one cron run", async () => (await versionsOf("psr/log")).includes("2.0.1"), 30);
    assert.ok(pk.api.state.requests.some((e) => e.path.startsWith("/metadata/changes.json?since=") && e.status === 200));
  });

  it("upstream faults leave every served package intact", async () => {
    const before = await api("GET", "/p2/acme/alpha.json", { auth: basicAuth(token) });
    // rateLimit: 429 with Retry-After; timeout: never answered (the sync gives up after 15 s).
    for (const type of ["status500", "invalidJson", "rateLimit", "timeout"]) {
      v2.state.addFault({ path: "/packages.json", type, style: "retry-after" });
      const r = await api("POST", `/admin/api/sources/${sources.v2.id}/sync`);
      v2.state.clearFaults();
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.status, "error", r.text);
      const s = await api("GET", `/admin/api/sources/${sources.v2.id}`);
      assert.equal(s.json.last_sync.status, "error");
      assert.ok(s.json.last_sync.error);
      const after = await api("GET", "/p2/acme/alpha.json", { auth: basicAuth(token) });
      assert.equal(after.text, before.text, `${type} changed the served metadata`);
    }
    // A truncated first download stores nothing; the next download is whole.
    v2.state.addVersion("acme/beta", pkg("acme/beta", "1.2.0"));
    assert.equal((await api("POST", `/admin/api/sources/${sources.v2.id}/sync`)).json.result.status, "ok");
    const meta = await api("GET", "/p2/acme/beta.json", { auth: basicAuth(token) });
    const distUrl = meta.json.packages["acme/beta"][0].dist.url;
    assert.match(distUrl, /^http:\/\/127\.0\.0\.1:\d+\/dist\/acme\/beta\/1\.2\.0\.0\//);
    v2.state.addFault({ path: "/dist/acme/beta/*", type: "truncate", count: 1 });
    // The broker answers only once the archive is stored whole: the broken transfer is a 502 with a
    // plain message, never a 200 whose body is short. (A body that neither ends nor fails within the
    // deadline fails the test.)
    const r = await fetch(distUrl, { headers: { authorization: basicAuth(token) }, signal: AbortSignal.timeout(60_000) });
    const text = await r.text();
    assert.equal(r.status, 502, `the broken first download: ${r.status} ${text.slice(0, 200)}`);
    assert.deepEqual(JSON.parse(text), { error: { code: "upstream", message: "the archive of acme/beta could not be fetched from its upstream" } });
    assert.equal(r.headers.get("cache-control"), "no-store");
    const detail = await api("GET", "/admin/api/packages/acme/beta");
    const v120 = detail.json.versions.find((v) => v.version === "1.2.0");
    assert.ok(!v120.sha256, `nothing stored for the truncated transfer: ${JSON.stringify(v120)}`);
    const whole = await fetch(distUrl, { headers: { authorization: basicAuth(token) }, signal: AbortSignal.timeout(30_000) });
    const bytes = Buffer.from(await whole.arrayBuffer());
    assert.equal(whole.status, 200);
    assert.equal(sha1(bytes), v2.state.dist("acme/beta", "1.2.0").shasum);
  });
});
