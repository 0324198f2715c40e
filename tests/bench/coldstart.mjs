// One cold start of the Worker's wasm in this (fresh) node process, through the real shim: compile
// package_broker.wasm, instantiate it (worker/engine.mjs: imports, _initialize), then drive a first
// request (pb_configure + GET /packages.json without credentials, a 401 that needs no I/O). Prints the
// three durations in ms as JSON (tests/bench/wasm.mjs runs it).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { drive, instanceFor, Handles } from "../../worker/engine.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bytes = readFileSync(path.join(root, "build/wasm/package_broker.wasm"));

const t0 = performance.now();
const module = new WebAssembly.Module(bytes);
const t1 = performance.now();
instanceFor(module);
const t2 = performance.now();
const finish = await drive(module, {
  v: 2,
  kind: "fetch",
  now_ms: Date.now(),
  request: { method: "GET", url: "https://broker.example/packages.json", headers: [["user-agent", "Composer/2.5.5"]] },
}, { env: { ADMIN_TOKEN: "cold-start-admin-token", PB_LOG: "errors" }, ctx: { waitUntil() {} }, handles: new Handles(), respond() {} });
const t3 = performance.now();
if (finish.response?.status !== 401) throw new Error(`first request: expected 401, got ${JSON.stringify(finish).slice(0, 300)}`);
console.log(JSON.stringify({ compile_ms: t1 - t0, instantiate_ms: t2 - t1, first_request_ms: t3 - t2, total_ms: t3 - t0 }));
