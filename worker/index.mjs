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
    const declared = headerValue(r, "content-length");
    if (declared != null && body && h.length !== Number(declared) && !NO_BODY_STATUS.has(r.status) && method !== "HEAD") {
      const fixed = new FixedLengthStream(Number(declared));
      body.pipeTo(fixed.writable).catch(() => {});
      body = fixed.readable;
    }
  } else if (r.raw != null) body = r.raw;
  else if (r.body != null && r.body !== "") body = r.body;
  if (NO_BODY_STATUS.has(r.status) || method === "HEAD") {
    body?.cancel?.();
    body = null;
  }
  return new Response(body, { status: r.status, headers: r.init ?? headerInit(r.headers) });
}

// A header of a response from the core: a binary finish document's (r.init: a record, a list of pairs,
// or the Headers kept for its head id) or a JSON response's (r.headers, pairs: http.respond).
function headerValue(r, name) {
  const init = r.init ?? r.headers;
  if (init instanceof Headers) return init.get(name) ?? undefined;
  const pairs = Array.isArray(init) ? init : Object.entries(init);
  return pairs.find(([k]) => k.toLowerCase() === name)?.[1];
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

// PB_LOG (docs/OPERATIONS.md): "requests" (scripts/dev, and scripts/deploy with [observability] on): one
// line per request; "debug": the same with the effect ops of each batch (one entry per suspension) and a
// second line, phase "after_response", for the work done after the response (http.respond); otherwise
// ("errors", the default) only server errors. The line is written when the response is handed over, so
// lines follow the order in which clients got their answers. C++ labels each response with its route,
// cache outcome and `detail` (what failed, for the operator only: an upstream URL, a raw fetch error;
// never sent to the client).
function logsAll(env) {
  return env.PB_LOG === "requests" || env.PB_LOG === "debug";
}

function failure(err, method, url, sent) {
  const trapped = err instanceof Trap;
  const error = String(err?.message ?? err);
  log({ level: "error", msg: trapped ? "wasm trap" : "shim error", error, method, path: pathOf(url), ...(sent ? { phase: "after_response" } : {}) });
  return [jsonError(500, "internal", trapped ? "internal error (the request was aborted)" : "internal error in the Worker shim"), { detail: error }];
}

// The request body as handle 0 of a new handle table (handles.mjs).
function handlesFor(request, requestBody) {
  const handles = new Handles();
  if (requestBody) {
    const len = request.headers.get("content-length");
    handles.setRequestBody(requestBody, len != null ? { length: Number(len) } : {});
  }
  return handles;
}

// An invocation that waits for I/O: the handle table, the effect loop's io (with http.respond, which
// may answer before the invocation ends) and the promise of the response.
function withIo(request, env, ctx, started, method, url, requestBody) {
  const handles = handlesFor(request, requestBody);
  const logAll = logsAll(env);
  const batches = env.PB_LOG === "debug" ? [] : undefined;
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
  const answer = (pending) =>
    new Promise((res) => {
      resolve = res;
      if (early) res(early);
      const done = pending
        .then((finish) => {
          if (finish.response) send(toResponse(finish.response, handles, method), finish.response.log);
          else if (!sent) send(jsonError(500, "internal", "the handler finished without a response"), { detail: "no response" });
          else if (batches && batches.length > batchesAtSend)
            log({ phase: "after_response", method, path: pathOf(url), status, ms: Date.now() - started, batches: batches.slice(batchesAtSend) });
        })
        .catch((err) => {
          const wasSent = sent;
          const [resp, meta] = failure(err, method, url, wasSent);
          send(resp, meta);
        })
        .finally(() => handles.release());
      ctx.waitUntil(done);
    });
  return { io, answer };
}

// An invocation that finished inside pb_start (a warm hit, a 304, a cached packages.json): answered
// now, without a handle table, closures, a promise chain or waitUntil (unless its body is a host stream,
// which only the request body can be here).
function answerNow(finish, request, env, ctx, started, method, url, requestBody) {
  let resp, meta;
  if (finish.trap) [resp, meta] = failure(finish.trap, method, url, false);
  else if (finish.response) {
    const r = finish.response;
    meta = r.log;
    if (r.body_handle != null) {
      const handles = handlesFor(request, requestBody);
      resp = toResponse(r, handles, method);
      if (handles.open) ctx.waitUntil(handles.release());
    } else resp = toResponse(r, null, method);
  } else [resp, meta] = [jsonError(500, "internal", "the handler finished without a response"), { detail: "no response" }];
  if (resp.status >= 500 || logsAll(env))
    console.log(requestLine(method, pathOf(url), resp.status, Date.now() - started, meta, env.PB_LOG === "debug" ? [] : undefined));
  return resp;
}

export default {
  // Not async: a warm hit returns its Response without a promise (workerd takes either).
  fetch(request, env, ctx) {
    const started = Date.now();
    // Each property of a Request is a call into the runtime that makes a new value: read each once.
    const { method, url, body: requestBody } = request;
    const startDoc = new FetchStart(started, method, url, request.headers, requestBody != null);
    let slow = null; // made only when the invocation waits for I/O
    let first;
    try {
      first = run(wasmModule, startDoc, () => (slow = withIo(request, env, ctx, started, method, url, requestBody)).io, env);
    } catch (err) {
      first = { trap: err };
    }
    if (first instanceof Promise) return slow.answer(first);
    return answerNow(first, request, env, ctx, started, method, url, requestBody);
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
