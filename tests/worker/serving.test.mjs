// Serving archives in workerd (the real .wasm under Miniflare, tests/worker/fixtures/harness.mjs around
// it) from a fake private Composer repository (tests/upstreams/composer-repo.mjs) that sends its dists
// as a static file (Content-Length), built on the fly (chunked, no length) or gzip-encoded. First
// downloads: whole or failed, never a short "complete" body; stored whole or not at all; single flight
// with clock.sleep; an archive far larger than an isolate's memory. Also: what the request log shows
// (one effect batch per suspension), the edge cache outside the zone's reach, plain errors for clients,
// a long chain of awaits, and a trap while other invocations are in flight.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { startWorker, client, requestLines, until, BASE } from "./helpers.mjs";
import * as composerRepo from "../upstreams/composer-repo.mjs";

const ADMIN = "serving-admin-token";
const KEY = Buffer.alloc(32, 9).toString("base64");
const sha1 = (b) => createHash("sha1").update(b).digest("hex");
// Where in a request's ops an R2 read happens: an r2.get, or an http.respond the shim reads from R2
// ("r2.get+http.respond…", PROTOCOL.md body_r2); -1 if none.
const readsR2 = (ops) => ops.findIndex((o) => o.startsWith("r2.get"));

// Bounds a body read: a stream that neither ends nor fails is a failure of the test, not a pass.
async function readBody(r, ms = 60_000) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the body did not end or fail within ${ms} ms`)), ms);
  });
  try {
    return { ok: true, buf: Buffer.from(await Promise.race([r.arrayBuffer(), timeout])) };
  } catch (e) {
    if (/did not end or fail/.test(e.message)) throw e;
    return { ok: false, error: e };
  } finally {
    clearTimeout(timer);
  }
}

// The workerd processes Miniflare started for this test process: their peak resident memory (VmHWM).
function workerdPeakKb() {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (!/^Name:\s+workerd$/m.test(status)) continue;
      if (Number(/^PPid:\s+(\d+)/m.exec(status)[1]) !== process.pid) continue;
      total += Number(/^VmHWM:\s+(\d+) kB/m.exec(status)[1]);
    } catch {}
  }
  return total;
}

describe("serving archives in workerd", () => {
  let mf, up, api, token, sourceId;
  const logs = [];
  const pkg = (name, version, files = {}) => ({ version, autoload: { "psr-4": { "Acme\\": "src/" } }, files: { "src/A.php": `<?php // ${name} ${version}\n`, ...files } });

  async function sync() {
    const r = await api("POST", `/admin/api/sources/${sourceId}/sync`, { admin: true });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.status, "ok", r.text);
  }
  // The dist URL (path) composer would use for name@version, from the p2 document.
  async function distPath(name, version) {
    const r = await api("GET", `/p2/${name}.json`, { token });
    assert.equal(r.status, 200, r.text);
    const v = r.json.packages[name].find((x) => x.version === version);
    assert.ok(v, `${name} ${version} in ${r.text}`);
    return new URL(v.dist.url).pathname;
  }
  async function stored(name, version) {
    const r = await api("GET", `/admin/api/packages/${name}`, { admin: true });
    assert.equal(r.status, 200, r.text);
    return r.json.versions.find((v) => v.version === version);
  }
  async function mirrorObjects(name) {
    const bucket = await mf.getR2Bucket("BUCKET");
    return (await bucket.list({ prefix: `mirror/${name}/` })).objects.map((o) => o.key);
  }
  const upstreamDists = (name) => up.state.requests.filter((e) => e.path.startsWith(`/dist/${name}/`));

  before(async () => {
    up = await composerRepo.start({
      mode: "v2",
      username: "deploy",
      password: "up-secret",
      packages: [
        { name: "acme/chunked", versions: [pkg("acme/chunked", "1.0.0"), pkg("acme/chunked", "1.1.0"), pkg("acme/chunked", "1.2.0")] },
        { name: "acme/static", versions: [pkg("acme/static", "1.0.0"), pkg("acme/static", "1.1.0")] },
        { name: "acme/gzip", versions: [pkg("acme/gzip", "1.0.0", { "README.md": "compressible ".repeat(5000) })] },
        { name: "acme/flight", versions: [pkg("acme/flight", "1.0.0")] },
        { name: "acme/trap", versions: [pkg("acme/trap", "1.0.0"), pkg("acme/trap", "1.1.0"), pkg("acme/trap", "1.2.0")] },
      ],
    });
    mf = await startWorker({
      script: "tests/worker/fixtures/harness.mjs",
      bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: KEY, PB_TEST_HOOKS: "1", PB_LOG: "debug" },
      logs,
    });
    api = client(mf, { adminToken: ADMIN });
    const src = await api("POST", "/admin/api/sources", {
      admin: true,
      body: { type: "composer", url: up.url, credentials: { type: "basic", username: "deploy", password: "up-secret" } },
    });
    assert.equal(src.status, 201, src.text);
    sourceId = src.json.id;
    await sync();
    const t = await api("POST", "/admin/api/tokens", { admin: true, body: { name: "serving" } });
    assert.equal(t.status, 201, t.text);
    token = t.json.token;
  });
  after(async () => {
    await mf?.dispose();
    await up?.stop();
  });

  test("an archive sent chunked (no length) is stored whole first, then served with its length", async () => {
    up.state.distMode = "chunked";
    const path = await distPath("acme/chunked", "1.0.0");
    const want = up.state.dist("acme/chunked", "1.0.0");
    const r = await api("GET", path, { token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get("content-length"), String(want.zip.length), "served with its length");
    assert.ok(r.buf.equals(want.zip), "the upstream's exact bytes");
    assert.equal(r.headers.get("etag"), `"${want.shasum}"`);
    const v = await stored("acme/chunked", "1.0.0");
    assert.equal(v.size, want.zip.length, JSON.stringify(v));
    assert.equal(v.sha256, createHash("sha256").update(want.zip).digest("hex"));
    // The upstream answered chunked (the fake really sent no length), once.
    assert.equal(upstreamDists("acme/chunked").length, 1);
    const line = requestLines(logs, path).find((l) => !l.phase);
    const ops = line.batches.flat();
    assert.ok(ops.indexOf("r2.put") >= 0 && ops.indexOf("r2.put") < readsR2(ops), `stored, then read back: ${JSON.stringify(line.batches)}`);
    const again = await api("GET", path, { token });
    assert.ok(again.buf.equals(want.zip));
    assert.equal(upstreamDists("acme/chunked").length, 1, "the second download comes from R2");
  });

  test("a chunked transfer that breaks midway is a 502 with a plain message; nothing is stored", async () => {
    up.state.distMode = "chunked";
    const path = await distPath("acme/chunked", "1.1.0");
    up.state.addFault({ path: "/dist/acme/chunked/*", type: "truncate", count: 1 });
    const r = await api("GET", path, { token });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.equal(r.json.error.code, "upstream");
    assert.equal(r.json.error.message, "the archive of acme/chunked could not be fetched from its upstream");
    const line = requestLines(logs, path).at(-1);
    assert.equal(line.status, 502);
    assert.match(line.detail, /127\.0\.0\.1:\d+\/dist\/acme\/chunked\//, "the log names the upstream URL");
    assert.ok(!(await stored("acme/chunked", "1.1.0")).sha256, "nothing recorded");
    assert.deepEqual((await mirrorObjects("acme/chunked")).filter((k) => k.includes(up.state.dist("acme/chunked", "1.1.0").reference)), []);
    const whole = await api("GET", path, { token });
    assert.equal(whole.status, 200, whole.text);
    assert.ok(whole.buf.equals(up.state.dist("acme/chunked", "1.1.0").zip));
  });

  test("with a Content-Length too, a first download is stored before it is served; broken midway: 502", async () => {
    up.state.distMode = "static";
    const path = await distPath("acme/static", "1.0.0");
    const want = up.state.dist("acme/static", "1.0.0");
    up.state.addFault({ path: "/dist/acme/static/*", type: "truncate", count: 1 });
    const r = await api("GET", path, { token, raw: true });
    // Bounded: a body that neither ends nor fails fails the test.
    const body = await readBody(r);
    assert.equal(r.status, 502, `a broken transfer is a 502 before any byte (got ${r.status}, ${body.buf?.length} bytes)`);
    assert.equal(JSON.parse(body.buf.toString()).error.code, "upstream");
    assert.ok(!(await stored("acme/static", "1.0.0")).sha256, "nothing recorded");
    assert.deepEqual((await mirrorObjects("acme/static")).filter((k) => k.includes(want.reference)), []);
    const whole = await api("GET", path, { token });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("content-length"), String(want.zip.length));
    assert.ok(whole.buf.equals(want.zip));
    const line = requestLines(logs, path).filter((l) => !l.phase).at(-1);
    const ops = line.batches.flat();
    assert.ok(ops.indexOf("r2.put") >= 0 && ops.indexOf("r2.put") < readsR2(ops) && !ops.includes("body.tee"), JSON.stringify(line.batches));
  });

  test("concurrent first downloads share one upstream fetch; the others wait with clock.sleep", async () => {
    up.state.distMode = "chunked";
    const path = await distPath("acme/flight", "1.0.0");
    const want = up.state.dist("acme/flight", "1.0.0");
    up.state.addFault({ path: "/dist/acme/flight/*", type: "delay", ms: 2500, count: 1 });
    const first = api("GET", path, { token });
    // The lease is taken before the upstream is asked: once the fake sees the request, others wait.
    await until("the first download reached the upstream", () => upstreamDists("acme/flight").length === 1);
    const others = await Promise.all([api("GET", path, { token }), api("GET", path, { token })]);
    for (const r of [await first, ...others]) {
      assert.equal(r.status, 200, r.text);
      assert.ok(r.buf.equals(want.zip));
    }
    assert.equal(upstreamDists("acme/flight").length, 1, "one upstream fetch for three downloads");
    const waited = requestLines(logs, path).filter((l) => !l.phase && l.batches.some((b) => b.includes("clock.sleep")));
    assert.equal(waited.length, 2, JSON.stringify(requestLines(logs, path)));
    for (const l of waited) assert.deepEqual(l.batches.find((b) => b.includes("clock.sleep")), ["clock.sleep"]);
  });

  test("the request log shows one effect batch per suspension", async () => {
    // A cold isolate cache (the clock moved past its 10 s): the token and the document (a D1 batch: the
    // documents' change marker and the row) are read in one effect batch. (A token's first use also
    // records it, after the response: used once before, so not here.)
    assert.equal((await api("GET", "/p2/acme/static.json", { token })).status, 200);
    await api("POST", "/__fixture/clock?advance_ms=11000");
    const cold = await api("GET", "/p2/acme/static.json", { token });
    assert.equal(cold.status, 200);
    const warm = await api("GET", "/p2/acme/static.json", { token });
    assert.equal(warm.status, 200);
    const [coldLine, warmLine] = requestLines(logs, "/p2/acme/static.json").filter((l) => !l.phase).slice(-2);
    assert.deepEqual(coldLine.batches, [["d1.first", "d1.batch"]]);
    assert.deepEqual(warmLine.batches, [], "a warm hit raises no effect at all");

    // A first download stored before it is served: one entry per suspension, in order; the edge cache
    // is filled after the response went out.
    up.state.distMode = "chunked";
    const path = await distPath("acme/chunked", "1.2.0");
    await api("POST", "/__fixture/clock?advance_ms=11000");
    const r = await api("GET", path, { token });
    assert.equal(r.status, 200);
    const after = await until("the cache fill after the response", () => requestLines(logs, path).find((l) => l.phase === "after_response"));
    const line = requestLines(logs, path).find((l) => !l.phase);
    assert.deepEqual(
      line.batches,
      [["d1.first", "d1.first"], ["d1.run"], ["d1.first"], ["crypto.aes_gcm_decrypt"], ["fetch"], ["r2.put"], ["d1.run"], ["cache.match"], ["r2.get+http.respond+d1.run"]],
      "token and version row together; lease; source; its credentials; upstream; store; record; serve (read from R2 by the shim) and count",
    );
    assert.deepEqual(after.batches.slice(0, 2), [["r2.get"], ["cache.put"]]);
  });

  test("edge cache entries are out of reach of requests from outside", async () => {
    up.state.distMode = "chunked";
    const path = await distPath("acme/chunked", "1.0.0");
    const want = up.state.dist("acme/chunked", "1.0.0");
    const key = `mirror/acme/chunked/${want.reference}.zip`;
    // Served from R2 once, the archive is in the Worker's cache; nothing of it is in the zone's cache.
    await api("GET", path, { token });
    assert.equal((await api("GET", path, { token })).status, 200);
    await until("the edge cache filled", () => requestLines(logs, path).some((l) => l.phase === "after_response" && l.batches.some((b) => b.includes("cache.put"))));
    const cacheUrl = `${BASE}/__pb_cache/${key}`;
    const zone = await api("GET", `/__fixture/default-cache?url=${encodeURIComponent(cacheUrl)}`);
    assert.equal(zone.json.found, false, "caches.default has no entry under the archive's cache URL");
    // Something filling the zone cache at that URL (a request from outside) changes nothing served.
    await api("PUT", `/__fixture/default-cache?url=${encodeURIComponent(cacheUrl)}`, { body: "not the archive" });
    const r = await api("GET", path, { token });
    assert.equal(r.status, 200);
    assert.ok(r.buf.equals(want.zip), "the real archive");
    const line = requestLines(logs, path).filter((l) => !l.phase).at(-1);
    assert.ok(line.batches.some((b) => b.includes("cache.match")) && readsR2(line.batches.flat()) < 0, JSON.stringify(line));
    // And no route answers that URL, with or without a token.
    for (const opts of [{ token }, {}]) {
      const direct = await api("GET", `/__pb_cache/${key}`, opts);
      assert.equal(direct.status, 404, direct.text);
      assert.equal(direct.json.error.code, "not_found");
    }
  });

  test("clients get plain errors; upstream URLs, fetch errors and secret names go to the log", async () => {
    // A second source for acme/secretive whose credentials name a Worker secret that is not set.
    const other = await composerRepo.start({ mode: "v2", username: "deploy", password: "s3", packages: [{ name: "acme/secretive", versions: [pkg("acme/secretive", "1.0.0")] }] });
    try {
      const src = await api("POST", "/admin/api/sources", { admin: true, body: { type: "composer", url: other.url, credentials: { type: "basic", username: "deploy", password: "s3" } } });
      assert.equal(src.status, 201, src.text);
      const synced = await api("POST", `/admin/api/sources/${src.json.id}/sync`, { admin: true });
      assert.equal(synced.json.result.status, "ok", synced.text);
      const patched = await api("PATCH", `/admin/api/sources/${src.json.id}`, { admin: true, body: { credentials: { secret: "PB_SOURCE_SERVING_UNSET" } } });
      assert.equal(patched.status, 200, patched.text);
      const path = await distPath("acme/secretive", "1.0.0");
      const r = await api("GET", path, { token });
      assert.equal(r.status, 502, r.text);
      assert.deepEqual(r.json, { error: { code: "upstream", message: "the archive of acme/secretive could not be fetched from its upstream" } });
      assert.match(requestLines(logs, path).at(-1).detail, /PB_SOURCE_SERVING_UNSET/);

      // The upstream is gone: a raw fetch error, with the upstream's address, in the log only.
      await api("PATCH", `/admin/api/sources/${src.json.id}`, { admin: true, body: { credentials: { type: "basic", username: "deploy", password: "s3" } } });
      await other.stop();
      const gone = await api("GET", path, { token });
      assert.equal(gone.status, 502, gone.text);
      assert.equal(gone.json.error.message, "the archive of acme/secretive could not be fetched from its upstream");
      assert.doesNotMatch(gone.text, /127\.0\.0\.1|http:|Error/);
      assert.match(requestLines(logs, path).at(-1).detail, /127\.0\.0\.1/);
    } finally {
      await other.stop();
    }
  });

  test("packages.json shows a packagist source's patterns only within the token's scope", async () => {
    const src = await api("POST", "/admin/api/sources", { admin: true, body: { type: "packagist", url: "http://127.0.0.1:9", include: ["psr/*", "acme/*"] } });
    assert.equal(src.status, 201, src.text);
    try {
      const patterns = async (packages) => {
        const t = await api("POST", "/admin/api/tokens", { admin: true, body: { name: `scope ${packages}`, packages } });
        const r = await api("GET", "/packages.json", { token: t.json.token });
        assert.equal(r.status, 200, r.text);
        return r.json["available-package-patterns"];
      };
      const all = await patterns(["*"]);
      assert.ok(all.includes("psr/*") && all.includes("acme/*"), JSON.stringify(all));
      const widget = await patterns(["acme/widget"]);
      assert.ok(!widget.some((p) => p.startsWith("psr") || p === "acme/*"), JSON.stringify(widget));
      assert.ok(widget.includes("acme/widget"), JSON.stringify(widget));
      const symfony = await patterns(["symfony/*"]);
      assert.deepEqual(symfony, [], "nothing of the source outside the scope");
      const psrLog = await patterns(["psr/log", "other/*"]);
      assert.deepEqual(psrLog, ["psr/log"]);
    } finally {
      await api("DELETE", `/admin/api/sources/${src.json.id}`, { admin: true });
    }
  });

  test("a warm /packages.json answers each token its own listing (scope and licences)", async () => {
    const tokenFor = async (name, body) => {
      const t = await api("POST", "/admin/api/tokens", { admin: true, body: { name, ...body } });
      assert.equal(t.status, 201, t.text);
      return t.json.token;
    };
    const wide = await tokenFor("listing wide", {});
    const narrow = await tokenFor("listing narrow", { packages: ["acme/static"] });
    const licensed = await tokenFor("listing licensed", { licences: [{ packages: "acme/chunked", constraint: "^9.0" }] });
    const listed = async (t) => {
      const r = await api("GET", "/packages.json", { token: t });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get("cache-control"), "private, no-cache");
      return r.json["available-packages"];
    };
    const all = await listed(wide);
    assert.ok(all.includes("acme/chunked") && all.includes("acme/static") && all.length > 2, JSON.stringify(all));
    // Each token in turn, three times: from the second time on its record, the catalog and the body
    // rendered for it are all in the isolate (the warm path), next to the other tokens' bodies.
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(await listed(wide), all);
      assert.deepEqual(await listed(narrow), ["acme/static"], `round ${round}`);
      assert.deepEqual(await listed(licensed), all.filter((n) => n !== "acme/chunked"), `round ${round}`);
    }
  });

  test("a long chain of synchronously completing awaits runs in wasm (tail calls hold)", async () => {
    const r = await api("GET", "/__test/chain?loop=2000000&depth=100000");
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { sum: 2_100_000 });
  });

  test("a trap ends the other invocations in flight in that instance; nothing half-stored stays", async () => {
    up.state.distMode = "chunked";
    const versions = ["1.0.0", "1.1.0", "1.2.0"];
    const paths = await Promise.all(versions.map((v) => distPath("acme/trap", v)));
    const before = (await api("GET", "/__fixture/wasm")).json.instances;
    up.state.addFault({ path: "/dist/acme/trap/*", type: "delay", ms: 3000, count: 3 });
    const inFlight = paths.map((p) => api("GET", p, { token }));
    await until("all three first downloads reached the upstream", () => upstreamDists("acme/trap").length === 3);
    const trapped = await api("GET", "/__test/trap");
    assert.equal(trapped.status, 500);
    assert.equal(trapped.json.error.code, "internal");
    for (const r of await Promise.all(inFlight)) {
      assert.equal(r.status, 500, r.text);
      assert.deepEqual(r.json, { error: { code: "internal", message: "internal error (the request was aborted)" } });
    }
    const ok = await api("GET", "/health");
    assert.equal(ok.status, 200, "the next request is served");
    assert.equal((await api("GET", "/__fixture/wasm")).json.instances, before + 1, "by a new instance");
    for (const v of versions) assert.ok(!(await stored("acme/trap", v)).sha256, `acme/trap ${v}: nothing recorded`);
    assert.deepEqual(await mirrorObjects("acme/trap"), [], "no archive in R2");
    // Their leases run out (a minute): then the next downloads fetch again and succeed.
    await api("POST", "/__fixture/clock?advance_ms=61000");
    for (const [i, p] of paths.entries()) {
      const r = await api("GET", p, { token });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.buf.equals(up.state.dist("acme/trap", versions[i]).zip));
    }
  });

  test("an archive larger than an isolate's 128 MB streams into R2 in parts; memory stays bounded", { timeout: 600_000 }, async () => {
    const size = 200 * 1024 * 1024;
    up.state.addVersion("acme/huge", { version: "1.0.0", files: { "data.bin": randomBytes(size) } }, { compress: false });
    await sync();
    up.state.distMode = "chunked";
    const path = await distPath("acme/huge", "1.0.0");
    const want = up.state.dist("acme/huge", "1.0.0");
    const before = workerdPeakKb();
    assert.ok(before > 0, "found the workerd process");
    const r = await api("GET", path, { token, raw: true });
    // Headers come once the archive is stored: what storing cost is the peak so far. Collecting the
    // archive in memory (the old way) cost 2-3 times its size; a part at a time it is about half its
    // size here, nearly all of it Miniflare's local R2 (a plain multipart upload of 30 parts raises it
    // by 60 MB). Reading the object back to the client is not measured: Miniflare's R2 buffers a whole
    // object for a slow reader, which R2 itself does not.
    const grew = (workerdPeakKb() - before) / 1024;
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-length"), String(want.zip.length));
    const hash = createHash("sha1");
    let n = 0;
    for await (const chunk of r.body) {
      hash.update(chunk);
      n += chunk.length;
    }
    assert.equal(n, want.zip.length);
    assert.equal(hash.digest("hex"), want.shasum);
    assert.ok(grew < 0.9 * (size >> 20), `workerd's peak memory grew by ${grew.toFixed(0)} MB storing a ${size >> 20} MB archive`);
    const v = await stored("acme/huge", "1.0.0");
    assert.equal(v.size, want.zip.length);
    assert.equal(v.sha256, createHash("sha256").update(want.zip).digest("hex"));
    up.state.removeVersion("acme/huge", "1.0.0"); // the fake keeps its archives in memory
  });
});
