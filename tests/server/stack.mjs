// The self-hosted server's test stack: every service from Debian's packages (or npm), started by the
// test on 127.0.0.1 with a temporary directory and stopped after — PostgreSQL 15 (and a streaming
// replica), PgBouncer in transaction mode, Redis 7, a signature-checking S3 store (s3-strict.mjs),
// HAProxy with health checks, nginx, and pb_server instances. Each process runs in its own process
// group (setsid) and is stopped by group. Every wait is bounded.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, startGroup, stopGroup, waitFor } from "../e2e/process.mjs";
import { root } from "../worker/helpers.mjs";
import { ACCESS_KEY, SECRET_KEY, REGION, startStrictS3 } from "./s3-strict.mjs";
import { makeCa, makeCert } from "../upstreams/tls.mjs";

export const SERVER_BIN = path.resolve(root, process.env.PB_SERVER_BIN ?? "build/native/pb_server");
const PG_CLUSTER = path.join(root, "tests/server/pg-cluster.sh");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(cmd, args, { timeout = 120_000, env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout, env: env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}${stderr}`)) : resolve(String(stdout)),
    );
  });
}

// What the start* functions return: where the process listens, and how to stop it and drop its directory.
function running(port, proc, dir, extra = {}) {
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    proc,
    dir,
    ...extra,
    stop: async () => {
      await stopGroup(proc);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// running(), once the port accepts connections; a process that never does is stopped.
async function listening(port, proc, dir, extra = {}) {
  const r = running(port, proc, dir, extra);
  try {
    await waitPort(port, { proc });
  } catch (e) {
    await r.stop();
    throw e;
  }
  return r;
}

// Waits until a TCP port accepts connections (bounded).
export async function waitPort(port, { seconds = 60, proc } = {}) {
  const net = await import("node:net");
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}):\n${proc.output}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`port ${port} not accepting after ${seconds}s\n${proc?.output ?? ""}`);
}

// A directory the postgres user can use too (the clusters and PgBouncer run as postgres).
export function tempDir(label) {
  const d = mkdtempSync(path.join(tmpdir(), `pb-${label}-`));
  chmodSync(d, 0o755);
  return d;
}

export async function startPostgres({ replicaOf } = {}) {
  const dir = tempDir(replicaOf ? "pg-replica" : "pg");
  const port = await freePort();
  if (replicaOf) await run(PG_CLUSTER, ["replica", path.join(dir, "c"), String(port), String(replicaOf.port)]);
  else await run(PG_CLUSTER, ["start", path.join(dir, "c"), String(port)]);
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    psql: (sql) => run("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-XAtqc", sql]),
    stop: async () => {
      await run(PG_CLUSTER, ["stop", path.join(dir, "c")]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// PgBouncer in transaction mode in front of database `db` of the cluster `pg`.
export async function startPgBouncer(pg, db = "postgres") {
  const dir = tempDir("pgbouncer");
  const port = await freePort();
  writeFileSync(path.join(dir, "users.txt"), '"postgres" ""\n');
  writeFileSync(
    path.join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `${db} = host=127.0.0.1 port=${pg.port} dbname=${db} user=postgres`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${dir}/users.txt`,
      "pool_mode = transaction",
      "max_client_conn = 500",
      "default_pool_size = 4",
      "server_reset_query =",
      "ignore_startup_parameters = extra_float_digits",
      "",
    ].join("\n"),
  );
  chmodSync(path.join(dir, "pgbouncer.ini"), 0o644);
  chmodSync(path.join(dir, "users.txt"), 0o644);
  const asRoot = process.getuid?.() === 0;
  const proc = asRoot
    ? startGroup("runuser", ["-u", "postgres", "--", "/usr/sbin/pgbouncer", path.join(dir, "pgbouncer.ini")])
    : startGroup("/usr/sbin/pgbouncer", [path.join(dir, "pgbouncer.ini")]);
  return listening(port, proc, dir, { url: `postgres://postgres@127.0.0.1:${port}/${db}` });
}

// Redis; with `tls`, TLS only (rediss://) with a certificate for 127.0.0.1 from a CA made for the run
// (`ca`: its PEM file); with `user`, that ACL user alone (the default user is off).
export async function startRedis({ tls = false, user, password } = {}) {
  const port = await freePort();
  const args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"];
  let dir = null;
  const extra = {};
  if (tls) {
    dir = tempDir("redis-tls");
    const ca = makeCa(dir, "ca");
    const cert = makeCert(dir, ca, "redis", "IP:127.0.0.1");
    args.push("--port", "0", "--tls-port", String(port), "--tls-cert-file", cert.cert, "--tls-key-file", cert.key, "--tls-ca-cert-file", ca.cert, "--tls-auth-clients", "no");
    extra.ca = ca.cert;
    extra.makeCa = (name) => makeCa(dir, name);
  } else {
    args.push("--port", String(port));
  }
  if (user) args.push("--user", "default", "off", "--user", user, "on", `>${password}`, "~*", "&*", "+@all");
  const proc = startGroup("redis-server", args);
  const auth = user ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}@` : "";
  return listening(port, proc, dir, { url: `${tls ? "rediss" : "redis"}://${auth}127.0.0.1:${port}`, ...extra });
}

export async function startS3(bucket = "pb-packages") {
  const dir = tempDir("s3");
  const s3 = await startStrictS3({ dir, bucket });
  return {
    ...s3,
    bucket,
    url: `s3://${bucket}?endpoint=http://127.0.0.1:${s3.port}&region=${REGION}`,
    env: { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY },
    stop: async () => {
      await s3.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A pb_server instance; env adds to (or overrides) the defaults: its own data dir, port, admin token.
// healthy: false waits for /health to answer at all (a server whose cache or storage is unreachable
// answers 503).
export async function startServer(env = {}, { label = "server", adminToken = "stack-admin-token", healthy = true } = {}) {
  if (!existsSync(SERVER_BIN)) throw new Error(`${SERVER_BIN} is missing: run scripts/build native`);
  const dir = tempDir(label);
  const port = await freePort();
  const full = {
    PB_LISTEN: `127.0.0.1:${port}`,
    PB_DATA_DIR: path.join(dir, "var"),
    ADMIN_TOKEN: adminToken,
    PB_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    PB_INSTANCE_ID: `${label}-${port}`,
    PB_LOG: "requests",
    ...env,
  };
  const proc = startGroup(SERVER_BIN, [], { env: full, cwd: dir });
  const server = running(port, proc, dir, { env: full });
  try {
    await waitFor(`http://127.0.0.1:${port}/health`, { proc, seconds: 60, ...(healthy ? {} : { check: () => true }) });
  } catch (e) {
    await server.stop();  // nothing outlives a start that failed
    throw e;
  }
  return server;
}

// A server's JSON request log lines so far (its stdout).
export const requestLog = (srv) =>
  srv.proc.output
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes('"method"'))
    .map((l) => JSON.parse(l));

// HAProxy in front of `servers` (ports), health-checked on /health, retrying requests that failed to
// reach a server (and responses that never started) on another one.
export async function startHaproxy(ports) {
  const dir = tempDir("haproxy");
  const port = await freePort();
  const cfg = [
    "global",
    "  maxconn 2000",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  retries 3",
    "  option redispatch 1",
    "  retry-on conn-failure empty-response response-timeout 502 503",
    "  option http-server-close",
    "frontend fe",
    `  bind 127.0.0.1:${port}`,
    "  default_backend be",
    "backend be",
    "  balance roundrobin",
    "  option httpchk GET /health",
    "  http-check expect status 200",
    "  default-server inter 300ms fall 2 rise 1",
    ...ports.map((p, i) => `  server s${i + 1} 127.0.0.1:${p} check`),
    "",
  ].join("\n");
  writeFileSync(path.join(dir, "haproxy.cfg"), cfg);
  const proc = startGroup("haproxy", ["-f", path.join(dir, "haproxy.cfg"), "-db"]);
  return listening(port, proc, dir);
}

// nginx serving one directory (the performance comparison's baseline).
export async function startNginxStatic(rootDir) {
  const dir = tempDir("nginx");
  const port = await freePort();
  mkdirSync(path.join(dir, "logs"));
  const cfg = [
    "user root;",
    "worker_processes 1;",
    "daemon off;",
    `error_log ${dir}/logs/error.log;`,
    `pid ${dir}/nginx.pid;`,
    "events { worker_connections 1024; }",
    "http {",
    "  access_log off;",
    "  sendfile on;",
    "  keepalive_requests 100000;",
    `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
    `  server { listen 127.0.0.1:${port}; root ${rootDir}; location / { default_type application/octet-stream; } }`,
    "}",
    "",
  ].join("\n");
  writeFileSync(path.join(dir, "nginx.conf"), cfg);
  const proc = startGroup("nginx", ["-c", path.join(dir, "nginx.conf"), "-p", dir]);
  return listening(port, proc, dir);
}

// The targets tests/e2e/composer.test.mjs runs against (PB_E2E_TARGET):
//   server        pb_server on its defaults (SQLite file, file store, in-process cache)
//   server-stack  pb_server on PostgreSQL 15 + Redis 7 + S3 with pre-signed /dist redirects
// Returns { origin, port, proc, presigned, stop }.
export async function startTarget(name, adminToken) {
  if (name === "server") {
    const s = await startServer({}, { label: "e2e-server", adminToken });
    return { ...s, presigned: false };
  }
  if (name === "server-stack") {
    const stopping = [];
    try {
      const pg = await startPostgres();
      stopping.push(pg);
      const redis = await startRedis();
      stopping.push(redis);
      const s3 = await startS3();
      stopping.push(s3);
      const s = await startServer(
        { PB_DATABASE_URL: pg.url, PB_CACHE_URL: redis.url, PB_STORAGE_URL: s3.url, PB_DIST_REDIRECT: "presigned", ...s3.env },
        { label: "e2e-stack", adminToken },
      );
      stopping.push(s);
      return {
        ...s,
        presigned: true,
        pg,
        s3,
        stop: async () => {
          for (const x of stopping.reverse()) await x.stop().catch(() => {});
        },
      };
    } catch (e) {
      for (const x of stopping.reverse()) await x.stop().catch(() => {});
      throw e;
    }
  }
  throw new Error(`unknown PB_E2E_TARGET ${name} (server, server-stack)`);
}
