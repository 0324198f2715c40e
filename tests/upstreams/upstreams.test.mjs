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
      assert.ok(repo.state.requests.length > 0 && repo.state.requests.every((e) => e.auth?.scheme === "basic" && e.auth.username === "ci" && e.auth.fingerprint === fingerprint("p4ss-" + mode)));
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
    assert.match(r2.stderr.replace(/\s*\n\s*/g, ""), /required authentication \(HTTP 401\)/);
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
    const post = pk.api.state.requests.find((e) => e.method === "POST" && e.path === "/api/security-advisories/");
    assert.ok(post, "composer POSTed to the advertised api-url, on the API origin");
    assert.ok(!pk.state.requests.some((e) => e.path.startsWith("/api/")), "nothing asked the metadata origin for the API");
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
    assert.ok(gl.state.requests.length > 0 && gl.state.requests.every((e) => e.auth?.scheme === "private-token" && e.auth.fingerprint === fingerprint("glpat-secret")));
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
    assert.ok(gh.state.requests.some((e) => /\/tags\?per_page=\d+&page=2$/.test(e.path)), gh.state.requests.map((e) => e.path).join("\n"));
    assert.ok(gh.codeload.state.requests.some((e) => e.path.startsWith("/acme/widget/legacy.zip/") && e.status === 200));
    // GHE tokens travel as Basic token:x-oauth-basic
    const api = gh.state.requests.filter((e) => e.path.startsWith("/api/v3/"));
    assert.ok(api.length > 0 && api.every((e) => e.auth?.scheme === "basic" && e.auth.username === "ghp_secret" && e.auth.fingerprint === fingerprint("x-oauth-basic")), JSON.stringify(api.map((e) => e.auth)));
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
    assert.ok(px.state.requests.length > 0 && px.state.requests.every((e) => e.status === 200), JSON.stringify(px.state.requests));
  });

  it("GitHub as github.com (apiRoot, through the CONNECT proxy: api.github.com + codeload.github.com)", { timeout: 180_000 }, async () => {
    const gh = await started(github.start({ tls: true, apiRoot: true, repos: [vcsRepoSpec("acme/widget", ["v1.0.0", "v1.1.0"])], token: "ghp_public" }));
    const px = await started(proxy.start({ routes: { "api.github.com": gh, "codeload.github.com": gh.codeload, "github.com": gh } }));
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
    const cl = gh.codeload.state.requests.filter((e) => e.host === "codeload.github.com");
    assert.ok(cl.length === 1 && cl[0].auth === null && cl[0].status === 200, JSON.stringify(cl));
  });
});

// ---------------------------------------------------------------------------------------------------
// unit checks

describe("zip writer, repository model, minifier", () => {
  it("same files give byte-identical archives with correct CRCs; unzip accepts them", async () => {
    const files = { "b.txt": "hello\n".repeat(50), "a/c.php": "<?php\n", "empty": "" };
    const z1 = zipFiles(files, { prefix: "acme-widget-abc1234/", directories: true });
    const z2 = zipFiles({ empty: "", "a/c.php": "<?php\n", "b.txt": "hello\n".repeat(50) }, { prefix: "acme-widget-abc1234/", directories: true });
    assert.equal(sha1(z1), sha1(z2));
    const entries = readZip(z1);
    assert.deepEqual(entries.map((e) => e.name), ["acme-widget-abc1234/", "acme-widget-abc1234/a/", "acme-widget-abc1234/a/c.php", "acme-widget-abc1234/b.txt", "acme-widget-abc1234/empty"]);
    assert.equal(entries.find((e) => e.name.endsWith("b.txt")).data.toString(), "hello\n".repeat(50));
    assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
    const f = path.join(work, "t.zip");
    writeFileSync(f, z1);
    const t = await run("unzip", ["-t", f], { timeout: 30_000 });
    assert.equal(t.code, 0, out(t));
  });

  it("repository model: shas, refs, files and provider archive layouts", () => {
    const r = createRepo({ name: "acme/widget" });
    const a = r.commit("main", { "composer.json": { name: "acme/widget" }, "src/A.php": "<?php" });
    assert.match(a, /^[0-9a-f]{40}$/);
    r.tag("v1.0.0", a);
    const b = r.commit("main", { "src/B.php": "<?php" });
    assert.deepEqual(r.tags(), [{ name: "v1.0.0", sha: a }]);
    assert.deepEqual(r.branches(), [{ name: "main", sha: b }]);
    assert.equal(r.fileAt("v1.0.0", "src/B.php"), null);
    assert.equal(r.fileAt("main", "src/B.php").toString(), "<?php");
    assert.equal(r.resolve(a.slice(0, 7)), a);
    assert.equal(readZip(r.archive("v1.0.0", "github"))[0].name, `acme-widget-${a.slice(0, 7)}/`);
    assert.equal(readZip(r.archive("v1.0.0", "gitlab"))[0].name, `widget-v1.0.0-${a}/`);
    assert.equal(readZip(r.archive("v1.0.0", "bitbucket"))[0].name, `acme-widget-${a.slice(0, 12)}/`);
    // same history => same shas and bytes
    const r2 = createRepo({ name: "acme/widget" });
    assert.equal(r2.commit("main", { "composer.json": { name: "acme/widget" }, "src/A.php": "<?php" }), a);
    r2.tag("v1.0.0", a);
    assert.equal(sha1(r2.archive("v1.0.0", "github")), sha1(r.archive("v1.0.0", "github")));
  });

  it("minify/expand round-trip with __unset", () => {
    const v = [{ name: "a/b", version: "2.0.0", require: { php: ">=8" }, extra: { x: 1 } }, { name: "a/b", version: "1.0.0", require: { php: ">=7" } }, { name: "a/b", version: "0.1.0", require: { php: ">=7" }, bin: ["x"] }];
    const m = minify(v);
    assert.deepEqual(m[1], { version: "1.0.0", require: { php: ">=7" }, extra: "__unset" });
    assert.deepEqual(m[2], { version: "0.1.0", bin: ["x"] });
    assert.deepEqual(expand(m), v);
  });
});

// A webhook receiver on 127.0.0.1 that records what it got.
async function receiver() {
  const got = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => { got.push({ headers: req.headers, body: Buffer.concat(chunks) }); res.writeHead(204); res.end(); });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  stops.push(() => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }));
  return { url: `http://127.0.0.1:${srv.address().port}/hooks/1`, got };
}
const hmacOk = (secret, body, header, prefix = "sha256=") => {
  const want = Buffer.from(prefix + createHmac("sha256", secret).update(body).digest("hex"));
  const have = Buffer.from(String(header));
  return want.length === have.length && timingSafeEqual(want, have);
};
async function collectGithubPages(url, headers) {
  const names = [];
  let next = url, pages = 0;
  while (next && pages++ < 20) {
    const r = await get(next, { headers });
    assert.equal(r.status, 200);
    assert.ok(r.headers.get("x-ratelimit-limit") && r.headers.get("x-ratelimit-remaining") && r.headers.get("x-ratelimit-reset"));
    names.push(...(await r.json()).map((t) => t.name ?? t.ref));
    next = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get("link") ?? "")?.[1];
  }
  return { names, pages };
}

describe("GitHub emulator", () => {
  let gh;
  before(async () => {
    gh = await started(github.start({ perPageMax: 2, token: "ghp_unit", repos: [
      repoFromSpec({ name: "acme/widget", tags: ["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0", "v2.1.0"], branches: ["develop", "feature/x"] }),
      repoFromSpec({ name: "acme/secret", private: true, tags: ["v1.0.0"] }),
    ] }));
  });
  it("paginates tags and branches with Link rel=next, capped by perPageMax; rate-limit headers on every response", async () => {
    const tags = await collectGithubPages(`${gh.apiUrl}/repos/acme/widget/tags?per_page=100`);
    assert.deepEqual(tags.names, ["v2.1.0", "v2.0.0", "v1.2.0", "v1.1.0", "v1.0.0"]);
    assert.equal(tags.pages, 3);
    const branches = await collectGithubPages(`${gh.apiUrl}/repos/acme/widget/branches`);
    assert.deepEqual(branches.names.sort(), ["develop", "feature/x", "main"]);
    // anonymous requests: the anonymous bucket
    const before = gh.state.anonRateLimit.remaining;
    await (await get(`${gh.apiUrl}/repos/acme/widget`)).arrayBuffer();
    assert.equal(gh.state.anonRateLimit.remaining, before - 1);
  });
  it("contents as JSON (base64) and raw; zipball redirects to codeload on its own origin", async () => {
    const j = await (await get(`${gh.apiUrl}/repos/acme/widget/contents/composer.json?ref=v1.1.0`)).json();
    assert.equal(j.encoding, "base64");
    assert.equal(JSON.parse(Buffer.from(j.content, "base64").toString()).name, "acme/widget");
    const rawR = await get(`${gh.apiUrl}/repos/acme/widget/contents/VERSION?ref=v1.1.0`, { headers: { accept: "application/vnd.github.raw" } });
    assert.equal(await rawR.text(), "v1.1.0\n");
    assert.equal((await get(`${gh.apiUrl}/repos/acme/widget/contents/nope.json?ref=v1.1.0`)).status, 404);
    const z = await get(`${gh.apiUrl}/repos/acme/widget/zipball/v1.1.0`);
    assert.equal(z.status, 302);
    const loc = z.headers.get("location");
    assert.ok(loc.startsWith(gh.codeloadUrl + "/acme/widget/legacy.zip/"), loc);
    assert.notEqual(new URL(gh.codeloadUrl).origin, new URL(gh.url).origin);
    assert.equal((await get(`${gh.url}/acme/widget/legacy.zip/v1.1.0`)).status, 404, "no archives on the API host");
    const zip = Buffer.from(await (await get(loc)).arrayBuffer());
    const sha = gh.state.repos.get("acme/widget").resolve("v1.1.0");
    assert.equal(readZip(zip)[0].name, `acme-widget-${sha.slice(0, 7)}/`);
  });
  it("auth: private repo is 404 without a token, 401 with a bad one, 200 with Bearer / token / Basic", async () => {
    const u = `${gh.apiUrl}/repos/acme/secret`;
    assert.equal((await get(u)).status, 404);
    assert.equal((await get(u, { headers: { authorization: "Bearer nope" } })).status, 401);
    for (const a of ["Bearer ghp_unit", "token ghp_unit", "Basic " + Buffer.from("ghp_unit:x-oauth-basic").toString("base64")]) {
      assert.equal((await get(u, { headers: { authorization: a } })).status, 200, a);
    }
    const logged = gh.state.requests.filter((e) => e.path === "/api/v3/repos/acme/secret");
    assert.ok(logged.length >= 5, `${logged.length} requests logged`);
    assert.ok(logged.every((e) => !JSON.stringify(e).includes("ghp_unit") || e.auth?.username === "ghp_unit"), "tokens are redacted in headers");
    assert.ok(logged.some((e) => e.auth?.scheme === "bearer" && e.auth.fingerprint === fingerprint("ghp_unit")));
  });
  it("webhooks: push and create events signed with X-Hub-Signature-256", async () => {
    const rx = await receiver();
    const repo = gh.state.repos.get("acme/widget");
    repo.commit("main", { "NEW.txt": "x" });
    const sha = repo.tag("v3.0.0");
    const res = await gh.state.sendWebhook(rx.url, "push", gh.state.pushPayload("acme/widget", { ref: "v3.0.0" }), "hook-secret");
    assert.equal(res.status, 204);
    await gh.state.sendWebhook(rx.url, "create", gh.state.createPayload("acme/widget", { ref: "v3.0.0" }), "hook-secret");
    const [push, create] = rx.got;
    assert.equal(push.headers["x-github-event"], "push");
    assert.match(push.headers["x-github-delivery"], /^[0-9a-f-]{36}$/);
    assert.ok(hmacOk("hook-secret", push.body, push.headers["x-hub-signature-256"]));
    assert.ok(!hmacOk("other-secret", push.body, push.headers["x-hub-signature-256"]));
    const payload = JSON.parse(push.body);
    assert.equal(payload.ref, "refs/tags/v3.0.0");
    assert.equal(payload.after, sha);
    assert.equal(payload.repository.full_name, "acme/widget");
    assert.equal(create.headers["x-github-event"], "create");
    assert.equal(JSON.parse(create.body).ref_type, "tag");
  });
  it("403 without a User-Agent, as GitHub answers it", async () => {
    const { request } = await import("node:http");
    const res = await new Promise((resolve, reject) => {
      const r = request(`${gh.apiUrl}/repos/acme/widget`, { headers: {} }, (m) => {
        let body = "";
        m.on("data", (c) => (body += c));
        m.on("end", () => resolve({ status: m.statusCode, type: m.headers["content-type"], body }));
      });
      r.on("error", reject);
      r.end();
    });
    assert.equal(res.status, 403);
    assert.equal(res.type, "text/html");
    assert.match(res.body, /Request forbidden by administrative rules\. Please make sure your request has a User-Agent header/);
    assert.equal((await get(`${gh.apiUrl}/repos/acme/widget`, { headers: { "user-agent": "test" } })).status, 200);
  });
  it("per-repository grants: a valid token without access to a private repository gets 404", async () => {
    const g = await started(github.start({ tokens: ["ghp_all", "ghp_one"], grants: { ghp_one: ["acme/one"] }, repos: [
      { name: "acme/one", private: true, tags: ["v1.0.0"] }, { name: "acme/two", private: true, tags: ["v1.0.0"] }, { name: "acme/pub", tags: ["v1.0.0"] },
    ] }));
    const as = (t) => ({ headers: { authorization: `Bearer ${t}` } });
    assert.equal((await get(`${g.apiUrl}/repos/acme/one`, as("ghp_one"))).status, 200);
    assert.equal((await get(`${g.apiUrl}/repos/acme/two`, as("ghp_one"))).status, 404);
    assert.equal((await get(`${g.apiUrl}/repos/acme/pub`, as("ghp_one"))).status, 200);
    assert.equal((await get(`${g.apiUrl}/repos/acme/two`, as("ghp_all"))).status, 200);
    assert.equal((await get(`${g.apiUrl}/repos/acme/two`, as("ghp_nope"))).status, 401);
  });
  it("anonymous requests count against their own rate-limit bucket", async () => {
    const g = await started(github.start({ token: "ghp_t", anonRateLimit: 2, repos: [{ name: "acme/pub", tags: ["v1.0.0"] }] }));
    const anon = await get(`${g.apiUrl}/repos/acme/pub`);
    assert.equal(anon.headers.get("x-ratelimit-limit"), "2");
    assert.equal((await get(`${g.apiUrl}/repos/acme/pub`)).status, 200);
    const refused = await get(`${g.apiUrl}/repos/acme/pub`);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get("x-ratelimit-remaining"), "0");
    const authed = await get(`${g.apiUrl}/repos/acme/pub`, { headers: { authorization: "token ghp_t" } });
    assert.equal(authed.status, 200);
    assert.equal(authed.headers.get("x-ratelimit-limit"), "5000");
  });
  it("requireAuth and the GitHub-style rate limit (403, remaining 0, reset)", async () => {
    gh.state.rateLimit.remaining = 0;
    const r = await get(`${gh.apiUrl}/repos/acme/widget`, { headers: { authorization: "token ghp_unit" } });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(Number(r.headers.get("x-ratelimit-reset")) > Date.now() / 1000);
    gh.state.rateLimit.remaining = 5000;
    const strict = await started(github.start({ requireAuth: true, token: "t", repos: [{ name: "acme/widget", tags: ["v1.0.0"] }] }));
    assert.equal((await get(`${strict.apiUrl}/repos/acme/widget`)).status, 401);
    assert.equal((await get(`${strict.apiUrl}/repos/acme/widget`, { headers: { authorization: "token t" } })).status, 200);
  });
});

describe("GitLab emulator", () => {
  let gl;
  before(async () => { gl = await started(gitlab.start({ perPageMax: 2, token: "glpat-unit", repos: [{ name: "group/widget", private: true, tags: ["v1.0.0", "v1.1.0", "v1.2.0"], branches: ["develop"] }] })); });
  it("pagination headers (X-Next-Page, X-Total-Pages, Link) and auth (PRIVATE-TOKEN, Bearer; 404 without, 401 bad)", async () => {
    const base = `${gl.apiUrl}/projects/${encodeURIComponent("group/widget")}`;
    assert.equal((await get(base)).status, 404);
    assert.equal((await get(base, { headers: { "private-token": "bad" } })).status, 401);
    assert.equal((await get(base, { headers: { authorization: "Bearer glpat-unit" } })).status, 200);
    const h = { "private-token": "glpat-unit" };
    const r1 = await get(`${base}/repository/tags?per_page=100`, { headers: h });
    assert.equal(r1.headers.get("x-next-page"), "2");
    assert.equal(r1.headers.get("x-total-pages"), "2");
    assert.equal(r1.headers.get("x-total"), "3");
    assert.match(r1.headers.get("link"), /rel="next"/);
    const r2 = await get(`${base}/repository/tags?per_page=2&page=2`, { headers: h });
    assert.equal(r2.headers.get("x-next-page"), "");
    assert.deepEqual([...(await r1.json()), ...(await r2.json())].map((t) => t.name), ["v1.2.0", "v1.1.0", "v1.0.0"]);
    const raw1 = await get(`${base}/repository/files/VERSION/raw?ref=v1.1.0`, { headers: h });
    assert.equal(await raw1.text(), "v1.1.0\n");
    const zip = Buffer.from(await (await get(`${base}/repository/archive.zip?sha=v1.1.0`, { headers: h })).arrayBuffer());
    assert.match(readZip(zip)[0].name, /^widget-v1\.1\.0-[0-9a-f]{40}\/$/);
  });
  it("webhooks: Tag Push Hook with X-Gitlab-Token", async () => {
    const rx = await receiver();
    await gl.state.sendWebhook(rx.url, "Tag Push Hook", gl.state.pushPayload("group/widget", { ref: "v1.2.0" }), "gl-secret");
    const [hook] = rx.got;
    assert.equal(hook.headers["x-gitlab-event"], "Tag Push Hook");
    assert.equal(hook.headers["x-gitlab-token"], "gl-secret");
    const body = JSON.parse(hook.body);
    assert.equal(body.object_kind, "tag_push");
    assert.equal(body.ref, "refs/tags/v1.2.0");
    assert.equal(body.project.path_with_namespace, "group/widget");
  });
});

describe("Bitbucket emulator", () => {
  let bb;
  before(async () => { bb = await started(bitbucket.start({ pagelenMax: 2, credentials: [{ username: "bot", password: "app-pw" }], token: "bb-access", repos: [{ name: "team/widget", private: true, tags: ["v1.0.0", "v1.1.0", "v1.2.0"] }] })); });
  it("pagination via `next` in the body; Basic app password and Bearer; 404 anonymous, 401 bad", async () => {
    const base = `${bb.apiUrl}/repositories/team/widget`;
    assert.equal((await get(base)).status, 404);
    assert.equal((await get(base, { headers: { authorization: "Basic " + Buffer.from("bot:wrong").toString("base64") } })).status, 401);
    assert.equal((await get(base, { headers: { authorization: "Bearer bb-access" } })).status, 200);
    const h = { authorization: "Basic " + Buffer.from("bot:app-pw").toString("base64") };
    const repoJson = await (await get(base, { headers: h })).json();
    assert.equal(repoJson.mainbranch.name, "main");
    let next = `${base}/refs/tags?pagelen=100`, names = [], pages = 0;
    while (next && pages++ < 10) { const j = await (await get(next, { headers: h })).json(); names.push(...j.values.map((v) => v.name)); next = j.next; }
    assert.deepEqual(names, ["v1.0.0", "v1.1.0", "v1.2.0"]);
    assert.equal(pages, 2);
    const src = await get(`${base}/src/${bb.state.repos.get("team/widget").resolve("v1.1.0")}/VERSION`, { headers: h });
    assert.equal(await src.text(), "v1.1.0\n");
    const zip = Buffer.from(await (await get(`${bb.url}/team/widget/get/v1.1.0.zip`, { headers: h })).arrayBuffer());
    assert.match(readZip(zip)[0].name, /^team-widget-[0-9a-f]{12}\/$/);
  });
  it("webhooks: repo:push with X-Hub-Signature sha256", async () => {
    const rx = await receiver();
    await bb.state.sendWebhook(rx.url, "repo:push", bb.state.pushPayload("team/widget", { ref: "v1.2.0" }), "bb-secret");
    const [hook] = rx.got;
    assert.equal(hook.headers["x-event-key"], "repo:push");
    assert.ok(hmacOk("bb-secret", hook.body, hook.headers["x-hub-signature"]));
    const body = JSON.parse(hook.body);
    assert.equal(body.push.changes[0].new.type, "tag");
    assert.equal(body.push.changes[0].new.name, "v1.2.0");
    assert.equal(body.repository.full_name, "team/widget");
  });
});

describe("packagist emulator: change feed, Last-Modified, advisories", () => {
  let pk;
  before(async () => { pk = await started(packagist.start({ packages: [{ name: "acme/a", versions: ["1.0.0", "dev-main"] }, { name: "acme/b", versions: ["2.0.0"] }], advisories: [{ packageName: "acme/a", affectedVersions: "<1.0.1" }] })); });
  it("changes.json: 400 with the current timestamp without since; update, delete and resync actions", async () => {
    assert.equal((await get(`${pk.url}/metadata/changes.json`)).status, 404, "the feed is not on the metadata origin");
    const r0 = await get(`${pk.apiUrl}/metadata/changes.json`);
    assert.equal(r0.status, 400);
    const { timestamp: t0, error } = await r0.json();
    assert.match(error, /since/);
    assert.ok(Math.abs(t0 - Date.now() * 10) < 60_000 * 10);
    const before = await get(`${pk.url}/p2/acme/a.json`);
    const lm0 = before.headers.get("last-modified");
    pk.state.publish("acme/a", "1.1.0");
    pk.state.publish("acme/a", "dev-feature");
    pk.state.remove("acme/b");
    const feed = await (await get(`${pk.apiUrl}/metadata/changes.json?since=${t0}`)).json();
    assert.deepEqual(feed.actions.map((a) => [a.type, a.package]), [["update", "acme/a"], ["update", "acme/a~dev"], ["delete", "acme/b"]]);
    assert.ok(feed.timestamp > t0);
    const again = await (await get(`${pk.apiUrl}/metadata/changes.json?since=${feed.timestamp}`)).json();
    assert.deepEqual(again.actions, []);
    // the p2 file changed: new Last-Modified >= action time; 304 with the new one, 200 with the old one
    const r = await get(`${pk.url}/p2/acme/a.json`);
    const lm = r.headers.get("last-modified");
    assert.ok(Date.parse(lm) > Date.parse(lm0));
    assert.ok(Date.parse(lm) / 1000 >= feed.actions[0].time);
    assert.ok((await r.json()).packages["acme/a"].some((v) => v.version === "1.1.0"));
    const r304 = await get(`${pk.url}/p2/acme/a.json`, { headers: { "if-modified-since": lm } });
    assert.equal(r304.status, 304);
    assert.equal((await r304.arrayBuffer()).byteLength, 0);
    assert.equal((await get(`${pk.url}/p2/acme/a.json`, { headers: { "if-modified-since": lm0 } })).status, 200);
    assert.equal((await get(`${pk.url}/p2/acme/b.json`)).status, 404);
    // older than the retained log => resync
    pk.state.advanceClock(25 * 3600 * 1000);
    const old = await (await get(`${pk.apiUrl}/metadata/changes.json?since=${t0}`)).json();
    assert.deepEqual(old.actions.map((a) => [a.type, a.package]), [["resync", "*"]]);
  });
  it("security advisories: POST form-encoded and GET, [] for known packages without advisories, updatedSince", async () => {
    assert.equal((await get(`${pk.url}/api/security-advisories/?packages[]=acme/a`)).status, 404, "not on the metadata origin");
    const root = await (await get(`${pk.url}/packages.json`)).json();
    assert.equal(root["security-advisories"]["api-url"], `${pk.apiUrl}/api/security-advisories/`);
    assert.equal(root["metadata-changes-url"], `${pk.apiUrl}/metadata/changes.json`);
    const post = await get(`${pk.apiUrl}/api/security-advisories/`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "packages[]=acme/a&packages[]=acme/c&packages[]=unknown/x" });
    pk.state.publish("acme/c", "1.0.0");
    const j = await post.json();
    assert.equal(j.advisories["acme/a"][0].affectedVersions, "<1.0.1");
    for (const k of ["advisoryId", "packageName", "remoteId", "title", "link", "cve", "affectedVersions", "source", "reportedAt", "composerRepository", "severity", "sources"]) assert.ok(k in j.advisories["acme/a"][0], k);
    assert.ok(!("unknown/x" in j.advisories));
    const g = await (await get(`${pk.apiUrl}/api/security-advisories/?packages[]=acme/c`)).json();
    assert.deepEqual(g.advisories, { "acme/c": [] });
    const since = await (await get(`${pk.apiUrl}/api/security-advisories/?updatedSince=${Math.floor(Date.now() / 1000) - 3600}`)).json();
    assert.ok(since.advisories["acme/a"].length === 1);
    assert.equal((await get(`${pk.apiUrl}/api/security-advisories/`)).status, 400);
  });
  it("security advisories: parameters read as PHP reads them", async () => {
    const ask = async (query, body) => {
      const r = await get(`${pk.apiUrl}/api/security-advisories/${query}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
      return { status: r.status, names: Object.keys((await r.json()).advisories ?? {}) };
    };
    assert.deepEqual(await ask("", "packages%5B0%5D=acme%2Fa"), { status: 200, names: ["acme/a"] });  // http_build_query's form
    assert.deepEqual(await ask("?packages=acme/b&packages=acme/a", ""), { status: 200, names: ["acme/a"] });  // last plain value wins
    assert.deepEqual(await ask("?packages[]=nope/x", "packages[]=acme/a"), { status: 200, names: [] });  // the query before the body
    assert.equal((await ask("", `updatedSince=${Math.floor(Date.now() / 1000) - 3600}`)).status, 400);  // updatedSince: query only
  });
});

describe("faults and the request log", () => {
  let pk, gh, gl;
  before(async () => {
    pk = await started(packagist.start({ packages: [{ name: "acme/a", versions: ["1.0.0"] }] }));
    gh = await started(github.start({ repos: [{ name: "acme/widget", tags: ["v1.0.0"] }] }));
    gl = await started(gitlab.start({ repos: [{ name: "acme/widget", tags: ["v1.0.0"] }] }));
  });
  it("status500 applies `count` times, then the server answers normally", async () => {
    pk.state.addFault({ path: "/p2/*", type: "status500", count: 2 });
    assert.equal((await get(`${pk.url}/p2/acme/a.json`)).status, 500);
    assert.equal((await get(`${pk.url}/packages.json`)).status, 200, "other paths unaffected");
    assert.equal((await get(`${pk.url}/p2/acme/a.json`)).status, 500);
    assert.equal((await get(`${pk.url}/p2/acme/a.json`)).status, 200);
    assert.deepEqual(pk.state.requests.filter((e) => e.path === "/p2/acme/a.json").map((e) => e.fault), ["status500", "status500", null]);
  });
  it("timeout: accepted, never answered; stop() ends it", async () => {
    const s = await packagist.start({ packages: [{ name: "acme/a", versions: ["1.0.0"] }] });
    try {
      s.state.addFault({ path: "/packages.json", type: "timeout" });
      await assert.rejects(get(`${s.url}/packages.json`, { signal: AbortSignal.timeout(500) }), /abort|timeout/i);
      const pending = get(`${s.url}/packages.json`, { signal: AbortSignal.timeout(60_000) }).catch((e) => e);
      // Wait until the server holds the request, then stop: the request must fail because of stop()
      // (its own 60 s abort would say "abort"/"timeout"), not hang until the fault's 10-minute cap.
      const deadline = Date.now() + 30_000;
      while (s.state.requests.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(s.state.requests.length, 2, "the second request reached the server");
      await s.stop();
      const e = await pending;
      assert.ok(e instanceof Error && !/abort|timeout/i.test(e.name), `the hanging request failed at stop(): ${e}`);
    } finally { await s.stop(); }
  });
  it("archives built on the fly stream chunked, without a length (codeload, GitLab, packagist zipballs)", async () => {
    const sha = pk.state.packages.get("acme/a").versions.get("1.0.0").sha;
    const zipball = await get(`${pk.url}/acme/a/zipball/${sha}`);
    const codeload = await get(new URL((await get(`${gh.apiUrl}/repos/acme/widget/zipball/v1.0.0`)).headers.get("location"), gh.url).href);
    const archive = await get(`${gl.apiUrl}/projects/acme%2Fwidget/repository/archive.zip?sha=v1.0.0`);
    for (const [what, r] of [["zipball", zipball], ["codeload", codeload], ["gitlab", archive]]) {
      assert.equal(r.status, 200, what);
      assert.equal(r.headers.get("content-length"), null, `${what}: no Content-Length`);
      assert.equal(r.headers.get("transfer-encoding"), "chunked", what);
      assert.equal(readZip(Buffer.from(await r.arrayBuffer())).length > 0, true, `${what}: a whole zip`);
    }
  });
  it("archiveGzip: an archive gzip-encoded for a client that accepts it, identity otherwise", async () => {
    const g = await started(github.start({ repos: [{ name: "acme/widget", tags: ["v1.0.0"] }], archiveGzip: true }));
    const loc = new URL((await get(`${g.apiUrl}/repos/acme/widget/zipball/v1.0.0`)).headers.get("location"), g.url).href;
    const gz = await get(loc, { headers: { "accept-encoding": "gzip" } });
    assert.equal(gz.headers.get("content-encoding"), "gzip");
    const zip = Buffer.from(await gz.arrayBuffer()); // fetch decodes it
    assert.ok(readZip(zip).length > 0);
    const plain = await get(loc, { headers: { "accept-encoding": "identity" } });
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.ok(Buffer.from(await plain.arrayBuffer()).equals(zip));
  });
  it("truncate: half the body, then the socket is destroyed (short against its Content-Length, or chunked without its last chunk)", async () => {
    const sha = pk.state.packages.get("acme/a").versions.get("1.0.0").sha;
    pk.state.addFault({ path: "/acme/a/zipball/*", type: "truncate", count: 1 });
    const r = await get(`${pk.url}/acme/a/zipball/${sha}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-length"), null);
    await assert.rejects(r.arrayBuffer());
    const ok = await get(`${pk.url}/acme/a/zipball/${sha}`);
    assert.ok(readZip(Buffer.from(await ok.arrayBuffer())).length > 0);
    const repo = await started(composerRepo.start({ mode: "v2", packages: [{ name: "acme/s", versions: [{ version: "1.0.0" }] }] }));
    try {
      const dist = repo.state.dist("acme/s", "1.0.0");
      const url = `${repo.url}/dist/acme/s/1.0.0/${dist.reference}.zip`;
      const auth = { authorization: "Basic " + Buffer.from("user:secret").toString("base64") };
      repo.state.addFault({ path: "/dist/*", type: "truncate", count: 1 });
      const cut = await get(url, { headers: auth });
      assert.equal(cut.headers.get("content-length"), String(dist.zip.length), "a static file keeps its length");
      await assert.rejects(cut.arrayBuffer());
      assert.ok(Buffer.from(await (await get(url, { headers: auth })).arrayBuffer()).equals(dist.zip));
    } finally {
      await repo.stop();
    }
  });
  it("invalidJson: 200 with a body that does not parse", async () => {
    pk.state.addFault({ path: /^\/p2\//, type: "invalidJson", count: 1 });
    const r = await get(`${pk.url}/p2/acme/a.json`);
    assert.equal(r.status, 200);
    await assert.rejects(r.json());
  });
  it("rateLimit: GitHub-style 403 with X-RateLimit-Remaining 0, or 429 with Retry-After", async () => {
    gh.state.addFault({ path: "/api/v3/repos/*", type: "rateLimit", count: 1, retryAfter: 30 });
    const r = await get(`${gh.apiUrl}/repos/acme/widget`);
    assert.equal(r.status, 403);
    assert.equal(r.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(Number(r.headers.get("x-ratelimit-reset")) >= Math.floor(Date.now() / 1000) + 29);
    assert.match((await r.json()).message, /rate limit/i);
    gl.state.addFault({ type: "rateLimit", count: 1, retryAfter: 7 });
    const r2 = await get(`${gl.apiUrl}/projects/acme%2Fwidget`);
    assert.equal(r2.status, 429);
    assert.equal(r2.headers.get("retry-after"), "7");
    assert.equal((await get(`${gl.apiUrl}/projects/acme%2Fwidget`)).status, 200);
  });
  it("the log records method, path, host, status and redacted credentials", async () => {
    gl.state.clearRequests();
    await get(`${gl.apiUrl}/projects/acme%2Fwidget`, { headers: { "private-token": "super-secret-token" } });
    const [e] = gl.state.requests;
    assert.equal(e.method, "GET");
    assert.equal(e.path, "/api/v4/projects/acme%2Fwidget");
    assert.equal(e.host, `127.0.0.1:${gl.port}`);
    assert.equal(e.status, 401); // not one of its tokens
    assert.ok(!JSON.stringify(e).includes("super-secret-token"));
    assert.equal(e.auth.fingerprint, fingerprint("super-secret-token"));
  });
});
