// End to end with the real composer client (Debian's composer 2.5.5) against the Worker under
// `scripts/dev` (wrangler dev, local D1/KV/R2 in a temp state dir), or — with PB_E2E_TARGET=server or
// server-stack (tests/server/stack.mjs) — against the self-hosted server, which logs the same lines. Fixture packages are generated and
// zipped at test time, uploaded through the admin API, then installed by composer with tokens created
// through the admin API. The Worker logs one JSON line per request; the tests parse those lines to
// check what composer asked for and what it got. Spec: docs/API.md.
//
// Everything is bounded (timeouts on every fetch and composer run), talks to 127.0.0.1 only, and is
// cleaned up in `after` (process group stopped, temp dirs removed) even when a test fails.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { request as httpRequest } from "node:http";
import path from "node:path";
import { composerEnv, freePort, startGroup, stopGroup, waitFor } from "./process.mjs";
import { buildPackages, composerJson, widgetSays, zipFiles } from "./fixtures/composer-packages.mjs";
import { startTarget } from "../server/stack.mjs";
import * as composerRepo from "../upstreams/composer-repo.mjs";

// worker (scripts/dev), server (pb_server on its defaults) or server-stack (PostgreSQL + Redis + S3
// with pre-signed /dist redirects: dist answers 302 to the store).
const TARGET = process.env.PB_E2E_TARGET ?? "worker";
const PRESIGNED = TARGET === "server-stack";
const DIST_OK = PRESIGNED ? 302 : 200;
let target;

const ADMIN_TOKEN = "e2e-composer-admin-token-5f0c2a9b7d";
// A bound against hangs, not a timing assertion: a loaded 2-core machine can take many seconds for an upload.
const FETCH_TIMEOUT_MS = 60_000;
const COMPOSER_TIMEOUT_MS = 120_000;
const PHP_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 300_000;

let port, origin, state, work, proc, fixtures;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha1 = (b) => createHash("sha1").update(b).digest("hex");
const sha256 = (b) => createHash("sha256").update(b).digest("hex");

// ---------------------------------------------------------------------------------------------------
// Worker log

function logTail(lines = 60) {
  return (proc?.output ?? "").split("\n").slice(-lines).join("\n");
}

// The Worker's per-request JSON lines in proc.output from offset `from` (complete lines only): one per
// request, written when its response is handed over. Lines of work done after the response (phase
// "after_response") and error lines are left out.
function requestLog(from = 0) {
  const text = proc.output.slice(from);
  const lines = text.split("\n");
  lines.pop(); // possibly incomplete
  const out = [];
  for (const line of lines) {
    const l = line.trim();
    if (!l.startsWith("{")) continue;
    try {
      const j = JSON.parse(l);
      if (typeof j.method === "string" && typeof j.path === "string" && typeof j.status === "number" && !j.phase && !j.level) out.push(j);
    } catch {}
  }
  return out;
}

// Entries logged since `mark` (an offset in proc.output). A request's line is written when its response
// is handed over, and the Worker's output keeps its order, so once the line of a marker request sent
// afterwards is in, the lines of every request answered before it are too.
let markers = 0;
async function logSince(mark) {
  const marker = `/__e2e_marker/${++markers}`;
  try {
    const r = await fetch(origin + marker, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    await r.arrayBuffer();
  } catch {}
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const entries = requestLog(mark);
    if (entries.some((e) => e.path === marker)) return entries.filter((e) => !e.path.startsWith("/__e2e_marker/"));
    await sleep(50);
  }
  throw new Error(`the marker request ${marker} never appeared in the Worker log\n${logTail()}`);
}

const fmtLog = (entries) => entries.map((e) => `${e.method} ${e.path} -> ${e.status}`).join("\n");

// ---------------------------------------------------------------------------------------------------
// HTTP (node fetch, 127.0.0.1 only)

const basic = (token) => `Basic ${Buffer.from(`token:${token}`).toString("base64")}`;

async function http(method, p, { admin = false, token, bearer, body, headers = {} } = {}) {
  const h = { ...headers };
  if (admin) h.authorization = `Bearer ${ADMIN_TOKEN}`;
  if (token) h.authorization = basic(token);
  if (bearer) h.authorization = `Bearer ${bearer}`;
  const stream = body instanceof ReadableStream ? { duplex: "half" } : {};
  const r = await fetch(origin + p, { method, headers: h, body, ...stream, redirect: "manual", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  const buf = Buffer.from(await r.arrayBuffer());
  const text = buf.toString("utf8");
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { method, path: p, status: r.status, headers: r.headers, buf, text, json };
}

function httpWhy(r, note = "") {
  const hdrs = [...r.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return `${note}\n${r.method} ${r.path} -> ${r.status}\n${hdrs}\n\n${r.text.slice(0, 1000)}\n--- worker log (tail) ---\n${logTail(30)}`;
}

function assertJsonError(r, status, code, note = "") {
  assert.equal(r.status, status, httpWhy(r, note));
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/, httpWhy(r, `${note}: content-type`));
  assert.ok(r.json && typeof r.json.error === "object", httpWhy(r, `${note}: error body`));
  assert.equal(r.json.error.code, code, httpWhy(r, `${note}: error.code`));
  assert.ok(typeof r.json.error.message === "string" && r.json.error.message.length > 0, httpWhy(r, `${note}: error.message`));
}

const upload = (name, bytes, version) =>
  http("PUT", `/admin/api/artifacts/${name}${version == null ? "" : `?version=${encodeURIComponent(version)}`}`, {
    admin: true,
    body: bytes,
    headers: { "content-type": "application/zip" },
  });

// A PUT with Transfer-Encoding: chunked (no Content-Length) on a fresh connection (no keep-alive);
// answers like http().
function chunkedUpload(p, bytes) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(origin + p, {
      method: "PUT",
      agent: false,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/zip", "transfer-encoding": "chunked", connection: "close" },
      timeout: FETCH_TIMEOUT_MS,
    });
    req.on("timeout", () => req.destroy(new Error(`PUT ${p}: no answer within ${FETCH_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString("utf8");
        let json;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ method: "PUT", path: p, status: res.statusCode, headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, String(v)])), buf, text, json });
      });
    });
    req.end(bytes);
  });
}

// Uploads every fixture once (in order); each spec gets .upload = the response.
let uploaded;
function ensureUploaded() {
  uploaded ??= (async () => {
    for (const p of fixtures.filter((f) => !f.late)) {
      p.upload = await upload(p.name, p.bytes, p.query);
      assert.equal(p.upload.status, 201, httpWhy(p.upload, `uploading fixture ${p.id} (${p.name}, ?version=${p.query})`));
    }
  })();
  return uploaded;
}
const fx = (id) => fixtures.find((p) => p.id === id);

async function createToken(body) {
  const r = await http("POST", "/admin/api/tokens", {
    admin: true,
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  assert.equal(r.status, 201, httpWhy(r, `creating token ${JSON.stringify(body)}`));
  return r.json;
}
let allTokenP, acmeTokenP;
const allToken = () => (allTokenP ??= createToken({ name: "e2e-all" }));
const acmeToken = () => (acmeTokenP ??= createToken({ name: "e2e-acme", packages: ["acme/*"] }));

// ---------------------------------------------------------------------------------------------------
// composer projects

let projects = 0;
function makeProject(label, { token, bearer = false, require = {}, extra = {} } = {}) {
  const dir = path.join(work, `p${++projects}-${label}`);
  const project = { dir, home: `${dir}.home`, cache: `${dir}.cache` };
  for (const d of [project.dir, project.home, project.cache]) mkdirSync(d, { recursive: true });
  const cj = {
    name: `e2e/${label}`,
    type: "project",
    require,
    repositories: [{ type: "composer", url: origin }, { "packagist.org": false }],
    config: { "secure-http": false },
    ...extra,
  };
  writeFileSync(path.join(dir, "composer.json"), JSON.stringify(cj, null, 2) + "\n");
  if (token) {
    const host = `127.0.0.1:${port}`; // composer's auth origin is host:port
    const auth = bearer ? { bearer: { [host]: token } } : { "http-basic": { [host]: { username: "token", password: token } } };
    writeFileSync(path.join(dir, "auth.json"), JSON.stringify(auth, null, 2) + "\n");
  }
  return project;
}

function clientEnv(project) {
  return composerEnv(project, { COLUMNS: "10000" }); // no wrapping of composer's error blocks (assertions match their text)
}

function composer(project, args, { timeout = COMPOSER_TIMEOUT_MS } = {}) {
  const full = [...args, "--no-interaction", "--no-ansi"];
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      "composer",
      full,
      { cwd: project.dir, env: clientEnv(project), timeout, killSignal: "SIGKILL", maxBuffer: 32 << 20 },
      (err, stdout, stderr) =>
        resolve({
          args: full,
          code: err ? (err.code ?? null) : 0,
          signal: err?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
          output: `${stdout}${stderr}`,
          ms: Date.now() - t0,
        }),
    );
  });
}

function why(res, note = "", entries) {
  return (
    `${note}\n--- composer ${res.args.join(" ")} (exit ${res.code}${res.signal ? `, ${res.signal}` : ""}, ${res.ms} ms) ---\n` +
    `${res.output}\n` +
    (entries ? `--- requests during that run ---\n${fmtLog(entries)}\n` : "") +
    `--- worker log (tail) ---\n${logTail()}`
  );
}

// Runs composer and returns { res, entries } with the Worker log lines of that run.
async function runComposer(project, args) {
  const mark = proc.output.length;
  const res = await composer(project, args);
  const entries = await logSince(mark);
  return { res, entries };
}

function php(project, code) {
  return new Promise((resolve) => {
    execFile("php", ["-r", code], { cwd: project.dir, timeout: PHP_TIMEOUT_MS, killSignal: "SIGKILL" }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? null) : 0, output: `${stdout}${stderr}`, stdout: String(stdout) }),
    );
  });
}

async function assertPrints(project, expr, expected, note) {
  const r = await php(project, `require "vendor/autoload.php"; echo ${expr};`);
  assert.equal(r.code, 0, `${note}: php exited ${r.code}\n${r.output}`);
  assert.equal(r.stdout, expected, `${note}: php printed something else\n${r.output}`);
}

function lockedVersions(project) {
  const lock = JSON.parse(readFileSync(path.join(project.dir, "composer.lock"), "utf8"));
  return Object.fromEntries([...lock.packages, ...(lock["packages-dev"] ?? [])].map((p) => [p.name, p]));
}

function assertNoAuthOrServerErrors(entries, res, note) {
  const bad = entries.filter((e) => e.status === 401 || e.status === 403 || e.status >= 500 || e.status === 0);
  assert.deepEqual(bad, [], why(res, `${note}: requests answered 401/403/5xx`, entries));
}

// Composer's metadata minifier, expanded (composer/metadata-minifier MetadataMinifier::expand).
function expandMinified(versions) {
  const out = [];
  let prev = null;
  for (const v of versions) {
    if (prev === null) {
      prev = { ...v };
    } else {
      const cur = { ...prev };
      for (const [k, val] of Object.entries(v)) {
        if (val === "__unset") delete cur[k];
        else cur[k] = val;
      }
      prev = cur;
    }
    out.push(prev);
  }
  return out;
}

async function p2(name, token, headers = {}) {
  return http("GET", `/p2/${name}.json`, { token, headers });
}

function p2Versions(r, name) {
  assert.ok(r.json && r.json.packages && Array.isArray(r.json.packages[name]), httpWhy(r, `p2 body has packages["${name}"]`));
  assert.equal(r.json.minified, "composer/2.0", httpWhy(r, "p2 minified"));
  return expandMinified(r.json.packages[name]);
}

// PB_DIST_REDIRECT=presigned: /dist answers 302 (after the token check) to a short-lived URL signed for
// the S3 store, which serves the bytes, ranges included, and refuses the URL once tampered with.
async function presignedDist(url, token, p) {
  const redirect = await http("GET", url, { token });
  assert.equal(redirect.status, 302, httpWhy(redirect, "presigned dist redirect"));
  assert.match(redirect.headers.get("cache-control") ?? "", /\bprivate\b/, httpWhy(redirect, "Cache-Control private"));
  const location = redirect.headers.get("location");
  assert.match(location, /X-Amz-Signature=[0-9a-f]{64}/, httpWhy(redirect, "a SigV4 pre-signed URL"));
  assert.notEqual(new URL(location).origin, origin, "the archive comes from the store, not through the server");
  const get = async (u, headers = {}) => {
    const r = await fetch(u, { headers, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    return { status: r.status, headers: r.headers, buf: Buffer.from(await r.arrayBuffer()) };
  };
  const full = await get(location);
  assert.equal(full.status, 200, `GET the pre-signed URL: ${full.status} ${full.buf.toString().slice(0, 300)}`);
  assert.equal(full.headers.get("content-type"), "application/zip", "the signed response-content-type");
  assert.equal(sha1(full.buf), p.upload.json.shasum, "the exact uploaded bytes from the store");
  const part = await get(location, { range: "bytes=0-99" });
  assert.equal(part.status, 206);
  assert.ok(part.buf.equals(p.bytes.subarray(0, 100)), "a range of the archive from the store");
  const tampered = await get(location.replace(/X-Amz-Signature=./, (m) => m.slice(0, -1) + (m.endsWith("0") ? "1" : "0")));
  assert.equal(tampered.status, 403, "a tampered pre-signed URL is refused by the store");
  assertJsonError(await http("GET", url), 401, "unauthorized", "no redirect without a token");
  const wrongRef = await http("GET", `/dist/acme/widget/1.2.0.0/${"0".repeat(40)}.zip`, { token });
  assert.equal(wrongRef.status, 404, httpWhy(wrongRef, "a reference that does not match any build"));
}

// ---------------------------------------------------------------------------------------------------

describe(`composer end to end against ${TARGET === "worker" ? "scripts/dev" : TARGET}`, { timeout: 30 * 60_000 }, () => {
  before(async () => {
    for (const [cmd, args] of [["composer", ["--version"]], ["php", ["--version"]], ["zip", ["-v"]], ["unzip", ["-v"]]]) {
      try {
        execFileSync(cmd, args, { stdio: "pipe", timeout: 30_000, env: { ...process.env, COMPOSER_ALLOW_SUPERUSER: "1" } });
      } catch (e) {
        throw new Error(
          `'${cmd}' is missing or broken (${e.message}). scripts/setup installs composer, php-cli, php-zip, php-curl, zip and unzip.`,
        );
      }
    }
    work = mkdtempSync(path.join(tmpdir(), "pb-e2e-composer-"));
    state = mkdtempSync(path.join(tmpdir(), "pb-e2e-composer-state-"));
    fixtures = buildPackages(path.join(work, "fixtures"));
    if (TARGET !== "worker") {
      target = await startTarget(TARGET, ADMIN_TOKEN);
      ({ port, origin, proc } = target);
      return;
    }
    port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    proc = startGroup("bash", ["scripts/dev"], {
      env: { PORT: String(port), PB_STATE_DIR: state, PB_SKIP_SETUP: "1", ADMIN_TOKEN },
    });
    try {
      await waitFor(`${origin}/health`, { proc, seconds: 180 });
    } catch (e) {
      e.message =
        `scripts/dev did not serve /health (it sends the wasm build's output to /dev/null: run \`scripts/build wasm\` ` +
        `to see a build error): ${e.message}`;
      throw e;
    }
  }, { timeout: 240_000 });

  after(async () => {
    if (target) await target.stop();
    else await stopGroup(proc);
    // PB_E2E_LOG=<file> keeps the whole scripts/dev output (the Worker's request log) for inspection.
    if (process.env.PB_E2E_LOG && proc) writeFileSync(process.env.PB_E2E_LOG, proc.output);
    for (const d of [work, state]) if (d) rmSync(d, { recursive: true, force: true });
  });

  // -------------------------------------------------------------------------------------------------
  it("1. artifact uploads: 201 with the documented fields; 409/400 errors store nothing", { timeout: TEST_TIMEOUT_MS }, async () => {
    // Admin auth.
    const noAuth = await http("GET", "/admin/api/packages");
    assertJsonError(noAuth, 401, "unauthorized", "admin API without a token");
    const wrong = await http("GET", "/admin/api/packages", { bearer: "not-the-admin-token" });
    assertJsonError(wrong, 401, "unauthorized", "admin API with a wrong token");

    await ensureUploaded();
    const early = fixtures.filter((p) => !p.late);
    for (const p of early) {
      const r = p.upload;
      const note = `upload ${p.id}`;
      assert.equal(r.json?.name, p.name, httpWhy(r, `${note}: name`));
      assert.equal(r.json.version, p.expect.version, httpWhy(r, `${note}: version`));
      assert.equal(r.json.version_normalized, p.expect.version_normalized, httpWhy(r, `${note}: version_normalized`));
      assert.ok(typeof r.json.reference === "string" && r.json.reference.length > 0, httpWhy(r, `${note}: reference`));
      assert.equal(r.json.shasum, sha1(p.bytes), httpWhy(r, `${note}: shasum = sha1 of the zip`));
      assert.equal(r.json.sha256, sha256(p.bytes), httpWhy(r, `${note}: sha256 of the zip`));
      assert.equal(r.json.size, p.bytes.length, httpWhy(r, `${note}: size`));
    }
    const refs = early.map((p) => `${p.name} ${p.upload.json.reference}`);
    assert.equal(new Set(refs).size, refs.length, `references are distinct per version: ${refs.join(", ")}`);

    // Admin view of what was stored.
    const list = await http("GET", "/admin/api/packages", { admin: true });
    assert.equal(list.status, 200, httpWhy(list));
    const names = list.json.packages.map((p) => p.name).sort();
    assert.deepEqual(names, ["acme/logger", "acme/widget", "other/tool"], httpWhy(list, "package list"));
    const widget = await http("GET", "/admin/api/packages/acme/widget", { admin: true });
    assert.equal(widget.status, 200, httpWhy(widget));
    assert.equal(widget.json.name, "acme/widget", httpWhy(widget));
    const wv = Object.fromEntries(widget.json.versions.map((v) => [v.version, v]));
    assert.deepEqual(Object.keys(wv).sort(), ["1.0.0", "1.2.0", "dev-main"], httpWhy(widget, "widget versions"));
    for (const id of ["widget-1.0.0", "widget-1.2.0", "widget-dev-main"]) {
      const p = fx(id);
      const v = wv[p.expect.version];
      for (const k of ["version_normalized", "reference", "shasum", "sha256", "size"]) {
        assert.equal(v[k], p.upload.json[k], httpWhy(widget, `${id}: ${k} as uploaded`));
      }
      assert.ok(typeof v.dist_url === "string" && v.dist_url.length > 0, httpWhy(widget, `${id}: dist_url`));
      assert.ok(v.released_at === null || /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v.released_at), httpWhy(widget, `${id}: released_at`));
    }

    // Errors. Each case: [note, package, version query, body, expected status, expected code].
    const dir = path.join(work, "bad-zips");
    const broken = { name: "acme/broken", ns: "Acme\\Broken", composer: {} };
    const logger = { name: "acme/logger", ns: "Acme\\Logger", composer: {} };
    const okPhp = { "src/X.php": "<?php\n" };
    const cases = [
      ["duplicate version (composer.json version, different bytes)", "acme/logger", null,
        zipFiles(dir, "dup1", { "composer.json": JSON.stringify(composerJson(logger, { version: "1.0.0" })), "CHANGED.md": "x\n", ...okPhp }), 409, "conflict"],
      ["duplicate version (?version=, same bytes)", "acme/widget", "1.2.0", fx("widget-1.2.0").bytes, 409, "conflict"],
      ["duplicate branch (?version=dev-main)", "acme/widget", "dev-main", fx("widget-dev-main").bytes, 409, "conflict"],
      ["zip without composer.json", "acme/broken", "1.0.0", zipFiles(dir, "nocj", { "README.md": "no composer.json\n", ...okPhp }), 400, "bad_request"],
      ["composer.json two folders deep", "acme/broken", "1.0.0",
        zipFiles(dir, "deep", { "a/b/composer.json": JSON.stringify(composerJson(broken)), ...okPhp }), 400, "bad_request"],
      ["not a zip", "acme/broken", "1.0.0", Buffer.from("this is not a zip archive\n".repeat(10)), 400, "bad_request"],
      ["empty body", "acme/broken", "1.0.0", Buffer.alloc(0), 400, "bad_request"],
      ["composer.json in two top-level folders", "acme/broken", "1.0.0",
        zipFiles(dir, "twotop", { "a/composer.json": JSON.stringify(composerJson(broken)), "b/composer.json": JSON.stringify(composerJson(broken)) }), 400, "bad_request"],
      ["truncated zip", "acme/broken", "1.0.0", fx("tool-1.0.0").bytes.subarray(0, 100), 400, "bad_request"],
      ["invalid composer.json", "acme/broken", "1.0.0", zipFiles(dir, "badjson", { "composer.json": '{"name": "acme/broken",', ...okPhp }), 400, "bad_request"],
      ["composer.json name differs from the URL", "acme/broken", "1.0.0",
        zipFiles(dir, "othername", { "composer.json": JSON.stringify(composerJson({ ...broken, name: "acme/something-else" })), ...okPhp }), 400, "bad_request"],
      ["invalid ?version=", "acme/broken", "not a version!",
        zipFiles(dir, "okbroken", { "composer.json": JSON.stringify(composerJson(broken)), ...okPhp }), 400, "bad_request"],
      ["invalid composer.json version", "acme/broken", null,
        zipFiles(dir, "badver", { "composer.json": JSON.stringify(composerJson(broken, { version: "banana" })), ...okPhp }), 400, "bad_request"],
      ["no version anywhere", "acme/broken", null, readFileSync(path.join(dir, "okbroken.zip")), 400, "bad_request"],
      ["existing package, not a zip", "acme/logger", "9.0.0", Buffer.from("PK not really\n"), 400, "bad_request"],
      ["existing package, invalid version", "acme/logger", "1.0.0.0.0.0",
        zipFiles(dir, "loggerbadver", { "composer.json": JSON.stringify(composerJson(logger)), ...okPhp }), 400, "bad_request"],
      ["existing package, name differs", "acme/logger", "9.1.0", fx("tool-1.0.0").bytes, 400, "bad_request"],
    ];
    const failures = [];
    for (const [note, name, version, body, status, code] of cases) {
      const r = await upload(name, body, version);
      try {
        assertJsonError(r, status, code, `PUT ${name}?version=${version} (${note})`);
      } catch (e) {
        failures.push(e.message);
      }
    }
    assert.deepEqual(failures, [], `bad uploads were not rejected as documented:\n${failures.join("\n\n")}`);

    // "needs Content-Length": a chunked upload is refused with 411 (docs/API.md).
    const okBroken = readFileSync(path.join(dir, "okbroken.zip"));
    // The Worker answers without reading the body. The next request (the GET below) must be answered
    // at once: when the shim cancelled the unread body after the response, wrangler dev's proxy stalled
    // the next request for a minute (worker/handles.mjs release()).
    const chunked = await chunkedUpload("/admin/api/artifacts/acme/broken?version=1.0.0", okBroken);
    assertJsonError(chunked, 411, "bad_request", "upload without Content-Length");
    assert.equal(chunked.json.error.message, "a Content-Length header is required", httpWhy(chunked));
    assert.equal(chunked.headers.get("cache-control"), "no-store", httpWhy(chunked, "errors are not stored anywhere"));

    // Nothing of the rejected uploads is stored.
    const gone = await http("GET", "/admin/api/packages/acme/broken", { admin: true });
    assertJsonError(gone, 404, "not_found", "acme/broken after rejected uploads");
    const list2 = await http("GET", "/admin/api/packages", { admin: true });
    assert.deepEqual(list2.json.packages.map((p) => p.name).sort(), ["acme/logger", "acme/widget", "other/tool"], httpWhy(list2));
    for (const [name, ids] of [
      ["acme/logger", ["logger-1.0.0", "logger-1.1.0", "logger-2.0.0"]],
      ["acme/widget", ["widget-1.0.0", "widget-1.2.0", "widget-dev-main"]],
    ]) {
      const r = await http("GET", `/admin/api/packages/${name}`, { admin: true });
      assert.equal(r.status, 200, httpWhy(r));
      const got = r.json.versions.map((v) => `${v.version} ${v.shasum} ${v.size}`).sort();
      const want = ids.map((id) => fx(id)).map((p) => `${p.expect.version} ${sha1(p.bytes)} ${p.bytes.length}`).sort();
      assert.deepEqual(got, want, httpWhy(r, `${name}: versions unchanged by the rejected uploads`));
    }
    const token = (await allToken()).token;
    const p2broken = await p2("acme/broken", token);
    assert.equal(p2broken.status, 404, httpWhy(p2broken, "p2 of acme/broken"));
  });

  // -------------------------------------------------------------------------------------------------
  it("2. composer install resolves and installs from the Worker; dev-main and branch alias", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    await ensureUploaded();
    const created = await allToken();
    assert.match(created.token, /\S{16,}/, `token secret: ${JSON.stringify(created)}`);
    assert.equal(created.name, "e2e-all");
    for (const k of ["id", "token_prefix", "access", "created_at"]) assert.ok(k in created, `token field ${k}: ${JSON.stringify(created)}`);
    assert.equal(created.access, "read");
    assert.equal(created.expires_at, null);
    assert.ok(created.token.startsWith(created.token_prefix), `token_prefix is a prefix: ${JSON.stringify(created)}`);
    const token = created.token;

    await t.test("acme/widget ^1.0 → widget 1.2.0 + logger 1.1.0", async () => {
      const project = makeProject("stable", { token, require: { "acme/widget": "^1.0" } });
      const { res, entries } = await runComposer(project, ["install"]);
      assert.equal(res.code, 0, why(res, "composer install failed", entries));
      const locked = lockedVersions(project);
      assert.equal(locked["acme/widget"]?.version, "1.2.0", why(res, "locked widget", entries));
      assert.equal(locked["acme/logger"]?.version, "1.1.0", why(res, "locked logger", entries));
      assert.deepEqual(Object.keys(locked).sort(), ["acme/logger", "acme/widget"], why(res, "locked packages", entries));
      assert.equal(locked["acme/widget"].dist.shasum, sha1(fx("widget-1.2.0").bytes), "widget dist.shasum in the lock");
      assert.equal(locked["acme/widget"].dist.reference, fx("widget-1.2.0").upload.json.reference, "widget dist.reference in the lock");
      assert.equal(locked["acme/widget"].dist.type, "zip");
      await assertPrints(project, "(new Acme\\Widget\\Widget)->version()", widgetSays("1.2.0", "1.1.0"), "widget 1.2.0");

      assertNoAuthOrServerErrors(entries, res, "install");
      const get = (p) => entries.filter((e) => e.method === "GET" && e.path === p);
      for (const p of ["/packages.json", "/p2/acme/widget.json", "/p2/acme/logger.json"]) {
        assert.ok(get(p).length >= 1 && get(p).every((e) => e.status === 200), why(res, `${p} requested and 200`, entries));
      }
      const dists = entries.filter((e) => e.path.startsWith("/dist/"));
      assert.deepEqual(
        dists.map((e) => `${e.path} ${e.status}`).sort(),
        [
          `/dist/acme/logger/1.1.0.0/${fx("logger-1.1.0").upload.json.reference}.zip ${DIST_OK}`,
          `/dist/acme/widget/1.2.0.0/${fx("widget-1.2.0").upload.json.reference}.zip ${DIST_OK}`,
        ],
        why(res, "dist downloads through the preferred mirror template", entries),
      );
      // The structured log line: route pattern, status, duration and where the body came from.
      for (const e of get("/p2/acme/widget.json")) {
        assert.equal(e.route, "/p2/{vendor}/{file}", why(res, "p2 log line names its route", entries));
        assert.ok(["hot", "d1"].includes(e.cache), why(res, "p2 log line has a cache outcome", entries));
        assert.equal(typeof e.ms, "number");
      }
      for (const e of dists) {
        assert.equal(e.route, "/dist/{vendor}/{name}/{version}/{file}", why(res, "dist log line names its route", entries));
        assert.ok(["edge", "r2"].includes(e.cache), why(res, "dist log line has a cache outcome", entries));
      }
      const notify = entries.filter((e) => e.path === "/downloads");
      assert.ok(notify.length >= 1, why(res, "composer posted to notify-batch /downloads", entries));
      assert.ok(notify.every((e) => e.method === "POST" && e.status === 201), why(res, "POST /downloads → 201", entries));
    });

    await t.test("composer require acme/widget:dev-main", async () => {
      const project = makeProject("dev", { token });
      const { res, entries } = await runComposer(project, ["require", "acme/widget:dev-main"]);
      assert.equal(res.code, 0, why(res, "composer require acme/widget:dev-main failed", entries));
      const locked = lockedVersions(project);
      assert.equal(locked["acme/widget"]?.version, "dev-main", why(res, "locked widget", entries));
      assert.equal(locked["acme/logger"]?.version, "2.0.0", why(res, "dev-main requires acme/logger ^2.0", entries));
      assert.equal(locked["acme/widget"].dist.shasum, sha1(fx("widget-dev-main").bytes), "dev-main dist.shasum in the lock");
      await assertPrints(project, "(new Acme\\Widget\\Widget)->version()", widgetSays("dev-main", "2.0.0"), "widget dev-main");
      assertNoAuthOrServerErrors(entries, res, "require dev-main");
      const dev = entries.filter((e) => e.path === "/p2/acme/widget~dev.json");
      assert.ok(dev.length >= 1 && dev.every((e) => e.status === 200), why(res, "/p2/acme/widget~dev.json → 200", entries));
      const devDist = entries.filter((e) => e.path.startsWith("/dist/acme/widget/"));
      assert.deepEqual(
        devDist.map((e) => `${e.path} ${e.status}`),
        [`/dist/acme/widget/dev-main/${fx("widget-dev-main").upload.json.reference}.zip ${DIST_OK}`],
        why(res, "dev-main dist download", entries),
      );
    });

    await t.test("a branch with a slash: dev-feature/x (md5 of the version in the mirror URL)", async () => {
      const project = makeProject("slash", { token });
      const { res, entries } = await runComposer(project, ["require", "other/tool:dev-feature/x"]);
      assert.equal(res.code, 0, why(res, "composer require other/tool:dev-feature/x failed", entries));
      assert.equal(lockedVersions(project)["other/tool"]?.version, "dev-feature/x", why(res, "locked other/tool", entries));
      await assertPrints(project, "(new Other\\Tool\\Tool)->version()", "other/tool dev-feature/x", "other/tool dev-feature/x");
      const md5 = createHash("md5").update("dev-feature/x").digest("hex");
      const dists = entries.filter((e) => e.path.startsWith("/dist/"));
      assert.deepEqual(
        dists.map((e) => `${e.path} ${e.status}`),
        [`/dist/other/tool/${md5}/${fx("tool-dev-feature").upload.json.reference}.zip ${DIST_OK}`],
        why(res, "dist URL with md5(version)", entries),
      );
      assertNoAuthOrServerErrors(entries, res, "require dev-feature/x");
    });

    await t.test("auth.json with bearer credentials", async () => {
      const project = makeProject("bearer", { token, bearer: true, require: { "acme/widget": "^1.0" } });
      const { res, entries } = await runComposer(project, ["install"]);
      assert.equal(res.code, 0, why(res, "composer install with auth.json bearer failed", entries));
      await assertPrints(project, "(new Acme\\Widget\\Widget)->version()", widgetSays("1.2.0", "1.1.0"), "bearer");
      assertNoAuthOrServerErrors(entries, res, "bearer install");
    });

    await t.test("branch alias: 1.3.x-dev resolves to dev-main", async () => {
      const project = makeProject("alias", { token, require: { "acme/widget": "1.3.x-dev" } });
      const { res, entries } = await runComposer(project, ["install"]);
      assert.equal(res.code, 0, why(res, "composer install of acme/widget 1.3.x-dev (branch-alias of dev-main) failed", entries));
      const locked = lockedVersions(project);
      assert.equal(locked["acme/widget"]?.version, "dev-main", why(res, "locked widget", entries));
      assert.deepEqual(locked["acme/widget"].extra, { "branch-alias": { "dev-main": "1.3.x-dev" } }, why(res, "extra in the lock", entries));
    });
  });

  // -------------------------------------------------------------------------------------------------
  it("3. composer update with a warm cache: p2 metadata and /packages.json answered 304", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    await ensureUploaded();
    const { token } = await allToken();
    // /packages.json is dated (Last-Modified) once its last change is a few seconds old and the
    // instance has read it since (docs/ARCHITECTURE.md, "/packages.json's date"): wait for that, bounded,
    // so that whether the update's revalidation is a 304 does not depend on how fast the setup ran.
    let dated = null;
    for (let i = 0; i < 60 && !dated; i += 1) {
      const r = await http("GET", "/packages.json", { token });
      assert.equal(r.status, 200, httpWhy(r));
      dated = r.headers.get("last-modified");
      if (!dated) await new Promise((done) => setTimeout(done, 500));
    }
    assert.ok(dated, "/packages.json carries Last-Modified within 30 s of the last upload");

    for (const [label, require, expectP2] of [
      ["update-stable", { "acme/widget": "^1.0" }, ["/p2/acme/logger.json", "/p2/acme/widget.json"]],
      ["update-dev", { "acme/widget": "dev-main" }, ["/p2/acme/widget~dev.json"]],
    ]) {
      await t.test(`${label}: ${JSON.stringify(require)}`, async () => {
        const project = makeProject(label, { token, require });
        const first = await runComposer(project, ["install"]);
        assert.equal(first.res.code, 0, why(first.res, "first install failed", first.entries));
        const first200 = first.entries.filter((e) => e.path.startsWith("/p2/") && e.status === 200).map((e) => e.path);
        for (const p of expectP2) assert.ok(first200.includes(p), why(first.res, `first install fetched ${p} (200)`, first.entries));

        const { res, entries } = await runComposer(project, ["update"]);
        assert.equal(res.code, 0, why(res, "composer update failed", entries));
        const p2s = entries.filter((e) => e.path.startsWith("/p2/"));
        assert.ok(p2s.length >= 1, why(res, "composer update revalidated p2 metadata", entries));
        for (const p of expectP2) assert.ok(p2s.some((e) => e.path === p), why(res, `update revalidated ${p}`, entries));
        assert.deepEqual(
          p2s.filter((e) => e.status !== 304).map((e) => `${e.path} ${e.status}`),
          [],
          why(res, "every p2 request of the update answered 304 (composer sends If-Modified-Since = the stored Last-Modified)", entries),
        );
        assert.deepEqual(entries.filter((e) => e.path.startsWith("/dist/")), [], why(res, "no dist downloads on a no-op update", entries));
        assert.deepEqual(
          entries.filter((e) => e.path === "/packages.json").map((e) => e.status),
          [304],
          why(res, "the update revalidated /packages.json with If-Modified-Since and got 304", entries),
        );
        assertNoAuthOrServerErrors(entries, res, "update");
        assert.match(res.output, /Nothing to (install, update or remove|modify)/i, why(res, "update was a no-op", entries));
      });
    }
  });

  // -------------------------------------------------------------------------------------------------
  it("4. a token scoped to acme/*: other/tool cannot be found, acme packages install", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    await ensureUploaded();
    const scoped = await acmeToken();
    assert.deepEqual(scoped.packages, ["acme/*"], `scoped token: ${JSON.stringify(scoped)}`);
    const all = await allToken();

    await t.test("composer require other/tool:^1.0 fails with 'could not be found'", async () => {
      const project = makeProject("scoped-other", { token: scoped.token });
      const { res, entries } = await runComposer(project, ["require", "other/tool:^1.0"]);
      assert.notEqual(res.code, 0, why(res, "composer require other/tool with an acme/* token should fail", entries));
      assert.match(res.output, /could not be found|could not find/i, why(res, "composer says the package could not be found", entries));
      assert.doesNotMatch(res.output, /HTTP 40[13]/, why(res, "not an auth failure", entries));
      // packages.json's available-packages leaves other/tool out for this token, so composer never
      // asks for it (a request would be answered 404, as the next subtest shows).
      const tool = entries.filter((e) => e.path.includes("other/tool"));
      assert.deepEqual(tool, [], why(res, "composer did not ask for other/tool", entries));
      const root = entries.filter((e) => e.path === "/packages.json");
      assert.ok(root.length >= 1 && root.every((e) => e.status === 200), why(res, "packages.json answered", entries));
      assertNoAuthOrServerErrors(entries, res, "scoped require other/tool");
    });

    await t.test("out of scope answers exactly like an unknown package", async () => {
      const hidden = await p2("other/tool", scoped.token);
      const unknown = await p2("other/nothing-here", scoped.token);
      assertJsonError(hidden, 404, "not_found", "p2 other/tool with an acme/* token");
      assertJsonError(unknown, 404, "not_found", "p2 of an unknown package");
      const norm = (r, name) => JSON.stringify(r.json).split(name).join("<name>");
      assert.equal(norm(hidden, "other/tool"), norm(unknown, "other/nothing-here"), `bodies differ:\n${hidden.text}\n${unknown.text}`);
      const hiddenDev = await http("GET", "/p2/other/tool~dev.json", { token: scoped.token });
      assert.equal(hiddenDev.status, 404, httpWhy(hiddenDev));
      const ref = fx("tool-1.0.0").upload.json.reference;
      const dist = await http("GET", `/dist/other/tool/1.0.0.0/${ref}.zip`, { token: scoped.token });
      assert.equal(dist.status, 404, httpWhy(dist, "dist of other/tool with an acme/* token"));
      const distAll = await http("GET", `/dist/other/tool/1.0.0.0/${ref}.zip`, { token: all.token });
      assert.equal(distAll.status, DIST_OK, httpWhy(distAll, "dist of other/tool with an all-packages token"));
    });

    await t.test("acme/widget still installs with the scoped token", async () => {
      const project = makeProject("scoped-acme", { token: scoped.token, require: { "acme/widget": "^1.0" } });
      const { res, entries } = await runComposer(project, ["install"]);
      assert.equal(res.code, 0, why(res, "composer install with the acme/* token failed", entries));
      await assertPrints(project, "(new Acme\\Widget\\Widget)->version()", widgetSays("1.2.0", "1.1.0"), "scoped widget");
      assertNoAuthOrServerErrors(entries, res, "scoped install");
    });

    await t.test("control: other/tool installs with an all-packages token", async () => {
      const project = makeProject("all-other", { token: all.token });
      const { res, entries } = await runComposer(project, ["require", "other/tool:^1.0"]);
      assert.equal(res.code, 0, why(res, "composer require other/tool with an all-packages token failed", entries));
      await assertPrints(project, "(new Other\\Tool\\Tool)->version()", "other/tool 1.0.0", "other/tool");
    });
  });

  // -------------------------------------------------------------------------------------------------
  it("5. expired and revoked tokens: 401 and composer prints the server's warning", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    await ensureUploaded();

    const check401 = (r, note) => {
      assertJsonError(r, 401, "unauthorized", note);
      // composer 2.5.5 prints `warning` of an error response only for exactly "application/json".
      assert.equal(r.headers.get("content-type"), "application/json", httpWhy(r, `${note}: content-type exactly application/json`));
      // docs/API.md: `Basic realm="package-broker"`; RFC 7617's charset="UTF-8" parameter is accepted too.
      assert.match(
        r.headers.get("www-authenticate") ?? "",
        /^Basic realm="package-broker"(,\s*charset="UTF-8")?$/i,
        httpWhy(r, `${note}: WWW-Authenticate`),
      );
      assert.ok(typeof r.json.warning === "string" && r.json.warning.length > 0, httpWhy(r, `${note}: warning`));
    };

    await t.test("missing and unknown credentials", async () => {
      check401(await http("GET", "/packages.json"), "packages.json without credentials");
      check401(await http("GET", "/packages.json", { token: "pbt_not_a_real_token_0000000000" }), "packages.json, unknown token");
      check401(await http("GET", "/p2/acme/widget.json", { bearer: "pbt_not_a_real_token_0000000000" }), "p2, unknown bearer token");
      const ref = fx("widget-1.2.0").upload.json.reference;
      check401(await http("GET", `/dist/acme/widget/1.2.0.0/${ref}.zip`), "dist without credentials");
    });

    const composerFails = async (label, token, warning, re) => {
      const project = makeProject(label, { token, require: { "acme/widget": "^1.0" } });
      const { res, entries } = await runComposer(project, ["install"]);
      assert.notEqual(res.code, 0, why(res, `composer install with a ${label} token should fail`, entries));
      assert.match(res.output, /HTTP 401/, why(res, "composer reports HTTP 401", entries));
      assert.ok(res.output.includes(warning), why(res, `composer prints the server's warning ${JSON.stringify(warning)}`, entries));
      assert.match(warning, re, `warning text ${JSON.stringify(warning)}`);
      assert.ok(entries.some((e) => e.status === 401), why(res, "the Worker answered 401", entries));
      assert.ok(!existsSync(path.join(project.dir, "vendor/acme")), "nothing installed");
    };

    await t.test("expired token", async () => {
      const expired = await createToken({ name: "e2e-expired", expires_at: "2020-01-01T00:00:00Z" });
      assert.equal(expired.expires_at, "2020-01-01T00:00:00Z", JSON.stringify(expired));
      const r = await http("GET", "/packages.json", { token: expired.token });
      check401(r, "packages.json with an expired token");
      assert.match(r.json.warning, /expired/i, httpWhy(r, "warning says expired"));
      const r2 = await http("GET", "/p2/acme/widget.json", { bearer: expired.token });
      check401(r2, "p2 with an expired bearer token");
      await composerFails("expired", expired.token, r.json.warning, /expired/i);
    });

    await t.test("revoked token", async () => {
      const tok = await createToken({ name: "e2e-revoked" });
      const ok = await http("GET", "/packages.json", { token: tok.token });
      assert.equal(ok.status, 200, httpWhy(ok, "packages.json before revocation"));
      const del = await http("DELETE", `/admin/api/tokens/${encodeURIComponent(tok.id)}`, { admin: true });
      assert.equal(del.status, 200, httpWhy(del, "DELETE token"));
      assert.equal(String(del.json.id), String(tok.id), httpWhy(del, "DELETE answers the id"));
      assert.match(del.json.revoked_at ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, httpWhy(del, "revoked_at"));

      const r = await http("GET", "/packages.json", { token: tok.token });
      check401(r, "packages.json with a revoked token (effective at once)");
      assert.match(r.json.warning, /revoked/i, httpWhy(r, "warning says revoked"));
      await composerFails("revoked", tok.token, r.json.warning, /revoked/i);

      const list = await http("GET", "/admin/api/tokens", { admin: true });
      assert.equal(list.status, 200, httpWhy(list));
      const entry = list.json.tokens.find((x) => String(x.id) === String(tok.id));
      assert.ok(entry, httpWhy(list, "revoked token listed"));
      assert.equal(entry.revoked_at, del.json.revoked_at, httpWhy(list, "revoked_at in the list"));
      assert.ok(!list.text.includes(tok.token), httpWhy(list, "the token list never contains a secret"));
      const unknown = await http("DELETE", "/admin/api/tokens/999999999", { admin: true });
      assertJsonError(unknown, 404, "not_found", "DELETE of an unknown token id");
    });
  });

  // -------------------------------------------------------------------------------------------------
  it("6. composer install from composer.lock with an empty cache downloads only dists", { timeout: TEST_TIMEOUT_MS }, async () => {
    await ensureUploaded();
    const { token } = await allToken();
    const a = makeProject("lock-source", { token, require: { "acme/widget": "^1.0" } });
    const first = await runComposer(a, ["install"]);
    assert.equal(first.res.code, 0, why(first.res, "initial install failed", first.entries));

    const b = makeProject("from-lock", { token });
    for (const f of ["composer.json", "composer.lock"]) copyFileSync(path.join(a.dir, f), path.join(b.dir, f));
    assert.ok(!existsSync(path.join(b.dir, "vendor")));
    const { res, entries } = await runComposer(b, ["install"]);
    assert.equal(res.code, 0, why(res, "install from the lock failed", entries));
    await assertPrints(b, "(new Acme\\Widget\\Widget)->version()", widgetSays("1.2.0", "1.1.0"), "from lock");

    assert.deepEqual(entries.filter((e) => e.path.startsWith("/p2/")), [], why(res, "no p2 request when installing from a lock", entries));
    const dists = entries.filter((e) => e.path.startsWith("/dist/"));
    assert.equal(dists.length, 2, why(res, "two dist downloads (widget + logger)", entries));
    assert.ok(dists.every((e) => e.method === "GET" && e.status === DIST_OK), why(res, `dist downloads answered ${DIST_OK}`, entries));
    const other = entries.filter((e) => !e.path.startsWith("/dist/") && e.path !== "/downloads" && e.path !== "/packages.json");
    assert.deepEqual(other, [], why(res, "only dist (+ notify-batch) requests", entries));
    assertNoAuthOrServerErrors(entries, res, "install from lock");
  });

  // -------------------------------------------------------------------------------------------------
  it("7. packages.json, p2 documents and their cache headers", { timeout: TEST_TIMEOUT_MS }, async () => {
    await ensureUploaded();
    const scoped = await acmeToken();
    const all = await allToken();

    const root = await http("GET", "/packages.json", { token: scoped.token });
    assert.equal(root.status, 200, httpWhy(root));
    assert.match(root.headers.get("content-type") ?? "", /^application\/json/, httpWhy(root, "content-type"));
    assert.match(root.headers.get("cache-control") ?? "", /\bprivate\b/, httpWhy(root, "Cache-Control private"));
    assert.deepEqual([...root.json["available-packages"]].sort(), ["acme/logger", "acme/widget"], httpWhy(root, "scoped available-packages"));
    assert.deepEqual(root.json.packages, [], httpWhy(root, "packages: []"));
    assert.equal(root.json["metadata-url"], "/p2/%package%.json", httpWhy(root));
    assert.deepEqual(
      root.json.mirrors,
      [{ "dist-url": `${origin}/dist/%package%/%version%/%reference%.%type%`, preferred: true }],
      httpWhy(root, "mirrors"),
    );
    assert.equal(root.json["notify-batch"], `${origin}/downloads`, httpWhy(root, "notify-batch"));

    const rootAll = await http("GET", "/packages.json", { bearer: all.token });
    assert.equal(rootAll.status, 200, httpWhy(rootAll));
    assert.deepEqual([...rootAll.json["available-packages"]].sort(), ["acme/logger", "acme/widget", "other/tool"], httpWhy(rootAll));

    // Tagged versions.
    const w = await p2("acme/widget", scoped.token);
    assert.equal(w.status, 200, httpWhy(w));
    assert.match(w.headers.get("content-type") ?? "", /^application\/json/, httpWhy(w, "content-type"));
    const cc = w.headers.get("cache-control") ?? "";
    assert.ok(/\bprivate\b/.test(cc) && /\bno-cache\b/.test(cc), httpWhy(w, "Cache-Control: private, no-cache"));
    const lm = w.headers.get("last-modified");
    assert.ok(lm && !Number.isNaN(Date.parse(lm)), httpWhy(w, "Last-Modified"));
    assert.ok(Date.parse(lm) <= Date.now() + 5000, httpWhy(w, "Last-Modified not in the future"));
    assert.deepEqual(Object.keys(w.json.packages), ["acme/widget"], httpWhy(w, "only the requested package"));
    const wv = Object.fromEntries(p2Versions(w, "acme/widget").map((v) => [v.version, v]));
    assert.deepEqual(Object.keys(wv).sort(), ["1.0.0", "1.2.0"], httpWhy(w, "tagged versions only"));
    for (const id of ["widget-1.0.0", "widget-1.2.0"]) {
      const p = fx(id);
      const v = wv[p.expect.version];
      assert.equal(v.name, "acme/widget");
      assert.equal(v.version_normalized, p.expect.version_normalized, httpWhy(w, `${id} version_normalized`));
      assert.equal(v.dist?.type, "zip", httpWhy(w, `${id} dist.type`));
      assert.equal(v.dist.reference, p.upload.json.reference, httpWhy(w, `${id} dist.reference`));
      assert.equal(v.dist.shasum, sha1(p.bytes), httpWhy(w, `${id} dist.shasum`));
      assert.ok(typeof v.dist.url === "string" && v.dist.url.length > 0, httpWhy(w, `${id} dist.url`));
      assert.deepEqual(v.require, p.composer.require, httpWhy(w, `${id} require`));
      assert.deepEqual(v.autoload, { "psr-4": { "Acme\\Widget\\": "src/" } }, httpWhy(w, `${id} autoload`));
    }

    // Conditional requests.
    const same = await p2("acme/widget", scoped.token, { "if-modified-since": lm });
    assert.equal(same.status, 304, httpWhy(same, `If-Modified-Since: ${lm}`));
    assert.equal(same.buf.length, 0, httpWhy(same, "304 has an empty body"));
    const old = await p2("acme/widget", scoped.token, { "if-modified-since": "Sat, 01 Jan 2000 00:00:00 GMT" });
    assert.equal(old.status, 200, httpWhy(old, "If-Modified-Since older than the document"));
    assert.equal(old.text, w.text, "same document");

    // Branches.
    const d = await http("GET", "/p2/acme/widget~dev.json", { token: scoped.token });
    assert.equal(d.status, 200, httpWhy(d));
    assert.ok(d.headers.get("last-modified"), httpWhy(d, "~dev Last-Modified"));
    assert.match(d.headers.get("cache-control") ?? "", /\bprivate\b/, httpWhy(d));
    const dv = p2Versions(d, "acme/widget");
    assert.deepEqual(dv.map((v) => v.version), ["dev-main"], httpWhy(d, "branches only"));
    assert.equal(dv[0].dist?.shasum, sha1(fx("widget-dev-main").bytes), httpWhy(d));
    assert.deepEqual(dv[0].extra, { "branch-alias": { "dev-main": "1.3.x-dev" } }, httpWhy(d, "extra kept"));
    const dSame = await http("GET", "/p2/acme/widget~dev.json", { token: scoped.token, headers: { "if-modified-since": d.headers.get("last-modified") } });
    assert.equal(dSame.status, 304, httpWhy(dSame));

    const l = await p2("acme/logger", scoped.token);
    assert.equal(l.status, 200, httpWhy(l));
    assert.deepEqual(p2Versions(l, "acme/logger").map((v) => v.version).sort(), ["1.0.0", "1.1.0", "2.0.0"], httpWhy(l));
    const ld = await http("GET", "/p2/acme/logger~dev.json", { token: scoped.token });
    assert.ok(ld.status === 200 || ld.status === 404, httpWhy(ld, "logger has no branches: empty document or 404"));
    if (ld.status === 200) assert.deepEqual(ld.json.packages["acme/logger"] ?? [], [], httpWhy(ld));

    const unknown = await p2("acme/nothing", scoped.token);
    assertJsonError(unknown, 404, "not_found", "p2 of an unknown package");
    // docs/API.md: error responses carry `Cache-Control: no-store`.
    assert.equal(unknown.headers.get("cache-control"), "no-store", httpWhy(unknown, "Cache-Control on errors"));

    // HEAD answers what GET answers, without a body.
    for (const [p, opts] of [["/packages.json", { token: scoped.token }], ["/p2/acme/widget.json", { token: scoped.token }], ["/p2/acme/nothing.json", { token: scoped.token }], ["/packages.json", {}]]) {
      const get = await http("GET", p, opts);
      const head = await http("HEAD", p, opts);
      assert.equal(head.status, get.status, httpWhy(head, `HEAD ${p} status`));
      assert.equal(head.buf.length, 0, httpWhy(head, `HEAD ${p} has no body`));
      for (const h of ["content-type", "cache-control", "last-modified", "www-authenticate"])
        assert.equal(head.headers.get(h), get.headers.get(h), httpWhy(head, `HEAD ${p}: ${h} as GET's`));
    }
  });

  // -------------------------------------------------------------------------------------------------
  it("8. dist downloads: exact bytes, headers, Range", { timeout: TEST_TIMEOUT_MS }, async () => {
    await ensureUploaded();
    const { token } = await allToken();
    const p = fx("widget-1.2.0");
    const url = `/dist/acme/widget/1.2.0.0/${p.upload.json.reference}.zip`;
    const ident = { "accept-encoding": "identity" };

    if (PRESIGNED) return presignedDist(url, token, p);
    const full = await http("GET", url, { token, headers: ident });
    assert.equal(full.status, 200, httpWhy(full));
    assert.equal(full.headers.get("content-type"), "application/zip", httpWhy(full, "content-type"));
    assert.ok(full.headers.get("etag"), httpWhy(full, "ETag"));
    assert.equal(full.headers.get("accept-ranges"), "bytes", httpWhy(full, "Accept-Ranges"));
    assert.match(full.headers.get("cache-control") ?? "", /\bprivate\b/, httpWhy(full, "Cache-Control private"));
    assert.equal(sha1(full.buf), p.upload.json.shasum, "sha1 of the download = the upload's shasum");
    assert.ok(full.buf.equals(p.bytes), "the exact uploaded bytes");

    const head = await http("HEAD", url, { token, headers: ident });
    assert.equal(head.status, 200, httpWhy(head, "HEAD of a dist"));
    assert.equal(head.buf.length, 0, httpWhy(head, "HEAD has no body"));
    for (const h of ["content-type", "content-length", "etag", "accept-ranges", "cache-control"])
      assert.equal(head.headers.get(h), full.headers.get(h), httpWhy(head, `HEAD of a dist: ${h} as GET's`));
    assert.equal(full.headers.get("content-length"), String(p.bytes.length), httpWhy(full, "Content-Length"));

    const part = await http("GET", url, { token, headers: { ...ident, range: "bytes=0-99" } });
    assert.equal(part.status, 206, httpWhy(part, "Range bytes=0-99"));
    assert.equal(part.headers.get("content-range"), `bytes 0-99/${p.bytes.length}`, httpWhy(part, "Content-Range"));
    assert.ok(part.buf.equals(p.bytes.subarray(0, 100)), `first 100 bytes (got ${part.buf.length})`);

    const mid = await http("GET", url, { token, headers: { ...ident, range: "bytes=100-" } });
    assert.equal(mid.status, 206, httpWhy(mid, "Range bytes=100-"));
    assert.equal(mid.headers.get("content-range"), `bytes 100-${p.bytes.length - 1}/${p.bytes.length}`, httpWhy(mid));
    assert.ok(mid.buf.equals(p.bytes.subarray(100)), `bytes 100- (got ${mid.buf.length})`);

    const bad = await http("GET", url, { token, headers: { ...ident, range: `bytes=${p.bytes.length + 10}-${p.bytes.length + 20}` } });
    assert.equal(bad.status, 416, httpWhy(bad, "unsatisfiable Range"));

    const dev = fx("widget-dev-main");
    const devDist = await http("GET", `/dist/acme/widget/dev-main/${dev.upload.json.reference}.zip`, { token, headers: ident });
    assert.equal(devDist.status, 200, httpWhy(devDist));
    assert.equal(sha1(devDist.buf), sha1(dev.bytes), "dev-main dist bytes");

    // The dist.url in p2 metadata works too.
    const meta = await p2("acme/widget", token);
    const v = p2Versions(meta, "acme/widget").find((x) => x.version === "1.2.0");
    const distUrl = new URL(v.dist.url, origin);
    assert.equal(distUrl.origin, origin, `dist.url points at the Worker: ${v.dist.url}`);
    const viaMeta = await http("GET", distUrl.pathname + distUrl.search, { token, headers: ident });
    assert.equal(viaMeta.status, 200, httpWhy(viaMeta, "GET dist.url from p2"));
    assert.equal(sha1(viaMeta.buf), p.upload.json.shasum);

    const wrongRef = await http("GET", `/dist/acme/widget/1.2.0.0/${"0".repeat(40)}.zip`, { token });
    assert.equal(wrongRef.status, 404, httpWhy(wrongRef, "a reference that does not match any build"));
  });

  // -------------------------------------------------------------------------------------------------
  it("9. a version uploaded after composer cached the metadata is seen by composer update", { timeout: TEST_TIMEOUT_MS }, async () => {
    await ensureUploaded();
    const { token } = await allToken();
    const project = makeProject("new-version", { token, require: { "other/tool": "^1.0" } });
    const first = await runComposer(project, ["install"]);
    assert.equal(first.res.code, 0, why(first.res, "first install failed", first.entries));
    assert.equal(lockedVersions(project)["other/tool"]?.version, "1.0.0", why(first.res, "other/tool 1.0.0 first", first.entries));

    // Same second: the document changes right after a client fetched it; its If-Modified-Since
    // (second resolution) must not make the change invisible.
    while (Date.now() % 1000 > 100) await sleep(5);
    const before = await p2("other/tool", token);
    assert.equal(before.status, 200, httpWhy(before));
    const lm = before.headers.get("last-modified");
    const late = fx("tool-1.1.0");
    late.upload = await upload(late.name, late.bytes, late.query);
    assert.equal(late.upload.status, 201, httpWhy(late.upload, "uploading other/tool 1.1.0"));
    const after = await p2("other/tool", token, { "if-modified-since": lm });
    assert.equal(after.status, 200, httpWhy(after, `If-Modified-Since: ${lm} right after an upload in the same second`));
    assert.ok(p2Versions(after, "other/tool").some((v) => v.version === "1.1.0"), httpWhy(after, "1.1.0 listed"));

    const { res, entries } = await runComposer(project, ["update"]);
    assert.equal(res.code, 0, why(res, "composer update failed", entries));
    const tool = entries.filter((e) => e.path === "/p2/other/tool.json");
    assert.ok(tool.length >= 1 && tool.every((e) => e.status === 200), why(res, "/p2/other/tool.json → 200 (changed)", entries));
    assert.equal(lockedVersions(project)["other/tool"]?.version, "1.1.0", why(res, "updated to 1.1.0", entries));
    await assertPrints(project, "(new Other\\Tool\\Tool)->version()", "other/tool 1.1.0", "other/tool after update");
  });

  // -------------------------------------------------------------------------------------------------
  // Administration and sources on every target (the Worker and both server configurations): the route
  // table's role gate with its audit entry, a licence composer resolves under, rate-limit headers and
  // composer's warning at the limit, and a signed webhook on its nonce URL bringing an upstream release.
  it("10. admin roles, licences, rate limits and nonce webhooks", { timeout: TEST_TIMEOUT_MS }, async () => {
    await ensureUploaded();
    const jsonBody = (body, auth) => ({ ...auth, body: JSON.stringify(body), headers: { "content-type": "application/json" } });

    // Roles: a viewer reads but cannot change anything, and the refusal is in the audit log.
    const viewer = await http("POST", "/admin/api/admins", jsonBody({ name: "e2e-viewer", role: "viewer" }, { admin: true }));
    assert.equal(viewer.status, 201, httpWhy(viewer, "creating a viewer admin"));
    const listed = await http("GET", "/admin/api/tokens", { bearer: viewer.json.token });
    assert.equal(listed.status, 200, httpWhy(listed, "a viewer lists tokens"));
    const refused = await http("POST", "/admin/api/tokens", jsonBody({ name: "nope" }, { bearer: viewer.json.token }));
    assertJsonError(refused, 403, "forbidden", "a viewer cannot create tokens");
    const denied = await http("GET", "/admin/api/audit?action=access.denied", { admin: true });
    assert.equal(denied.status, 200, httpWhy(denied));
    assert.ok(denied.json.entries.some((e) => e.actor === `admin:${viewer.json.id}` && e.status === 403), httpWhy(denied, "the denial is audited"));

    // Licences: ^1.0 of acme/logger; 2.0.0 stays invisible to composer and its archive answers 404.
    const licensed = await createToken({ name: "e2e-licensed", packages: ["acme/*"], licences: [{ packages: "acme/logger", constraint: "^1.0" }] });
    const lproject = makeProject("licensed", { token: licensed.token, require: { "acme/logger": "*" } });
    const lrun = await runComposer(lproject, ["update"]);
    assert.equal(lrun.res.code, 0, why(lrun.res, "composer update under a licence", lrun.entries));
    assert.equal(lockedVersions(lproject)["acme/logger"]?.version, "1.1.0", why(lrun.res, "the newest licensed version", lrun.entries));
    const v2doc = await p2("acme/logger", licensed.token);
    assert.deepEqual(p2Versions(v2doc, "acme/logger").map((v) => v.version).sort(), ["1.0.0", "1.1.0"], httpWhy(v2doc));
    const hidden = await http("GET", new URL(fx("logger-2.0.0").upload.json.dist_url).pathname, { token: licensed.token });
    assertJsonError(hidden, 404, "not_found", "an archive outside the licence");

    // Rate limits: every answer to a limited token says where it stands; past the limit composer prints
    // the broker's warning. Started early in a minute so the window does not turn over in between.
    for (let i = 0; i < 200 && Date.now() % 60_000 > 40_000; i++) await sleep(100);
    const roomy = await createToken({ name: "e2e-roomy", rate_limit: 1000 });
    const ok = await http("GET", "/packages.json", { token: roomy.token });
    assert.equal(ok.status, 200, httpWhy(ok));
    assert.equal(ok.headers.get("x-ratelimit-limit"), "1000", httpWhy(ok, "X-RateLimit-Limit"));
    assert.equal(ok.headers.get("x-ratelimit-remaining"), "999", httpWhy(ok, "X-RateLimit-Remaining"));
    assert.equal(Number(ok.headers.get("x-ratelimit-reset")) % 60, 0, httpWhy(ok, "X-RateLimit-Reset: the next minute"));
    const tiny = await createToken({ name: "e2e-tiny", rate_limit: 1 });
    const tproject = makeProject("rate-limited", { token: tiny.token, require: { "acme/logger": "^1.0" } });
    const trun = await runComposer(tproject, ["update"]);
    assert.notEqual(trun.res.code, 0, why(trun.res, "composer past the rate limit", trun.entries));
    assert.match(trun.res.output, /package-broker: the token "e2e-tiny" made more than 1 requests this minute/, why(trun.res, "the warning", trun.entries));
    const limited = await http("GET", "/packages.json", { token: tiny.token });
    assertJsonError(limited, 429, "rate_limited", "past the limit");
    assert.ok(Number(limited.headers.get("retry-after")) >= 1, httpWhy(limited, "Retry-After"));
    assert.equal(limited.headers.get("x-ratelimit-remaining"), "0", httpWhy(limited));

    // Webhooks: the URL carries the source's nonce; a signed push brings the upstream's new release.
    const upstream = await composerRepo.start({
      mode: "v2",
      username: "deploy",
      password: "upstream-secret",
      packages: [{ name: "up/hooked", versions: [{ version: "1.0.0", files: { "README.md": "1.0.0\n" } }] }],
    });
    try {
      const created = await http(
        "POST",
        "/admin/api/sources",
        jsonBody({ type: "composer", url: upstream.url, credentials: { type: "basic", username: "deploy", password: "upstream-secret" } }, { admin: true }),
      );
      assert.equal(created.status, 201, httpWhy(created, "creating a composer source"));
      const { id, webhook_url: hookUrl, webhook_secret: secret } = created.json;
      const hook = new URL(hookUrl).pathname;
      assert.match(hook, new RegExp(`^/hooks/${id}/[0-9a-f]{32}$`), `a nonce in the webhook URL: ${hookUrl}`);
      const synced = await http("POST", `/admin/api/sources/${id}/sync`, { admin: true });
      assert.equal(synced.status, 200, httpWhy(synced, "the first sync"));
      const versionsOf = async () => {
        const r = await p2("up/hooked", roomy.token);
        return r.status === 200 ? p2Versions(r, "up/hooked").map((v) => v.version) : [];
      };
      assert.deepEqual(await versionsOf(), ["1.0.0"]);

      upstream.state.addVersion("up/hooked", { version: "1.1.0", files: { "README.md": "1.1.0\n" } });
      const payload = JSON.stringify({ ref: "refs/tags/1.1.0" });
      const sign = (key) => `sha256=${createHmac("sha256", key).update(payload).digest("hex")}`;
      const deliver = (p, key, event = "push") =>
        http("POST", p, { body: payload, headers: { "content-type": "application/json", "x-hub-signature-256": sign(key), "x-github-event": event } });
      assertJsonError(await deliver(`/hooks/${id}`, secret), 401, "unauthorized", "the nonce-less URL");
      assertJsonError(await deliver(hook, "not-the-secret"), 401, "unauthorized", "a wrong signature");
      const delivered = await deliver(hook, secret);
      assert.equal(delivered.status, 202, httpWhy(delivered, "a signed push"));
      let seen = [];
      for (let i = 0; i < 120 && !seen.includes("1.1.0"); i++) {
        seen = await versionsOf();
        if (!seen.includes("1.1.0")) await sleep(500);
      }
      assert.deepEqual(seen.sort(), ["1.0.0", "1.1.0"], `the webhook's sync brought 1.1.0\n${logTail()}`);
      const hproject = makeProject("hooked", { token: roomy.token, require: { "up/hooked": "^1.1" } });
      const hrun = await runComposer(hproject, ["install"]);
      assert.equal(hrun.res.code, 0, why(hrun.res, "installing the release the webhook brought", hrun.entries));
      assert.equal(readFileSync(path.join(hproject.dir, "vendor/up/hooked/README.md"), "utf8"), "1.1.0\n");

      // A new nonce: the old URL stops working even with its own secret; the new one answers a ping.
      const rotated = await http("POST", `/admin/api/sources/${id}/webhook-secret`, { admin: true });
      assert.equal(rotated.status, 200, httpWhy(rotated, "regenerating the webhook URL"));
      assert.notEqual(new URL(rotated.json.webhook_url).pathname, hook);
      assertJsonError(await deliver(hook, secret, "ping"), 401, "unauthorized", "the old nonce");
      const ping = await deliver(new URL(rotated.json.webhook_url).pathname, rotated.json.webhook_secret, "ping");
      assert.equal(ping.status, 200, httpWhy(ping, "a ping on the new URL"));
    } finally {
      await upstream.stop();
    }
  });
});
