// The wasm instance and the effect loop. One instance per isolate, made on first use and made again
// after a trap. Each invocation is a job inside the instance (pb_start ... pb_resume ... pb_finish);
// jobs interleave freely because every await happens here, between wasm calls.
import { performEffect, errorOutcome } from "./runners.mjs";
import { Handles } from "./handles.mjs";

const PROTOCOL_VERSION = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let current = null; // { exports, generation, env }
let generation = 0;

function instantiate(module) {
  const known = {
    env: { emscripten_notify_memory_growth() {} },
    wasi_snapshot_preview1: {
      proc_exit(code) {
        throw new WebAssembly.RuntimeError(`wasm called proc_exit(${code})`);
      },
    },
  };
  const imports = {};
  for (const { module: m, name } of WebAssembly.Module.imports(module)) {
    (imports[m] ??= {})[name] =
      known[m]?.[name] ??
      (() => {
        throw new WebAssembly.RuntimeError(`unimplemented wasm import ${m}.${name}`);
      });
  }
  const instance = new WebAssembly.Instance(module, imports);
  instance.exports._initialize?.(); // reactor: runs static constructors
  const version = instance.exports.pb_protocol_version();
  if (version !== PROTOCOL_VERSION) {
    throw new Error(`wasm speaks protocol ${version}, shim speaks ${PROTOCOL_VERSION}`);
  }
  return { exports: instance.exports, generation: ++generation, warmHeaders: warmHeaderNames(instance.exports) };
}

// The request headers some warm path reads (pb_warm_headers: '\n'-separated, NUL-terminated).
function warmHeaderNames(ex) {
  const u8 = new Uint8Array(ex.memory.buffer);
  const ptr = ex.pb_warm_headers();
  return decoder.decode(u8.subarray(ptr, u8.indexOf(0, ptr))).split("\n");
}

export function instanceFor(module) {
  if (!current) current = instantiate(module);
  return current;
}

// After a trap the instance's memory can be inconsistent: the next invocation gets a fresh one, and the
// invocations still running in the old one end at their next step (Trap) instead of going on with
// memory that may be corrupt.
function discard(inst) {
  inst.dead = true;
  if (current === inst) current = null;
}

export function instanceGeneration() {
  return current?.generation ?? 0;
}

function write(ex, text) {
  const bytes = encoder.encode(text);
  const ptr = ex.pb_alloc(bytes.length);
  if (!ptr) throw new WebAssembly.RuntimeError("pb_alloc failed: wasm memory exhausted");
  new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes); // fresh view: memory may have grown
  return [ptr, bytes.length];
}

function readOut(ex, id) {
  const ptr = ex.pb_out_ptr(id);
  const len = ex.pb_out_len(id);
  return decoder.decode(new Uint8Array(ex.memory.buffer, ptr, len));
}

class Trap extends Error {}

function call(inst, fn) {
  if (inst.dead) throw new Trap("wasm trapped: the instance trapped in another invocation");
  try {
    return fn(inst.exports);
  } catch (err) {
    discard(inst);
    const trap = new Trap(`wasm trapped: ${err?.message ?? err}`);
    trap.cause = err;
    throw trap;
  }
}

// The Worker's string bindings (vars and secrets): what C++ reads its settings from.
function stringBindings(env) {
  const vars = {};
  for (const [k, v] of Object.entries(env ?? {})) if (typeof v === "string") vars[k] = v;
  return vars;
}

// Settings are handed to an instance once (pb_configure), not with every request: the env object is
// the same for every invocation of an isolate, so this runs once per instance (and again only if the
// bindings object changes).
function configure(inst, env) {
  if (inst.env === env) return;
  call(inst, (ex) => {
    // host: the protocol's optional forms this shim implements (http.respond "body_r2").
    const [ptr, len] = write(ex, JSON.stringify({ v: PROTOCOL_VERSION, vars: stringBindings(env), host: { respond_r2: true } }));
    try {
      if (ex.pb_configure(ptr, len) !== 1) throw new Error("pb_configure rejected the configuration document");
    } finally {
      ex.pb_free(ptr);
    }
  });
  inst.env = env;
}

// Copies of shared bodies by their body_id (PROTOCOL.md): the same id always names the same bytes for
// an instance's lifetime, so a warm hit reuses the copy made for the first one (workerd reads a
// Response's bytes without changing them; the floor Worker shares one constant body the same way).
const MAX_KEPT_BODIES = 256;
const MAX_KEPT_BYTES = 16 << 20;

function keepBody(inst, id, bytes) {
  const kept = (inst.bodies ??= { map: new Map(), bytes: 0 });
  kept.map.set(id, bytes);
  kept.bytes += bytes.length;
  for (const [old, b] of kept.map) {  // oldest first; ids are never reused, so old ones are dead weight
    if (kept.map.size <= MAX_KEPT_BODIES && kept.bytes <= MAX_KEPT_BYTES) break;
    kept.map.delete(old);
    kept.bytes -= b.length;
  }
}

// A fetch start document in its binary form (PROTOCOL.md "Start"): the request head as length-prefixed
// bytes written straight into wasm memory, so neither JSON.stringify here nor a JSON parse in wasm runs
// on every request. headers: the Request's Headers, or [[name, value], ...] as they iterate. Given a
// Headers object, run() first hands over only the headers a warm path reads (headers.get, no list of
// pairs), and the whole list only when no warm path answered.
export class FetchStart {
  constructor(nowMs, method, url, headers, hasBody) {
    this.nowMs = nowMs;
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.hasBody = hasBody;
  }
}

const FETCH_MAGIC = [0x50, 0x42, 0x46, 0x32]; // "PBF2"

// Writes s at `at` as a u32 length and its UTF-8 bytes; returns the position after it. Header values
// and URLs are ASCII in practice: a plain loop for those, encodeInto from the first other character.
function putString(u8, at, s) {
  const start = at + 4;
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    u8[start + i] = c;
  }
  let end = start + n;
  if (i < n) end = start + i + encoder.encodeInto(s.slice(i), u8.subarray(start + i)).written;
  putU32(u8, at, end - start);
  return end;
}

function putU32(u8, at, v) {
  u8[at] = v & 0xff;
  u8[at + 1] = (v >>> 8) & 0xff;
  u8[at + 2] = (v >>> 16) & 0xff;
  u8[at + 3] = v >>> 24;
}

// Into the instance's start buffer (kept between invocations: pb_start copies what it keeps); returns
// the length written.
function writeFetchStart(inst, ex, d, headers, partial) {
  let bound = 32 + 3 * (d.method.length + d.url.length); // UTF-8 takes at most 3 bytes per UTF-16 unit
  for (const [k, v] of headers) bound += 8 + 3 * (k.length + v.length);
  let buf = inst.startBuf;
  if (!buf || buf.cap < bound) {
    if (buf) ex.pb_free(buf.ptr);
    inst.startBuf = null;
    const cap = Math.max(bound, 4096);
    const ptr = ex.pb_alloc(cap);
    if (!ptr) throw new WebAssembly.RuntimeError("pb_alloc failed: wasm memory exhausted");
    buf = inst.startBuf = { ptr, cap };
  }
  const u8 = memoryOf(inst, ex); // after pb_alloc: memory may have grown
  const p = buf.ptr;
  u8.set(FETCH_MAGIC, p);
  putU32(u8, p + 4, d.nowMs % 0x100000000);
  putU32(u8, p + 8, Math.floor(d.nowMs / 0x100000000));
  putU32(u8, p + 12, (d.hasBody ? 1 : 0) | (partial ? 2 : 0));
  let at = putString(u8, p + 16, d.method);
  at = putString(u8, at, d.url);
  putU32(u8, at, headers.length);
  at += 4;
  for (const [k, v] of headers) {
    at = putString(u8, at, k);
    at = putString(u8, at, v);
  }
  return at - p;
}

// A view of the whole wasm memory, made again only after memory grew (growing detaches the old buffer,
// whose views then have length 0).
function memoryOf(inst, ex) {
  if (!inst.u8 || inst.u8.length === 0) inst.u8 = new Uint8Array(ex.memory.buffer);
  return inst.u8;
}

const FINISH_MAGIC = 0x32524250; // "PBR2" as a little-endian u32

function getU32(u8, at) {
  return (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24)) >>> 0;
}

// n bytes of UTF-8 at `at`; header names and values are ASCII in practice.
function getString(u8, at, n) {
  if (n > 64) return decoder.decode(u8.subarray(at, at + n));
  let s = "";
  for (let i = at; i < at + n; i++) {
    const c = u8[i];
    if (c > 0x7f) return decoder.decode(u8.subarray(at, at + n));
    s += String.fromCharCode(c);
  }
  return s;
}

// count headers at `at` into `into` (a record while no name repeats, else a list of pairs, which
// workerd takes too: Set-Cookie); returns [into, position after them].
function getHeaders(u8, at, into) {
  const n = getU32(u8, at);
  at += 4;
  for (let i = 0; i < n; i++) {
    const kn = getU32(u8, at);
    const k = getString(u8, at + 4, kn);
    at += 4 + kn;
    const vn = getU32(u8, at);
    const v = getString(u8, at + 4, vn);
    at += 4 + vn;
    if (Array.isArray(into)) into.push([k, v]);
    else if (k in into) into = [...Object.entries(into), [k, v]];
    else into[k] = v;
  }
  return [into, at];
}

// The status, log labels and shared headers of a head block (wire.cpp encode_fetch_finish).
function getHead(u8, at) {
  const status = getU32(u8, at);
  const rn = getU32(u8, at + 4);
  const route = getString(u8, at + 8, rn);
  at += 8 + rn;
  const cn = getU32(u8, at);
  const cache = getString(u8, at + 4, cn);
  const [init] = getHeaders(u8, at + 4 + cn, Object.create(null));
  return { status, init, log: { route: route || undefined, cache: cache || undefined } };
}

// Decoded heads by head id (PROTOCOL.md "Finish, binary form"): like body ids, an id names the same
// head for the instance's lifetime, so a warm hit reuses the header record made for the first one.
const MAX_KEPT_HEADS = 512;

function keptHead(inst, u8, headId, at) {
  const heads = (inst.heads ??= new Map());
  let head = heads.get(headId);
  if (!head) {
    head = getHead(u8, at);
    if (heads.size >= MAX_KEPT_HEADS) heads.delete(heads.keys().next().value); // oldest first
    heads.set(headId, head);
  }
  return head;
}

// A fetch's finish document in its binary form: { response: { status, init (the headers as
// new Response takes them), raw | body_handle, log } }, or {} when http.respond already answered.
function readFetchFinish(inst, ex, id, u8, ptr) {
  const kind = getU32(u8, ptr + 4);
  const value = getU32(u8, ptr + 8);
  const bodyId = getU32(u8, ptr + 12);
  const headId = getU32(u8, ptr + 16);
  const headLen = getU32(u8, ptr + 20);
  const head = headId ? keptHead(inst, u8, headId, ptr + 24) : getHead(u8, ptr + 24);
  if (head.status === 0) return {};
  let at = ptr + 24 + headLen;
  let init = head.init;
  // No header of its own: the head's Headers, built once per head id (a Response copies a Headers
  // object's entries natively instead of converting a record's strings on every hit).
  if (getU32(u8, at) === 0) {
    at += 4;
    if (headId) init = head.headers ??= new Headers(init);
  } else if (Array.isArray(init)) [init, at] = getHeaders(u8, at, [...init]);
  else [init, at] = getHeaders(u8, at, Object.assign(Object.create(null), init));
  const dn = getU32(u8, at);
  const log = dn ? { ...head.log, detail: getString(u8, at + 4, dn) } : head.log;
  const r = { status: head.status, init, log };
  if (kind === 2) r.body_handle = value;
  else if (kind === 1) {
    const kept = bodyId ? inst.bodies?.map.get(bodyId) : undefined;
    if (kept) r.raw = kept;
    else {
      // Raw bytes: copied out before the job (and its memory) is freed.
      const at = ex.pb_out_body_ptr(id);
      r.raw = memoryOf(inst, ex).slice(at, at + value);
      if (bodyId && r.raw.length <= MAX_KEPT_BYTES / 4) keepBody(inst, bodyId, r.raw);
    }
  }
  return { response: r };
}

// Reads a finished job's finish document (and its raw body): a fetch's in its binary form, the rest
// (scheduled, queue, a start document the core could not read) as JSON.
function finishOf(inst, id) {
  return call(inst, (ex) => {
    const ptr = ex.pb_out_ptr(id);
    const u8 = memoryOf(inst, ex);
    if (ex.pb_out_len(id) >= 24 && getU32(u8, ptr) === FINISH_MAGIC) return readFetchFinish(inst, ex, id, u8, ptr);
    const finish = JSON.parse(readOut(ex, id));
    const r = finish.response;
    if (r?.body_raw != null)
      r.raw = new Uint8Array(ex.memory.buffer, ex.pb_out_body_ptr(id), ex.pb_out_body_len(id)).slice();
    return finish;
  });
}

function release(inst, id) {
  if (current !== inst) return;
  try {
    inst.exports.pb_finish(id);
  } catch {
    discard(inst);
  }
}

// For the debug log: http.respond names the R2 read it makes (body_r2) and the effect it runs after.
const opName = (effect) => (effect.body_r2 ? "r2.get+" : "") + (effect.after ? `${effect.op}+${effect.after.op}` : effect.op);

async function effectLoop(inst, id, state, io) {
  try {
    while (state === 1) {
      const batch = JSON.parse(call(inst, (ex) => readOut(ex, id)));
      io.batches?.push(batch.effects.map(opName));
      const results = await Promise.all(
        batch.effects.map((effect) => {
          return performEffect(effect, io).then(
            (value) => ({ ok: true, value: value ?? {} }),
            (err) => errorOutcome(err),
          );
        }),
      );
      state = call(inst, (ex) => {
        const [ptr, len] = write(ex, JSON.stringify({ results }));
        try {
          return ex.pb_resume(id, ptr, len);
        } finally {
          ex.pb_free(ptr);
        }
      });
    }
    if (state !== 0) throw new Trap(`wasm job ${id} is in state ${state}`);
    return finishOf(inst, id);
  } finally {
    release(inst, id);
  }
}

// Runs one invocation. io = { env, ctx, handles, respond(r), batches? }, or a function that makes it,
// called only when the invocation waits for I/O (then env is the fourth argument): each effect batch's ops are appended to io.batches
// (one entry per suspension, for the request log). An invocation that needs no I/O (a warm p2 hit, a
// 304, a cached packages.json) finishes inside pb_start: then the finish document is returned at once,
// without a promise; otherwise a promise of it. Throws (or rejects with) a Trap.
export function run(module, startDoc, io, env = io.env) {
  const inst = instanceFor(module);
  configure(inst, env);
  const id = call(inst, (ex) => {
    if (startDoc instanceof FetchStart) {
      const h = startDoc.headers;
      if (!Array.isArray(h)) {
        const few = [];
        for (const name of inst.warmHeaders) {
          const v = h.get(name);
          if (v != null) few.push([name, v]);
        }
        const len = writeFetchStart(inst, ex, startDoc, few, true); // may replace the buffer
        const id = ex.pb_start(inst.startBuf.ptr, len);
        if (id !== 0) return id; // 0: no warm path answered; start again with every header
      }
      const len = writeFetchStart(inst, ex, startDoc, Array.isArray(h) ? h : [...h], false);
      return ex.pb_start(inst.startBuf.ptr, len);
    }
    const [ptr, len] = write(ex, JSON.stringify(startDoc));
    try {
      return ex.pb_start(ptr, len);
    } finally {
      ex.pb_free(ptr);
    }
  });
  let state;
  try {
    state = call(inst, (ex) => ex.pb_state(id));
  } catch (err) {
    release(inst, id);
    throw err;
  }
  if (state === 1) return effectLoop(inst, id, state, typeof io === "function" ? io() : io);
  try {
    if (state !== 0) throw new Trap(`wasm job ${id} is in state ${state}`);
    return finishOf(inst, id);
  } finally {
    release(inst, id);
  }
}

// The same, always as a promise.
export async function drive(module, startDoc, io) {
  return run(module, startDoc, io);
}

export { Trap, Handles };
