// End to end: GitHub (as GitHub Enterprise over plain http), GitLab and Bitbucket repositories as
// sources of package-broker under `scripts/dev`, with the fake hosts from tests/upstreams. Sources are
// created and synced through the admin API; the real composer client (Debian's 2.5.5) then installs
// from package-broker only (never from the fakes). Credentials reach the API hosts and never GitHub's
// codeload (its own origin). A tag pushed upstream appears after another sync, and after a signed
// GitLab or Bitbucket webhook (a redelivery is not synced twice); an upstream answering 500 leaves the
// installed versions resolvable.
//
// Bounded timeouts everywhere, 127.0.0.1 only; every process group and server is stopped in `after`.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fetchJson, freePort, startGroup, stopGroup, waitFor } from "./process.mjs";
import * as github from "../upstreams/github.mjs";
import * as gitlab from "../upstreams/gitlab.mjs";
import * as bitbucket from "../upstreams/bitbucket.mjs";
import { createRepo } from "../upstreams/repo-model.mjs";
import { fingerprint } from "../upstreams/server.mjs";

const ADMIN_TOKEN = "e2e-vcs-admin-token-7c1d9e";
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString("base64");
const FETCH_TIMEOUT_MS = 30_000;
const COMPOSER_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 300_000;

const GH_TOKEN = "ghp_e2e_vcs";
const GL_TOKEN = "glpat-e2e-vcs";
const BB_USER = { username: "ci-bot", password: "app-password-e2e" };

let port, origin, state, work, proc;
const servers = {};
const repos = {};
const sources = {};
const hooks = {};
let clientToken;

const logTail = (n = 40) => (proc?.output ?? "").split("\n").slice(-n).join("\n");

function http(method, p, { body, token } = {}) {
  const authorization = token ? `Basic ${Buffer.from(`token:${token}`).toString("base64")}` : `Bearer ${ADMIN_TOKEN}`;
  return fetchJson(origin + p, { method, headers: { authorization }, body, timeoutMs: FETCH_TIMEOUT_MS });
}
const why = (r, note) => `${note}: HTTP ${r.status}\n${r.text.slice(0, 1500)}\n--- worker log (tail) ---\n${logTail()}`;

// A repository whose tags each add a class printing their version.
function widgetRepo(name, ns, tags) {
  const repo = createRepo({ name, defaultBranch: "main", private: true });
  for (const t of tags) release(repo, name, ns, t);
  repo.commit("no-composer", { "composer.json": null, "other.txt": "x" }); // a branch composer must skip
  return repo;
}
function release(repo, name, ns, tag) {
  const v = tag.replace(/^v/, "");
  repo.commit("main", {
    "composer.json": { name, description: `${name} fixture`, autoload: { "psr-4": { [`${ns}\\`]: "src/" } }, require: { php: ">=7.4" } },
    "src/Says.php": `<?php\nnamespace ${ns};\nfinal class Says { public const VERSION = "${v}"; }\n`,
  }, { message: `release ${tag}` });
  repo.tag(tag);
}

async function sync(type) {
  const r = await http("POST", `/admin/api/sources/${sources[type]}/sync`);
  assert.equal(r.status, 200, why(r, `sync ${type}`));
  return r.json;
}

async function p2Versions(name) {
  const r = await http("GET", `/p2/${name}.json`, { token: clientToken });
  assert.equal(r.status, 200, why(r, `p2 ${name}`));
  // minified composer/2.0: the first entry carries every field, later ones the version at least
  return r.json.packages[name].map((v) => v.version);
}

function project(label, require) {
  const dir = path.join(work, label);
  const home = `${dir}.home`, cache = `${dir}.cache`;
  for (const d of [dir, home, cache]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(dir, "composer.json"), JSON.stringify({
    name: `e2e/${label}`, type: "project", require,
    repositories: [{ type: "composer", url: origin }, { "packagist.org": false }],
    config: { "secure-http": false },
  }, null, 2));
  writeFileSync(path.join(dir, "auth.json"), JSON.stringify({ "http-basic": { [`127.0.0.1:${port}`]: { username: "token", password: clientToken } } }));
  return { dir, home, cache };
}

function composer(p, args) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^COMPOSER_/.test(k) && !/^(https?|all|no)_proxy$/i.test(k)) env[k] = v;
  Object.assign(env, {
    COMPOSER_HOME: p.home, COMPOSER_CACHE_DIR: p.cache, COMPOSER_NO_INTERACTION: "1", COMPOSER_ALLOW_SUPERUSER: "1",
    GIT_SSH_COMMAND: "false", no_proxy: "127.0.0.1", NO_PROXY: "127.0.0.1",
  });
  return new Promise((resolve) => {
    execFile("composer", [...args, "--no-interaction", "--no-ansi"], { cwd: p.dir, env, timeout: COMPOSER_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 32 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal) : 0, output: `${stdout}${stderr}` }));
  });
}

function says(p, ns) {
  return execFileSync("php", ["-r", `require "vendor/autoload.php"; echo \\${ns}\\Says::VERSION;`], { cwd: p.dir, timeout: 30_000 }).toString();
}

const locked = (p) => Object.fromEntries(JSON.parse(readFileSync(path.join(p.dir, "composer.lock"), "utf8")).packages.map((x) => [x.name, x]));

describe("GitHub, GitLab and Bitbucket sources through package-broker", { timeout: 20 * 60_000 }, () => {
  before(async () => {
    for (const [cmd, args] of [["composer", ["--version"]], ["php", ["--version"]]]) {
      execFileSync(cmd, args, { stdio: "pipe", timeout: 30_000, env: { ...process.env, COMPOSER_ALLOW_SUPERUSER: "1" } });
    }
    work = mkdtempSync(path.join(tmpdir(), "pb-e2e-vcs-"));
    state = mkdtempSync(path.join(tmpdir(), "pb-e2e-vcs-state-"));
    repos.github = widgetRepo("acme/gh-widget", "Acme\\GhWidget", ["v1.0.0"]);
    repos.gitlab = widgetRepo("acme/gl-widget", "Acme\\GlWidget", ["v1.0.0", "v1.1.0"]);
    repos.bitbucket = widgetRepo("acme/bb-widget", "Acme\\BbWidget", ["1.0.0"]);
    // Small pages, so every listing takes more than one request.
    // A fine-grained token: it sees this private repository only.
    servers.github = await github.start({ repos: [repos.github, createRepo({ name: "acme/other", private: true })], token: GH_TOKEN, grants: { [GH_TOKEN]: ["acme/gh-widget"] }, perPageMax: 1 });
    servers.gitlab = await gitlab.start({ repos: [repos.gitlab], token: GL_TOKEN, perPageMax: 1 });
    servers.bitbucket = await bitbucket.start({ repos: [repos.bitbucket], credentials: [BB_USER], pagelenMax: 1 });

    port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    proc = startGroup("bash", ["scripts/dev"], {
      env: { PORT: String(port), PB_STATE_DIR: state, PB_SKIP_SETUP: "1", ADMIN_TOKEN, PB_ENCRYPTION_KEY: ENCRYPTION_KEY },
    });
    await waitFor(`${origin}/health`, { proc, seconds: 180 });

    const specs = {
      github: { type: "github", url: `${servers.github.url}/acme/gh-widget`, api_url: servers.github.apiUrl, credentials: { type: "bearer", token: GH_TOKEN } },
      gitlab: { type: "gitlab", url: `${servers.gitlab.url}/acme/gl-widget`, credentials: { type: "bearer", token: GL_TOKEN } },
      bitbucket: { type: "bitbucket", url: `${servers.bitbucket.url}/acme/bb-widget`, api_url: servers.bitbucket.apiUrl, credentials: { type: "basic", ...BB_USER } },
    };
    for (const [type, spec] of Object.entries(specs)) {
      const r = await http("POST", "/admin/api/sources", { body: spec });
      assert.equal(r.status, 201, why(r, `creating the ${type} source`));
      sources[type] = r.json.id;
      hooks[type] = { url: r.json.webhook_url, secret: r.json.webhook_secret };
    }
    const t = await http("POST", "/admin/api/tokens", { body: { name: "e2e-vcs" } });
    assert.equal(t.status, 201, why(t, "creating a token"));
    clientToken = t.json.token;
  }, { timeout: 300_000 });

  after(async () => {
    await stopGroup(proc);
    for (const s of Object.values(servers)) await s.stop();
    for (const d of [work, state]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("syncs each source type and composer installs from package-broker", { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const type of ["github", "gitlab", "bitbucket"]) {
      const r = await sync(type);
      assert.equal(r.result.status, "ok", `${type} sync: ${JSON.stringify(r)}\n${logTail()}`);
      assert.equal(r.result.packages, 1);
      // the branch without composer.json is skipped and reported
      assert.ok(r.result.errors.some((e) => e.includes("refs/heads/no-composer") && e.includes("no composer.json")), JSON.stringify(r));
    }
    assert.deepEqual(await p2Versions("acme/gl-widget"), ["v1.1.0", "v1.0.0"]);

    // Credentials reached each fake (and every API request carried them).
    const gh = servers.github.state.requests.filter((e) => e.path.startsWith("/api/v3/"));
    assert.ok(gh.length > 0 && gh.every((e) => e.auth?.fingerprint === fingerprint(GH_TOKEN)), JSON.stringify(gh.map((e) => [e.path, e.auth])));

    const p = project("all", { "acme/gh-widget": "^1.0", "acme/gl-widget": "^1.0", "acme/bb-widget": "^1.0" });
    const res = await composer(p, ["install"]);
    assert.equal(res.code, 0, `composer install\n${res.output}\n--- worker log ---\n${logTail()}`);
    assert.equal(says(p, "Acme\\GhWidget"), "1.0.0");
    assert.equal(says(p, "Acme\\GlWidget"), "1.1.0");
    assert.equal(says(p, "Acme\\BbWidget"), "1.0.0");
    const lock = locked(p);
    assert.equal(lock["acme/gh-widget"].dist.reference, repos.github.resolve("v1.0.0"));
    assert.match(lock["acme/gh-widget"].dist.url, new RegExp(`^${origin}/dist/acme/gh-widget/`));
    // composer never talked to the fakes: only package-broker did (archives fetched through it). The
    // zipball redirect went to codeload, another origin: the archive came without credentials, while
    // the API requests before it carried them.
    const zipball = servers.github.state.requests.filter((e) => /\/zipball\//.test(e.path));
    assert.ok(zipball.length > 0 && zipball.every((e) => e.auth?.fingerprint === fingerprint(GH_TOKEN)), JSON.stringify(zipball));
    const codeload = servers.github.codeload.state.requests;
    assert.ok(codeload.some((e) => e.status === 200), `the archive came from codeload: ${JSON.stringify(codeload)}`);
    assert.ok(codeload.every((e) => e.auth === null), `no credentials to codeload: ${JSON.stringify(codeload.map((e) => e.auth))}`);
    // Every upstream request said who it was (GitHub refuses requests without a User-Agent).
    for (const s of [servers.github, servers.github.codeload, servers.gitlab, servers.bitbucket])
      assert.ok(s.state.requests.every((e) => /^package-broker\//.test(e.headers["user-agent"] ?? "")), s.state.name);
  });

  it("a tag pushed upstream appears after another sync", { timeout: TEST_TIMEOUT_MS }, async () => {
    release(repos.github, "acme/gh-widget", "Acme\\GhWidget", "v1.1.0");
    const r = await sync("github");
    assert.equal(r.result.status, "ok", JSON.stringify(r));
    assert.deepEqual(await p2Versions("acme/gh-widget"), ["v1.1.0", "v1.0.0"]);
    const p = project("pushed", { "acme/gh-widget": "^1.1" });
    const res = await composer(p, ["install"]);
    assert.equal(res.code, 0, `composer install\n${res.output}\n--- worker log ---\n${logTail()}`);
    assert.equal(says(p, "Acme\\GhWidget"), "1.1.0");
  });

  for (const [type, event] of [["gitlab", "Tag Push Hook"], ["bitbucket", "repo:push"]]) {
    it(`a ${type} webhook brings a pushed tag; a redelivery does not sync again`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const name = `acme/${type === "gitlab" ? "gl" : "bb"}-widget`;
      const ns = type === "gitlab" ? "Acme\\GlWidget" : "Acme\\BbWidget";
      release(repos[type], name, ns, type === "gitlab" ? "v2.0.0" : "2.0.0");
      const server = servers[type];
      const payload = server.state.pushPayload(name, { ref: type === "gitlab" ? "v2.0.0" : "2.0.0" });
      const bad = await server.state.sendWebhook(hooks[type].url, event, payload, "not-the-secret");
      assert.equal(bad.status, 401, bad.body);
      const res = await server.state.sendWebhook(hooks[type].url, event, payload, hooks[type].secret);
      assert.equal(res.status, 202, res.body);
      const deadline = Date.now() + 60_000;
      let versions = [];
      while (Date.now() < deadline && !versions.includes(type === "gitlab" ? "v2.0.0" : "2.0.0")) {
        versions = await p2Versions(name);
        if (!versions.includes(type === "gitlab" ? "v2.0.0" : "2.0.0")) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(versions.includes(type === "gitlab" ? "v2.0.0" : "2.0.0"), `${JSON.stringify(versions)}\n${logTail()}`);
      // The provider redelivers the same delivery: answered, not synced again.
      server.state.clearRequests();
      const id = type === "gitlab" ? { "x-gitlab-event-uuid": res.delivery } : { "x-request-uuid": res.delivery };
      const again = await server.state.sendWebhook(hooks[type].url, event, payload, hooks[type].secret, { headers: id });
      assert.equal(again.status, 200, again.body);
      assert.match(again.body, /duplicate/);
      assert.equal(server.state.requests.length, 0, "no upstream request for a redelivery");
    });
  }

  it("an upstream answering 500 leaves the served versions installable", { timeout: TEST_TIMEOUT_MS }, async () => {
    servers.gitlab.state.addFault({ path: "/api/v4/*", type: "status500" });
    try {
      const r = await sync("gitlab");
      assert.equal(r.result.status, "error", JSON.stringify(r));
      const src = await http("GET", `/admin/api/sources/${sources.gitlab}`);
      assert.equal(src.json.last_sync.status, "error", src.text);
      assert.match(src.json.last_sync.error, /500/);
      assert.deepEqual(await p2Versions("acme/gl-widget"), ["v2.0.0", "v1.1.0", "v1.0.0"]);
      const p = project("fault", { "acme/gl-widget": "^1.0" });
      const res = await composer(p, ["install"]);
      assert.equal(res.code, 0, `composer install during the fault\n${res.output}\n--- worker log ---\n${logTail()}`);
      assert.equal(says(p, "Acme\\GlWidget"), "1.1.0");
    } finally {
      servers.gitlab.state.clearFaults();
    }
  });
});
