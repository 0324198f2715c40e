// The real worker for `scripts/bench --scale`, with two things a benchmark needs and the product does
// not expose: GET /__bench/wasm-memory answers the byte size of the isolate's wasm memory (it only
// grows, so it is the instance's high-water mark), and the cron handler returns only when the work it
// handed to waitUntil is done, so one `scheduled()` call from Miniflare is one whole cron run. The
// queue consumer passes straight through (the scale bench syncs sources with it too).
import worker from "../../worker/index.mjs";
import { instanceFor } from "../../worker/engine.mjs";
import wasmModule from "../../build/wasm/package_broker.wasm";

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/wasm-memory")
      return Response.json({ bytes: instanceFor(wasmModule).exports.memory.buffer.byteLength });
    return worker.fetch(request, env, ctx);
  },
  queue(batch, env, ctx) {
    return worker.queue(batch, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    const pending = [];
    await worker.scheduled(controller, env, { ...ctx, waitUntil: (p) => pending.push(p) });
    await Promise.all(pending);
  },
};
