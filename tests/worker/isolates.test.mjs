// Two isolates over the same D1/KV/R2 (two copies of the worker in one Miniflare, each in its own
// isolate, with tests/worker/fixtures/harness.mjs's moving clock): what docs/API.md promises about
// isolates that did not handle a change. A revocation and new metadata (p2 documents, the package list
// of /packages.json) are effective at once in the isolate that handled them, and within 10 s in the
// other one (each isolate keeps token records, documents and its package catalog for 10 s). The clock moves instead of the test sleeping.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, client } from "./helpers.mjs";
import { zipFiles } from "../upstreams/zip.mjs";

const ADMIN = "isolates-admin-token";

describe("two isolates over the same storage", () => {
  let mf, a, b, token;
  const advance = (api, ms) => api("POST", `/__fixture/clock?advance_ms=${ms}`);
  const zip = (version) => zipFiles({ "composer.json": JSON.stringify({ name: "acme/shared", version }), "src/A.php": `<?php // ${version}\n` });
  const versions = async (api) => {
    const r = await api("GET", "/p2/acme/shared.json", { token });
    assert.equal(r.status, 200, r.text);
    return r.json.packages["acme/shared"].map((v) => v.version);
  };

  before(async () => {
    mf = await startWorker({ script: "tests/worker/fixtures/harness.mjs", isolates: 2, bindings: { ADMIN_TOKEN: ADMIN } });
    a = client(await mf.getWorker("w0"), { adminToken: ADMIN });
    b = client(await mf.getWorker("w1"), { adminToken: ADMIN });
    const up = await a("PUT", "/admin/api/artifacts/acme/shared", { admin: true, body: zip("1.0.0"), headers: { "content-type": "application/zip" } });
    assert.equal(up.status, 201, up.text);
    const t = await a("POST", "/admin/api/tokens", { admin: true, body: { name: "shared" } });
    token = t.json.token;
  });
  after(async () => {
    await mf?.dispose();
  });

  test("the two workers are separate isolates (each has its own wasm instance)", async () => {
    // Both answer (degraded here: no encryption key, no cron run yet; what matters is that each runs).
    for (const api of [a, b]) {
      const h = await api("GET", "/health");
      assert.ok([200, 503].includes(h.status) && typeof h.json?.status === "string", h.text);
    }
    assert.equal((await a("GET", "/__fixture/wasm")).json.instances, 1);
    assert.equal((await b("GET", "/__fixture/wasm")).json.instances, 1);
    await a("POST", "/__fixture/clock?advance_ms=1");
    const [ca, cb] = [await a("POST", "/__fixture/clock"), await b("POST", "/__fixture/clock")];
    assert.equal(ca.json.offset_ms, 1);
    assert.equal(cb.json.offset_ms, 0, "each isolate has its own module state");
  });

  test("new metadata: at once where it was written, within 10 s in the other isolate", async () => {
    assert.deepEqual(await versions(b), ["1.0.0"]); // b now holds the document
    const up = await a("PUT", "/admin/api/artifacts/acme/shared", { admin: true, body: zip("1.1.0"), headers: { "content-type": "application/zip" } });
    assert.equal(up.status, 201, up.text);
    assert.deepEqual(await versions(a), ["1.1.0", "1.0.0"], "the writing isolate sees it at once");
    await advance(b, 9_000);
    assert.deepEqual(await versions(b), ["1.0.0"], "the other isolate may serve its copy for up to 10 s");
    await advance(b, 1_001);
    assert.deepEqual(await versions(b), ["1.1.0", "1.0.0"], "and not longer");
  });

  test("a new package in /packages.json: at once where it was written, within 10 s in the other isolate", async () => {
    const listed = async (api) => {
      const r = await api("GET", "/packages.json", { token });
      assert.equal(r.status, 200, r.text);
      return r.json["available-packages"];
    };
    assert.deepEqual(await listed(b), ["acme/shared"]); // b now holds the package list (and its rendering)
    const body = zipFiles({ "composer.json": JSON.stringify({ name: "acme/other", version: "1.0.0" }) });
    const up = await a("PUT", "/admin/api/artifacts/acme/other", { admin: true, body, headers: { "content-type": "application/zip" } });
    assert.equal(up.status, 201, up.text);
    assert.deepEqual(await listed(a), ["acme/other", "acme/shared"], "the writing isolate lists it at once");
    await advance(b, 9_000);
    assert.deepEqual(await listed(b), ["acme/shared"], "the other isolate may serve its list for up to 10 s");
    await advance(b, 1_001);
    assert.deepEqual(await listed(b), ["acme/other", "acme/shared"], "and not longer");
  });

  test("a revocation: at once where it was made, within 10 s in the other isolate", async () => {
    assert.equal((await b("GET", "/packages.json", { token })).status, 200); // b holds the token record
    const id = (await a("GET", "/admin/api/tokens", { admin: true })).json.tokens.find((t) => t.name === "shared").id;
    assert.equal((await a("DELETE", `/admin/api/tokens/${id}`, { admin: true })).status, 200);
    const here = await a("GET", "/packages.json", { token });
    assert.equal(here.status, 401);
    assert.match(here.json.warning, /revoked/);
    await advance(b, 9_000);
    assert.equal((await b("GET", "/packages.json", { token })).status, 200, "the other isolate may still accept it for up to 10 s");
    await advance(b, 1_001);
    const there = await b("GET", "/packages.json", { token });
    assert.equal(there.status, 401, there.text);
    assert.match(there.json.warning, /revoked/);
  });
});
