// The self-hosted server with its real services (tests/server/stack.mjs): a streaming replica that
// receives composer's reads, PgBouncer in transaction mode, three instances behind HAProxy (an upload
// through one is installable through the balancer at once; killing one during `composer install` loses
// nothing), a graceful SIGTERM, the cron trigger under its lease with the download partitions' upkeep,
// /metrics and the request log. The composer suite itself runs against the server in
// tests/e2e/composer.test.mjs (PB_E2E_TARGET=server / server-stack).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { zipFiles } from "../e2e/fixtures/composer-packages.mjs";
import { requestLog, startHaproxy, startPgBouncer, startPostgres, startRedis, startS3, startServer } from "./stack.mjs";

const ADMIN = "server-test-admin";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let work;

// ---- HTTP and composer helpers ---------------------------------------------------------------------

async function call(origin, method, p, { admin = false, token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (admin) h.authorization = `Bearer ${ADMIN}`;
  if (token) h.authorization = `Basic ${Buffer.from(`token:${token}`).toString("base64")}`;
  const r = await fetch(origin + p, { method, headers: h, body, redirect: "manual", signal: AbortSignal.timeout(20_000) });
  const buf = Buffer.from(await r.arrayBuffer());
  let json;
  try {
    json = JSON.parse(buf.toString());
  } catch {}
  return { status: r.status, headers: r.headers, buf, text: buf.toString(), json };
}

let packageCount = 0;
// A package zip: composer.json + one class.
function makePackage(name, version, require = {}) {
  const cls = `C${++packageCount}`;
  const ns = name.split("/").map((s) => s.replace(/[^a-z0-9]/gi, "")).map((s) => s[0].toUpperCase() + s.slice(1)).join("\\");
  const cj = { name, type: "library", require, autoload: { "psr-4": { [`${ns}\\`]: "src/" } } };
  const bytes = zipFiles(work, `${name.replace("/", "-")}-${version}-${cls}`, {
    "composer.json": JSON.stringify(cj),
    [`src/${cls}.php`]: `<?php namespace ${ns}; class ${cls} { public function v() { return "${name} ${version}"; } }`,
  });
  return { name, version, bytes };
}

async function upload(origin, pkg) {
  const r = await call(origin, "PUT", `/admin/api/artifacts/${pkg.name}?version=${pkg.version}`, {
    admin: true,
    body: pkg.bytes,
    headers: { "content-type": "application/zip" },
  });
  assert.equal(r.status, 201, `upload ${pkg.name} ${pkg.version}: ${r.status} ${r.text}`);
  return r.json;
}

async function token(origin) {
  const r = await call(origin, "POST", "/admin/api/tokens", { admin: true, body: JSON.stringify({ name: "t" }), headers: { "content-type": "application/json" } });
  assert.equal(r.status, 201, r.text);
  return r.json.token;
}

function project(origin, tok, require) {
  const dir = mkdtempSync(path.join(work, "proj-"));
  const host = new URL(origin).host;
  writeFileSync(
    path.join(dir, "composer.json"),
    JSON.stringify({ name: "t/p", require, repositories: [{ type: "composer", url: origin }, { "packagist.org": false }], config: { "secure-http": false } }),
  );
  writeFileSync(path.join(dir, "auth.json"), JSON.stringify({ "http-basic": { [host]: { username: "token", password: tok } } }));
  return dir;
}

function composer(dir, args) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^COMPOSER_/.test(k) && !/_proxy$/i.test(k)) env[k] = v;
  Object.assign(env, { COMPOSER_HOME: `${dir}.home`, COMPOSER_CACHE_DIR: `${dir}.cache`, COMPOSER_NO_INTERACTION: "1", COMPOSER_ALLOW_SUPERUSER: "1", COLUMNS: "10000" });
  return new Promise((resolve) =>
    execFile("composer", [...args, "--no-interaction", "--no-ansi"], { cwd: dir, env, timeout: 180_000, killSignal: "SIGKILL", maxBuffer: 32 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? -1) : 0, output: `${stdout}${stderr}` }),
    ),
  );
}

const locked = (dir) => Object.fromEntries(JSON.parse(readFileSync(path.join(dir, "composer.lock"), "utf8")).packages.map((p) => [p.name, p.version]));

function metric(text, name, labels = {}) {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}
const metrics = async (origin) => (await call(origin, "GET", "/metrics")).text;

async function waitUntil(what, fn, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------------

describe("self-hosted server with its services", { timeout: 20 * 60_000 }, () => {
  let pg, replica, redis, s3;
  const stops = [];
  let databases = 0;
  // Each test gets its own database on the shared cluster (the replica streams them all).
  async function database() {
    const name = `t${++databases}`;
    await pg.psql(`CREATE DATABASE ${name}`);
    return name;
  }

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), "pb-server-test-"));
    pg = await startPostgres();
    stops.push(pg);
    replica = await startPostgres({ replicaOf: pg });
    stops.push(replica);
    redis = await startRedis();
    stops.push(redis);
    s3 = await startS3();
    stops.push(s3);
  }, { timeout: 180_000 });

  after(async () => {
    for (const x of stops.reverse()) await x.stop().catch(() => {});
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("a streaming replica receives composer's reads; writes and what was just written come from the primary", { timeout: 300_000 }, async () => {
    const db = await database();
    const srv = await startServer(
      { PB_DATABASE_URL: `${pg.url.replace(/postgres$/, db)}`, PB_DATABASE_REPLICA_URL: `${replica.url.replace(/postgres$/, db)}`, PB_CRON_INTERVAL_S: "0" },
      { label: "replica", adminToken: ADMIN },
    );
    stops.push(srv);
    await waitUntil("the replica to have the database", async () => (await replica.psql(`SELECT 1 FROM pg_database WHERE datname = '${db}'`)).trim() === "1");
    await upload(srv.origin, makePackage("rep/lib", "1.0.0"));
    const tok = await token(srv.origin);
    await waitUntil("the replica to be marked fresh", async () => metric(await metrics(srv.origin), "pb_db_replica_fresh") === 1);
    await sleep(2200); // past the instance's own sticky window after its writes

    const replicaReads = (m) => metric(m, "pb_db_queries_total", { target: "replica" });
    const replicaTuples = async () => Number((await replica.psql(`SELECT tup_returned FROM pg_stat_database WHERE datname = '${db}'`)).trim());
    const before = await metrics(srv.origin);
    const tuplesBefore = await replicaTuples();
    const dir = project(srv.origin, tok, { "rep/lib": "^1.0" });
    const res = await composer(dir, ["install"]);
    assert.equal(res.code, 0, res.output);
    assert.equal(locked(dir)["rep/lib"], "1.0.0");
    const after = await metrics(srv.origin);
    assert.ok(replicaReads(after) > replicaReads(before), `composer's reads went to the replica:\n${after.split("\n").filter((l) => l.includes("queries")).join("\n")}`);
    await sleep(1000); // pg_stat_database is updated by the backend at most every 500 ms
    assert.ok((await replicaTuples()) > tuplesBefore, "the replica answered queries");

    // An upload, then at once its metadata: read from the primary (the replica may lag).
    await upload(srv.origin, makePackage("rep/lib", "1.1.0"));
    const p2 = await call(srv.origin, "GET", "/p2/rep/lib.json", { token: tok });
    assert.equal(p2.status, 200);
    assert.ok(JSON.stringify(p2.json).includes('"1.1.0"'), "the version uploaded a moment ago is listed");
    // With the replica gone, reads fall back to the primary.
    const primaryOnly = await startServer(
      { PB_DATABASE_URL: `${pg.url.replace(/postgres$/, db)}`, PB_DATABASE_REPLICA_URL: "postgres://postgres@127.0.0.1:1/nothing", PB_CRON_INTERVAL_S: "0" },
      { label: "replica-down", adminToken: ADMIN },
    );
    stops.push(primaryOnly);
    const viaPrimary = await call(primaryOnly.origin, "GET", "/p2/rep/lib.json", { token: tok });
    assert.equal(viaPrimary.status, 200, viaPrimary.text);
    assert.equal(metric(await metrics(primaryOnly.origin), "pb_db_replica_fresh"), 0);
  });

  it("PgBouncer in transaction mode between the server and PostgreSQL", { timeout: 300_000 }, async () => {
    const db = await database();
    const bouncer = await startPgBouncer(pg, db);
    stops.push(bouncer);
    const srv = await startServer({ PB_DATABASE_URL: `${bouncer.url}?pool_mode=transaction&pool_size=6`, PB_CRON_INTERVAL_S: "0" }, { label: "bouncer", adminToken: ADMIN });
    stops.push(srv);
    // Uploads (batches), tokens (RETURNING), p2 and dist, many at once: 6 client connections share the bouncer's 4 server connections.
    const pkgs = Array.from({ length: 12 }, (_, i) => makePackage(`bnc/p${i}`, "1.0.0"));
    await Promise.all(pkgs.map((p) => upload(srv.origin, p)));
    const tok = await token(srv.origin);
    const reads = await Promise.all(pkgs.flatMap((p) => [call(srv.origin, "GET", `/p2/${p.name}.json`, { token: tok }), call(srv.origin, "GET", "/packages.json", { token: tok })]));
    assert.deepEqual(reads.map((r) => r.status), reads.map(() => 200));
    const dir = project(srv.origin, tok, { "bnc/p0": "^1.0", "bnc/p5": "^1.0" });
    const res = await composer(dir, ["install"]);
    assert.equal(res.code, 0, res.output);
    assert.ok(metric(await metrics(srv.origin), "pb_db_pool_acquired_total") > 20);
  });

  it("three instances behind HAProxy: an upload through one is installable at once; killing one loses no request", { timeout: 600_000 }, async () => {
    const db = await database();
    const env = { PB_DATABASE_URL: pg.url.replace(/postgres$/, db), PB_CACHE_URL: redis.url, PB_STORAGE_URL: s3.url, ...s3.env, PB_CRON_INTERVAL_S: "0" };
    const servers = [];
    for (let i = 1; i <= 3; i++) {
      const s = await startServer({ ...env, PB_INSTANCE_ID: `lb-${i}` }, { label: `lb${i}`, adminToken: ADMIN });
      servers.push(s);
      stops.push(s);
    }
    const lb = await startHaproxy(servers.map((s) => s.port));
    stops.push(lb);
    const libs = Array.from({ length: 24 }, (_, i) => makePackage(`lb/lib${i}`, "1.0.0"));
    await Promise.all(libs.map((p) => upload(servers[i0(p)].origin, p)));
    function i0(p) {
      return Number(p.name.replace(/\D/g, "")) % 3;
    }
    await upload(servers[0].origin, makePackage("lb/app", "1.0.0"));
    const tok = await token(servers[1].origin);

    // Warm every instance's hot cache with lb/app 1.0.0 through the balancer.
    for (let i = 0; i < 6; i++) assert.equal((await call(lb.origin, "GET", "/p2/lb/app.json", { token: tok })).status, 200);
    // A new version through instance 3, then composer through the balancer at once: every instance
    // dropped its cached document when instance 3 published the change on Redis.
    await upload(servers[2].origin, makePackage("lb/app", "1.1.0"));
    const dir = project(lb.origin, tok, { "lb/app": "^1.0" });
    const res = await composer(dir, ["install"]);
    assert.equal(res.code, 0, res.output);
    assert.equal(locked(dir)["lb/app"], "1.1.0", "the version uploaded through another instance a moment before");
    for (const s of servers) {
      const p2 = await call(s.origin, "GET", "/p2/lb/app.json", { token: tok });
      assert.ok(p2.text.includes('"1.1.0"'), `instance ${s.env.PB_INSTANCE_ID} serves 1.1.0 at once`);
    }
    const received = await Promise.all(servers.map(async (s) => metric(await metrics(s.origin), "pb_invalidations_total", { direction: "received" })));
    assert.ok(received.filter((n) => n > 0).length >= 2, `the other instances received the invalidation: ${received}`);

    // Kill one instance (SIGKILL) in the middle of `composer install` with 25 packages, while a steady
    // stream of requests also goes through the balancer: nothing fails.
    const require = Object.fromEntries(libs.map((p) => [p.name, "^1.0"]));
    const big = project(lb.origin, tok, require);
    let stop = false;
    const failures = [];
    let sent = 0;
    const poller = (async () => {
      while (!stop && sent < 5000) {
        sent++;
        try {
          const r = await call(lb.origin, "GET", `/p2/lb/lib${sent % 24}.json`, { token: tok });
          if (r.status !== 200) failures.push(`${r.status} ${r.text.slice(0, 200)}`);
        } catch (e) {
          failures.push(String(e.message));
        }
      }
    })();
    let installDone = false;
    const install = composer(big, ["install"]).then((r) => ((installDone = true), r));
    // Kill instance 2 as soon as composer is downloading archives (the instances log each request).
    await waitUntil("composer's first archive download", async () => installDone || servers.some((s) => s.proc.output.includes('"path":"/dist/')), 120);
    assert.equal(installDone, false, "composer was still running when the instance was killed");
    process.kill(-servers[1].proc.child.pid, "SIGKILL");
    const result = await install;
    await sleep(1000);
    stop = true;
    await poller;
    assert.equal(result.code, 0, `composer install while an instance was killed:\n${result.output}`);
    assert.equal(Object.keys(locked(big)).length, 24);
    assert.deepEqual(failures, [], `requests through the balancer failed while an instance died (${sent} sent)`);
    assert.ok(sent > 20, "the balancer kept answering during the kill");
  });

  it("Redis over TLS (rediss://) with an ACL user: shared cache and invalidations; an untrusted certificate or a wrong password is refused", { timeout: 300_000 }, async () => {
    const password = "tls-pass-7Qx";
    const tls = await startRedis({ tls: true, user: "pb", password });
    stops.push(tls);
    const db = await database();
    const env = { PB_DATABASE_URL: pg.url.replace(/postgres$/, db), PB_CACHE_URL: `${tls.url}/3`, PB_CACHE_CA_FILE: tls.ca, PB_CRON_INTERVAL_S: "0" };
    const connected = (srv) => waitUntil(`${srv.env.PB_INSTANCE_ID} to connect to Redis`, () => (srv.proc.output.match(/"msg":"cache connected"/g) ?? []).length >= 2);
    const a = await startServer({ ...env, PB_INSTANCE_ID: "tls-a" }, { label: "tls-a", adminToken: ADMIN });
    stops.push(a);
    const b = await startServer({ ...env, PB_INSTANCE_ID: "tls-b" }, { label: "tls-b", adminToken: ADMIN });
    stops.push(b);
    await connected(a);
    await connected(b);
    await upload(a.origin, makePackage("tls/lib", "1.0.0"));
    const tok = await token(a.origin);
    const first = await call(b.origin, "GET", "/p2/tls/lib.json", { token: tok });
    assert.equal(first.status, 200, first.text);
    // A new version through a: b drops its cached document when a publishes the change over TLS.
    await upload(a.origin, makePackage("tls/lib", "1.1.0"));
    const p2 = await call(b.origin, "GET", "/p2/tls/lib.json", { token: tok });
    assert.ok(p2.text.includes('"1.1.0"'), "b serves the version uploaded through a a moment before");
    await waitUntil("b to count the invalidation it received", async () => metric(await metrics(b.origin), "pb_invalidations_total", { direction: "received" }) > 0);
    // Both servers' connections, as Redis lists them: TLS clients of user pb on database 3, each server
    // with one connection for commands and one subscribed to the invalidation channel.
    const clients = await new Promise((resolve, reject) =>
      execFile("redis-cli", ["--tls", "--cacert", tls.ca, "-h", "127.0.0.1", "-p", String(tls.port), "--user", "pb", "--pass", password, "--no-auth-warning", "CLIENT", "LIST"], { timeout: 20_000 }, (err, out) =>
        err ? reject(err) : resolve(out.trim().split("\n").filter((l) => !l.includes("cmd=client"))),
      ),
    );
    assert.equal(clients.length, 4, clients.join("\n"));
    for (const l of clients) assert.match(l, / db=3 .* user=pb /, l);
    assert.equal(clients.filter((l) => / sub=1 /.test(l)).length, 2, clients.join("\n"));
    assert.equal((await call(b.origin, "GET", "/health")).status, 200, "b's health check reaches the cache");

    // A certificate the configured CA did not sign: refused, said in the log, the password nowhere.
    const rogue = tls.makeCa("rogue");
    const c = await startServer({ ...env, PB_CACHE_CA_FILE: rogue.cert, PB_INSTANCE_ID: "tls-rogue" }, { label: "tls-rogue", adminToken: ADMIN, healthy: false });
    stops.push(c);
    await waitUntil("the untrusted certificate to be refused", () => /"msg":"cache connection failed".*certificate verify failed/.test(c.proc.output));
    assert.ok(!c.proc.output.includes('"msg":"cache connected"'), c.proc.output);
    const health = await call(c.origin, "GET", "/health");
    assert.equal(health.status, 503, "its health check says the cache is unreachable");
    // A wrong password: the server says AUTH was refused.
    const d = await startServer({ ...env, PB_CACHE_URL: `rediss://pb:wrong-pass@127.0.0.1:${tls.port}/3`, PB_INSTANCE_ID: "tls-wrong" }, { label: "tls-wrong", adminToken: ADMIN, healthy: false });
    stops.push(d);
    await waitUntil("the wrong password to be refused", () => /"msg":"cache connection failed".*AUTH refused/.test(d.proc.output));
    // The right CA, but a certificate that does not name the host the URL gives (it names 127.0.0.1).
    const e = await startServer({ ...env, PB_CACHE_URL: `rediss://pb:${password}@localhost:${tls.port}/3`, PB_INSTANCE_ID: "tls-name" }, { label: "tls-name", adminToken: ADMIN, healthy: false });
    stops.push(e);
    await waitUntil("a certificate for another name to be refused", () => /"msg":"cache connection failed".*certificate verify failed/.test(e.proc.output));
    for (const srv of [a, b, c, d, e]) {
      assert.ok(!srv.proc.output.includes(password), `${srv.env.PB_INSTANCE_ID} never logs the password`);
      assert.ok(!srv.proc.output.includes("wrong-pass"), `${srv.env.PB_INSTANCE_ID} never logs the password`);
    }
    for (const srv of [c, d, e, a, b]) await srv.stop();
  });

  it("SIGTERM: in-flight requests finish, new connections are refused, then the server exits", { timeout: 120_000 }, async () => {
    const srv = await startServer({ PB_CRON_INTERVAL_S: "0", PB_SHUTDOWN_GRACE_S: "20" }, { label: "sigterm", adminToken: ADMIN });
    stops.push(srv);
    const pkg = makePackage("term/slow", "1.0.0");
    // An upload whose body arrives slowly: half now, the rest after SIGTERM.
    const sock = net.connect(srv.port, "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    let reply = "";
    sock.on("data", (d) => (reply += d));
    const closed = new Promise((r) => sock.once("close", r));
    const half = Math.floor(pkg.bytes.length / 2);
    sock.write(
      `PUT /admin/api/artifacts/term/slow?version=1.0.0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN}\r\n` +
        `Content-Type: application/zip\r\nContent-Length: ${pkg.bytes.length}\r\n\r\n`,
    );
    sock.write(pkg.bytes.subarray(0, half));
    await sleep(500);
    process.kill(srv.proc.child.pid, "SIGTERM");
    await waitUntil("the listener to close", async () => {
      try {
        await fetch(srv.origin + "/health", { signal: AbortSignal.timeout(1000) });
        return false;
      } catch {
        return true;
      }
    });
    sock.write(pkg.bytes.subarray(half));
    await Promise.race([closed, sleep(15_000)]);
    assert.match(reply, /^HTTP\/1\.1 201/, `the in-flight upload finished: ${reply.slice(0, 300)}`);
    await waitUntil("the process to exit", async () => srv.proc.child.exitCode !== null, 20);
    assert.equal(srv.proc.child.exitCode, 0, srv.proc.output);
    assert.match(srv.proc.output, /"msg":"stopping","signal":"SIGTERM"/);
  });

  it("cron: one replica holds the lease; download partitions are made ahead and old ones dropped", { timeout: 300_000 }, async () => {
    const db = await database();
    const url = pg.url.replace(/postgres$/, db);
    const env = { PB_DATABASE_URL: url, PB_CRON_INTERVAL_S: "1", PB_DOWNLOADS_RETENTION_MONTHS: "12" };
    const a = await startServer({ ...env, PB_INSTANCE_ID: "cron-a" }, { label: "crona", adminToken: ADMIN });
    stops.push(a);
    const b = await startServer({ ...env, PB_INSTANCE_ID: "cron-b" }, { label: "cronb", adminToken: ADMIN });
    stops.push(b);
    const q = (sql) => execPsql(pg.port, db, sql);
    // An old month's partition and an old row in the default partition, as a long-running install has them.
    await q("CREATE TABLE downloads_2001_01 PARTITION OF downloads FOR VALUES FROM ('2001-01-01') TO ('2001-02-01')");
    await upload(a.origin, makePackage("cron/pkg", "1.0.0"));
    await q("INSERT INTO downloads (package_id, version_normalized, token_id, day, count) SELECT id, '1.0.0.0', 0, '2001-01-15', 3 FROM packages");
    await q("INSERT INTO downloads (package_id, version_normalized, token_id, day, count) SELECT id, '1.0.0.0', 0, '2002-06-15', 4 FROM packages");
    const runs = async () => [metric(await metrics(a.origin), "pb_cron_runs_total"), metric(await metrics(b.origin), "pb_cron_runs_total")];
    await waitUntil("three cron runs", async () => {
      const [x, y] = await runs();
      return x + y >= 3;
    }, 60);
    const [x, y] = await runs();
    assert.ok((x === 0) !== (y === 0), `only the lease holder runs the cron trigger (runs: ${x}, ${y})`);
    const holder = (await q("SELECT holder FROM leases WHERE name = 'cron'")).trim();
    assert.equal(holder, x > 0 ? "cron-a" : "cron-b");
    const parts = (await q("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'downloads'::regclass ORDER BY 1")).trim().split("\n");
    const now = new Date();
    const ym = (d) => `downloads_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    assert.ok(parts.includes(ym(now)) && parts.includes(ym(next)), `this and next month's partitions exist: ${parts}`);
    assert.ok(!parts.includes("downloads_2001_01"), `the partition past retention was dropped: ${parts}`);
    assert.equal((await q("SELECT count(*) FROM downloads WHERE day < '2010-01-01'")).trim(), "0", "old rows in the default partition are gone");
    // A download counted now lands in this month's partition.
    const tok = await token(a.origin);
    const r = await call(a.origin, "POST", "/downloads", { token: tok, body: JSON.stringify({ downloads: [{ name: "cron/pkg", version: "1.0.0.0" }] }), headers: { "content-type": "application/json" } });
    assert.equal(r.status, 201, r.text);
    assert.equal((await q(`SELECT sum(count) FROM ${ym(now)}`)).trim(), "1");
  });

  it("/metrics in Prometheus' format and one JSON log line per request", { timeout: 120_000 }, async () => {
    const srv = await startServer({ PB_CRON_INTERVAL_S: "0" }, { label: "metrics", adminToken: ADMIN });
    stops.push(srv);
    await upload(srv.origin, makePackage("met/lib", "1.0.0"));
    const tok = await token(srv.origin);
    for (let i = 0; i < 5; i++) assert.equal((await call(srv.origin, "GET", "/p2/met/lib.json", { token: tok })).status, 200);
    assert.equal((await call(srv.origin, "GET", "/p2/met/none.json", { token: tok })).status, 404);
    // Methods a client makes up do not become label values of their own.
    for (const m of ["BREW", "WHEN"]) await call(srv.origin, m, "/p2/met/lib.json", { token: tok });
    // A composer source whose upstream is down: an upstream error.
    const src = await call(srv.origin, "POST", "/admin/api/sources", {
      admin: true,
      body: JSON.stringify({ type: "composer", url: "http://127.0.0.1:1/repo" }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(src.status, 201, src.text);
    await call(srv.origin, "POST", `/admin/api/sources/${src.json.id}/sync`, { admin: true });
    const m = await metrics(srv.origin);
    assert.equal(metric(m, "pb_http_requests_total", { route: "/p2/{vendor}/{file}", status: "200" }), 5);
    assert.equal(metric(m, "pb_http_requests_total", { route: "/p2/{vendor}/{file}", status: "404" }), 1);
    assert.ok(metric(m, "pb_http_request_duration_seconds_count") >= 8);
    assert.match(m, /pb_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
    assert.equal(metric(m, "pb_http_requests_total", { method: "OTHER", status: "405" }), 2);
    assert.ok(!m.includes("BREW") && !m.includes("WHEN"));
    assert.match(m, /pb_http_request_duration_quantile_seconds\{quantile="0\.99"\} [\d.e-]+/);
    assert.ok(metric(m, "pb_hot_cache_requests_total", { kind: "document", result: "hit" }) >= 3, "warm p2 hits come from the hot cache");
    assert.match(m, /pb_hot_cache_hit_ratio 0\.\d+/);
    assert.ok(metric(m, "pb_db_pool_connections", { pool: "sqlite", state: "open" }) >= 1);
    assert.ok(metric(m, "pb_upstream_errors_total", { host: "127.0.0.1:1" }) >= 1, m.split("\n").filter((l) => l.includes("upstream")).join("\n"));
    await waitUntil("the sync lag gauge", async () => /pb_source_sync_lag_seconds\{source="\d+",type="composer"\}/.test(await metrics(srv.origin)), 30);
    for (const line of m.split("\n").filter((l) => l && !l.startsWith("#"))) assert.match(line, /^[a-z_]+(\{.*\})? [-+\d.e]+$/, `a valid sample line: ${line}`);

    const log = requestLog(srv);
    const p2 = log.filter((e) => e.path === "/p2/met/lib.json" && e.method === "GET");
    assert.equal(p2.length, 5);
    for (const e of p2) {
      assert.equal(e.route, "/p2/{vendor}/{file}");
      assert.equal(e.status, 200);
      assert.ok(typeof e.ms === "number" && typeof e.ts === "string" && e.instance);
      assert.ok(!JSON.stringify(e).includes(tok), "no token in the log");
    }
    assert.ok(!srv.proc.output.includes(ADMIN), "the admin token never appears in the output");
  });
});

function execPsql(port, db, sql) {
  return new Promise((resolve, reject) =>
    execFile("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", db, "-XAtqc", sql], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${sql}: ${stderr}`)) : resolve(String(stdout)),
    ),
  );
}
