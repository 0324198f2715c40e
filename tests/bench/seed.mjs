// Seeds package-broker for the serving benchmark: P packages x V versions, cheaply. Per package, the
// first version is a real zip uploaded through the admin API; the next V-1 rows go straight into D1
// (copying the uploaded row's archive columns, varying version, reference and composer.json); one more
// version is then uploaded through the API, which makes the Worker rebuild the package's p2 documents
// from all V+1 rows. Package 0's last upload is the 1 MiB archive (incompressible) for the /dist phase.
import { createHash, randomBytes } from "node:crypto";
import { zipFiles } from "../upstreams/zip.mjs";

const VENDORS = ["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne"];
const WORDS = [
  "logger", "cache", "router", "mailer", "queue", "events", "config", "console", "http-client", "validator",
  "serializer", "templating", "translation", "security", "workflow", "scheduler", "uploader", "search",
  "payments", "reports", "notifier", "storage", "importer", "exporter", "metrics",
];
const LICENSES = ["MIT", "BSD-3-Clause", "Apache-2.0", "proprietary", "LGPL-3.0-or-later"];
const AUTHORS = [
  { name: "Jane Doe", email: "jane.doe@example.com", homepage: "https://example.com/jane", role: "Lead developer" },
  { name: "Rahul Iyer", email: "rahul@example.org", role: "Developer" },
  { name: "Zoë Müller", email: "zoe.mueller@example.net" },
];

export function packageNames(count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const vendor = VENDORS[i % VENDORS.length];
    const word = WORDS[Math.floor(i / VENDORS.length) % WORDS.length];
    const round = Math.floor(i / (VENDORS.length * WORDS.length));
    out.push(`${vendor}/${word}${round ? `-${round + 1}` : ""}`);
  }
  return out;
}

// versions for the first upload, the SQL rows and the last upload: 1.0.0 ... then a newer major.
export function versionPlan(perPackage) {
  const list = [];
  for (let major = 1; list.length < perPackage; major++)
    for (let minor = 0; minor < 5 && list.length < perPackage; minor++)
      for (let patch = 0; patch < 2 && list.length < perPackage; patch++) list.push(`${major}.${minor}.${patch}`);
  const lastMajor = Number(list[list.length - 1].split(".")[0]) + 1;
  return { first: list[0], sqlRows: list.slice(1), last: `${lastMajor}.0.0` };
}

export const normalize = (v) => `${v}.0`; // x.y.z -> x.y.z.0 (composer's normalized form)

const studly = (s) => s.split(/[-_]/).map((w) => w[0].toUpperCase() + w.slice(1)).join("");

// A realistic composer.json; requirements drift a little from version to version.
export function composerJson(name, index, version, allNames) {
  const [vendor, pkg] = name.split("/");
  const [major, minor, patch] = version.split(".").map(Number);
  const ns = `${studly(vendor)}\\${studly(pkg)}\\`;
  const require = {
    php: major >= 3 ? ">=8.1" : major === 2 ? ">=7.4 <8.4" : "^7.2 || ^8.0",
    "ext-json": "*",
    "psr/log": major >= 2 ? "^2.0 || ^3.0" : "^1.1",
  };
  if (minor >= 1) require["psr/container"] = "^1.1 || ^2.0";
  if (minor >= 2) require["symfony/polyfill-php80"] = `^1.${20 + minor + patch}`;
  if (minor >= 3) require["guzzlehttp/guzzle"] = major >= 3 ? "^7.5" : "^6.5 || ^7.0";
  // Two in-repository dependencies, so the documents look like a real private monorepo split.
  for (const k of [1, 7]) {
    const dep = allNames[(index + k) % allNames.length];
    if (dep !== name) require[dep] = `^${Math.max(1, major - (k === 7 ? 1 : 0))}.${minor}`;
  }
  const cj = {
    name,
    description: `${studly(pkg)} component for ${studly(vendor)} applications: a small, well-tested library (${version}).`,
    type: "library",
    keywords: [pkg, vendor, "php", major >= 3 ? "psr-18" : "psr-3"],
    homepage: `https://git.example.com/${name}`,
    license: LICENSES[index % LICENSES.length],
    authors: AUTHORS.slice(0, 1 + (index % AUTHORS.length)),
    require,
    "require-dev": { "phpunit/phpunit": major >= 3 ? "^10.5" : "^9.6", "phpstan/phpstan": `^1.${8 + (minor % 3)}` },
    autoload: { "psr-4": { [ns]: "src/" }, ...(minor % 2 ? { files: ["src/functions.php"] } : {}) },
    "autoload-dev": { "psr-4": { [`${ns}Tests\\`]: "tests/" } },
    support: { issues: `https://git.example.com/${name}/issues`, source: `https://git.example.com/${name}` },
    config: { "sort-packages": true },
  };
  if (patch === 1) cj.suggest = { "ext-intl": "for locale-aware formatting" };
  return cj;
}

export function packageZip(cj, { bigBytes = 0 } = {}) {
  const cls = studly(cj.name.split("/")[1]);
  const files = {
    "composer.json": JSON.stringify(cj, null, 4) + "\n",
    "README.md": `# ${cj.name}\n\n${cj.description}\n`,
    [`src/${cls}.php`]: `<?php\n\nnamespace ${Object.keys(cj.autoload["psr-4"])[0].replace(/\\$/, "")};\n\nfinal class ${cls}\n{\n    public function name(): string\n    {\n        return '${cj.name}';\n    }\n}\n`,
    "src/functions.php": "<?php\n",
  };
  if (bigBytes) files["data/blob.bin"] = randomBytes(bigBytes); // incompressible: stored as-is
  return zipFiles(files);
}

export async function api(base, adminToken, method, path, body, headers = {}) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...headers },
    body,
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, json, text };
}

export async function uploadZip(base, adminToken, name, version, zip) {
  const r = await api(base, adminToken, "PUT", `/admin/api/artifacts/${name}?version=${encodeURIComponent(version)}`, zip, {
    "content-type": "application/zip",
  });
  if (r.status !== 201)
    throw Object.assign(new Error(`upload ${name} ${version}: HTTP ${r.status} ${r.text.slice(0, 300)}`), { status: r.status });
  return r.json;
}

async function pool(items, concurrency, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

// Returns { names, token, big: { name, path, size, sha1 }, timings }.
export async function seed({ mf, base, adminToken, packages = 200, versions = 40, bigBytes = 1 << 20, uploadConcurrency = 4, log = () => {} }) {
  const timings = {};
  const names = packageNames(packages);
  const plan = versionPlan(versions);
  const db = await mf.getD1Database("DB");

  let t = Date.now();
  await pool(names, uploadConcurrency, async (name, i) => {
    await uploadZip(base, adminToken, name, plan.first, packageZip(composerJson(name, i, plan.first, names)));
  });
  timings.first_uploads_ms = Date.now() - t;
  log(`  uploaded ${names.length} first versions through the API in ${timings.first_uploads_ms} ms`);

  // The uploaded rows: their archive columns are shared by the synthetic rows.
  t = Date.now();
  const { results: rows } = await db
    .prepare(
      "SELECT p.name, v.package_id, v.dist_type, v.dist_key, v.dist_shasum, v.dist_sha256, v.dist_size, v.release_time " +
        "FROM versions v JOIN packages p ON p.id = v.package_id",
    )
    .all();
  const byName = new Map(rows.map((r) => [r.name, r]));
  const now = Date.now();
  // One statement per package: its rows travel as one JSON parameter (json_each), which keeps the
  // Miniflare proxy round trips (and D1's 100-parameter limit) out of the way.
  const statements = [];
  let inserted = 0;
  const insert = db.prepare(
    "INSERT INTO versions (package_id, version, version_normalized, stability, is_dev, reference, composer_json, dist_type, " +
      "dist_key, dist_shasum, dist_sha256, dist_size, release_time, source, created_at) " +
      "SELECT ?1, json_extract(j.value, '$.v'), json_extract(j.value, '$.vn'), 'stable', 0, json_extract(j.value, '$.ref'), " +
      "json_extract(j.value, '$.cj'), ?2, ?3, ?4, ?5, ?6, json_extract(j.value, '$.t'), 'artifact', ?7 FROM json_each(?8) AS j",
  );
  names.forEach((name, i) => {
    const row = byName.get(name);
    if (!row) throw new Error(`no uploaded row for ${name}`);
    const list = plan.sqlRows.map((version, k) => ({
      v: version,
      vn: normalize(version),
      ref: createHash("sha1").update(`${name}@${version}`).digest("hex"),
      cj: JSON.stringify(composerJson(name, i, version, names)), // stored form: composer.json minus "version"
      t: now - (plan.sqlRows.length - k) * 86_400_000 * 7, // one release a week
    }));
    inserted += list.length;
    // At most 500 rows per parameter: SQLite refuses a string past its length limit (SQLITE_TOOBIG).
    for (let k = 0; k < list.length; k += 500)
      statements.push(
        insert.bind(row.package_id, row.dist_type, row.dist_key, row.dist_shasum, row.dist_sha256, row.dist_size, now, JSON.stringify(list.slice(k, k + 500))),
      );
  });
  for (let i = 0; i < statements.length; i += 50) await db.batch(statements.slice(i, i + 50));
  const count = await db.prepare("SELECT COUNT(*) AS n FROM versions").first("n");
  if (count !== names.length * (1 + plan.sqlRows.length)) throw new Error(`versions has ${count} rows after seeding`);
  await db.prepare("UPDATE packages SET revision = revision + ?, updated_at = ?").bind(plan.sqlRows.length, now).run();
  timings.sql_rows_ms = Date.now() - t;
  log(`  inserted ${inserted} version rows with SQL in ${timings.sql_rows_ms} ms`);

  // The last upload rebuilds each package's documents from every row.
  t = Date.now();
  let big = null;
  await pool(names, uploadConcurrency, async (name, i) => {
    const cj = composerJson(name, i, plan.last, names);
    const zip = packageZip(cj, { bigBytes: i === 0 ? bigBytes : 0 });
    const up = await uploadZip(base, adminToken, name, plan.last, zip);
    if (i === 0) {
      if (up.size !== zip.length) throw new Error(`the 1 MiB upload reports size ${up.size}, sent ${zip.length}`);
      big = {
        name,
        path: `/dist/${name}/${up.version_normalized}/${up.reference}.zip`,
        size: zip.length,
        sha1: createHash("sha1").update(zip).digest("hex"),
      };
    }
  });
  timings.last_uploads_ms = Date.now() - t;
  log(`  uploaded ${names.length} last versions (p2 rebuilt from ${versions + 1} rows each) in ${timings.last_uploads_ms} ms`);

  // rate_limit 0: the bench measures throughput, not the per-token limiter.
  const tok = await api(base, adminToken, "POST", "/admin/api/tokens", JSON.stringify({ name: "bench", rate_limit: 0 }), {
    "content-type": "application/json",
  });
  if (tok.status !== 201 || !tok.json?.token) throw new Error(`POST /admin/api/tokens: HTTP ${tok.status} ${tok.text.slice(0, 300)}`);
  return { names, token: tok.json.token, big, plan, timings, versionRows: rows.length + inserted + names.length };
}

// A large repository for /packages.json at scale: `count` package rows written straight into D1 (one
// JSON parameter per 1,000 rows), then a token made through the admin API. packages.json lists what the
// packages table holds, so the broker serves these exactly as it serves uploaded packages.
export async function seedNames({ mf, workerName, base, adminToken, count }) {
  const t = Date.now();
  const db = await mf.getD1Database("DB", workerName);
  const names = packageNames(count);
  const insert = db.prepare(
    "INSERT INTO packages (name, source, revision, created_at, updated_at) SELECT j.value, 'artifact', 1, ?1, ?1 FROM json_each(?2) AS j",
  );
  const statements = [];
  for (let i = 0; i < names.length; i += 1000) statements.push(insert.bind(Date.now(), JSON.stringify(names.slice(i, i + 1000))));
  await db.batch(statements);
  const n = await db.prepare("SELECT COUNT(*) AS n FROM packages").first("n");
  if (n !== count) throw new Error(`packages has ${n} rows after seeding ${count}`);
  const tok = await api(base, adminToken, "POST", "/admin/api/tokens", JSON.stringify({ name: "bench", rate_limit: 0 }), {
    "content-type": "application/json",
  });
  if (tok.status !== 201 || !tok.json?.token) throw new Error(`POST /admin/api/tokens: HTTP ${tok.status} ${tok.text.slice(0, 300)}`);
  return { names, token: tok.json.token, ms: Date.now() - t };
}
