// Sources in the wasm build (workerd via Miniflare): the WHATWG URL parse (ada compiled with em++ and
// no exceptions) decides where a source's credentials go exactly as in the native build. A Composer
// repository on 127.0.0.1 (plain node:http, logging every request) lists versions whose dist URLs try
// to smuggle another host past the check, or sit on another port, or bounce through http.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startWorker, BASE } from "./helpers.mjs";
import { zipFiles } from "../upstreams/zip.mjs";

const ADMIN = "sources-test-admin";
const CREDS = `Basic ${Buffer.from("deploy:pw").toString("base64")}`;

function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("sources in workerd", () => {
  let mf, repo, other, token;
  const seen = []; // {origin, path, auth, agent}
  const zip = zipFiles({ "composer.json": JSON.stringify({ name: "acme/lib" }) });

  before(async () => {
    const log = (origin) => (req) => seen.push({ origin, path: req.url, auth: req.headers.authorization ?? null, agent: req.headers["user-agent"] ?? null });
    other = await listen((req, res) => {
      log("other")(req);
      res.writeHead(200, { "content-type": "application/zip", "content-length": zip.length }).end(zip);
    });
    repo = await listen((req, res) => {
      log("repo")(req);
      const self = `http://127.0.0.1:${repo.address().port}`;
      const otherPort = other.address().port;
      const version = (v, url, ref) => ({ name: "acme/lib", version: v, version_normalized: `${v}.0`, dist: { type: "zip", url, reference: ref.repeat(40), shasum: "" } });
      if (req.url === "/packages.json") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ packages: [], "metadata-url": "/p2/%package%.json", "available-packages": ["acme/lib"] }));
      } else if (req.url === "/p2/acme/lib.json") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ packages: { "acme/lib": [
          version("1.0.0", `http:127.0.0.1:${otherPort}/x://127.0.0.1:${repo.address().port}/a.zip`, "a"),
          version("1.1.0", `http://127.0.0.1:${otherPort}/b.zip`, "b"),
          version("1.2.0", `${self}/c.zip`, "c"),
          version("1.3.0", `http://127.0.0.1%3A${otherPort}/d.zip`, "d"),
        ] } }));
      } else if (req.url === "/c.zip") {
        res.writeHead(200, { "content-type": "application/zip", "content-length": zip.length }).end(zip);
      } else {
        res.writeHead(404).end("{}");
      }
    });
    mf = await startWorker({ bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString("base64") } });
    const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
    const s = await mf.dispatchFetch(`${BASE}/admin/api/sources`, { method: "POST", headers: admin, body: JSON.stringify({
      type: "composer", url: `http://127.0.0.1:${repo.address().port}`, credentials: { type: "basic", username: "deploy", password: "pw" },
    }) });
    assert.equal(s.status, 201, await s.clone().text());
    const sync = await mf.dispatchFetch(`${BASE}/admin/api/sources/${(await s.json()).id}/sync`, { method: "POST", headers: admin });
    const body = await sync.json();
    assert.equal(sync.status, 200, JSON.stringify(body));
    assert.ok(body.result.errors.some((e) => e.includes("1.0.0: dist URL skipped")), JSON.stringify(body));
    const t = await mf.dispatchFetch(`${BASE}/admin/api/tokens`, { method: "POST", headers: admin, body: JSON.stringify({ name: "t" }) });
    token = (await t.json()).token;
  });
  after(async () => {
    await mf?.dispose();
    await new Promise((r) => (repo ? repo.close(r) : r()));
    await new Promise((r) => (other ? other.close(r) : r()));
  });

  const dist = (v, ref) => mf.dispatchFetch(`${BASE}/dist/acme/lib/${v}.0/${ref.repeat(40)}.zip`, { headers: { authorization: `Bearer ${token}` } });

  test("dist URLs that are not plain absolute http(s) URLs are skipped at sync time", async () => {
    const versions = (await (await mf.dispatchFetch(`${BASE}/admin/api/packages/acme/lib`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()).versions.map((v) => v.version).sort();
    assert.deepEqual(versions, ["1.1.0", "1.2.0"]);
    assert.equal((await dist("1.0.0", "a")).status, 404);
  });

  test("credentials reach the source's origin only: not another port, and every request has a User-Agent", async () => {
    const own = await dist("1.2.0", "c");
    assert.equal(own.status, 200);
    assert.deepEqual(Buffer.from(await own.arrayBuffer()), zip);
    const foreign = await dist("1.1.0", "b");
    assert.equal(foreign.status, 200);
    await foreign.arrayBuffer();
    const toRepo = seen.filter((e) => e.origin === "repo");
    const toOther = seen.filter((e) => e.origin === "other");
    assert.ok(toRepo.length >= 3 && toRepo.every((e) => e.auth === CREDS), JSON.stringify(toRepo));
    assert.ok(toOther.length === 1 && toOther.every((e) => e.auth === null), JSON.stringify(toOther));
    assert.ok(seen.every((e) => /^package-broker\//.test(e.agent ?? "")), JSON.stringify(seen.map((e) => e.agent)));
  });
});
