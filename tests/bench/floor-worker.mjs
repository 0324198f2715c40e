// The benchmark's floors: the cheapest Workers that answer the same bytes as the phase they are
// compared with. scripts/bench.mjs runs them in the same workerd process as package-broker and reports
// every phase as a ratio to its floor, so what the ratio measures is the product's own cost per request.
//   GET /<n>      a constant JSON document of exactly n bytes (n = the size of the measured p2 document,
//                 packages.json, ...); built once per size, then answered from memory.
//   GET /r2/<key> the R2 object <key> streamed from the BUCKET binding (the same bucket the broker
//                 serves its archives from): the floor for /dist.
const bodies = new Map();

function constantBody(size) {
  let body = bodies.get(size);
  if (body) return body;
  const items = [];
  for (let i = 0; JSON.stringify({ items }).length < size - 64; i++) {
    items.push({ name: `floor/package-${String(i).padStart(5, "0")}`, version: `1.${i}.0`, ok: true });
  }
  const doc = { items, pad: "" };
  doc.pad = "x".repeat(Math.max(0, size - JSON.stringify(doc).length));
  body = new TextEncoder().encode(JSON.stringify(doc)); // exactly `size` bytes (ASCII) for size >= 64
  bodies.set(size, body);
  return body;
}

export default {
  async fetch(request, env) {
    const url = request.url;
    const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    if (path.startsWith("/r2/")) {
      const obj = await env.BUCKET.get(decodeURIComponent(path.slice(4)));
      if (!obj) return new Response("no such object", { status: 404 });
      return new Response(obj.body, {
        headers: { "content-type": "application/zip", "cache-control": "private, max-age=31536000, immutable" },
      });
    }
    const size = Number(path.slice(1)) || 2048;
    return new Response(constantBody(size), { headers: { "content-type": "application/json", "cache-control": "private, no-cache" } });
  },
};
