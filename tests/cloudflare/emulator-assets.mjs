// Workers static assets in the Cloudflare API emulator: the three steps of a Direct Upload
// (developers.cloudflare.com/workers/static-assets/direct-upload/) that `wrangler deploy` takes when
// its config has [assets]:
//   1. POST A/workers/scripts/{name}/assets-upload-session {manifest: {path: {hash, size}}}
//      -> {jwt: upload token, buckets: [[hash…]…]} listing only the files the account does not have yet;
//      with nothing to upload, {jwt: completion token, buckets: []}.
//   2. POST A/workers/assets/upload?base64=true, `Authorization: Bearer <upload token>`, multipart parts
//      named by hash holding the base64 of the file -> 202 {} until every requested file is there, then
//      201 {jwt: completion token}.
//   3. The script or version upload carries metadata.assets = {jwt: completion token, config}.
// Limits and texts are Cloudflare's: 20,000 files per Worker version on Workers Free, 100,000 on Paid,
// 25 MiB per file, tokens valid for one hour, manifest errors 400/10304 "Invalid manifest: …". Where
// Cloudflare documents no answer, the emulator chooses one and keeps to it: a missing, foreign or expired
// upload token is 401/10000 "Authentication error"; a file the session did not ask for, a size other
// than the manifest's or a body that is not base64 is 400/10001; a bad metadata.assets is 400/10021, like
// every other metadata error of the script upload. The buckets hold at most 10 files and 40 MiB each
// (Cloudflare's own grouping is not documented; wrangler uploads the buckets it is given).
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { ApiError, Reply, readForm } from "./emulator-common.mjs";

const MAX_FILE_BYTES = 25 * 1024 * 1024;
const MAX_FILES = { free: 20_000, paid: 100_000 };
const TOKEN_TTL_S = 3600;
const BUCKET_FILES = 10;
const BUCKET_BYTES = 40 * 1024 * 1024;
const HASH = /^[0-9a-f]{32}$/i;
const CONFIG_KEYS = ["html_handling", "not_found_handling", "run_worker_first", "_headers", "_redirects"];
const HTML_HANDLING = ["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"];
const NOT_FOUND_HANDLING = ["single-page-application", "404-page", "none"];
// _headers and _redirects: the limits wrangler's own parser holds them to (workers-shared constants).
const MAX_LINE_LENGTH = 2000;
const MAX_HEADER_RULES = 100;
const MAX_REDIRECT_RULES = 2100; // 2,000 static + 100 dynamic
const MAX_ROUTING_RULES = 100;
const MAX_ROUTING_RULE_LENGTH = 100;

const invalidManifest = (text) => new ApiError(400, 10304, `Invalid manifest: ${text}`);
const badUpload = (text) => new ApiError(400, 10001, text);
const badMetadata = (text) => new ApiError(400, 10021, text);
const unauthenticated = () => new ApiError(401, 10000, "Authentication error");
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

function checkPath(path) {
  if (!path.startsWith("/")) throw invalidManifest(`Manifest path must start with "/": ${JSON.stringify(path)}`);
  if (/[\u0000-\u001f\u007f]/.test(path) || path.split("/").slice(1).some((s) => s === "" || s === "." || s === ".."))
    throw invalidManifest(`Manifest path is not a file path: ${JSON.stringify(path)}`);
  try {
    encodeURI(path); // a lone surrogate cannot be encoded
    decodeURI(path); // a "%" must start an escape
  } catch {
    throw invalidManifest("Manifest path must be URI encoded.");
  }
}

// Each line's length and the number of rules of a _headers or _redirects file (a rule of _headers is
// an unindented path line, of _redirects any line that is not a comment).
function checkRulesFile(name, text, maxRules, isRule) {
  if (typeof text !== "string") throw badMetadata(`assets.config.${name} must be the file's text`);
  const lines = text.split(/\r?\n/);
  const long = lines.findIndex((l) => l.length > MAX_LINE_LENGTH);
  if (long >= 0) throw badMetadata(`assets.config.${name}: line ${long + 1} is longer than ${MAX_LINE_LENGTH} characters`);
  const rules = lines.filter((l) => l.trim() !== "" && !l.trim().startsWith("#") && isRule(l)).length;
  if (rules > maxRules) throw badMetadata(`assets.config.${name}: ${rules} rules, more than the ${maxRules} allowed`);
}

function checkConfig(config) {
  if (!isObject(config)) throw badMetadata("assets.config must be an object");
  for (const k of Object.keys(config)) if (!CONFIG_KEYS.includes(k)) throw badMetadata(`Unexpected field "assets.config.${k}"`);
  if (config.html_handling !== undefined && !HTML_HANDLING.includes(config.html_handling))
    throw badMetadata(`assets.config.html_handling must be one of ${HTML_HANDLING.join(", ")}`);
  if (config.not_found_handling !== undefined && !NOT_FOUND_HANDLING.includes(config.not_found_handling))
    throw badMetadata(`assets.config.not_found_handling must be one of ${NOT_FOUND_HANDLING.join(", ")}`);
  const first = config.run_worker_first;
  if (first !== undefined && typeof first !== "boolean") {
    if (!Array.isArray(first) || first.length === 0 || first.length > MAX_ROUTING_RULES)
      throw badMetadata(`assets.config.run_worker_first must be a boolean or 1-${MAX_ROUTING_RULES} route patterns`);
    for (const rule of first)
      if (typeof rule !== "string" || !/^!?\//.test(rule) || rule.length > MAX_ROUTING_RULE_LENGTH)
        throw badMetadata(`assets.config.run_worker_first: ${JSON.stringify(rule)} must be a path pattern of at most ${MAX_ROUTING_RULE_LENGTH} characters`);
  }
  if (config._headers !== undefined) checkRulesFile("_headers", config._headers, MAX_HEADER_RULES, (l) => !/^\s/.test(l));
  if (config._redirects !== undefined) checkRulesFile("_redirects", config._redirects, MAX_REDIRECT_RULES, () => true);
  return config;
}

// Groups the hashes to upload into requests of at most BUCKET_FILES files and BUCKET_BYTES bytes.
function toBuckets(hashes, sizes) {
  const buckets = [];
  let bucket = [];
  let bytes = 0;
  for (const h of hashes) {
    const size = sizes.get(h);
    if (bucket.length && (bucket.length === BUCKET_FILES || bytes + size > BUCKET_BYTES)) {
      buckets.push(bucket);
      bucket = [];
      bytes = 0;
    }
    bucket.push(h);
    bytes += size;
  }
  if (bucket.length) buckets.push(bucket);
  return buckets;
}

// The assets of one account. `plan` sets the file limit; `clock.offsetS` moves time for expiry tests.
export function createAssets({ accountId, plan = "free" }) {
  if (!(plan in MAX_FILES)) throw new Error(`plan must be free or paid, not ${plan}`);
  const key = randomBytes(32); // signs the JWTs: only this emulator's tokens verify
  const clock = { offsetS: 0 };
  const now = () => Math.floor(Date.now() / 1000) + clock.offsetS;
  const files = new Map(); // hash -> { size, contentType, bytes }: what the account has, kept across deploys
  const sessions = new Map(); // id -> { script, manifest, sizes: hash -> size, requested: Set, buckets }
  const uploads = []; // every stored file part, in order: { hash, session }

  const b64url = (text) => Buffer.from(text).toString("base64url");
  const signature = (data) => createHmac("sha256", key).update(data).digest();

  function sign(claims) {
    const iat = now();
    const data = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify({ ...claims, iat, exp: iat + TOKEN_TTL_S }))}`;
    return `${data}.${signature(data).toString("base64url")}`;
  }

  // The claims of a token this emulator signed, of the given kind, for this account, not expired; or null.
  function verify(token, kind) {
    const parts = typeof token === "string" ? token.split(".") : [];
    if (parts.length !== 3) return null;
    const given = Buffer.from(parts[2], "base64url");
    const expected = signature(`${parts[0]}.${parts[1]}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    } catch {
      return null;
    }
    if (claims.kind !== kind || claims.account !== accountId || !(claims.exp > now()) || !sessions.has(claims.session)) return null;
    return claims;
  }

  function createSession(script, body) {
    if (!isObject(body)) throw badUpload("The body must be a JSON object with a manifest");
    for (const k of Object.keys(body)) if (k !== "manifest") throw badUpload(`Unexpected field "${k}"`);
    const { manifest } = body;
    if (!isObject(manifest)) throw invalidManifest("manifest must be an object of path: {hash, size}");
    const entries = Object.entries(manifest);
    const limit = MAX_FILES[plan];
    if (entries.length > limit)
      throw invalidManifest(
        `manifest contains ${entries.length.toLocaleString("en-US")} files which exceeds the limit of ${limit.toLocaleString("en-US")}.` +
          (plan === "free" ? ` You can upgrade to Workers Paid to increase this limit to ${MAX_FILES.paid.toLocaleString("en-US")}.` : ""),
      );
    const sizes = new Map();
    for (const [path, entry] of entries) {
      checkPath(path);
      if (!isObject(entry) || Object.keys(entry).sort().join() !== "hash,size") throw invalidManifest(`${path} must be {hash, size}`);
      if (typeof entry.hash !== "string" || !HASH.test(entry.hash)) throw invalidManifest(`${path}: hash must be 32 hexadecimal characters`);
      if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw invalidManifest(`${path}: size must be a whole number of bytes`);
      if (entry.size > MAX_FILE_BYTES)
        throw invalidManifest(`${path} is ${entry.size.toLocaleString("en-US")} bytes; an asset may be at most 25 MiB (${MAX_FILE_BYTES.toLocaleString("en-US")} bytes)`);
      const hash = entry.hash.toLowerCase();
      if (sizes.has(hash) && sizes.get(hash) !== entry.size) throw invalidManifest(`hash ${hash} is given with two sizes`);
      sizes.set(hash, entry.size);
    }
    const missing = [...sizes.keys()].filter((h) => !files.has(h));
    const id = randomUUID();
    const buckets = toBuckets(missing, sizes);
    sessions.set(id, { script, manifest: structuredClone(manifest), sizes, requested: new Set(missing), buckets });
    // Nothing to upload: the answer is already the completion token.
    const kind = missing.length ? "upload" : "completion";
    return { jwt: sign({ kind, account: accountId, script, session: id }), buckets };
  }

  async function upload(req, body, query) {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    const claims = verify(bearer, "upload");
    if (!claims) throw unauthenticated();
    const session = sessions.get(claims.session);
    if (query.get("base64") !== "true") throw badUpload("base64 must be true: asset files are uploaded base64-encoded");
    const form = await readForm(req, body);
    const staged = [];
    for (const [name, value] of form.entries()) {
      if (typeof value === "string") throw badUpload(`Part "${name}" is not a file`);
      const hash = name.toLowerCase();
      if (!session.requested.has(hash)) throw badUpload(`File ${name} was not requested by this upload session`);
      const text = await value.text();
      if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw badUpload(`File ${name} is not base64-encoded`);
      const bytes = Buffer.from(text, "base64");
      if (bytes.length !== session.sizes.get(hash))
        throw badUpload(`File ${name} is ${bytes.length} bytes, but the manifest gives ${session.sizes.get(hash)}`);
      const type = (value.type ?? "").trim();
      staged.push({ hash, size: bytes.length, contentType: type === "" || type === "application/null" ? null : type, bytes });
    }
    if (staged.length === 0) throw badUpload("The upload holds no files");
    // All or nothing: a refused request stores none of its files.
    for (const f of staged) {
      files.set(f.hash, { size: f.size, contentType: f.contentType, bytes: f.bytes });
      uploads.push({ hash: f.hash, session: claims.session });
    }
    if ([...session.requested].every((h) => files.has(h)))
      return new Reply(201, { jwt: sign({ kind: "completion", account: accountId, script: session.script, session: claims.session }) });
    return new Reply(202, {});
  }

  // The assets a new version of `script` gets from its upload metadata: those of a completion token,
  // those of the running version (keep_assets), or none.
  function forVersion(metadata, script, running) {
    const { assets, keep_assets: keep } = metadata;
    if (keep !== undefined && typeof keep !== "boolean") throw badMetadata("keep_assets must be a boolean");
    if (assets === undefined) {
      if (!keep) return null;
      if (!running) throw badMetadata("keep_assets: this Worker has no assets to keep");
      return running;
    }
    if (keep) throw badMetadata("keep_assets and assets exclude each other");
    if (!isObject(assets)) throw badMetadata("assets must be an object {jwt, config}");
    for (const k of Object.keys(assets)) if (!["jwt", "config"].includes(k)) throw badMetadata(`Unexpected field "assets.${k}"`);
    const claims = verify(assets.jwt, "completion");
    if (!claims) throw badMetadata("assets.jwt must be a valid, unexpired completion token of an assets upload");
    if (claims.script !== script) throw badMetadata(`assets.jwt was issued for the Worker "${claims.script}", not "${script}"`);
    const config = checkConfig(assets.config ?? {});
    return { manifest: sessions.get(claims.session).manifest, config: structuredClone(config) };
  }

  return {
    createSession,
    upload,
    forVersion,
    files,
    sessions,
    uploads,
    // Moves the emulator's clock (token expiry) by this many seconds.
    advanceClock(seconds) {
      clock.offsetS += seconds;
    },
  };
}
