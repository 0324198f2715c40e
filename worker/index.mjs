// Worker entry points. Everything the product decides happens in C++ (build/wasm/package_broker.wasm);
// this file turns an invocation into a start document, runs the effect loop (engine.mjs) and turns
// the finish document back into a Response. A trap answers 500 and the next request gets a new instance.
import wasmModule from "../build/wasm/package_broker.wasm";
import { drive, run, FetchStart, Handles, Trap } from "./engine.mjs";

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
    const h = handles.take(r.body_handle);
    body = h.stream;
    // A declared length makes the client see a short body as an error, not as a smaller archive. A
    // stream that already has that length (an R2 object, a cache hit) carries it by itself.
    const declared = r.headers.find(([k]) => k.toLowerCase() === "content-length");
    if (declared && body && h.length !== Number(declared[1]) && !NO_BODY_STATUS.has(r.status) && method !== "HEAD") {
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

// The path for log lines, without parsing the whole URL on every request.
function pathOf(url) {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.search(/[?#]/);
  return end < 0 || end < start ? url.slice(start) : url.slice(start, end);
}

function log(fields) {
  console.log(JSON.stringify(fields));
}

// The request log line (docs/OPERATIONS.md): route pattern, method, path, status, milliseconds to the
// response, cache outcome, the operator-only detail; with PB_LOG=debug also the effect batches. Built
// as a string: a JSON.stringify of an object per request cost as much as a warm p2 hit.
function requestLine(method, path, status, ms, meta, batches) {
  const route = meta?.route ? JSON.stringify(meta.route) : "null";
  const cache = meta?.cache ? `"${meta.cache}"` : "null";
  const detail = meta?.detail ? `,"detail":${JSON.stringify(meta.detail)}` : "";
  const tail = batches ? `,"batches":${JSON.stringify(batches)}` : "";
  return `{"route":${route},"method":${JSON.stringify(method)},"path":${JSON.stringify(path)},"status":${status},"ms":${ms},"cache":${cache}${detail}${tail}}`;
}

export default {
  async fetch(request, env, ctx) {
    const started = Date.now();
    const handles = new Handles();
    // Each property of a Request is a call into the runtime that makes a new value: read each once.
    const { method, url, body: requestBody } = request;
    const headers = [...request.headers];
    if (requestBody) {
      const len = request.headers.get("content-length");
      handles.setRequestBody(requestBody, len != null ? { length: Number(len) } : {});
    }
    const startDoc = new FetchStart(started, method, url, headers, requestBody != null);
    // Request log (docs/OPERATIONS.md). PB_LOG "requests" (scripts/dev, and scripts/deploy with
    // [observability] on): one line per request; "debug": the same with the effect ops of each batch
    // (one entry per suspension) and a second line, phase "after_response", for the work done after the
    // response (http.respond); otherwise ("errors", the default) only server errors. The line is written
    // when the response is handed over, so lines follow the order in which clients got their answers.
    // C++ labels each response with its route, cache outcome and `detail` (what failed, for the operator
    // only: an upstream URL, a raw fetch error; never sent to the client).
    const logAll = env.PB_LOG === "requests" || env.PB_LOG === "debug";
    const batches = env.PB_LOG === "debug" ? [] : undefined;
    const failed = (err, sent) => {
      const trapped = err instanceof Trap;
      const error = String(err?.message ?? err);
      log({ level: "error", msg: trapped ? "wasm trap" : "shim error", error, method, path: pathOf(url), ...(sent ? { phase: "after_response" } : {}) });
      return [jsonError(500, "internal", trapped ? "internal error (the request was aborted)" : "internal error in the Worker shim"), { detail: error }];
    };
    let resolve = null;
    let early = null; // a response sent (http.respond) before the promise below existed
    let sent = false;
    let status = 0;
    let batchesAtSend = 0;
    const send = (resp, meta) => {
      if (sent) return;
      sent = true;
      status = resp.status;
      if (logAll || status >= 500) {
        batchesAtSend = batches?.length ?? 0;
        console.log(requestLine(method, pathOf(url), status, Date.now() - started, meta, batches?.slice()));
      }
      if (resolve) resolve(resp);
      else early = resp;
    };
    const io = { env, ctx, handles, batches, respond: (r) => send(toResponse(r, handles, method), r.log) };
    let first;
    try {
      first = run(wasmModule, startDoc, io);
    } catch (err) {
      first = { trap: err };
    }
    if (!(first instanceof Promise)) {
      // Finished inside pb_start, without I/O (a warm hit): answered now, without a promise chain or
      // waitUntil (unless a stream is left to cancel).
      if (first.trap) send(...failed(first.trap, false));
      else if (first.response) send(toResponse(first.response, handles, method), first.response.log);
      else send(jsonError(500, "internal", "the handler finished without a response"), { detail: "no response" });
      if (handles.open) ctx.waitUntil(handles.release());
      return early;
    }
    return new Promise((res) => {
      resolve = res;
      if (early) res(early);
      const done = first
        .then((finish) => {
          if (finish.response) send(toResponse(finish.response, handles, method), finish.response.log);
          else if (!sent) send(jsonError(500, "internal", "the handler finished without a response"), { detail: "no response" });
          else if (batches && batches.length > batchesAtSend)
            log({ phase: "after_response", method, path: pathOf(url), status, ms: Date.now() - started, batches: batches.slice(batchesAtSend) });
        })
        .catch((err) => {
          const wasSent = sent;
          const [resp, meta] = failed(err, wasSent);
          send(resp, meta);
        })
        .finally(() => handles.release());
      ctx.waitUntil(done);
    });
  },

  // The sync queue's consumer (wrangler.toml [[queues.consumers]]): each message wakes one source's sync
  // (PROTOCOL.md, "queue" start document). C++ runs the next slice and sends the continuation itself;
  // here a message is acknowledged unless the finish document hands it back for a later retry. A trap
  // or shim failure retries the whole batch (Queues' max_retries bounds it; the cron trigger follows).
  async queue(batch, env, ctx) {
    const handles = new Handles();
    const messages = batch.messages.map((m) => ({ id: m.id, body: m.body, attempts: m.attempts }));
    const startDoc = { v: PROTOCOL_VERSION, kind: "queue", messages, now_ms: Date.now() };
    const io = { env, ctx, handles, batches: [], respond() {} };
    try {
      const finish = await drive(wasmModule, startDoc, io);
      const retry = new Map((finish.retry ?? []).map((r) => [r.id, r.delay_s]));
      for (const m of batch.messages) {
        if (retry.has(m.id)) m.retry({ delaySeconds: retry.get(m.id) });
        else m.ack();
      }
      log({ kind: "queue", queue: batch.queue, messages: messages.length, retried: retry.size, batches: io.batches });
    } catch (err) {
      log({ level: "error", msg: err instanceof Trap ? "wasm trap" : "shim error", kind: "queue", error: String(err?.message ?? err) });
      batch.retryAll({ delaySeconds: 30 });
    } finally {
      await handles.release();
    }
  },

  async scheduled(controller, env, ctx) {
    const handles = new Handles();
    const startDoc = { v: PROTOCOL_VERSION, kind: "scheduled", cron: controller.cron, now_ms: Date.now() };
    const io = { env, ctx, handles, batches: [], respond() {} };
    ctx.waitUntil(
      drive(wasmModule, startDoc, io)
        .then(() => log({ kind: "scheduled", cron: controller.cron, batches: io.batches }))
        .catch((err) => log({ level: "error", msg: err instanceof Trap ? "wasm trap" : "shim error", error: String(err?.message ?? err), kind: "scheduled" }))
        .finally(() => handles.release()),
    );
  },
};
