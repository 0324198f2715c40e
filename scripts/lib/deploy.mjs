// The steps of scripts/deploy (docs/DEPLOY.md): build the wasm, find or create the D1 database, KV
// namespace and R2 bucket by name, write the deploy config with their ids, apply D1 migrations, add the
// secrets that are missing (never replacing one), deploy with the cron trigger (and a custom domain),
// check /health and print how to use it. Every step is idempotent: a run that failed half way is
// finished by running it again, and a second run changes nothing but the code.
// All account access goes through wrangler, so an API token and `wrangler login` both work.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = path.join(root, "node_modules/.bin/wrangler");
const USAGE = `usage: scripts/deploy [--name NAME] [--env ENV] [--domain HOST] [--plan free|paid] [--dry-run]
                      [--no-health-check] [--health-url URL]`;

// R2's bucket rule is the strictest of the four resources (3-63 lower-case letters, digits, hyphens),
// so every name derived from --name/--env follows it.
const RESOURCE_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const HOSTNAME = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const SECRETS = ["ADMIN_TOKEN", "PB_ENCRYPTION_KEY"];
const EXIT_HEALTH = 3; // deployed, but /health did not answer ok

const log = (line = "") => process.stdout.write(`${line}\n`);
const step = (line) => log(`==> ${line}`);

function usageError(message) {
  process.stderr.write(`scripts/deploy: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { name: "package-broker", env: "", domain: "", plan: process.env.PB_PLAN || "free", dryRun: false, healthCheck: true, healthUrl: "" };
  const valued = { "--name": "name", "--env": "env", "--domain": "domain", "--plan": "plan", "--health-url": "healthUrl" };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) [arg, value] = [arg.slice(0, eq), arg.slice(eq + 1)];
    if (arg in valued) {
      if (value === undefined) {
        if (i + 1 >= argv.length) usageError(`${arg} needs a value`);
        value = argv[++i];
      }
      opts[valued[arg]] = value;
    } else if (arg === "--dry-run" && value === undefined) opts.dryRun = true;
    else if (arg === "--no-health-check" && value === undefined) opts.healthCheck = false;
    else usageError(`unknown argument ${JSON.stringify(argv[i])}`);
  }
  opts.worker = opts.env ? `${opts.name}-${opts.env}` : opts.name;
  if (!RESOURCE_NAME.test(opts.worker))
    usageError(`"${opts.worker}" cannot name the Worker and its D1/KV/R2: use 3-63 lower-case letters, digits and hyphens (--name, --env)`);
  if (opts.worker.length > 58)
    usageError(`"${opts.worker}" is too long: the sync queue "${opts.worker}-sync" must fit Cloudflare's 63 characters (use at most 58)`);
  if (opts.env && !/^[a-z0-9-]+$/.test(opts.env)) usageError(`--env must be lower-case letters, digits and hyphens`);
  opts.domain = opts.domain.toLowerCase();
  if (opts.domain && !HOSTNAME.test(opts.domain)) usageError(`--domain must be a host name such as packages.example.com`);
  if (!["free", "paid"].includes(opts.plan)) usageError(`--plan must be free or paid`);
  if (opts.healthUrl && !/^https?:\/\/[^/]+/.test(opts.healthUrl)) usageError(`--health-url must be an http(s) URL`);
  return opts;
}

// What this run has changed so far, so that a failure says what is left in which state.
const changes = [];

function fail(message, advice) {
  process.stderr.write(`\nscripts/deploy failed: ${message}\n`);
  if (advice) process.stderr.write(`What to do: ${advice}\n`);
  if (changes.length) process.stderr.write(`This run already changed your account:\n${changes.map((c) => `  - ${c}`).join("\n")}\n`);
  else process.stderr.write(`Nothing was changed on your Cloudflare account by this run.\n`);
  process.stderr.write(`Every step is safe to repeat: run scripts/deploy again once the cause is fixed; it reuses what exists.\n`);
  process.exit(1);
}

// wrangler colours some messages even without a terminal.
const plain = (text) => (text ?? "").replace(/\x1b\[[0-9;]*m/g, "");

function wrangler(args) {
  const r = spawnSync(WRANGLER, args, {
    cwd: root,
    // CI: never wait for a prompt (wrangler then takes the non-interactive answer or fails clearly).
    env: { ...process.env, CI: "true", FORCE_COLOR: "0" },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.error) fail(`could not run wrangler (${r.error.message})`, "run scripts/setup (it installs wrangler with npm ci)");
  const stdout = plain(r.stdout), stderr = plain(r.stderr);
  return { ok: r.status === 0, status: r.status, stdout, stderr, output: `${stdout}${stderr}` };
}

// Advice for the failures every wrangler command can have; `specific` covers the command's own.
function adviceFor(output, specific) {
  if (/Authentication error|\[code: 10000\]|Invalid request headers|\[code: 6003\]|not authenticated|CLOUDFLARE_API_TOKEN/i.test(output))
    return "check CLOUDFLARE_API_TOKEN (it needs the permissions listed in docs/DEPLOY.md) and CLOUDFLARE_ACCOUNT_ID, or run `npx wrangler login`";
  if (/More than one account available/i.test(output)) return "set CLOUDFLARE_ACCOUNT_ID to the account to deploy to";
  if (/\[code: 9109\]|Unauthorized to access requested resource/i.test(output))
    return "the API token may not access this account or resource: check CLOUDFLARE_ACCOUNT_ID and the token's permissions (docs/DEPLOY.md)";
  return specific;
}

// Stops with wrangler's output and the advice when the command failed.
function checked(r, args, what, specific) {
  if (!r.ok) {
    const shown = r.output.trim().split("\n").map((l) => `    ${l}`).join("\n");
    fail(`${what}: \`wrangler ${args.join(" ")}\` exited with ${r.status}:\n${shown}`, adviceFor(r.output, specific));
  }
  return r;
}

const must = (args, what, specific) => checked(wrangler(args), args, what, specific);

// wrangler prints JSON for these lists; a warning may come before it.
function parseJsonOutput(text, what) {
  const start = text.search(/^\s*[[{]/m);
  try {
    return JSON.parse(start >= 0 ? text.slice(start) : text);
  } catch {
    fail(`could not read the output of ${what}:\n${text}`, "report this with the output above; wrangler's output format may have changed");
  }
}

function build() {
  step("Building the wasm module (scripts/build wasm)");
  const r = spawnSync("bash", ["scripts/build", "wasm"], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    fail(`the wasm build failed:\n${tail}`, "fix the build (scripts/build wasm shows the whole output)");
  }
}

// --- resources, found by name -------------------------------------------------------------------

function findD1(name) {
  const list = parseJsonOutput(must(["d1", "list", "--json"], "listing D1 databases", "check the token's D1 permission").stdout, "wrangler d1 list");
  return list.find((d) => d.name === name) ?? null;
}

function findKv(title) {
  const list = parseJsonOutput(must(["kv", "namespace", "list"], "listing KV namespaces", "check the token's Workers KV Storage permission").stdout, "wrangler kv namespace list");
  return list.find((n) => n.title === title) ?? null;
}

function findR2(name) {
  const out = must(["r2", "bucket", "list"], "listing R2 buckets", "check the token's R2 permission; R2 must be enabled once in the dashboard (R2 > Overview)").stdout;
  const names = [...out.matchAll(/^name:\s+(\S+)\s*$/gm)].map((m) => m[1]);
  return names.includes(name) ? { name } : null;
}

function findQueue(name) {
  const r = wrangler(["queues", "info", name]);
  if (!r.ok && /does not exist/i.test(r.output)) return null;
  checked(r, ["queues", "info", name], "reading the sync queue", "check the token's Queues permission");
  const id = /^Queue ID:\s*(\S+)/m.exec(r.stdout)?.[1];
  if (!id) fail(`could not read the output of wrangler queues info:\n${r.output}`, "report this with the output above; wrangler's output format may have changed");
  return { id };
}

// The sync queue (wrangler.toml [[queues.*]]): "<name>-sync".
export const queueName = (worker) => `${worker}-sync`;

// Each resource: how to find it by name and how to create it.
const RESOURCES = [
  { key: "d1", what: "D1 database", find: findD1, create: ["d1", "create"], advice: "check the token's D1 Edit permission and the account's D1 limits" },
  { key: "kv", what: "KV namespace", find: findKv, create: ["kv", "namespace", "create"], advice: "check the token's Workers KV Storage Edit permission" },
  { key: "r2", what: "R2 bucket", find: findR2, create: ["r2", "bucket", "create"], advice: "check the token's R2 Edit permission; R2 must be enabled once in the dashboard" },
  { key: "queue", what: "queue", name: queueName, find: findQueue, create: ["queues", "create"], advice: "check the token's Queues Edit permission" },
];

function ensureResources(opts) {
  step(`Finding or creating the D1 database, KV namespace and R2 bucket "${opts.worker}" and the queue "${queueName(opts.worker)}"`);
  const found = {};
  for (const r of RESOURCES) {
    const name = r.name ? r.name(opts.worker) : opts.worker;
    let it = r.find(name);
    if (!it && !opts.dryRun) {
      must([...r.create, name], `creating the ${r.what} ${name}`, r.advice);
      changes.push(`created ${r.what} ${name}`);
      it = r.find(name);
      if (!it) fail(`the ${r.what} ${name} was created but is not listed`, "run scripts/deploy again in a minute");
    }
    log(`    ${r.what} ${name}: ${it ? (it.uuid ?? it.id ?? "exists") : "missing (would be created)"}`);
    found[r.key] = it;
  }
  return found;
}

// --- the deploy config --------------------------------------------------------------------------

// The committed wrangler.toml (what scripts/dev runs) with this account's ids and the deploy-only
// settings. Paths are relative to the generated file, which wrangler resolves them against.
async function writeConfig(opts, res, file) {
  const { experimental_readRawConfig } = await import("wrangler");
  const { rawConfig: raw } = experimental_readRawConfig({ config: path.join(root, "wrangler.toml") });
  const dir = path.dirname(file);
  const rel = (p) => path.relative(dir, path.join(root, p));
  const one = (list, what) => {
    if (!Array.isArray(list) || list.length !== 1) fail(`wrangler.toml must declare exactly one ${what} (scripts/deploy fills in its id)`);
    return list[0];
  };
  const db = one(raw.d1_databases, "[[d1_databases]]");
  const kv = one(raw.kv_namespaces, "[[kv_namespaces]]");
  const bucket = one(raw.r2_buckets, "[[r2_buckets]]");
  const producer = one(raw.queues?.producers, "[[queues.producers]]");
  const consumer = one(raw.queues?.consumers, "[[queues.consumers]]");
  const watch = raw.build?.watch_dir;
  const config = {
    ...raw,
    name: opts.worker,
    main: rel(raw.main),
    build: {
      ...raw.build,
      cwd: root,
      ...(watch ? { watch_dir: Array.isArray(watch) ? watch.map(rel) : rel(watch) } : {}),
    },
    ...(raw.assets ? { assets: { ...raw.assets, directory: rel(raw.assets.directory) } } : {}),
    workers_dev: true,
    preview_urls: false,
    // Workers Logs: the shim writes one JSON line per request (PB_LOG=requests), see docs/OPERATIONS.md.
    observability: { enabled: true },
    d1_databases: [{ ...db, database_name: opts.worker, database_id: res.d1?.uuid ?? "00000000-0000-0000-0000-000000000000", migrations_dir: rel(db.migrations_dir) }],
    kv_namespaces: [{ ...kv, id: res.kv?.id ?? "00000000000000000000000000000000" }],
    r2_buckets: [{ ...bucket, bucket_name: opts.worker }],
    queues: { producers: [{ ...producer, queue: queueName(opts.worker) }], consumers: [{ ...consumer, queue: queueName(opts.worker) }] },
    vars: { ...raw.vars, PB_TEST_HOOKS: "0", PB_LOG: "requests", PB_PLAN: opts.plan },
  };
  if (opts.domain) config.routes = [{ pattern: opts.domain, custom_domain: true }];
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

// --- migrations and secrets ---------------------------------------------------------------------

function applyMigrations(opts, configFile) {
  step("Applying D1 migrations (remote)");
  const r = must(["d1", "migrations", "apply", opts.worker, "--remote", "--config", configFile], "applying the D1 migrations",
    "fix the failing migration; the migrations before it are applied and recorded (d1_migrations), the Worker was not deployed and keeps its previous version");
  // wrangler redraws its table as it goes: each name appears more than once.
  const applied = [...new Set([...r.stdout.matchAll(/(\d{4}_[\w-]+\.sql)\s*[│|]\s*✅/gu)].map((m) => m[1]))];
  if (/No migrations to apply/i.test(r.stdout)) log("    no migrations to apply");
  else {
    log(`    applied ${applied.length ? applied.join(", ") : "the pending migrations"}`);
    changes.push(`applied D1 migrations to ${opts.worker}${applied.length ? ` (${applied.join(", ")})` : ""}`);
  }
}

function listSecrets(opts, configFile) {
  const r = wrangler(["secret", "list", "--config", configFile]);
  if (!r.ok) {
    if (/Worker "[^"]*" not found|\[code: 10007\]|\[code: 10090\]/.test(r.output)) return { exists: false, names: [] };
    const shown = r.output.trim().split("\n").map((l) => `    ${l}`).join("\n");
    fail(`listing the Worker's secrets: \`wrangler secret list\` exited with ${r.status}:\n${shown}`, adviceFor(r.output, "check the token's Workers Scripts permission"));
  }
  return { exists: true, names: parseJsonOutput(r.stdout, "wrangler secret list").map((s) => s.name) };
}

// A new encryption key over data sealed with a lost one would make that data unreadable: refuse.
function sealedRows(opts, configFile) {
  const sql = "SELECT (SELECT count(*) FROM sources WHERE credentials_enc IS NOT NULL) AS n";
  const r = must(["d1", "execute", opts.worker, "--remote", "--json", "--config", configFile, "--command", sql], "checking for sealed credentials",
    "check the token's D1 permission");
  const out = parseJsonOutput(r.stdout, "wrangler d1 execute");
  return Number(out?.[0]?.results?.[0]?.n ?? 0);
}

function newSecret(name) {
  // ADMIN_TOKEN: 32 random bytes as hex; PB_ENCRYPTION_KEY: base64 of a 256-bit AES key.
  return name === "PB_ENCRYPTION_KEY" ? randomBytes(32).toString("base64") : `pba_${randomBytes(32).toString("hex")}`;
}

function planSecrets(opts, configFile) {
  step("Checking the Worker's secrets");
  const { exists, names } = listSecrets(opts, configFile);
  const missing = SECRETS.filter((s) => !names.includes(s));
  for (const s of SECRETS) log(`    ${s}: ${names.includes(s) ? "set (kept as it is)" : opts.dryRun ? "missing (would be generated)" : "missing (generating one)"}`);
  if (exists && missing.includes("PB_ENCRYPTION_KEY") && opts.dryRun === false) {
    const n = sealedRows(opts, configFile);
    if (n > 0)
      fail(`PB_ENCRYPTION_KEY is not set, but ${n} source(s) hold credentials sealed with a key`,
        `set the key they were sealed with: npx wrangler secret put PB_ENCRYPTION_KEY --config ${path.relative(root, configFile)}; ` +
        "scripts/deploy never generates a new key over sealed data (docs/OPERATIONS.md, rotating secrets)");
  }
  return { exists, missing };
}

// --- deploy and health --------------------------------------------------------------------------

function deploy(opts, configFile, secrets) {
  step(`Deploying the Worker ${opts.worker}`);
  const args = ["deploy", "--config", configFile];
  let dir;
  let r;
  try {
    if (Object.keys(secrets).length) {
      // The new secrets go into the same version as the code: no moment without them.
      dir = mkdtempSync(path.join(tmpdir(), "pb-deploy-"));
      chmodSync(dir, 0o700);
      const file = path.join(dir, "secrets.json");
      writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
      args.push("--secrets-file", file);
    }
    r = wrangler(args);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });  // before any exit: fail() ends the process
  }
  checked(r, args.slice(0, 3), "deploying the Worker",
    "the resources and migrations above are in place; the Worker keeps its previous version (if any). Fix the cause and run scripts/deploy again");
  const urls = [...r.stdout.matchAll(/^\s+(https:\/\/\S+)\s*$/gm)].map((m) => m[1]);
  const version = r.stdout.match(/Current Version ID:\s*(\S+)/)?.[1] ?? "";
  changes.push(`deployed the Worker ${opts.worker}${version ? ` (version ${version})` : ""}`);
  if (Object.keys(secrets).length) changes.push(`set the secrets ${Object.keys(secrets).join(", ")}`);
  return { urls, version };
}

async function checkHealth(url) {
  step(`Checking ${url}`);
  const deadline = Date.now() + Number(process.env.PB_HEALTH_TIMEOUT_S || 60) * 1000;
  let last = "";
  for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(10_000), headers: { "user-agent": "package-broker-deploy" } });
      const text = await r.text();
      last = `HTTP ${r.status}: ${text.slice(0, 500)}`;
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {}
      if (r.status === 200 && body?.status === "ok") return { ok: true, body };
      if (body?.status === "degraded") return { ok: false, detail: last }; // the Worker answered: waiting will not help
    } catch (e) {
      last = e.cause?.message ?? e.message;
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
  return { ok: false, detail: last };
}

function composerLines(origin, adminToken) {
  const host = new URL(origin).host;
  const admin = adminToken ? adminToken : "$ADMIN_TOKEN";
  return [
    "",
    "Create a token for composer (its secret is shown once):",
    `  curl -sS -X POST -H "Authorization: Bearer ${admin}" -H "Content-Type: application/json" \\`,
    `       -d '{"name":"my team","packages":["*"]}' ${origin}/admin/api/tokens`,
    "Then, in a project:",
    `  composer config repositories.private composer ${origin}`,
    `  composer config http-basic.${host} token "pbt_…the token…"`,
    `  composer require vendor/package`,
  ];
}

// --- main ---------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = path.join(root, ".wrangler/deploy", opts.worker);
  const configFile = path.join(dir, opts.dryRun ? "wrangler.dry-run.json" : "wrangler.json");
  log(`package-broker: ${opts.dryRun ? "dry run of the deploy" : "deploying"} "${opts.worker}"${opts.domain ? ` on ${opts.domain}` : ""} (plan: ${opts.plan})`);

  build();
  const res = ensureResources(opts);
  await writeConfig(opts, res, configFile);
  log(`    deploy config: ${path.relative(root, configFile)}`);

  if (opts.dryRun) {
    if (res.d1) {
      step("Pending D1 migrations");
      log(must(["d1", "migrations", "list", opts.worker, "--remote", "--config", configFile], "listing D1 migrations", "check the token's D1 permission").stdout.trim());
    }
    planSecrets(opts, configFile);
    step("Bundling the Worker (wrangler deploy --dry-run)");
    const out = path.join(dir, "dry-run");
    const r = must(["deploy", "--dry-run", "--config", configFile, "--outdir", out], "bundling the Worker", "see the wrangler message above");
    log(r.stdout.split("\n").filter((l) => /Total Upload|binding|env\.|^\s*-/.test(l)).join("\n"));
    log(`\nDry run: nothing was changed on your account. The bundle is in ${path.relative(root, out)}.`);
    return;
  }

  applyMigrations(opts, configFile);
  const { missing } = planSecrets(opts, configFile);
  const secrets = Object.fromEntries(missing.map((s) => [s, newSecret(s)]));
  const { urls } = deploy(opts, configFile, secrets);
  const origin = opts.domain ? `https://${opts.domain}` : urls.find((u) => u.endsWith(".workers.dev")) ?? urls[0];
  if (!origin) fail("wrangler deployed the Worker but printed no URL", "see `npx wrangler deployments list --config " + path.relative(root, configFile) + "`");

  log("");
  log(`Deployed: ${origin}`);
  // Secrets cannot be read back from Cloudflare: each new one is shown this once. The encryption key is
  // needed to restore a D1 backup elsewhere and to rotate it (docs/OPERATIONS.md).
  if (secrets.ADMIN_TOKEN) log(`Admin token (shown once; store it in your password manager now): ${secrets.ADMIN_TOKEN}`);
  if (secrets.PB_ENCRYPTION_KEY)
    log(`Encryption key PB_ENCRYPTION_KEY (shown once; store it with your backups): ${secrets.PB_ENCRYPTION_KEY}`);
  for (const line of composerLines(origin, secrets.ADMIN_TOKEN)) log(line);

  if (!opts.healthCheck) {
    log("\n/health was not checked (--no-health-check).");
    return;
  }
  const healthUrl = `${(opts.healthUrl || origin).replace(/\/+$/, "")}/health`;
  const health = await checkHealth(healthUrl);
  if (!health.ok) {
    process.stderr.write(
      `\nscripts/deploy: the deploy finished, but ${healthUrl} is not healthy: ${health.detail}\n` +
        "What to do: see docs/OPERATIONS.md (health checks); a new custom domain can take a few minutes to get its certificate.\n",
    );
    process.exit(EXIT_HEALTH);
  }
  log(`    /health: ${health.body.status}`);
}

main().catch((e) => fail(e.stack ?? String(e), "report this with the output above"));
