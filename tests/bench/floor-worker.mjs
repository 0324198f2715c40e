// The benchmark's floor: the cheapest useful Worker, answering every request with the same 2 KB JSON
// document. scripts/bench.mjs runs it in the same workerd process as package-broker and reports every
// phase as a ratio to it, so what the ratio measures is the product's own cost per request.
const items = [];
for (let i = 0; JSON.stringify({ items }).length < 2048 - 64; i++) {
  items.push({ name: `floor/package-${String(i).padStart(3, "0")}`, version: `1.${i}.0`, ok: true });
}
const doc = { items, pad: "" };
doc.pad = "x".repeat(2048 - JSON.stringify(doc).length);
const BODY = JSON.stringify(doc); // exactly 2048 bytes

export default {
  fetch() {
    return new Response(BODY, { headers: { "content-type": "application/json", "cache-control": "private, no-cache" } });
  },
};
