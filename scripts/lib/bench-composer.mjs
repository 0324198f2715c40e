// `scripts/bench --composer`: the real composer client (Debian's 2.5.5) installing a generated tree of
// packages through package-broker and from the same files served statically by nginx (Debian's
// package), both on 127.0.0.1. The packages are uploaded to the broker through the admin API; the
// static copy is what the broker then serves (packages.json and the p2 documents with the broker's
// origin replaced by nginx's, the uploaded zips at the broker's /dist paths), so both setups answer the
// same bytes and composer makes the same requests. A third setup, the floor Worker, serves the same copy
// from memory in workerd: the runtime's own cost. Each setup goes first in turn; each run is `composer install` with an empty cache (no lock: resolve + download) followed by
// `composer update` with the warm cache (every p2 answered 304). Reported: medians, ÷ nginx, ÷ the floor Worker.
// Usage: scripts/bench --composer [--packages N=30] [--versions N=5] [--runs N=5] [--profile] [--no-docs]
//                                 [--log requests|debug] [--out FILE] [--keep]
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { composerEnv, freePort, startGroup, stopGroup, waitFor } from "../../tests/e2e/process.mjs";
import { uploadZip } from "../../tests/bench/seed.mjs";
import { zipFiles } from "../../tests/upstreams/zip.mjs";
import {
  ADMIN_TOKEN, adminApi, busyCores, cpuNanos, createToken, f0, f1, f2, groupPids, log, machine, machineJiffies,
  machineLine, median, onSignals, rewriteDocsSection, root, startBroker, startWorkerd,
} from "./bench-common.mjs";
import { number, oneOf, readOptions, text } from "./options.mjs";

const TARGET = 1.1; // issue 11: broker ÷ nginx wall time
const COMPOSER_TIMEOUT_MS = 240_000;

const OPTIONS = {
  packages: { check: number({ integer: true, min: 3, max: 1000 }), default: 30 },
  versions: { check: number({ integer: true, min: 2, max: 1000 }), default: 5 },
  runs: { check: number({ integer: true, min: 1, max: 1000 }), default: 5 },
  profile: {}, // composer --profile -vvv, outputs kept in the results file
  "no-docs": {},
  out: { check: text() },
  keep: {}, // keep the temp dir (projects, nginx root and logs)
  log: { check: oneOf("requests", "debug"), default: "requests" }, // the broker's PB_LOG (debug: effect ops too)
};
const USAGE = "usage: scripts/bench --composer [--packages N=30] [--versions N=5] [--runs N=5] [--profile] [--log requests|debug] [--no-docs] [--out FILE] [--keep]";

function parseArgs(args) {
  const o = readOptions(args, OPTIONS, { name: "bench --composer", usage: USAGE });
  o.docs = !o.noDocs;
  return o;
}

// ---- the package tree ----

const WORDS = [
  "support", "contracts", "clock", "log", "cache", "events", "container", "config", "filesystem", "finder",
  "process", "http-message", "http-client", "routing", "validation", "translation", "console", "mailer",
  "queue", "database", "orm", "serializer", "security", "session", "view", "auth", "notifications",
  "scheduler", "search", "framework",
];
const studly = (s) => s.split(/[-_]/).map((w) => w[0].toUpperCase() + w.slice(1)).join("");

export function treeNames(count) {
  return Array.from({ length: count }, (_, i) => `benchco/${WORDS[i % WORDS.length]}${i >= WORDS.length ? `-${Math.floor(i / WORDS.length) + 1}` : ""}`);
}

export function versionList(count) {
  const out = [];
  for (let major = 1; out.length < count; major++) for (let minor = 0; minor < 3 && out.length < count; minor++) out.push(`${major}.${minor}.0`);
  return out;
}

// The tree has five layers (a real application's dependency graph is wide and a few levels deep, and
// composer discovers it level by level): package i depends on the package at its place in the layer
// below (so every package is needed) and on up to two others from lower layers; constraints follow the
// depending version's major: 1.x wants ^1.0, later majors accept the previous one too, so the solver
// has real choices.
const LAYERS = 5;
function dependencies(i, count) {
  const width = Math.ceil(count / LAYERS);
  const layer = Math.floor(i / width);
  if (layer === 0) return [];
  const below = layer * width; // how many packages the lower layers hold
  return [...new Set([i - width, (i * 7) % below, (i * 13 + 5) % below])];
}

function constraintFor(major, k) {
  if (major === 1) return "^1.0";
  return k % 2 ? `^${major - 1}.1 || ^${major}.0` : `>=${major - 1}.2 <${major + 1}.0`;
}

function phpClass(ns, cls, j, name, version) {
  const methods = Array.from({ length: 3 + (j % 4) }, (_, m) =>
    `    /**\n     * Step ${m} of ${cls}: keeps the ${name} ${version} behaviour stable for callers.\n     */\n` +
    `    public function step${m}(array $input, int $limit = ${10 + m}): array\n    {\n` +
    `        $out = [];\n        foreach ($input as $key => $value) {\n            if (count($out) >= $limit) {\n                break;\n            }\n` +
    `            $out[$key] = is_string($value) ? trim($value) . '-${m}' : $value;\n        }\n\n        return $out;\n    }\n`,
  ).join("\n");
  return `<?php\n\ndeclare(strict_types=1);\n\nnamespace ${ns};\n\n/**\n * ${cls} (${name} ${version}).\n */\nfinal class ${cls}\n{\n    public const VERSION = '${version}';\n\n${methods}}\n`;
}

const MIT = (who) =>
  `MIT License\n\nCopyright (c) 2026 ${who}\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and ` +
  `associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the ` +
  `rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to ` +
  `whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission ` +
  `notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED "AS IS", WITHOUT ` +
  `WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.\n`;

// Every package and version: { name, version, zip, composer } with real files (PHP classes, README,
// LICENSE, tests); packages differ in size (8 to 47 classes).
export function buildTree(packages, versions) {
  const names = treeNames(packages);
  const list = versionList(versions);
  const out = [];
  names.forEach((name, i) => {
    const ns = `Benchco\\${studly(name.split("/")[1])}`;
    for (const version of list) {
      const major = Number(version.split(".")[0]);
      const require = { php: ">=8.1", "ext-json": "*" };
      dependencies(i, packages).forEach((d, k) => (require[names[d]] = constraintFor(major, k)));
      const composer = {
        name,
        description: `${studly(name.split("/")[1])}: part of the benchmark's generated tree.`,
        type: "library",
        license: "MIT",
        authors: [{ name: "Bench Co", email: "dev@bench.example" }],
        require,
        "require-dev": { "phpunit/phpunit": "^10.5" },
        autoload: { "psr-4": { [`${ns}\\`]: "src/" } },
        "autoload-dev": { "psr-4": { [`${ns}\\Tests\\`]: "tests/" } },
      };
      const files = {
        "composer.json": JSON.stringify(composer, null, 4) + "\n",
        "README.md": `# ${name}\n\n${composer.description}\n\n\`\`\`bash\ncomposer require ${name}:^${major}.0\n\`\`\`\n`,
        LICENSE: MIT("Bench Co"),
      };
      const classes = 8 + ((i * 7) % 40);
      for (let j = 0; j < classes; j++) files[`src/Part${j}.php`] = phpClass(ns, `Part${j}`, j, name, version);
      files["tests/Part0Test.php"] = `<?php\n\nnamespace ${ns}\\Tests;\n\nfinal class Part0Test\n{\n}\n`;
      out.push({ name, version, composer, zip: zipFiles(files) });
    }
  });
  // The project requires every package nothing else requires (the top layer), so it installs them all.
  const needed = new Set(names.flatMap((_, i) => dependencies(i, packages)));
  const top = names.filter((_, i) => !needed.has(i));
  return { names, versions: list, archives: out, rootRequire: Object.fromEntries(top.map((n) => [n, `^${Number(list.at(-1).split(".")[0])}.0`])) };
}

// ---- nginx ----

function nginxConfig({ prefix, www, port, answers }) {
  const lit = (s) => {
    if (/[$'\\]/.test(s)) throw new Error(`cannot put ${JSON.stringify(s)} into an nginx return`);
    return `'${s}'`;
  };
  return `# generated by scripts/lib/bench-composer.mjs
worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 512; }
http {
  types { application/json json; application/zip zip; }
  default_type application/octet-stream;
  log_format bench '$status $request_method $uri $body_bytes_sent';
  access_log ${prefix}/access.log bench;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    # The broker's two POST endpoints composer calls, answered with what the broker answered.
    location = /downloads { default_type application/json; return ${answers.downloads.status} ${lit(answers.downloads.body)}; }
    location = /api/security-advisories { default_type application/json; return ${answers.advisories.status} ${lit(answers.advisories.body)}; }
  }
}
`;
}

// ---- composer ----

// Runs composer under bash so that `times` reports composer's own CPU (user + system of the children).
function runComposer(project, args) {
  const script = 'composer "$@"; rc=$?; times >&2; exit $rc';
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile("bash", ["-c", script, "bash", ...args], { cwd: project.dir, env: composerEnv(project), timeout: COMPOSER_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const lines = String(stderr).trimEnd().split("\n");
        const secs = (s) => { const m = /^(\d+)m([\d.]+)s$/.exec(s); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; };
        const [u, s] = (lines.at(-1) ?? "").trim().split(/\s+/).map(secs);
        resolve({ code: err ? (err.code ?? null) : 0, signal: err?.signal ?? null, ms, cpu_ms: (u + s) * 1000, output: `${stdout}${lines.slice(0, -2).join("\n")}` });
      });
  });
}

function statusMix(statuses) {
  const m = {};
  for (const s of statuses) m[s] = (m[s] ?? 0) + 1;
  return Object.entries(m).sort().map(([s, n]) => `${n}×${s}`).join(" ");
}

async function main(argv) {
  const opt = parseArgs(argv);
  const started = Date.now();
  const load0 = loadavg()[0];
  const m = machine();
  for (const [cmd, args] of [["composer", ["--version"]], ["nginx", ["-v"]]]) {
    try {
      await new Promise((res, rej) => execFile(cmd, args, { env: { ...process.env, COMPOSER_ALLOW_SUPERUSER: "1" }, timeout: 30_000 }, (e) => (e ? rej(e) : res())));
    } catch (e) {
      throw new Error(`'${cmd}' is missing or broken (${e.message}); scripts/setup installs composer and nginx`);
    }
  }
  const work = mkdtempSync(path.join(tmpdir(), "pb-bench-composer-"));
  chmodSync(work, 0o755); // nginx's worker runs as nobody
  let broker = null;
  let nginx = null;
  let floor = null;
  const cleanup = async () => {
    await stopGroup(nginx);
    nginx = null;
    await floor?.dispose();
    floor = null;
    await broker?.dispose();
    broker = null;
    if (!opt.keep) rmSync(work, { recursive: true, force: true });
  };
  onSignals(cleanup);
  try {
    log(`bench --composer: ${opt.packages} packages × ${opt.versions} versions, ${opt.runs} runs per setup; work dir ${work}`);
    const tree = buildTree(opt.packages, opt.versions);
    const zipBytes = tree.archives.reduce((a, z) => a + z.zip.length, 0);

    broker = await startBroker({ pbLog: opt.log, keepLines: true });
    const base = broker.base;
    log(`bench: broker on ${base}`);

    // Uploads: each package's versions in order, four packages at a time.
    let t = Date.now();
    const byName = new Map();
    for (const a of tree.archives) (byName.get(a.name) ?? byName.set(a.name, []).get(a.name)).push(a);
    const queue = [...byName.values()];
    const distPaths = new Map(); // broker /dist path -> zip
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let list = queue.shift(); list; list = queue.shift())
        for (const a of list) {
          const up = await uploadZip(base, ADMIN_TOKEN, a.name, a.version, a.zip);
          distPaths.set(`/dist/${a.name}/${up.version_normalized}/${up.reference}.zip`, a.zip);
        }
    }));
    const uploadMs = Date.now() - t;
    const token = await createToken(base, "bench-composer");
    const auth = { authorization: `Basic ${Buffer.from(`token:${token}`).toString("base64")}` };
    log(`bench: uploaded ${tree.archives.length} archives (${f0(zipBytes / 1024)} KiB) in ${uploadMs} ms`);

    // The static copy: what the broker serves (metadata with its origin, to be replaced per server).
    const get = async (p, init = {}) => {
      const r = await fetch(base + p, { ...init, headers: { ...auth, ...(init.headers ?? {}) }, signal: AbortSignal.timeout(60_000) });
      return { status: r.status, body: Buffer.from(await r.arrayBuffer()), headers: r.headers };
    };
    const files = new Map(); // path -> { bytes, text (origin to replace) }
    // /packages.json is dated (Last-Modified, so composer update revalidates it) once its last change is
    // a few seconds old and the broker has read it since (docs/ARCHITECTURE.md, "/packages.json's date"):
    // wait for that, bounded, as a repository whose package list changed a minute ago would be.
    let pj = await get("/packages.json");
    for (let i = 0; i < 60 && pj.status === 200 && !pj.headers.get("last-modified"); i += 1) {
      await new Promise((done) => setTimeout(done, 500));
      pj = await get("/packages.json");
    }
    if (pj.status !== 200) throw new Error(`GET /packages.json: HTTP ${pj.status} ${pj.body.toString().slice(0, 300)}`);
    if (!pj.headers.get("last-modified")) throw new Error("GET /packages.json: no Last-Modified 30 s after the uploads");
    files.set("/packages.json", { bytes: pj.body, text: true });
    const p2Files = [];
    for (const name of tree.names)
      for (const file of [`${name}.json`, `${name}~dev.json`]) {
        const r = await get(`/p2/${file}`);
        if (r.status === 200) {
          files.set(`/p2/${file}`, { bytes: r.body, text: true });
          p2Files.push(file);
          for (const v of JSON.parse(r.body).packages[name]) {
            const u = v.dist?.url && new URL(v.dist.url);
            if (u && !distPaths.has(u.pathname)) throw new Error(`${file} names ${u.pathname}, which no upload answered`);
          }
        } else if (r.status !== 404) throw new Error(`GET /p2/${file}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
      }
    if (p2Files.length < tree.names.length) throw new Error(`only ${p2Files.length} p2 documents for ${tree.names.length} packages`);
    for (const [p, zip] of distPaths) files.set(p, { bytes: zip, text: false });
    const copyFor = (origin) =>
      [...files].map(([p, f]) => [p, f.text ? Buffer.from(f.bytes.toString("utf8").replaceAll(base, origin)) : f.bytes, f.text ? "application/json" : "application/zip"]);
    // Composer's two POSTs (advisories for the audit, download counts): the copies answer what the broker did.
    const form = tree.names.map((n) => `packages%5B%5D=${encodeURIComponent(n)}`).join("&");
    const adv = await get("/api/security-advisories", { method: "POST", body: form, headers: { "content-type": "application/x-www-form-urlencoded" } });
    const dl = await get("/downloads", { method: "POST", body: JSON.stringify({ downloads: [] }), headers: { "content-type": "application/json" } });
    for (const [what, r] of [["advisories", adv], ["downloads", dl]])
      if (r.status >= 300) throw new Error(`POST ${what}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
    const answers = { advisories: { status: adv.status, body: adv.body.toString() }, downloads: { status: dl.status, body: dl.body.toString() } };

    // nginx: the copy on disk.
    const nginxPort = await freePort();
    const nginxOrigin = `http://127.0.0.1:${nginxPort}`;
    const www = path.join(work, "www");
    for (const [p, bytes] of copyFor(nginxOrigin)) {
      const f = path.join(www, p);
      mkdirSync(path.dirname(f), { recursive: true, mode: 0o755 });
      writeFileSync(f, bytes);
    }
    const prefix = path.join(work, "nginx");
    for (const d of ["tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"]) mkdirSync(path.join(prefix, d), { recursive: true });
    writeFileSync(path.join(prefix, "nginx.conf"), nginxConfig({ prefix, www, port: nginxPort, answers }));
    nginx = startGroup("nginx", ["-p", prefix, "-c", path.join(prefix, "nginx.conf"), "-e", path.join(prefix, "error.log")]);
    await waitFor(`${nginxOrigin}/packages.json`, { proc: nginx, seconds: 30 });
    const accessLog = path.join(prefix, "access.log");
    log(`bench: nginx on ${nginxOrigin} serves ${p2Files.length} p2 documents and ${distPaths.size} zips`);

    // The floor Worker: the same copy from memory, in its own workerd.
    const floorPort = await freePort();
    const floorOrigin = `http://127.0.0.1:${floorPort}`;
    const index = {};
    const chunks = [];
    let offset = 0;
    for (const [p, bytes, type] of copyFor(floorOrigin)) {
      index[p] = [offset, bytes.length, type];
      chunks.push(bytes);
      offset += bytes.length;
    }
    floor = await startWorkerd({
      script: "tests/bench/static-worker.mjs",
      port: floorPort,
      keepLines: true,
      options: {
        dataBlobBindings: { FILES: new Uint8Array(Buffer.concat(chunks)) },
        bindings: { INDEX: JSON.stringify(index), ANSWERS: JSON.stringify(answers), LAST_MODIFIED: new Date().toUTCString() },
      },
    });
    await waitFor(`${floorOrigin}/packages.json`, { seconds: 30 });
    log(`bench: the floor Worker on ${floorOrigin} serves the same copy from memory`);

    // ---- the runs ----
    let markers = 0;
    // A workerd setup's requests since `from` (its log lines), once a marker request shows that every
    // line before it has arrived.
    const workerdSetup = (origin, w) => ({
      origin,
      pids: () => w().pids,
      mark: () => w().runtime.kept.length,
      async since(from) {
        const marker = `/__bench_marker/${++markers}`;
        await fetch(origin + marker).then((r) => r.arrayBuffer()).catch(() => {});
        for (let i = 0; i < 200; i++) {
          const lines = w().runtime.kept.slice(from);
          if (lines.some((l) => l.includes(marker)))
            return lines.filter((l) => l.startsWith("{") && !l.includes("/__bench_marker/")).map((l) => JSON.parse(l)).filter((e) => e.path);
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`${origin} never logged ${marker}`);
      },
    });
    const setups = {
      nginx: {
        origin: nginxOrigin,
        pids: () => groupPids(nginx.child.pid),
        mark: () => (existsSync(accessLog) ? statSync(accessLog).size : 0),
        async since(from) {
          const marker = `/__bench_marker/${++markers}`;
          await fetch(nginxOrigin + marker).then((r) => r.arrayBuffer()).catch(() => {});
          for (let i = 0; i < 200; i++) {
            const lines = readFileSync(accessLog).subarray(from).toString().split("\n").filter(Boolean);
            if (lines.some((l) => l.includes(marker)))
              return lines.filter((l) => !l.includes("/__bench_marker/")).map((l) => { const [status, method, uri] = l.split(" "); return { status: Number(status), method, path: uri }; });
            await new Promise((r) => setTimeout(r, 50));
          }
          throw new Error(`nginx never logged ${marker}`);
        },
      },
      floor: workerdSetup(floorOrigin, () => floor),
      broker: workerdSetup(base, () => broker),
    };
    const SETUPS = ["nginx", "floor", "broker"];

    let projects = 0;
    function makeProject(setup) {
      const dir = path.join(work, `p${++projects}-${setup}`);
      const project = { dir, home: `${dir}.home`, cache: `${dir}.cache` };
      for (const d of [project.dir, project.home, project.cache]) mkdirSync(d, { recursive: true });
      const origin = setups[setup].origin;
      writeFileSync(path.join(dir, "composer.json"), JSON.stringify({
        name: "benchco/app",
        type: "project",
        require: tree.rootRequire,
        "minimum-stability": "stable",
        repositories: [{ type: "composer", url: origin }, { "packagist.org": false }],
        config: { "secure-http": false },
      }, null, 2) + "\n");
      if (setup === "broker")
        writeFileSync(path.join(dir, "auth.json"), JSON.stringify({ "http-basic": { [new URL(origin).host]: { username: "token", password: token } } }, null, 2) + "\n");
      return project;
    }

    const flags = ["--no-interaction", "--no-ansi", "--no-progress", ...(opt.profile ? ["--profile", "-vvv"] : [])];
    async function phase(setup, project, kind) {
      const s = setups[setup];
      const mark = s.mark();
      const pids = s.pids();
      const cpu0 = cpuNanos(pids);
      const mach0 = machineJiffies();
      const res = await runComposer(project, [kind, ...flags]);
      const mach1 = machineJiffies();
      const cpu1 = cpuNanos(pids);
      const requests = await s.since(mark);
      const fail = (why) => new Error(`${setup} composer ${kind}: ${why} (exit ${res.code}${res.signal ? `, ${res.signal}` : ""})\n${res.output.slice(-4000)}`);
      if (res.code !== 0) throw fail("failed");
      const installed = JSON.parse(readFileSync(path.join(project.dir, "vendor/composer/installed.json"), "utf8"));
      const got = (installed.packages ?? installed).length;
      if (got !== tree.names.length) throw fail(`installed ${got} packages, expected ${tree.names.length}`);
      if (kind === "update" && !/Nothing to install, update or remove/.test(res.output)) throw fail("the update changed something");
      const bad = requests.filter((r) => r.status >= 400 && !(r.status === 404 && /~dev\.json$/.test(r.path)));
      if (bad.length) throw fail(`requests failed: ${bad.map((r) => `${r.method} ${r.path} ${r.status}`).join(", ")}`);
      return {
        setup, kind, ms: res.ms, composer_cpu_ms: res.cpu_ms,
        server_cpu_ms: cpu0 != null && cpu1 != null ? (cpu1 - cpu0) / 1e6 : NaN,
        machine_busy_cores: busyCores(mach0, mach1, m.nproc),
        requests: requests.length, statuses: statusMix(requests.map((r) => r.status)),
        request_log: requests.map((r) => `${r.method} ${r.path} ${r.status}${r.ms != null ? ` ${r.ms}ms` : ""}${r.effects ? ` ${JSON.stringify(r.effects)}` : ""}`),
        output: opt.profile ? res.output : undefined,
      };
    }

    async function round(setup) {
      const project = makeProject(setup);
      const install = await phase(setup, project, "install");
      const update = await phase(setup, project, "update");
      rmSync(project.dir, { recursive: true, force: true });
      rmSync(project.home, { recursive: true, force: true });
      rmSync(project.cache, { recursive: true, force: true });
      return [install, update];
    }

    log("bench: warm-up round per setup (not measured)");
    for (const s of SETUPS) await round(s);
    const results = [];
    for (let r = 0; r < opt.runs; r++) {
      const order = SETUPS.map((_, k) => SETUPS[(k + r) % SETUPS.length]); // each setup goes first in turn
      for (const s of order) {
        const [i, u] = await round(s);
        results.push({ ...i, run: r }, { ...u, run: r });
        log(`  run ${r + 1}/${opt.runs} ${s.padEnd(6)} install ${f0(i.ms)} ms (${i.requests} requests: ${i.statuses}), update ${f0(u.ms)} ms (${u.requests}: ${u.statuses})`);
      }
    }

    // ---- report ----
    const rows = [];
    for (const kind of ["install", "update"])
      for (const setup of SETUPS) {
        const rs = results.filter((x) => x.kind === kind && x.setup === setup);
        rows.push({
          kind, setup, runs: rs.length,
          median_ms: median(rs.map((x) => x.ms)), min_ms: Math.min(...rs.map((x) => x.ms)), max_ms: Math.max(...rs.map((x) => x.ms)),
          composer_cpu_ms: median(rs.map((x) => x.composer_cpu_ms)), server_cpu_ms: median(rs.map((x) => x.server_cpu_ms)),
          machine_busy_cores: median(rs.map((x) => x.machine_busy_cores)), requests: rs[0].requests, statuses: rs[0].statuses,
        });
      }
    const med = (kind, setup) => rows.find((x) => x.kind === kind && x.setup === setup).median_ms;
    for (const x of rows) {
      x.ratio_nginx = x.median_ms / med(x.kind, "nginx");
      x.ratio_floor = x.median_ms / med(x.kind, "floor");
    }
    const ratios = { install: med("install", "broker") / med("install", "nginx"), update: med("update", "broker") / med("update", "nginx") };
    const floorRatios = { install: med("install", "broker") / med("install", "floor"), update: med("update", "broker") / med("update", "floor") };
    const label = { install: "`composer install`, empty cache, no lock", update: "`composer update`, warm cache (304s)" };
    const served = { nginx: "nginx (files on disk)", floor: "floor Worker (files in memory)", broker: "package-broker" };
    const table = [
      "| phase | served by | runs | median ms | min–max ms | composer CPU ms | server CPU ms | requests per run | ÷ nginx | ÷ floor Worker |",
      "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
      ...rows.map((x) => `| ${label[x.kind]} | ${served[x.setup]} | ${x.runs} | ${f0(x.median_ms)} | ${f0(x.min_ms)}–${f0(x.max_ms)} | ${f0(x.composer_cpu_ms)} | ${f1(x.server_cpu_ms)} | ${x.requests} (${x.statuses}) | ${x.setup === "broker" ? `**${f2(x.ratio_nginx)}×**` : `${f2(x.ratio_nginx)}×`} | ${f2(x.ratio_floor)}× |`),
    ].join("\n");
    const busy = median(results.map((x) => x.machine_busy_cores));
    const totalS = (Date.now() - started) / 1000;
    const date = new Date().toISOString().slice(0, 10);
    const command = `npm run bench -- --composer${argv.length ? ` ${argv.join(" ")}` : ""}`;
    const verdict = (k) => `${f2(ratios[k])}× (target ≤ ${TARGET}×: ${ratios[k] <= TARGET ? "met" : "**not met**"}); ÷ the floor Worker ${f2(floorRatios[k])}×`;
    console.log(table);
    console.log(`\ninstall: broker ÷ nginx ${verdict("install")}; update: ${verdict("update")}`);

    const out = {
      date: new Date().toISOString(), command, options: opt, machine: m, total_seconds: totalS,
      tree: { packages: tree.names.length, versions_per_package: tree.versions.length, archives: tree.archives.length, zip_bytes: zipBytes, root_require: tree.rootRequire, p2_documents: p2Files.length, upload_ms: uploadMs },
      rows, ratios, floor_ratios: floorRatios, target: TARGET, machine_busy_cores_median: busy, runs: results,
    };
    const outFile = opt.out ?? path.join(root, "build/bench/composer.json");
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(out, null, 2) + "\n");

    if (opt.docs) {
      rewriteDocsSection("composer install and update vs nginx", [
        "## composer install and update vs nginx",
        "",
        `Command: \`${command}\` (\`scripts/lib/bench-composer.mjs\`). Date: ${date}. Machine: ${machineLine(m)}, ` +
          `composer 2.5.5 and nginx 1.22.1 (Debian). Full run: ${f0(totalS)} s.`,
        "",
        `Tree: ${tree.names.length} generated packages × ${tree.versions.length} versions (${tree.archives.length} zips, ` +
          `${f0(zipBytes / 1024)} KiB, 10–49 real files each) in ${LAYERS} layers, each package depending on up to three from ` +
          `lower layers with real constraints; the project requires the ${Object.keys(tree.rootRequire).length} packages ` +
          `nothing else requires, so every run installs all ${tree.names.length}. The archives are uploaded ` +
          `through the admin API; nginx then serves what the broker serves (packages.json and the p2 documents with the ` +
          `origin replaced, the same zips at the same /dist paths, the broker's answers to composer's advisories and ` +
          `download-count POSTs), so composer makes the same requests to each. The floor Worker ` +
          `(\`tests/bench/static-worker.mjs\`) serves the same copy from memory in its own workerd, with nginx's ` +
          `Last-Modified/304 rule: what any Worker costs on this runtime, so "÷ floor Worker" is the broker's own share. ` +
          `The broker runs in workerd (Miniflare, in-memory D1/KV/R2, direct socket, \`PB_LOG=requests\` as deployed; ` +
          `the floor logs a line per request too), nginx with one worker; all on 127.0.0.1. ` +
          `Each run: a new project with empty COMPOSER_HOME and cache, \`composer install\` (no lock: resolve + ` +
          `download), then \`composer update\` (warm cache: every p2 document answered 304, nothing to change). ` +
          `Each setup goes first in turn, after one unmeasured round each. composer CPU = user + system of the ` +
          `composer process (bash \`times\`); server CPU = the workerd process or the nginx process group (schedstat).`,
        "",
        table,
        "",
        `- install: broker ÷ nginx ${verdict("install")}`,
        `- update: broker ÷ nginx ${verdict("update")}`,
        "",
        `Noise: the machine was busy ${f2(busy)} cores of ${m.nproc} during the median run (composer, the server and ` +
          `everything else on the machine); load average (1 min) ${f1(load0)} at the start, ${f1(loadavg()[0])} at the end. ` +
          "min–max shows the spread between runs.",
        "",
        "Raw numbers, each run's request log: `build/bench/composer.json`.",
        "",
      ].join("\n"));
      log("bench: wrote build/bench/composer.json and the composer section of docs/PERFORMANCE.md");
    }
    log(`bench --composer: done in ${f0(totalS)} s`);
    return 0;
  } finally {
    await cleanup();
  }
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (e) {
  log(`bench --composer: ${e.stack ?? e}`);
  process.exit(1);
}
