// The Worker's own CPU time, from V8's sampling profiler through workerd's inspector (Miniflare's
// inspector proxy, `startWorkerd({ inspect: true })`): the time the broker's isolate spent running JS
// and wasm while profiled, without the local D1/R2/KV (they run in other isolates and threads of the
// same workerd, and on Cloudflare outside the Worker's CPU time). workerd samples every ~10 ms on a busy
// machine, so a figure is a statistical estimate: read it over several invocations.
import WebSocket from "ws";

const IDLE = new Set(["(idle)", "(program)", "(garbage collector)"]);

// Where a sample's time goes: the C++ core (wasm), the D1 client's JS (it turns result rows into JSON
// in the Worker's isolate), the shim (worker/), anything else (runtime built-ins).
function category(f) {
  if (/^(wasm-function|js-to-wasm|wasm-to-js)/.test(f.functionName) || /^wasm:/.test(f.url)) return "wasm";
  if (f.url.includes("d1-api")) return "d1_client";
  if (/worker\/|runners\.mjs|engine\.mjs|handles\.mjs|index\.mjs/.test(f.url)) return "shim";
  return "other";
}

export async function connectProfiler(inspectorPort, worker = "main") {
  const list = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = list.find((t) => t.webSocketDebuggerUrl.endsWith(`/${worker}`));
  if (!target) throw new Error(`the inspector lists no worker ${worker}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let next = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    if (m.id == null || !pending.has(m.id)) return;
    const { resolve, reject, timer } = pending.get(m.id);
    clearTimeout(timer);
    pending.delete(m.id);
    if (m.error) reject(new Error(`inspector: ${m.error.message}`));
    else resolve(m.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`inspector: ${method} got no answer in 60 s`));
      }, 60_000);
      pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  return {
    start: () => send("Profiler.start"),
    // The busy time of the profile and the functions that took it (self time), most first.
    async stop() {
      const { profile } = await send("Profiler.stop");
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const self = new Map();
      const categories = { wasm: 0, d1_client: 0, shim: 0, other: 0 };
      let busy = 0;
      let total = 0;
      profile.samples.forEach((s, k) => {
        const dt = profile.timeDeltas[k] ?? 0;
        total += dt;
        const f = byId.get(s)?.callFrame;
        if (!f || IDLE.has(f.functionName)) return;
        busy += dt;
        categories[category(f)] += dt / 1000;
        const key = `${f.functionName || "(anonymous)"} ${f.url ? f.url.split("/").pop() : ""}`.trim();
        self.set(key, (self.get(key) ?? 0) + dt);
      });
      const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([fn, us]) => ({ fn, ms: us / 1000 }));
      return { busy_ms: busy / 1000, total_ms: total / 1000, samples: profile.samples.length, top, categories };
    },
    close() {
      for (const { timer } of pending.values()) clearTimeout(timer);
      ws.close();
    },
  };
}
