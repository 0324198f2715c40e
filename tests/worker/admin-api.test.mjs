// The admin API and the composer listing routes in workerd (Miniflare, the real .wasm): every response
// any request here gets is checked against docs/openapi.json, and the document must cover every route
// of the route table. Also: roles, validation, licences, rate limits, audit entries, deletion with R2.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, BASE } from "./helpers.mjs";
import { check, openapi, routeTable } from "./openapi.mjs";
import { zipFiles } from "../upstreams/zip.mjs";

const ADMIN = "admin-api-test-secret";
const KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

describe("admin API against its OpenAPI document", () => {
  let mf;
  const problems = [];
  const seen = new Set();

  async function call(method, p, { token = ADMIN, basic, body, headers = {} } = {}) {
    const h = { ...headers };
    if (basic) h.authorization = `Basic ${Buffer.from(`token:${basic}`).toString("base64")}`;
    else if (token) h.authorization = `Bearer ${token}`;
    let payload = body;
    if (body !== undefined && !(body instanceof Uint8Array) && typeof body !== "string") {
      payload = JSON.stringify(body);
      h["content-type"] = "application/json";
    }
    if (payload instanceof Uint8Array) h["content-length"] = String(payload.length);
    const r = await mf.dispatchFetch(`${BASE}${p}`, { method, headers: h, body: payload });
    const text = await r.text();
    problems.push(...check(method, p, r.status, r.headers.get("content-type"), text));
    seen.add(`${method} ${p.split("?")[0]}`);
    let json;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: r.status, headers: r.headers, text, json };
  }
  const ok = (r, status = 200) => {
    assert.equal(r.status, status, r.text);
    return r.json;
  };
  const zip = (name, version) =>
    zipFiles({ "composer.json": JSON.stringify({ name, description: `the ${name} package`, type: "library" }), "src/A.php": `<?php // ${version}` });

  before(async () => {
    mf = await startWorker({ bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: KEY } });
  });
  after(async () => {
    await mf?.dispose();
  });

  test("docs/openapi.json documents every route of the route table, and nothing else", () => {
    const missing = [];
    const routes = routeTable().filter((r) => !r.testHook);
    assert.ok(routes.length > 30, `parsed ${routes.length} routes from routes.cpp`);
    for (const r of routes) if (!openapi.paths[r.pattern]?.[r.method.toLowerCase()]) missing.push(`${r.method} ${r.pattern}`);
    assert.deepEqual(missing, [], "routes missing from docs/openapi.json");
    const extra = [];
    for (const [p, ops] of Object.entries(openapi.paths))
      for (const m of Object.keys(ops)) if (!routes.some((r) => r.pattern === p && r.method.toLowerCase() === m)) extra.push(`${m} ${p}`);
    assert.deepEqual(extra, [], "documented routes the Worker does not have");
    assert.equal(openapi.openapi, "3.1.0");
  });

  test("the served document is the one in the repository", async () => {
    const r = await call("GET", "/admin/api/openapi.json", { token: null });
    assert.deepEqual(ok(r), openapi);
  });

  test("admins, tokens, packages, advisories, sources, audit, stats, status", async () => {
    // Named admins and roles.
    const viewer = ok(await call("POST", "/admin/api/admins", { body: { name: "viewer", role: "viewer" } }), 201).token;
    const maint = ok(await call("POST", "/admin/api/admins", { body: { name: "maint", role: "maintainer" } }), 201);
    assert.equal(ok(await call("GET", "/admin/api/me", { token: viewer })).role, "viewer");
    assert.equal((await call("POST", "/admin/api/tokens", { token: viewer, body: { name: "no" } })).status, 403);
    assert.equal((await call("GET", "/admin/api/admins", { token: maint.token })).status, 403);
    assert.equal((await call("GET", "/admin/api/tokens", { token: "wrong" })).status, 401);
    assert.equal(ok(await call("GET", "/admin/api/admins")).admins.length, 2);

    // Uploads and packages.
    for (const [name, v] of [["acme/widget", "1.0.0"], ["acme/widget", "2.0.0"], ["acme/widget", "2.1.0"], ["acme/tool", "1.0.0"]])
      ok(await call("PUT", `/admin/api/artifacts/${name}?version=${v}`, { token: maint.token, body: new Uint8Array(zip(name, v)) }), 201);
    assert.equal((await call("PUT", "/admin/api/artifacts/acme/widget?version=2.0.0", { body: new Uint8Array(zip("acme/widget", "2.0.0")) })).status, 409);
    const page = ok(await call("GET", "/admin/api/packages?limit=1"));
    assert.equal(page.packages.length, 1);
    assert.equal(page.next_cursor, "acme/tool");
    ok(await call("GET", `/admin/api/packages?cursor=${page.next_cursor}`));
    const widget = ok(await call("GET", "/admin/api/packages/acme/widget"));
    assert.equal(widget.versions.length, 3);
    assert.equal((await call("GET", "/admin/api/packages/acme/none")).status, 404);

    // Tokens: create, show, update (validated), list.
    const customer = ok(await call("POST", "/admin/api/tokens", {
      body: { name: "customer", packages: ["acme/*"], licences: [{ packages: "acme/widget", constraint: "~2.0.0" }], rate_limit: 100 },
    }), 201);
    assert.equal(ok(await call("GET", `/admin/api/tokens/${customer.id}`)).licences[0].constraint, "~2.0.0");
    const bad = await call("PATCH", `/admin/api/tokens/${customer.id}`, { body: { name: "x", colour: "red" } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /"colour"/);
    assert.equal(ok(await call("PATCH", `/admin/api/tokens/${customer.id}`, { body: { name: "customer 2" } })).name, "customer 2");
    assert.equal((await call("GET", "/admin/api/tokens/12345")).status, 404);
    assert.equal(ok(await call("GET", "/admin/api/tokens?limit=1")).tokens.length, 1);

    // Licences as composer sees them: ~2.0.0 shows 2.0.0 only; the other package is unrestricted.
    const p2 = ok(await call("GET", "/p2/acme/widget.json", { basic: customer.token }));
    assert.deepEqual(p2.packages["acme/widget"].map((v) => v.version), ["2.0.0"]);
    const root = ok(await call("GET", "/packages.json", { basic: customer.token }));
    assert.deepEqual(root["available-packages"], ["acme/tool", "acme/widget"]);
    assert.equal(root.list, `${BASE}/packages/list.json`);
    assert.equal(ok(await call("GET", "/packages/list.json?filter=acme/w*", { basic: customer.token })).packageNames[0], "acme/widget");
    assert.equal(ok(await call("GET", "/search.json?q=tool", { basic: customer.token })).total, 1);
    const v210 = widget.versions.find((v) => v.version === "2.1.0");
    assert.equal((await call("GET", v210.dist_url, { basic: customer.token })).status, 404);
    const v200 = widget.versions.find((v) => v.version === "2.0.0");
    const archive = await call("GET", v200.dist_url, { basic: customer.token });
    assert.equal(archive.status, 200);
    assert.equal(archive.headers.get("x-ratelimit-limit"), "100");
    ok(await call("POST", "/downloads", { basic: customer.token, body: { downloads: [{ name: "acme/widget", version: "2.0.0.0" }, { name: "acme/nope", version: "1.0.0.0" }] } }), 201);
    ok(await call("POST", "/api/security-advisories?packages[]=acme/widget", { basic: customer.token }));

    // Advisories.
    const adv = ok(await call("POST", "/admin/api/advisories", { body: { package: "acme/widget", title: "XSS", affected_versions: "<2.0.1" } }), 201);
    assert.equal((await call("POST", "/admin/api/advisories", { body: { package: "acme/widget", title: "x", affected_versions: "<1", extra: 1 } })).status, 400);
    ok(await call("GET", "/admin/api/advisories"));
    ok(await call("DELETE", `/admin/api/advisories/${adv.id}`));

    // Sources (no sync: the upstream does not exist here; tests/e2e syncs real ones).
    const src = ok(await call("POST", "/admin/api/sources", {
      body: { type: "composer", url: "https://satis.example.com", include: ["up/*"], credentials: { type: "bearer", token: "up-secret" } },
    }), 201);
    assert.ok(!JSON.stringify(ok(await call("GET", `/admin/api/sources/${src.id}`))).includes("up-secret"));
    assert.equal((await call("POST", "/admin/api/sources", { body: { type: "composer", url: "https://x.example", credentials: { type: "bearer", token: "t", user: "u" } } })).status, 400);
    ok(await call("PATCH", `/admin/api/sources/${src.id}`, { body: { enabled: false } }));
    ok(await call("GET", "/admin/api/sources"));
    ok(await call("GET", `/admin/api/sources/${src.id}/skipped-refs`));
    const rotated = ok(await call("POST", `/admin/api/sources/${src.id}/webhook-secret`));
    assert.notEqual(rotated.webhook_secret, src.webhook_secret);
    assert.equal((await call("POST", `/hooks/${src.id}`, { token: null, body: "{}", headers: { "x-hub-signature-256": "sha256=00" } })).status, 401);

    // Stats, status, audit.
    const stats = ok(await call("GET", "/admin/api/stats?group=version&days=2"));
    assert.deepEqual(stats.rows.map((r) => [r.version, r.downloads, r.fetches]), [["2.0.0.0", 1, 1]]);
    ok(await call("GET", "/admin/api/stats?group=token"));
    const status = ok(await call("GET", "/admin/api/status"));
    assert.equal(status.secrets.PB_ENCRYPTION_KEY, "ok");
    assert.equal(status.counts.packages, 2);
    const audit = ok(await call("GET", "/admin/api/audit?limit=200")).entries;
    const actions = new Set(audit.map((e) => e.action));
    for (const a of ["admin.create", "artifact.upload", "token.create", "token.update", "advisory.create", "advisory.delete", "source.create", "source.update", "source.webhook_secret", "access.denied"])
      assert.ok(actions.has(a), `audit has ${a}: ${[...actions].join(", ")}`);
    const upload = audit.find((e) => e.action === "artifact.upload");
    assert.equal(upload.actor, `admin:${maint.id}`);
    assert.equal(upload.actor_name, "maint");
    assert.ok(!JSON.stringify(audit).includes(customer.token), "no token secret in the audit log");
    assert.ok(!JSON.stringify(audit).includes(rotated.webhook_secret), "no webhook secret in the audit log");

    // Deletion: the version disappears, its archive leaves R2; then the source goes.
    const bucket = await mf.getR2Bucket("BUCKET");
    const before = (await bucket.list()).objects.length;
    const del = ok(await call("DELETE", `/admin/api/packages/acme/widget/versions/${encodeURIComponent("2.0.0")}`));
    assert.equal(del.objects_deleted.length, 1);
    assert.equal(await bucket.head(del.objects_deleted[0]), null);
    assert.equal((await bucket.list()).objects.length, before - 1);
    assert.equal((await call("GET", v200.dist_url, { basic: customer.token })).status, 404);
    assert.deepEqual(ok(await call("GET", "/p2/acme/widget.json", { basic: customer.token })).packages["acme/widget"], []);
    ok(await call("DELETE", "/admin/api/packages/acme/tool"));
    ok(await call("DELETE", `/admin/api/sources/${src.id}`));
    assert.equal((await call("POST", `/admin/api/sources/${src.id}/sync`)).status, 404);
    ok(await call("DELETE", `/admin/api/tokens/${customer.id}`));
    ok(await call("DELETE", `/admin/api/admins/${maint.id}`));
    assert.equal((await call("GET", "/admin/api/me", { token: maint.token })).status, 401);
  });

  test("console sessions: cookie and CSRF token", async () => {
    const made = await call("POST", "/admin/api/sessions");
    const session = ok(made, 201);
    const cookie = made.headers.get("set-cookie").split(";")[0];
    assert.match(made.headers.get("set-cookie"), /HttpOnly; SameSite=Strict/);
    assert.equal(ok(await call("GET", "/admin/api/me", { token: null, headers: { cookie } })).role, "owner");
    assert.equal((await call("POST", "/admin/api/tokens", { token: null, headers: { cookie }, body: { name: "csrf" } })).status, 403);
    ok(await call("POST", "/admin/api/tokens", { token: null, headers: { cookie, "x-csrf-token": session.csrf_token }, body: { name: "console" } }), 201);
    // Another tab of the same session asks for the CSRF token with the cookie alone.
    const current = ok(await call("GET", "/admin/api/sessions/current", { token: null, headers: { cookie } }));
    assert.equal(current.csrf_token, session.csrf_token);
    assert.equal((await call("GET", "/admin/api/sessions/current")).status, 404);
    // The console's upload: the name comes from the archive's composer.json.
    const up = ok(await call("PUT", "/admin/api/artifacts?version=1.0.0", {
      token: null, headers: { cookie, "x-csrf-token": current.csrf_token }, body: new Uint8Array(zip("console/upload", "1.0.0")),
    }), 201);
    assert.equal(up.name, "console/upload");
    ok(await call("DELETE", "/admin/api/sessions/current", { token: null, headers: { cookie, "x-csrf-token": session.csrf_token } }));
    assert.equal((await call("GET", "/admin/api/sessions/current", { token: null, headers: { cookie } })).status, 401);
    assert.equal((await call("GET", "/admin/api/me", { token: null, headers: { cookie } })).status, 401);
  });

  test("rate limit: 429 with Retry-After and a warning composer prints", async () => {
    const t = ok(await call("POST", "/admin/api/tokens", { body: { name: "limited", rate_limit: 2 } }), 201);
    // Windows are calendar minutes: if one ends between the calls, the next attempt is in a fresh one.
    let limited;
    for (let attempt = 0; attempt < 3 && limited?.status !== 429; attempt++) {
      const first = await call("GET", "/packages.json", { basic: t.token });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.headers.get("x-ratelimit-limit"), "2");
      await call("GET", "/packages.json", { basic: t.token });
      limited = await call("GET", "/packages.json", { basic: t.token });
    }
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("content-type"), "application/json");
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    assert.match(limited.json.warning, /rate limit/);
  });

  test("every response above matches docs/openapi.json", () => {
    assert.deepEqual(problems, []);
    assert.ok(seen.size > 35, `exercised ${seen.size} method+path pairs`);
  });
});
