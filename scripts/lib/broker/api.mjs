// The admin API over HTTP for the CLI: JSON calls with the admin token, paging, and a streamed upload
// with progress. A refusal (4xx) is exit 1, anything that keeps the answer from coming (network, 5xx)
// exit 3.
import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { CliError, EXIT } from "./output.mjs";

const TIMEOUT_MS = 120_000;

function failure(status, text, what) {
  let message = text.slice(0, 500);
  try {
    const j = JSON.parse(text);
    if (j?.error) message = `${j.error.code}: ${j.error.message}`;
  } catch {}
  return new CliError(`${what} failed (HTTP ${status}): ${message}`, status >= 500 ? EXIT.unreachable : EXIT.refused, { status });
}

export function apiClient(url, token) {
  const base = url.replace(/\/+$/, "");
  const headers = (extra = {}) => ({ ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra });

  async function call(method, path, body) {
    const what = `${method} ${path}`;
    let r;
    try {
      r = await fetch(base + path, {
        method,
        headers: headers(body !== undefined ? { "content-type": "application/json" } : {}),
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: "manual",
      });
    } catch (e) {
      throw new CliError(`cannot reach ${base} (${e.cause?.code ?? e.message})`, EXIT.unreachable);
    }
    const text = await r.text();
    if (r.status >= 300) throw failure(r.status, text, what);
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new CliError(`${what}: the answer is not JSON: ${text.slice(0, 200)}`, EXIT.unreachable);
    }
  }

  // Every item of a paged list (or the first `limit`).
  async function list(path, key, limit = Infinity) {
    const out = [];
    let cursor = null;
    for (let pages = 0; pages < 10_000; pages++) {
      const want = Math.min(200, limit - out.length);
      const sep = path.includes("?") ? "&" : "?";
      const page = await call("GET", `${path}${sep}limit=${want}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      out.push(...page[key]);
      cursor = page.next_cursor;
      if (!cursor || out.length >= limit) break;
    }
    return out;
  }

  // PUT a file as the request body with its Content-Length, reporting bytes sent.
  function upload(path, file, contentType, onProgress) {
    const size = statSync(file).size;
    const u = new URL(base + path);
    const lib = u.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(u, { method: "PUT", headers: headers({ "content-type": contentType, "content-length": String(size) }), timeout: TIMEOUT_MS }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          if (res.statusCode >= 300) reject(failure(res.statusCode, text, `PUT ${path}`));
          else resolve(JSON.parse(text));
        });
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (e) => reject(new CliError(`cannot reach ${base} (${e.code ?? e.message})`, EXIT.unreachable)));
      let sent = 0;
      const stream = createReadStream(file);
      stream.on("data", (chunk) => {
        sent += chunk.length;
        onProgress?.(sent, size);
      });
      stream.pipe(req);
    });
  }

  async function publicGet(path) {
    try {
      const r = await fetch(base + path, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      return { status: r.status, json: await r.json().catch(() => null) };
    } catch (e) {
      throw new CliError(`cannot reach ${base} (${e.cause?.code ?? e.message})`, EXIT.unreachable);
    }
  }

  return { call, list, upload, publicGet, base };
}
