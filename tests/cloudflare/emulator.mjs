// A test double of the parts of the Cloudflare v4 REST API that `wrangler` (4.86) calls when
// scripts/deploy runs: accounts, D1 (create/list/info/query, SQL executed in real SQLite via sql.js),
// KV namespaces, R2 buckets, Queues (emulator-queues.mjs), Worker scripts (multipart upload, versions, deployments, settings,
// secrets, schedules, workers.dev subdomain, custom domains), static assets (emulator-assets.mjs), plus
// wrangler's npm update check.
// It validates like Cloudflare (bearer token, account id, names, upload metadata, bindings that must
// name existing resources: 10021) and answers in Cloudflare's envelope. Anything it does not know is
// answered with Cloudflare's error envelope and recorded in `unknown`, which the tests assert empty,
// so a new wrangler call shows up as a test failure. Listens on 127.0.0.1 only.
import http from "node:http";
import { createHash, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { createAssets } from "./emulator-assets.mjs";
import { createQueues } from "./emulator-queues.mjs";
import { ApiError, Reply, hex, readForm, readJson } from "./emulator-common.mjs";

const require = createRequire(import.meta.url);
const initSqlJs = require("sql.js");

const API = "/client/v4";

const nowIso = () => new Date().toISOString();

// Cloudflare's naming rules for the resources deploy creates.
const WORKER_NAME = /^[a-z0-9_][a-z0-9_-]{0,62}$/;
const R2_BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const D1_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const CRON = /^(\S+\s+){4}\S+$/;

const dbSize = (db) => db.exec("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")[0].values[0][0];

// Answers the D1 REST API's /query: each statement's rows and meta, in one transaction per call.
function runD1Query(db, sql, params) {
  if (typeof sql !== "string" || sql.trim() === "") throw new ApiError(400, 7400, "The request is malformed: sql is required");
  if (params !== undefined && !Array.isArray(params)) throw new ApiError(400, 7400, "The request is malformed: params must be an array");
  const results = [];
  const totalChanges = () => db.exec("SELECT total_changes()")[0].values[0][0];
  db.exec("SAVEPOINT d1_query");
  try {
    let statements = 0;
    for (const st of db.iterateStatements(sql)) {
      statements += 1;
      const started = process.hrtime.bigint();
      const before = totalChanges();
      try {
        if (params?.length) st.bind(params);
        const rows = [];
        while (st.step()) rows.push(st.getAsObject());
        const changes = totalChanges() - before;
        const lastRowId = db.exec("SELECT last_insert_rowid()")[0].values[0][0];
        results.push({
          results: rows,
          success: true,
          meta: {
            changed_db: changes > 0,
            changes,
            duration: Number(process.hrtime.bigint() - started) / 1e6,
            last_row_id: lastRowId,
            rows_read: rows.length,
            rows_written: changes,
            served_by_primary: true,
            served_by_region: "WEUR",
            size_after: dbSize(db),
          },
        });
      } finally {
        st.free();
      }
    }
    if (statements === 0) throw new ApiError(400, 7500, "No SQL statements detected.");
    if (params?.length && statements > 1) throw new ApiError(400, 7500, "Bound parameters are only allowed with a single statement");
    db.exec("RELEASE d1_query");
    return results;
  } catch (e) {
    db.exec("ROLLBACK TO d1_query");
    db.exec("RELEASE d1_query");
    if (e instanceof ApiError) throw e;
    // D1 reports SQLite's own message, e.g. "no such table: x: SQLITE_ERROR".
    throw new ApiError(400, 7500, `${e.message}: SQLITE_ERROR`);
  }
}

const MODULE_TYPES = new Map([
  ["application/javascript+module", "esm"],
  ["application/wasm", "compiled_wasm"],
  ["text/plain", "text"],
  ["application/octet-stream", "buffer"],
  ["application/source-map", "source_map"],
]);

// `plan` (free|paid) sets the account's Workers plan limits (static assets per version).
export async function startEmulator({ accountId = hex(16), token = `cf-test-${hex(12)}`, subdomain = "pb-tests", plan = "free" } = {}) {
  const SQL = await initSqlJs();
  const assets = createAssets({ accountId, plan });
  const state = {
    accountId,
    token,
    subdomain,
    requests: [], // "METHOD /path" of every call, in order
    unknown: [], // calls the emulator did not know: a test asserts this stays empty
    d1: new Map(), // uuid -> { uuid, name, created_at, db }
    kv: new Map(), // id -> { id, title }
    r2: new Map(), // name -> { name, creation_date, location }
    scripts: new Map(), // name -> script record (see upload())
    assets, // static assets: files by hash, upload sessions, every stored upload (emulator-assets.mjs)
    faults: [], // { method, path: RegExp, status, code, message, times } injected failures
  };

  const d1ByName = (name) => [...state.d1.values()].find((d) => d.name === name);
  const d1Info = (d) => ({
    uuid: d.uuid,
    name: d.name,
    version: "production",
    created_at: d.created_at,
    num_tables: d.db.exec("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")[0].values[0][0],
    file_size: dbSize(d.db),
    running_in_region: "WEUR",
  });

  function script(name) {
    const s = state.scripts.get(name);
    if (!s) throw new ApiError(404, 10007, `This Worker does not exist on your account.`);
    return s;
  }

  const activeVersion = (s) => s?.versions.find((x) => x.id === s.active_version);

  // Validates an upload's metadata and modules; returns the parsed version content.
  async function readUpload(req, body, name) {
    if (!WORKER_NAME.test(name)) throw new ApiError(400, 10016, `Invalid Worker name "${name}"`);
    const form = await readForm(req, body);
    const metaPart = form.get("metadata");
    if (metaPart === null) throw new ApiError(400, 10021, "Uncaught Error: No metadata in the upload");
    let metadata;
    try {
      metadata = JSON.parse(typeof metaPart === "string" ? metaPart : await metaPart.text());
    } catch {
      throw new ApiError(400, 10021, "Uncaught Error: metadata is not valid JSON");
    }
    const known = new Set([
      "main_module", "bindings", "compatibility_date", "compatibility_flags", "keep_bindings", "keep_assets",
      "logpush", "placement", "tail_consumers", "streaming_tail_consumers", "limits", "annotations",
      "observability", "usage_model", "migrations", "body_part", "assets", "cache",
    ]);
    for (const k of Object.keys(metadata)) {
      if (!known.has(k)) throw new ApiError(400, 10021, `Unexpected metadata field "${k}"`);
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(metadata.compatibility_date ?? ""))
      throw new ApiError(400, 10021, "compatibility_date must be a date (YYYY-MM-DD)");
    const modules = [];
    for (const [partName, value] of form.entries()) {
      if (partName === "metadata") continue;
      if (typeof value === "string") throw new ApiError(400, 10021, `Part "${partName}" is not a file`);
      const contentType = (value.type ?? "").split(";")[0].trim();
      const kind = MODULE_TYPES.get(contentType);
      if (!kind) throw new ApiError(400, 10021, `Unsupported content type "${value.type}" for module ${partName}`);
      const bytes = Buffer.from(await value.arrayBuffer());
      if (kind === "compiled_wasm" && !WebAssembly.validate(bytes))
        throw new ApiError(400, 10021, `Uncaught CompileError: module ${partName} is not valid WebAssembly`);
      modules.push({ name: partName, type: kind, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
    }
    const main = modules.find((m) => m.name === metadata.main_module);
    if (!main) throw new ApiError(400, 10021, `No such module "${metadata.main_module}": main_module must name an uploaded part`);
    if (main.type !== "esm") throw new ApiError(400, 10021, `main_module ${main.name} must be an ES module`);

    const bindings = metadata.bindings ?? [];
    if (!Array.isArray(bindings)) throw new ApiError(400, 10021, "bindings must be an array");
    const names = new Set();
    for (const b of bindings) {
      if (typeof b?.name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(b.name))
        throw new ApiError(400, 10021, `Invalid binding name ${JSON.stringify(b?.name)}`);
      if (names.has(b.name)) throw new ApiError(400, 10021, `Binding name '${b.name}' is already in use`);
      names.add(b.name);
      const bad = (text) => new ApiError(400, 10021, text);
      switch (b.type) {
        case "d1":
          if (!state.d1.has(b.id)) throw bad(`binding ${b.name} of type d1 must have a valid \`id\` specified`);
          break;
        case "kv_namespace":
          if (!state.kv.has(b.namespace_id)) throw bad(`KV namespace '${b.namespace_id}' is not valid.`);
          break;
        case "r2_bucket":
          if (!state.r2.has(b.bucket_name)) throw bad(`R2 bucket '${b.bucket_name}' cannot be found.`);
          break;
        case "queue":
          queues.checkBinding(b, name);
          break;
        case "plain_text":
        case "secret_text":
          if (typeof b.text !== "string") throw bad(`binding ${b.name} of type ${b.type} must have a text value`);
          break;
        default:
          throw bad(`binding ${b.name} has an unsupported type "${b.type}"`);
      }
    }
    // Last: the completion token is checked once everything else of the upload is valid.
    const versionAssets = assets.forVersion(metadata, name, activeVersion(state.scripts.get(name))?.assets ?? null);
    return { metadata, modules, bindings, assets: versionAssets };
  }

  // One version of a script. Secrets live beside the code: an upload that names none keeps them all; one
  // that names some replaces them unless keep_bindings lists secret_text (wrangler's --secrets-file).
  function newVersion(s, upload) {
    const keep = new Set(upload.metadata.keep_bindings ?? []);
    const names = upload.bindings.some((b) => b.type === "secret_text");
    const secrets = new Map();
    if (!names || keep.has("secret_text")) for (const [k, v] of s.secrets) secrets.set(k, v);
    const bindings = [];
    for (const b of upload.bindings) {
      if (b.type === "secret_text") secrets.set(b.name, b.text);
      else bindings.push(b);
    }
    const version = {
      id: randomUUID(),
      number: s.versions.length + 1,
      created_on: nowIso(),
      metadata: upload.metadata,
      modules: upload.modules,
      bindings,
      assets: upload.assets, // { manifest: {path: {hash, size}}, config } or null
    };
    s.versions.push(version);
    s.secrets = secrets;
    s.modified_on = version.created_on;
    s.etag = hex(32);
    return version;
  }

  function deploy(s, versionId) {
    const d = { id: randomUUID(), source: "api", strategy: "percentage", created_on: nowIso(), versions: [{ version_id: versionId, percentage: 100 }] };
    s.deployments.unshift(d);
    s.active_version = versionId;
    return d;
  }

  function scriptMeta(s) {
    const v = activeVersion(s) ?? s.versions.at(-1);
    return {
      id: s.name,
      tag: s.tag,
      etag: s.etag,
      handlers: ["fetch", "scheduled"],
      created_on: s.created_on,
      modified_on: s.modified_on,
      usage_model: "standard",
      compatibility_date: v?.metadata.compatibility_date,
      last_deployed_from: "wrangler",
      has_modules: true,
      has_assets: Boolean(v?.assets),
      logpush: false,
      placement_mode: "off",
    };
  }

  async function putScript(req, body, name, query) {
    const upload = await readUpload(req, body, name);
    let s = state.scripts.get(name);
    if (!s) {
      s = {
        name, tag: hex(16), created_on: nowIso(), modified_on: nowIso(), etag: "", secrets: new Map(), versions: [],
        deployments: [], schedules: [], domains: [], routes: [], subdomain: { enabled: false, previews_enabled: false },
        settings: { logpush: false, tail_consumers: null, observability: null, tags: [] },
      };
      state.scripts.set(name, s);
    }
    const version = newVersion(s, upload);
    deploy(s, version.id);
    const meta = scriptMeta(s);
    if (query.get("excludeScript") !== "true") meta.script = "<script body>";
    return { ...meta, deployment_id: version.id, startup_time_ms: 3 };
  }

  function requireKeys(query, allowed) {
    for (const k of query.keys()) if (!allowed.includes(k)) return `unknown query parameter "${k}"`;
    return null;
  }

  function paginate(list, query, defaultPerPage) {
    const perPage = Number(query.get("per_page") ?? defaultPerPage);
    const page = Number(query.get("page") ?? 1);
    const items = list.slice((page - 1) * perPage, page * perPage);
    return { items, info: { page, per_page: perPage, count: items.length, total_count: list.length } };
  }

  // Queues (emulator-queues.mjs): queue create/list/info and the Worker's consumer.
  const queues = createQueues(state, paginate);
  state.queues = queues.queues;

  // The route table: [method, path pattern, allowed query keys, handler(ctx) -> result | { result, result_info }
  // | Reply, options]. options.auth = "assets-jwt": the route checks an assets upload token instead of the API token.
  const A = "/accounts/:account";
  const routes = [
    ["GET", "/user/tokens/verify", [], () => ({ id: hex(16), status: "active" })],
    ["GET", "/user", [], () => ({ id: hex(16), email: "deployer@example.com" })],
    ["GET", "/accounts", ["page", "per_page"], ({ query }) => {
      const { items, info } = paginate([{ id: state.accountId, name: "Test account" }], query, 20);
      return { result: items, result_info: info };
    }],
    ["GET", "/memberships", ["page", "per_page"], ({ query }) => {
      const { items, info } = paginate([{ id: hex(16), status: "accepted", account: { id: state.accountId, name: "Test account" } }], query, 20);
      return { result: items, result_info: info };
    }],

    // D1
    ["POST", `${A}/d1/database`, [], async ({ body }) => {
      const { name, primary_location_hint, jurisdiction, ...rest } = await readJson(body);
      if (Object.keys(rest).length) throw new ApiError(400, 7400, `The request is malformed: unexpected ${Object.keys(rest).join(", ")}`);
      if (typeof name !== "string" || !D1_NAME.test(name)) throw new ApiError(400, 7400, "The request is malformed: invalid database name");
      if (jurisdiction !== undefined && !["eu", "fedramp"].includes(jurisdiction)) throw new ApiError(400, 7400, "Invalid jurisdiction");
      if (primary_location_hint !== undefined && typeof primary_location_hint !== "string") throw new ApiError(400, 7400, "Invalid location hint");
      if (d1ByName(name)) throw new ApiError(400, 7502, "A database with that name already exists");
      const d = { uuid: randomUUID(), name, created_at: nowIso(), db: new SQL.Database() };
      state.d1.set(d.uuid, d);
      return { uuid: d.uuid, name: d.name, created_in_region: "WEUR" };
    }],
    ["GET", `${A}/d1/database`, ["page", "per_page", "name"], ({ query }) => {
      let list = [...state.d1.values()];
      if (query.has("name")) list = list.filter((d) => d.name === query.get("name"));
      const { items, info } = paginate(list.map(d1Info), query, 1000);
      return { result: items, result_info: info };
    }],
    ["GET", `${A}/d1/database/:uuid`, [], ({ params }) => {
      const d = state.d1.get(params.uuid);
      if (!d) throw new ApiError(404, 7404, `The database ${params.uuid} could not be found`);
      return d1Info(d);
    }],
    ["POST", `${A}/d1/database/:uuid/query`, [], async ({ params, body }) => {
      const d = state.d1.get(params.uuid);
      if (!d) throw new ApiError(404, 7404, `The database ${params.uuid} could not be found`);
      const { sql, params: bound, ...rest } = await readJson(body);
      if (Object.keys(rest).length) throw new ApiError(400, 7400, `Unexpected fields: ${Object.keys(rest).join(", ")}`);
      return runD1Query(d.db, sql, bound);
    }],

    // KV
    ["POST", `${A}/storage/kv/namespaces`, [], async ({ body }) => {
      const { title } = await readJson(body);
      if (typeof title !== "string" || title.length === 0 || title.length > 512) throw new ApiError(400, 10019, "title is required and at most 512 characters");
      if ([...state.kv.values()].some((n) => n.title === title)) throw new ApiError(400, 10014, "a namespace with this account ID and title already exists");
      const n = { id: hex(16), title, supports_url_encoding: true };
      state.kv.set(n.id, n);
      return n;
    }],
    ["GET", `${A}/storage/kv/namespaces`, ["page", "per_page", "order", "direction"], ({ query }) => {
      const list = [...state.kv.values()].sort((a, b) => a.title.localeCompare(b.title));
      if (query.get("direction") === "desc") list.reverse();
      const { items, info } = paginate(list, query, 20);
      return { result: items, result_info: info };
    }],

    // R2
    ["POST", `${A}/r2/buckets`, [], async ({ body }) => {
      const { name, locationHint, storageClass } = await readJson(body);
      if (typeof name !== "string" || !R2_BUCKET_NAME.test(name)) throw new ApiError(400, 10005, "The specified bucket name is not valid.");
      if (locationHint !== undefined && typeof locationHint !== "string") throw new ApiError(400, 10040, "Invalid location hint");
      if (storageClass !== undefined && !["Standard", "InfrequentAccess"].includes(storageClass)) throw new ApiError(400, 10040, "Invalid storage class");
      if (state.r2.has(name)) throw new ApiError(409, 10004, "The bucket you tried to create already exists, and you own it.");
      const b = { name, creation_date: nowIso(), location: "WEUR", storage_class: storageClass ?? "Standard" };
      state.r2.set(name, b);
      return b;
    }],
    ["GET", `${A}/r2/buckets`, ["cursor", "per_page", "name_contains", "start_after", "direction", "order"], () => ({ buckets: [...state.r2.values()] })],
    ["GET", `${A}/r2/buckets/:bucket`, [], ({ params }) => {
      const b = state.r2.get(params.bucket);
      if (!b) throw new ApiError(404, 10006, "The specified bucket does not exist.");
      return b;
    }],

    // Worker scripts
    ["GET", `${A}/workers/services/:name`, [], ({ params }) => {
      const s = state.scripts.get(params.name);
      if (!s) throw new ApiError(404, 10090, "workers.api.error.service_not_found");
      return {
        id: s.name,
        default_environment: { environment: "production", created_on: s.created_on, modified_on: s.modified_on, script: scriptMeta(s) },
        created_on: s.created_on,
        modified_on: s.modified_on,
        environments: [{ environment: "production", created_on: s.created_on, modified_on: s.modified_on }],
      };
    }],
    ["PUT", `${A}/workers/scripts/:name`, ["excludeScript", "bindings_inherit"], ({ req, body, params, query }) => putScript(req, body, params.name, query)],
    ["POST", `${A}/workers/scripts/:name/versions`, ["bindings_inherit"], async ({ req, body, params }) => {
      const s = script(params.name);
      const upload = await readUpload(req, body, params.name);
      const v = newVersion(s, upload);
      return {
        id: v.id,
        number: v.number,
        metadata: { created_on: v.created_on, modified_on: v.created_on, source: "wrangler", author_email: "deployer@example.com" },
        resources: { script: { etag: s.etag, handlers: ["fetch", "scheduled"], last_deployed_from: "wrangler" }, bindings: v.bindings },
        startup_time_ms: 3,
      };
    }],
    // Static assets (emulator-assets.mjs): the session needs no Worker yet (wrangler opens it before the first upload).
    ["POST", `${A}/workers/scripts/:name/assets-upload-session`, [], async ({ params, body }) => {
      if (!WORKER_NAME.test(params.name)) throw new ApiError(400, 10016, `Invalid Worker name "${params.name}"`);
      return assets.createSession(params.name, await readJson(body));
    }],
    ["POST", `${A}/workers/assets/upload`, ["base64"], ({ req, body, query }) => assets.upload(req, body, query), { auth: "assets-jwt" }],
    ["GET", `${A}/workers/scripts/:name/deployments`, [], ({ params }) => ({ deployments: script(params.name).deployments })],
    ["POST", `${A}/workers/scripts/:name/deployments`, ["force"], async ({ params, body }) => {
      const s = script(params.name);
      const { strategy, versions } = await readJson(body);
      if (strategy !== "percentage" || !Array.isArray(versions) || versions.length === 0) throw new ApiError(400, 10001, "strategy must be percentage with at least one version");
      if (versions.reduce((n, v) => n + v.percentage, 0) !== 100) throw new ApiError(400, 10001, "percentages must add up to 100");
      for (const v of versions) if (!s.versions.some((x) => x.id === v.version_id)) throw new ApiError(400, 10001, `unknown version ${v.version_id}`);
      if (versions.length !== 1) throw new ApiError(400, 10001, "the emulator deploys one version at a time");
      return deploy(s, versions[0].version_id);
    }],
    ["GET", `${A}/workers/scripts/:name/settings`, [], ({ params }) => {
      const s = script(params.name);
      const v = activeVersion(s);
      return { ...s.settings, bindings: v?.bindings ?? [], compatibility_date: v?.metadata.compatibility_date, compatibility_flags: [], placement: {}, usage_model: "standard" };
    }],
    ["PATCH", `${A}/workers/scripts/:name/script-settings`, [], async ({ params, body }) => {
      const s = script(params.name);
      const patch = await readJson(body);
      for (const k of Object.keys(patch)) {
        if (!["logpush", "tail_consumers", "observability", "tags"].includes(k)) throw new ApiError(400, 10001, `unknown setting "${k}"`);
        s.settings[k] = patch[k];
      }
      return s.settings;
    }],
    ["GET", `${A}/workers/scripts/:name/secrets`, [], ({ params }) =>
      [...script(params.name).secrets.keys()].map((name) => ({ name, type: "secret_text" }))],
    ["PUT", `${A}/workers/scripts/:name/secrets`, [], async ({ params, body }) => {
      const s = script(params.name);
      const { name, text, type } = await readJson(body);
      if (type !== "secret_text" || typeof name !== "string" || typeof text !== "string") throw new ApiError(400, 10001, "a secret needs name, text and type secret_text");
      s.secrets.set(name, text);
      return { name, type };
    }],
    ["GET", `${A}/workers/subdomain`, [], () => ({ subdomain: state.subdomain })],
    ["GET", `${A}/workers/scripts/:name/subdomain`, [], ({ params }) => script(params.name).subdomain],
    ["POST", `${A}/workers/scripts/:name/subdomain`, [], async ({ params, body }) => {
      const s = script(params.name);
      const { enabled, previews_enabled } = await readJson(body);
      if (typeof enabled !== "boolean") throw new ApiError(400, 10001, "enabled must be a boolean");
      s.subdomain = { enabled, previews_enabled: previews_enabled ?? enabled };
      return s.subdomain;
    }],
    ["PUT", `${A}/workers/scripts/:name/schedules`, [], async ({ params, body }) => {
      const s = script(params.name);
      const list = await readJson(body);
      if (!Array.isArray(list) || list.some((x) => typeof x?.cron !== "string" || !CRON.test(x.cron)))
        throw new ApiError(400, 10100, "Invalid cron expression");
      s.schedules = list.map((x) => ({ cron: x.cron, created_on: nowIso(), modified_on: nowIso() }));
      return { schedules: s.schedules };
    }],
    ["PUT", `${A}/workers/scripts/:name/domains/records`, [], async ({ params, body }) => {
      const s = script(params.name);
      const { origins, override_scope, override_existing_origin, override_existing_dns_record } = await readJson(body);
      if (!Array.isArray(origins) || [override_scope, override_existing_origin, override_existing_dns_record].some((x) => typeof x !== "boolean"))
        throw new ApiError(400, 100117, "origins and the override flags are required");
      for (const o of origins)
        if (typeof o?.hostname !== "string" || !/^([a-z0-9-]+\.)+[a-z]{2,}$/.test(o.hostname)) throw new ApiError(400, 100117, `Invalid hostname ${o?.hostname}`);
      s.domains = origins.map((o) => ({ id: hex(16), hostname: o.hostname, service: s.name, environment: "production", zone_name: o.hostname.split(".").slice(-2).join(".") }));
      return s.domains;
    }],
    ...queues.routes,
  ];

  const compiled = routes.map(([method, pattern, allowed, fn, { auth = "token" } = {}]) => {
    const keys = [];
    const re = new RegExp(`^${API}${pattern.replace(/:(\w+)/g, (_, k) => (keys.push(k), "([^/]+)"))}$`);
    return { method, re, keys, allowed, fn, auth };
  });

  function send(res, status, payload) {
    const text = JSON.stringify(payload);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }
  // Cloudflare's error envelope.
  const sendError = (res, status, code, message, extra = {}) =>
    send(res, status, { success: false, errors: [{ code, message, ...extra }], messages: [], result: null });

  async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, "http://127.0.0.1");
    const line = `${req.method} ${url.pathname}${url.search}`;
    state.requests.push(line);

    // wrangler's update check (pointed here with npm_registry): no newer version.
    if (req.method === "GET" && url.pathname === "/npm/wrangler") {
      return send(res, 200, { name: "wrangler", "dist-tags": { latest: "0.0.0" }, versions: {} });
    }
    if (!url.pathname.startsWith(API)) {
      state.unknown.push(line);
      return sendError(res, 404, 7000, "No route for that URI");
    }
    const r = compiled.find((x) => x.method === req.method && x.re.test(url.pathname));
    if (r?.auth !== "assets-jwt" && req.headers.authorization !== `Bearer ${state.token}`) {
      if (req.headers.authorization?.startsWith("Bearer ")) return sendError(res, 401, 10000, "Authentication error");
      return sendError(res, 400, 6003, "Invalid request headers", { error_chain: [{ code: 6111, message: "Invalid format for Authorization header" }] });
    }
    if (r) {
      const m = r.re.exec(url.pathname);
      const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
      if (params.account !== undefined && params.account !== state.accountId) {
        return sendError(res, 403, 9109, "Unauthorized to access requested resource");
      }
      const bad = requireKeys(url.searchParams, r.allowed);
      if (bad) {
        state.unknown.push(`${line} (${bad})`);
        return sendError(res, 400, 7001, `Unsupported request: ${bad}`);
      }
      const fault = state.faults.find((f) => f.method === req.method && f.path.test(url.pathname) && f.times !== 0);
      if (fault) {
        fault.times -= 1;
        return sendError(res, fault.status, fault.code, fault.message);
      }
      try {
        const out = await r.fn({ req, body, params, query: url.searchParams });
        if (out instanceof Reply) return send(res, out.status, { success: true, errors: [], messages: [], result: out.result });
        const wrapped = out && typeof out === "object" && "result" in out && "result_info" in out ? out : { result: out };
        return send(res, 200, { success: true, errors: [], messages: [], ...wrapped });
      } catch (e) {
        if (!(e instanceof ApiError)) {
          state.unknown.push(`${line} (emulator bug: ${e.stack})`);
          return sendError(res, 500, 10013, "An unknown error has occurred");
        }
        return sendError(res, e.status, e.code, e.message);
      }
    }
    state.unknown.push(line);
    return sendError(res, 404, 7003, `Could not route to ${url.pathname}, perhaps your object identifier is invalid?`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      state.unknown.push(`${req.method} ${req.url} (emulator crash: ${e.stack})`);
      if (!res.headersSent) sendError(res, 500, 10013, "An unknown error has occurred");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;

  return {
    state,
    origin,
    apiBase: `${origin}${API}`,
    // The environment that points wrangler (and scripts/deploy) here and nowhere else.
    wranglerEnv() {
      return {
        CLOUDFLARE_API_BASE_URL: `${origin}${API}`,
        CLOUDFLARE_API_TOKEN: state.token,
        CLOUDFLARE_ACCOUNT_ID: state.accountId,
        npm_registry: `${origin}/npm/`, // wrangler's update check only; npm itself keeps its registry
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        NO_PROXY: "127.0.0.1,localhost",
        no_proxy: "127.0.0.1,localhost",
      };
    },
    // Makes the next `times` calls matching method + path fail with Cloudflare's envelope.
    inject(method, path, { status = 500, code = 10013, message = "An unknown error has occurred", times = 1 } = {}) {
      state.faults.push({ method, path, status, code, message, times });
    },
    d1Tables(name) {
      const d = d1ByName(name);
      if (!d) return null;
      return d.db.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values.map((r) => r[0]) ?? [];
    },
    d1Query(name, sql) {
      const d = d1ByName(name);
      return d.db.exec(sql)[0]?.values ?? [];
    },
    stop() {
      return new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}
