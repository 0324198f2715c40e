// Shared machinery of the fake upstreams: an HTTP(S) server on 127.0.0.1 (ephemeral port), a request
// log with secrets redacted, runtime-switchable faults, bounded request bodies, and a stop() that
// ends every connection (including requests a `timeout` fault left hanging).
import http from "node:http";
import https from "node:https";
import { createHash, createHmac, randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { testTls } from "./tls.mjs";

export const MAX_BODY = 1 << 20; // request bodies above 1 MiB get 413
const HANG_MAX_MS = 10 * 60_000; // a `timeout` fault never holds a socket longer than this

// sha256 prefix of a secret: request logs carry this instead of the secret, so tests can check which
// credential reached which server without the log holding it.
export const fingerprint = (secret) => createHash("sha256").update(String(secret)).digest("hex").slice(0, 16);
export const sha1Hex = (b) => createHash("sha1").update(b).digest("hex");
export const sha256Hex = (b) => createHash("sha256").update(b).digest("hex");
export const hmacHex = (algo, secret, body) => createHmac(algo, secret).update(body).digest("hex");
export const httpDate = (ms) => new Date(Math.floor(ms / 1000) * 1000).toUTCString();

// Parses the credentials of a request: { scheme: "basic"|"bearer"|"token"|"private-token", username?,
// password?, token? (bearer/token/private-token; for basic the password) } or null.
export function parseAuth(headers) {
  const pt = headers["private-token"];
  if (pt) return { scheme: "private-token", token: String(pt) };
  const a = headers.authorization;
  if (!a) return null;
  const m = /^(\w+)\s+(.*)$/.exec(String(a).trim());
  if (!m) return { scheme: "unknown", token: a };
  const scheme = m[1].toLowerCase();
  if (scheme === "basic") {
    const dec = Buffer.from(m[2], "base64").toString("utf8");
    const i = dec.indexOf(":");
    return { scheme, username: i < 0 ? dec : dec.slice(0, i), password: i < 0 ? "" : dec.slice(i + 1), token: i < 0 ? "" : dec.slice(i + 1) };
  }
  return { scheme, token: m[2].trim() };
}

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "private-token", "cookie", "x-gitlab-token", "job-token"]);
function redactHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) {
    if (SECRET_HEADERS.has(k)) {
      const s = String(v);
      const m = /^(\w+)\s+(.*)$/.exec(s);
      out[k] = k === "authorization" || k === "proxy-authorization" ? `${m ? m[1] : "?"} [redacted ${fingerprint(m ? m[2] : s)}]` : `[redacted ${fingerprint(s)}]`;
    } else out[k] = v;
  }
  return out;
}
function authSummary(headers) {
  const a = parseAuth(headers);
  if (!a) return null;
  const s = { scheme: a.scheme };
  if (a.username !== undefined) s.username = a.username;
  if (a.token) s.fingerprint = fingerprint(a.token);
  return s;
}

// Glob with "*" (matches anything, "/" included) or a RegExp (tested against path + query).
function matches(pattern, pathname, fullPath) {
  if (pattern == null || pattern === "*") return true;
  if (pattern instanceof RegExp) return pattern.test(fullPath);
  const re = new RegExp("^" + String(pattern).split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
  return re.test(pathname) || re.test(fullPath);
}

export const FAULT_TYPES = ["status500", "timeout", "truncate", "invalidJson", "rateLimit", "delay"];

// Response helpers for handlers: a handler returns { status, headers, body } where body is a Buffer,
// a string or a JSON-able value (sent as application/json).
export const json = (body, status = 200, headers = {}) => ({ status, headers: { "content-type": "application/json", ...headers }, body: Buffer.from(JSON.stringify(body)) });
export const raw = (body, status = 200, headers = {}) => ({ status, headers, body: Buffer.isBuffer(body) ? body : Buffer.from(String(body)) });
export const redirect = (location, status = 302, headers = {}) => ({ status, headers: { location, ...headers }, body: Buffer.alloc(0) });
// An archive as the hosts that build them on the fly send it (GitHub's codeload, GitLab, Bitbucket):
// `chunked` streams it with Transfer-Encoding: chunked and no Content-Length, in pieces; `gzip` encodes
// it (Content-Encoding: gzip) when the client accepts gzip. Static files (a Satis dist) use raw().
export const archive = (body, headers = {}, { chunked = true, gzip = false } = {}) => ({ status: 200, headers, body, chunked, gzip });
const CHUNK_BYTES = 16 * 1024;

// Pagination over a list: page >= 1, returns { items, page, perPage, totalPages, total, next, prev }.
export function paginate(list, page, perPage) {
  const total = list.length;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const p = Math.max(1, page | 0 || 1);
  return {
    items: list.slice((p - 1) * perPage, p * perPage), page: p, perPage, total, totalPages,
    next: p < totalPages ? p + 1 : null, prev: p > 1 ? Math.min(p - 1, totalPages) : null,
  };
}

// POSTs a webhook to a loopback URL (never anywhere else), bounded by a timeout. Resolves
// { status, headers, body (string) }.
export function postWebhook(targetUrl, headers, body, { timeoutMs = 10_000 } = {}) {
  const u = new URL(targetUrl);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) return Promise.reject(new Error(`webhooks only go to loopback, not ${u.hostname}`));
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const mod = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: "POST", headers: { ...headers, "content-length": buf.length }, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`webhook POST to ${targetUrl} timed out`)));
    req.on("error", reject);
    req.end(buf);
  });
}

// Starts a server. options: name, tls (true: the shared test CA's certificate; or { key, cert }),
// rateLimitStyle ("github" | "429") for the rateLimit fault, handler(ctx) -> response.
// Returns { url, port, state, stop, server }. state holds: requests (the log), faults (array of
// fault specs, see addFault), addFault(), clearFaults(), clearRequests(), acceptConnection(socket).
export async function startServer({ name, tls, handler, state = {}, rateLimitStyle = "429", onRequestLog } = {}) {
  const sockets = new Set();
  const hangTimers = new Set();
  state.name = name;
  state.requests = [];
  state.faults = [];
  let seq = 0;

  // fault: { path (glob or RegExp, default "*"), method?, host?, type, count? (default unlimited),
  //          status? (status500: other 5xx), retryAfter? (rateLimit, seconds), style? ("github"|"429"),
  //          ms? (timeout: destroy the socket after ms instead of at stop) }
  state.addFault = (fault) => {
    if (!FAULT_TYPES.includes(fault.type)) throw new Error(`unknown fault type ${fault.type} (one of ${FAULT_TYPES.join(", ")})`);
    const f = { path: "*", count: Infinity, hits: 0, ...fault };
    state.faults.push(f);
    return f;
  };
  state.clearFaults = () => { state.faults.length = 0; };
  state.clearRequests = () => { state.requests.length = 0; };

  function takeFault(method, host, pathname, fullPath) {
    for (let i = 0; i < state.faults.length; i++) {
      const f = state.faults[i];
      if (f.method && f.method.toUpperCase() !== method) continue;
      if (f.host && f.host !== host) continue;
      if (!matches(f.path, pathname, fullPath)) continue;
      if (!(f.count > 0)) continue;
      f.count--;
      f.hits++;
      if (f.count <= 0) state.faults.splice(i, 1);
      return f;
    }
    return null;
  }

  async function onRequest(req, res) {
    const started = Date.now();
    const entry = {
      seq: ++seq, time: new Date(started).toISOString(), method: req.method, path: req.url,
      host: req.headers.host ?? "", headers: redactHeaders(req.headers), auth: authSummary(req.headers),
      status: null, fault: null,
    };
    state.requests.push(entry);
    if (state.requests.length > 10_000) state.requests.splice(0, state.requests.length - 10_000);
    const finish = (status) => { entry.status = status; entry.ms = Date.now() - started; onRequestLog?.(entry); };

    let url;
    try { url = new URL(req.url, "http://placeholder"); } catch { url = new URL("/", "http://placeholder"); }
    let pathname;
    try { pathname = decodeURIComponent(url.pathname); } catch { pathname = url.pathname; }
    const fullPath = req.url;

    // body, bounded
    const chunks = [];
    let size = 0, tooBig = false;
    try {
      for await (const c of req) {
        size += c.length;
        if (size > MAX_BODY) { tooBig = true; break; }
        chunks.push(c);
      }
    } catch { return; }
    if (tooBig) {
      res.writeHead(413, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ message: "request body too large" }));
      return finish(413);
    }

    const fault = takeFault(req.method, entry.host, pathname, fullPath);
    if (fault) entry.fault = fault.type;
    if (fault?.type === "delay") {
      // A slow upstream: the answer comes after `ms` (the request stays in the log as it is).
      await new Promise((r) => {
        const t = setTimeout(() => { hangTimers.delete(t); r(); }, Math.min(fault.ms ?? 1000, HANG_MAX_MS));
        hangTimers.add(t);
      });
      if (stopped) return finish("stopped");
    }
    if (fault?.type === "timeout") {
      // accept, never answer; the socket is destroyed by stop() (or after fault.ms / HANG_MAX_MS)
      const t = setTimeout(() => { hangTimers.delete(t); req.socket.destroy(); }, Math.min(fault.ms ?? HANG_MAX_MS, HANG_MAX_MS));
      t.unref();
      hangTimers.add(t);
      return finish("timeout");
    }
    if (fault?.type === "status500") {
      const st = fault.status ?? 500;
      res.writeHead(st, { "content-type": "text/html" });
      res.end(`<html><body><h1>${st} Internal Server Error</h1></body></html>`);
      return finish(st);
    }
    if (fault?.type === "rateLimit") {
      const retryAfter = fault.retryAfter ?? 60;
      const reset = Math.floor(Date.now() / 1000) + retryAfter;
      const style = fault.style ?? rateLimitStyle;
      if (style === "github") {
        res.writeHead(403, {
          "content-type": "application/json; charset=utf-8",
          "x-ratelimit-limit": String(fault.limit ?? 60), "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(reset), "x-ratelimit-used": String(fault.limit ?? 60), "x-ratelimit-resource": "core",
        });
        res.end(JSON.stringify({ message: "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)", documentation_url: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting" }));
        return finish(403);
      }
      res.writeHead(429, { "content-type": "application/json", "retry-after": String(retryAfter), "ratelimit-limit": "600", "ratelimit-remaining": "0", "ratelimit-reset": String(reset) });
      res.end(JSON.stringify({ message: "Retry later" }));
      return finish(429);
    }

    const ctx = {
      req, method: req.method, url, pathname, fullPath, query: url.searchParams, headers: req.headers,
      body: Buffer.concat(chunks), auth: parseAuth(req.headers),
      origin: `${tls ? "https" : "http"}://${req.headers.host ?? `127.0.0.1:${port}`}`,
      host: (req.headers.host ?? "").toLowerCase(),
    };
    let out;
    try {
      out = (await handler(ctx)) ?? json({ message: "Not Found" }, 404);
    } catch (e) {
      out = json({ message: `emulator error: ${e?.message ?? e}` }, 500);
    }
    let body = out.body == null ? Buffer.alloc(0) : Buffer.isBuffer(out.body) ? out.body : typeof out.body === "string" ? Buffer.from(out.body) : Buffer.from(JSON.stringify(out.body));
    const headers = { ...(out.headers ?? {}) };
    let status = out.status ?? 200;
    if (fault?.type === "invalidJson") {
      status = 200;
      headers["content-type"] = "application/json";
      body = Buffer.from('{"packages": {"acme/widget": [{"name": "acme/wid<html>garbage\u0000');
    }
    if (req.method === "HEAD" || status === 304 || status === 204) body = Buffer.alloc(0);
    if (out.gzip && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? "")) && body.length > 0) {
      body = gzipSync(body);
      headers["content-encoding"] = "gzip";
    }
    const chunked = out.chunked && body.length > 0;
    if (!chunked) headers["content-length"] = String(body.length);
    if (fault?.type === "truncate") {
      // Half the body, then the connection drops: a short body against its Content-Length, or a chunked
      // body without its last chunk.
      res.writeHead(status, headers);
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      return finish(`truncated ${status}`);
    }
    res.writeHead(status, headers);
    if (!chunked) {
      res.end(req.method === "HEAD" ? undefined : body);
      return finish(status);
    }
    // Generated on the fly: written in pieces as the socket drains.
    for (let at = 0; at < body.length; at += CHUNK_BYTES) {
      if (res.destroyed) return finish("client gone");
      if (!res.write(body.subarray(at, at + CHUNK_BYTES))) {
        await new Promise((r) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            r();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    res.end();
    finish(status);
  }

  const tlsOptions = tls === true ? testTls() : tls;
  const server = tls ? https.createServer({ key: tlsOptions.key, cert: tlsOptions.cert }, onRequest) : http.createServer(onRequest);
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // `timeout` faults hang on purpose; stop() ends them
  const track = (s) => { sockets.add(s); s.once("close", () => sockets.delete(s)); };
  server.on("connection", track);
  server.on("clientError", (err, socket) => { try { socket.destroy(); } catch {} });
  await new Promise((resolve, reject) => { server.once("error", reject); server.listen(0, "127.0.0.1", resolve); });
  const port = server.address().port;
  const url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  state.url = url;
  state.port = port;
  // Hands a socket that a proxy took from a CONNECT request to this server (TLS is terminated here).
  state.acceptConnection = (socket) => server.emit("connection", socket);

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    for (const t of hangTimers) clearTimeout(t);
    hangTimers.clear();
    const closed = new Promise((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    server.closeAllConnections?.();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
  return { url, port, state, stop, server };
}

export const newDeliveryId = () => randomUUID();
