// The benchmark's floors: the cheapest Workers that answer the same bytes as the phase they are
// compared with. scripts/bench.mjs runs them in the same workerd process as package-broker and reports
// every phase as a ratio to its floor, so what the ratio measures is the product's own cost per request.
//   GET /<n>      a constant JSON document of exactly n bytes (n = the size of the measured p2 document,
//                 packages.json, ...); built once per size, then answered from memory.
//   GET /r2/<key> the R2 object <key> streamed from the BUCKET binding (the same bucket the broker
//                 serves its archives from): the floor for /dist.
//   GET /r2c/<key> the same, and, as the response goes out, one D1 upsert counting the fetch
//                 (its own table in FLOOR_DB, ctx.waitUntil, no batching): the least a Worker that keeps
//                 download statistics does, the floor for /dist's cost besides the count.
const bodies = new Map();
let created = false; // the count table, created once per isolate (each request awaits only its own I/O)

async function countFetch(env, key) {
  if (!created) {
    await env.FLOOR_DB.prepare(
      "CREATE TABLE IF NOT EXISTS floor_fetches (key TEXT NOT NULL, day TEXT NOT NULL, fetches INTEGER NOT NULL, PRIMARY KEY (key, day))",
    ).run();
    created = true;
  }
  await env.FLOOR_DB.prepare(
    "INSERT INTO floor_fetches (key, day, fetches) VALUES (?, ?, 1) ON CONFLICT (key, day) DO UPDATE SET fetches = fetches + 1",
  )
    .bind(key, new Date().toISOString().slice(0, 10))
    .run();
}

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
  async fetch(request, env, ctx) {
    const url = request.url;
    const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const counted = path.startsWith("/r2c/");
    if (counted || path.startsWith("/r2/")) {
      const key = decodeURIComponent(path.slice(counted ? 5 : 4));
      const obj = await env.BUCKET.get(key);
      if (!obj) return new Response("no such object", { status: 404 });
      if (counted) ctx.waitUntil(countFetch(env, key));
      return new Response(obj.body, {
        headers: { "content-type": "application/zip", "cache-control": "private, max-age=31536000, immutable" },
      });
    }
    const size = Number(path.slice(1)) || 2048;
    return new Response(constantBody(size), { headers: { "content-type": "application/json", "cache-control": "private, no-cache" } });
  },
};
