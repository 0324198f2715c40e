// Faithfulness check of the fake upstreams: the real composer client (Debian's composer 2.5.5) installs
// from each emulator directly (no package-broker in between), then unit checks of pagination, auth,
// webhooks, the packagist change feed, advisories and every fault. Everything listens on 127.0.0.1,
// every child process has a timeout, and every server is stopped in `after`.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

import { zipFiles, readZip, crc32 } from "./zip.mjs";
import { createRepo, repoFromSpec } from "./repo-model.mjs";
import { minify, expand } from "./composer-meta.mjs";
import { fingerprint } from "./server.mjs";
import { testTls } from "./tls.mjs";
import * as github from "./github.mjs";
import * as gitlab from "./gitlab.mjs";
import * as bitbucket from "./bitbucket.mjs";
import * as composerRepo from "./composer-repo.mjs";
import * as packagist from "./packagist.mjs";
import * as proxy from "./proxy.mjs";

const COMPOSER_TIMEOUT_MS = 120_000;
const FETCH_TIMEOUT_MS = 10_000;
const sha1 = (b) => createHash("sha1").update(b).digest("hex");
const stops = [];
const work = mkdtempSync(path.join(tmpdir(), "pb-upstreams-test-"));
after(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  rmSync(work, { recursive: true, force: true });
});
async function started(promise) { const h = await promise; stops.push(h.stop); return h; }
const get = (url, init = {}) => fetch(url, { redirect: "manual", ...init, signal: init.signal ?? AbortSignal.timeout(FETCH_TIMEOUT_MS) });

// ---------------------------------------------------------------------------------------------------
// composer

function run(cmd, args, { cwd, env, timeout = COMPOSER_TIMEOUT_MS } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout, killSignal: "SIGKILL", maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.killed ? "timeout" : error.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

let projects = 0;
// A composer project in a fresh dir with its own COMPOSER_HOME and cache. proxyUrl: https_proxy for the
// emulators that hard-code public hosts (the proxy refuses everything else).
function project({ require, repositories, config = {}, auth, proxyUrl, extra = {} }) {
  const dir = path.join(work, `project-${++projects}`);
  const home = path.join(dir, ".composer-home");
  mkdirSync(home, { recursive: true });
  writeFileSync(path.join(dir, "composer.json"), JSON.stringify({
    name: "test/project", type: "project", require,
    repositories: [...repositories, { "packagist.org": false }],
    config: { "secure-http": false, "notify-on-install": false, ...config },
    ...extra,
  }, null, 2));
  if (auth) writeFileSync(path.join(dir, "auth.json"), JSON.stringify(auth, null, 2));
  const env = {
    PATH: process.env.PATH, HOME: home, COMPOSER_HOME: home, COMPOSER_CACHE_DIR: path.join(dir, ".composer-cache"),
    COMPOSER_NO_INTERACTION: "1", COMPOSER_ALLOW_SUPERUSER: "1", COMPOSER_DISABLE_XDEBUG_WARN: "1",
    GIT_SSH_COMMAND: "false", GIT_TERMINAL_PROMPT: "0", LANG: "C",
    // never a proxy, except the emulators' own one when asked
    no_proxy: proxyUrl ? "" : "*", NO_PROXY: proxyUrl ? "" : "*",
    ...(proxyUrl ? { https_proxy: proxyUrl, HTTPS_PROXY: proxyUrl } : {}),
  };
  return {
    dir, env,
    composer: (...args) => run("composer", [...args, "--no-ansi", "-n"], { cwd: dir, env }),
    php: (code) => run("php", ["-r", code], { cwd: dir, env, timeout: 30_000 }),
  };
}
const out = (r) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

// The fixture package: a PSR-4 class whose output names the version, so autoloading is checked too.
const widgetFiles = (v, ns = "Acme\\Widget", cls = "Widget") => ({
  [`src/${cls}.php`]: `<?php\nnamespace ${ns};\n\nfinal class ${cls}\n{\n    public static function hello(): string\n    {\n        return '${cls} ${v}';\n    }\n}\n`,
  "README.md": `# ${cls} ${v}\n`,
});
const psr4 = (ns) => ({ "psr-4": { [`${ns}\\`]: "src/" } });
const helloCode = (ns, cls) => `require 'vendor/autoload.php'; echo \\${ns}\\${cls}::hello();`;

function vcsRepoSpec(name, tags, { ns = "Acme\\Widget", cls = "Widget", private: priv = false } = {}) {
  const repo = createRepo({ name, defaultBranch: "main", private: priv });
  for (const t of tags) {
    repo.commit("main", { "composer.json": { name, description: `${name} fixture`, autoload: psr4(ns), require: { php: ">=7.4" } }, ...widgetFiles(t.replace(/^v/, ""), ns, cls) }, { message: `release ${t}` });
    repo.tag(t);
  }
  // a branch without composer.json: composer must skip it, the emulator must answer 404 for the file
  repo.commit("no-composer", { "composer.json": null, "other.txt": "x" });
  return repo;
}

// ---------------------------------------------------------------------------------------------------
describe("composer installs from a private Composer repository", () => {
  for (const mode of composerRepo.MODES) {
    it(`mode ${mode}: resolves, downloads, verifies the shasum and autoloads (Basic auth, port in the auth.json key)`, { timeout: 180_000 }, async () => {
      const repo = await started(composerRepo.start({
        mode, username: "ci", password: "p4ss-" + mode,
        packages: [{ name: "acme/widget", versions: ["1.0.0", "1.1.0", "2.0.0-beta1"].map((v) => ({ version: v, description: "widget", autoload: psr4("Acme\\Widget"), files: widgetFiles(v) })) },
          { name: "acme/gadget", versions: [{ version: "0.3.0", require: { "acme/widget": "^1.0" }, autoload: psr4("Acme\\Gadget"), files: widgetFiles("0.3.0", "Acme\\Gadget", "Gadget") }] }],
      }));
      const host = `127.0.0.1:${repo.port}`;
      const p = project({
        require: { "acme/gadget": "^0.3" },
        repositories: [{ type: "composer", url: repo.url }],
        auth: { "http-basic": { [host]: { username: "ci", password: "p4ss-" + mode } } },
      });
      const r = await p.composer("update", "--prefer-dist");
      assert.equal(r.code, 0, out(r));
      const lock = JSON.parse(readFileSync(path.join(p.dir, "composer.lock"), "utf8"));
      const widget = lock.packages.find((x) => x.name === "acme/widget");
      assert.equal(widget.version, "1.1.0", "the highest stable 1.x");
      assert.equal(widget.dist.shasum, repo.state.dist("acme/widget", "1.1.0").shasum);
      const h = await p.php(helloCode("Acme\\Widget", "Widget") + ` echo "|"; echo \\Acme\\Gadget\\Gadget::hello();`);
      assert.equal(h.stdout, "Widget 1.1.0|Gadget 0.3.0", out(h));
      // every request carried the credentials; the archives were fetched once each
      assert.ok(repo.state.requests.every((e) => e.auth?.scheme === "basic" && e.auth.username === "ci" && e.auth.fingerprint === fingerprint("p4ss-" + mode)));
      assert.equal(repo.state.requests.filter((e) => e.path.startsWith("/dist/acme/widget/1.1.0/")).length, 1);
      assert.ok(!JSON.stringify(repo.state.requests).includes("p4ss-"), "secrets are not in the request log");
      if (mode === "v1-providers") assert.ok(repo.state.requests.some((e) => /^\/p\/acme\/widget\$[0-9a-f]{64}\.json$/.test(decodeURIComponent(e.path))));
      if (mode === "v1-includes") assert.ok(repo.state.requests.some((e) => /^\/include\/all\$[0-9a-f]{40}\.json$/.test(decodeURIComponent(e.path))));
      if (mode === "v2") assert.ok(repo.state.requests.some((e) => e.path === "/p2/acme/widget.json"));
    });
  }

  it("v2: a dist whose bytes do not match the shasum fails composer's checksum verification; no credentials -> 401", { timeout: 180_000 }, async () => {
    const repo = await started(composerRepo.start({ mode: "v2", username: "u", password: "pw", packages: [{ name: "acme/widget", versions: [{ version: "1.0.0", autoload: psr4("Acme\\Widget"), files: widgetFiles("1.0.0") }] }] }));
    repo.state.tamper.add("acme/widget@1.0.0");
    const p = project({ require: { "acme/widget": "^1.0" }, repositories: [{ type: "composer", url: repo.url }], auth: { "http-basic": { [`127.0.0.1:${repo.port}`]: { username: "u", password: "pw" } } } });
    const r = await p.composer("update", "--prefer-dist");
    assert.notEqual(r.code, 0, out(r));
    assert.match(r.stderr + r.stdout, /checksum verification of the file failed/i);

    const anon = project({ require: { "acme/widget": "^1.0" }, repositories: [{ type: "composer", url: repo.url }] });
    const r2 = await anon.composer("update", "--prefer-dist");
    assert.notEqual(r2.code, 0, out(r2));
    assert.match(r2.stderr, /required authentication \(HTTP 401\)/);
  });
});

describe("composer against the packagist emulator", () => {
  let pk;
  before(async () => {
    pk = await started(packagist.start({
      packages: [
        { name: "acme/lib", composer: { autoload: psr4("Acme\\Lib") }, versions: ["1.0.0", "1.1.0"].map((v) => ({ version: v, files: widgetFiles(v, "Acme\\Lib", "Lib") })) },
      ],
      advisories: [{ packageName: "acme/lib", affectedVersions: ">=1.0.0,<1.1.0", title: "Seeded RCE in acme/lib", cve: "CVE-2099-0001", advisoryId: "PKSA-seed-0001" }],
    }));
  });

  it("installs (zipball dist on the emulator, empty shasum), revalidates with If-Modified-Since -> 304, and `composer audit` reports the seeded advisory", { timeout: 240_000 }, async () => {
    const p = project({ require: { "acme/lib": "1.0.0" }, repositories: [{ type: "composer", url: pk.url }] });
    let r = await p.composer("update", "--prefer-dist");
    assert.equal(r.code, 0, out(r));
    const h = await p.php(helloCode("Acme\\Lib", "Lib"));
    assert.equal(h.stdout, "Lib 1.0.0", out(h));
    const sha = pk.state.packages.get("acme/lib").versions.get("1.0.0").sha;
    assert.ok(pk.state.requests.some((e) => e.path === `/acme/lib/zipball/${sha}` && e.status === 200));

    // second run: the p2 file is revalidated with the stored Last-Modified and answered 304
    pk.state.clearRequests();
    r = await p.composer("update", "--prefer-dist");
    assert.equal(r.code, 0, out(r));
    const p2 = pk.state.requests.filter((e) => e.path === "/p2/acme/lib.json");
    assert.ok(p2.length >= 1 && p2.every((e) => e.status === 304 && e.headers["if-modified-since"]), JSON.stringify(p2));

    // a published version changes Last-Modified: composer sees it
    pk.state.publish("acme/lib", "1.2.0", { autoload: psr4("Acme\\Lib"), files: widgetFiles("1.2.0", "Acme\\Lib", "Lib") });
    r = await p.composer("show", "--all", "acme/lib");
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /1\.2\.0/);

    r = await p.composer("audit", "--format=json");
    assert.notEqual(r.code, 0, "audit exits non-zero when advisories are found\n" + out(r));
    const report = JSON.parse(r.stdout);
    const adv = report.advisories["acme/lib"];
    const list = Array.isArray(adv) ? adv : Object.values(adv);
    assert.equal(list[0].advisoryId, "PKSA-seed-0001");
    assert.equal(list[0].cve, "CVE-2099-0001");
    const post = pk.state.requests.find((e) => e.method === "POST" && e.path === "/api/security-advisories/");
    assert.ok(post, "composer POSTed to the advertised api-url");
  });
});

describe("composer VCS drivers against the Git host emulators", () => {
  it("GitLab (self-hosted over http, gitlab-domains with the port, private project, gitlab-token)", { timeout: 180_000 }, async () => {
    const gl = await started(gitlab.start({ repos: [vcsRepoSpec("acme/widget", ["v1.0.0", "v1.1.0", "v1.2.0"], { private: true })], token: "glpat-secret", perPageMax: 2 }));
    const host = `127.0.0.1:${gl.port}`;
    const p = project({
      require: { "acme/widget": "^1.1" },
      repositories: [{ type: "vcs", url: `${gl.url}/acme/widget` }],
      config: { "gitlab-domains": ["gitlab.com", host] },
      auth: { "gitlab-token": { [host]: "glpat-secret" } },
    });
    const r = await p.composer("update", "--prefer-dist");
    assert.equal(r.code, 0, out(r));
    const h = await p.php(helloCode("Acme\\Widget", "Widget"));
    assert.equal(h.stdout, "Widget 1.2.0", out(h));
    const lock = JSON.parse(readFileSync(path.join(p.dir, "composer.lock"), "utf8"));
    assert.equal(lock.packages[0].dist.reference, gl.state.repos.get("acme/widget").resolve("v1.2.0"));
    assert.ok(gl.state.requests.some((e) => e.path.includes("/repository/archive.zip?sha=")));
    assert.ok(gl.state.requests.every((e) => e.auth?.scheme === "private-token" && e.auth.fingerprint === fingerprint("glpat-secret")));
  });

  it("GitHub Enterprise (https on 127.0.0.1 with the test CA as cafile, github-domains with the port, private repo, github-oauth)", { timeout: 180_000 }, async () => {
    const gh = await started(github.start({ tls: true, repos: [vcsRepoSpec("acme/widget", ["v1.0.0", "v1.1.0", "v1.2.0"], { private: true })], token: "ghp_secret", perPageMax: 2 }));
    const host = `127.0.0.1:${gh.port}`;
    const p = project({
      require: { "acme/widget": "^1.1" },
      repositories: [{ type: "vcs", url: `${gh.url}/acme/widget` }],
      config: { "github-domains": ["github.com", host], cafile: testTls().caFile, "secure-http": true },
      auth: { "github-oauth": { [host]: "ghp_secret" } },
    });
    const r = await p.composer("update", "--prefer-dist");
    assert.equal(r.code, 0, out(r));
    const h = await p.php(helloCode("Acme\\Widget", "Widget"));
    assert.equal(h.stdout, "Widget 1.2.0", out(h));
    // tags paginated 2 per page: composer followed the Link header
    assert.ok(gh.state.requests.some((e) => /\/tags\?per_page=100&page=2/.test(e.path)), gh.state.requests.map((e) => e.path).join("\n"));
    assert.ok(gh.state.requests.some((e) => e.path.startsWith("/_codeload/acme/widget/legacy.zip/") && e.status === 200));
    // GHE tokens travel as Basic token:x-oauth-basic
    assert.ok(gh.state.requests.filter((e) => e.path.startsWith("/api/v3/")).every((e) => e.auth?.fingerprint === fingerprint("x-oauth-basic") && e.auth.username === "ghp_secret" ? true : e.auth?.fingerprint === fingerprint("ghp_secret")));
  });

  it("Bitbucket Cloud (composer only knows https://api.bitbucket.org: reached through the CONNECT proxy, app password)", { timeout: 180_000 }, async () => {
    const bb = await started(bitbucket.start({ tls: true, repos: [vcsRepoSpec("acme/widget", ["v1.0.0", "v1.1.0", "v1.2.0"], { private: true })], credentials: [{ username: "ci-bot", password: "app-password" }], pagelenMax: 2 }));
    const px = await started(proxy.start({ routes: { "api.bitbucket.org": bb, "bitbucket.org": bb } }));
    const p = project({
      require: { "acme/widget": "^1.1" },
      repositories: [{ type: "vcs", url: "https://bitbucket.org/acme/widget" }],
      config: { cafile: testTls().caFile, "secure-http": true },
      auth: { "http-basic": { "bitbucket.org": { username: "ci-bot", password: "app-password" } } },
      proxyUrl: px.url,
    });
    const r = await p.composer("update", "--prefer-dist");
    assert.equal(r.code, 0, out(r));
    const h = await p.php(helloCode("Acme\\Widget", "Widget"));
    assert.equal(h.stdout, "Widget 1.2.0", out(h));
    assert.ok(bb.state.requests.some((e) => e.host === "api.bitbucket.org" && /refs\/tags.*page=2/.test(e.path)), "followed `next`");
    assert.ok(bb.state.requests.some((e) => e.host === "bitbucket.org" && /^\/acme\/widget\/get\/[0-9a-f]{40}\.zip$/.test(e.path) && e.status === 200));
    assert.ok(px.state.requests.every((e) => e.status === 200), JSON.stringify(px.state.requests));
  });

  it("GitHub as github.com (apiRoot, through the CONNECT proxy: api.github.com + codeload.github.com)", { timeout: 180_000 }, async () => {
    const gh = await started(github.start({ tls: true, apiRoot: true, repos: [vcsRepoSpec("acme/widget", ["v1.0.0", "v1.1.0"])], token: "ghp_public" }));
    const px = await started(proxy.start({ routes: { "api.github.com": gh, "codeload.github.com": gh, "github.com": gh } }));
    const p = project({
      require: { "acme/widget": "^1.0" },
      repositories: [{ type: "vcs", url: "https://github.com/acme/widget" }],
      config: { cafile: testTls().caFile, "secure-http": true },
      auth: { "github-oauth": { "github.com": "ghp_public" } },
      proxyUrl: px.url,
    });
    const r = await p.composer("update", "--prefer-dist");
    assert.equal(r.code, 0, out(r));
    const h = await p.php(helloCode("Acme\\Widget", "Widget"));
    assert.equal(h.stdout, "Widget 1.1.0", out(h));
    const api = gh.state.requests.filter((e) => e.host === "api.github.com");
    assert.ok(api.length > 0 && api.every((e) => e.auth?.scheme === "token" && e.auth.fingerprint === fingerprint("ghp_public")));
    // the token is not sent to codeload (another origin for composer)
    const cl = gh.state.requests.filter((e) => e.host === "codeload.github.com");
    assert.ok(cl.length === 1 && cl[0].auth === null && cl[0].status === 200, JSON.stringify(cl));
  });
});
