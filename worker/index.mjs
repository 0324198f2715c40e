// Worker entry points. Everything the product decides happens in C++ (build/wasm/package_broker.wasm);
// this file turns an invocation into a start document, runs the effect loop (engine.mjs) and turns
// the finish document back into a Response. A trap answers 500 and the next request gets a new instance.
import wasmModule from "../build/wasm/package_broker.wasm";
import { drive, run, Handles, Trap } from "./engine.mjs";

const PROTOCOL_VERSION = 2;

function jsonError(status, code, message) {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

const NO_BODY_STATUS = new Set([101, 204, 205, 304]);

function toResponse(r, handles, method) {
  let body = null;
  if (r.body_handle != null) {
    body = handles.take(r.body_handle).stream;
    // A declared length makes the client see a short body as an error, not as a smaller archive.
    const declared = r.headers.find(([k]) => k.toLowerCase() === "content-length");
    if (declared && body && !NO_BODY_STATUS.has(r.status) && method !== "HEAD") {
      const fixed = new FixedLengthStream(Number(declared[1]));
      body.pipeTo(fixed.writable).catch(() => {});
      body = fixed.readable;
    }
  } else if (r.raw != null) body = r.raw;
  else if (r.body != null && r.body !== "") body = r.body;
  if (NO_BODY_STATUS.has(r.status) || method === "HEAD") {
    body?.cancel?.();
    body = null;
  }
  return new Response(body, { status: r.status, headers: headerInit(r.headers) });
}

// Headers as a plain record when no name repeats (workerd builds a Response from a record for less CPU
// than from a list of pairs); the list itself when one does (Set-Cookie).
function headerInit(list) {
  const record = Object.create(null);
  for (const [k, v] of list) {
    if (k in record) return list;
    record[k] = v;
  }
  return record;
}

function log(fields) {
  console.log(JSON.stringify(fields));
}

// The request log line (docs/OPERATIONS.md): route pattern, method, path, status, milliseconds to the
// response, cache outcome; with PB_LOG=debug also the effect ops. Built as a string: a JSON.stringify of
// an object per request cost as much as a warm p2 hit.
function requestLine(method, path, status, ms, meta, effects) {
  const route = meta?.route ? JSON.stringify(meta.route) : "null";
  const cache = meta?.cache ? `"${meta.cache}"` : "null";
  const tail = effects ? `,"effects":${JSON.stringify(effects)}` : "";
  return `{"route":${route},"method":${JSON.stringify(method)},"path":${JSON.stringify(path)},"status":${status},"ms":${ms},"cache":${cache}${tail}}`;
}

// The path for log lines, without parsing the whole URL on every request.
function pathOf(url) {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.search(/[?#]/);
  return end < 0 || end < start ? url.slice(start) : url.slice(start, end);
}

export default {
  async fetch(request, env, ctx) {
    const started = Date.now();
    const handles = new Handles();
    if (request.body) {
      const len = request.headers.get("content-length");
      handles.setRequestBody(request.body, len != null ? { length: Number(len) } : {});
    }
    const startDoc = {
      v: PROTOCOL_VERSION,
      kind: "fetch",
      now_ms: started,
      request: {
        method: request.method,
        url: request.url,
        headers: [...request.headers],
        ...(request.body ? { body_handle: 0 } : {}),
      },
    };
    // PB_LOG: "requests" (scripts/dev, and scripts/deploy with [observability] on): one line per request;
    // "debug": the same with the effect ops; otherwise ("errors", the default) only server errors.
    const logAll = env.PB_LOG === "requests" || env.PB_LOG === "debug";
    const effects = env.PB_LOG === "debug" ? [] : undefined;
    const failed = (err) => {
      const trapped = err instanceof Trap;
      log({ level: "error", msg: trapped ? "wasm trap" : "shim error", error: String(err?.message ?? err), path: pathOf(request.url) });
      return jsonError(500, "internal", trapped ? "internal error (the request was aborted)" : "internal error in the Worker shim");
    };
    let sent = false;
    let status = 0;
    let ms = 0;
    let meta = null;
    let resolve = null;
    let early = null; // a response sent (http.respond) before the promise below existed
    const send = (resp) => {
      if (sent) return;
      sent = true;
      status = resp.status;
      ms = Date.now() - started;
      if (resolve) resolve(resp);
      else early = resp;
    };
    const io = { env, ctx, handles, effects, respond: (r) => send(toResponse(r, handles, request.method)) };
    let first;
    try {
      first = run(wasmModule, startDoc, io);
    } catch (err) {
      first = { failed: err };
    }
    if (!(first instanceof Promise)) {
      // Finished without I/O (a warm hit): answered now, no promise chain, no waitUntil unless a request
      // body is left to cancel.
      const resp = first.failed
        ? failed(first.failed)
        : first.response
          ? toResponse(first.response, handles, request.method)
          : jsonError(500, "internal", "the handler finished without a response");
      if (logAll || resp.status >= 500)
        console.log(requestLine(request.method, pathOf(request.url), resp.status, Date.now() - started, first.log, effects));
      if (handles.map.size) ctx.waitUntil(handles.release());
      return resp;
    }
    return new Promise((res) => {
      resolve = res;
      if (early) res(early);
      const done = first
        .then((finish) => {
          meta = finish.log;
          if (finish.response) send(toResponse(finish.response, handles, request.method));
          else if (!sent) send(jsonError(500, "internal", "the handler finished without a response"));
        })
        .catch((err) => send(failed(err)))
        .finally(() => {
          if (logAll || status >= 500) console.log(requestLine(request.method, pathOf(request.url), status, ms, meta, effects));
          return handles.release();
        });
      ctx.waitUntil(done);
    });
  },

  async scheduled(controller, env, ctx) {
    const handles = new Handles();
    const startDoc = { v: PROTOCOL_VERSION, kind: "scheduled", cron: controller.cron, now_ms: Date.now() };
    const io = { env, ctx, handles, effects: [], respond() {} };
    ctx.waitUntil(
      drive(wasmModule, startDoc, io)
        .then(() => log({ kind: "scheduled", cron: controller.cron, effects: io.effects }))
        .finally(() => handles.release()),
    );
  },
};
