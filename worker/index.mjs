// Worker entry points. Everything the product decides happens in C++ (build/wasm/package_broker.wasm);
// this file turns an invocation into a start document, runs the effect loop (engine.mjs) and turns
// the finish document back into a Response. A trap answers 500 and the next request gets a new instance.
import wasmModule from "../build/wasm/package_broker.wasm";
import { drive, Handles, Trap } from "./engine.mjs";

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
  return new Response(body, { status: r.status, headers: r.headers });
}

function log(fields) {
  console.log(JSON.stringify(fields));
}

export default {
  async fetch(request, env, ctx) {
    const started = Date.now();
    const url = new URL(request.url);
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
    // Request log (PB_LOG=requests: every request; otherwise only 5xx; a line per request costs as much
    // as the rest of a warm p2 hit, and Cloudflare logs invocations anyway). The line is written when the
    // response is handed over, so lines follow the order in which clients got their answers; `batches`
    // holds the ops of each effect batch (one entry per suspension); `detail` is what C++ noted for the
    // log only (an upstream URL, a raw fetch error), never sent to the client. Work that goes on after
    // the response (http.respond) gets a second line, phase "after_response", with its own batches.
    const batches = [];
    const logAll = env.PB_LOG === "requests";
    const path = url.pathname;
    return new Promise((resolve) => {
      let sent = false;
      let status = 0;
      let batchesAtSend = 0;
      const send = (resp, detail) => {
        if (sent) return;
        sent = true;
        status = resp.status;
        batchesAtSend = batches.length;
        if (logAll || status >= 500)
          log({ method: request.method, path, status, ms: Date.now() - started, batches: batches.slice(), ...(detail ? { detail } : {}) });
        resolve(resp);
      };
      const io = { env, ctx, handles, batches, respond: (r) => send(toResponse(r, handles, request.method), r.log) };
      const done = drive(wasmModule, startDoc, io)
        .then((finish) => {
          if (finish.response) send(toResponse(finish.response, handles, request.method), finish.response.log);
          else if (!sent) send(jsonError(500, "internal", "the handler finished without a response"), "no response");
          else if (logAll && batches.length > batchesAtSend)
            log({ phase: "after_response", method: request.method, path, status, ms: Date.now() - started, batches: batches.slice(batchesAtSend) });
        })
        .catch((err) => {
          const trapped = err instanceof Trap;
          const error = String(err?.message ?? err);
          log({ level: "error", msg: trapped ? "wasm trap" : "shim error", error, method: request.method, path, ...(sent ? { phase: "after_response" } : {}) });
          send(jsonError(500, "internal", trapped ? "internal error (the request was aborted)" : "internal error in the Worker shim"), error);
        })
        .finally(() => handles.release());
      ctx.waitUntil(done);
    });
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
