// The upload splice in wasm, in process (no HTTP, no D1): `node tests/bench/splice.mjs [N...]` prints,
// for a package of N versions, the core's CPU for one more version spliced into the stored document
// (storage::splice_first) and rebuilt from every row (storage::build_documents), medians over runs,
// after checking that both give the same bytes. pb_bench_splice.wasm is built by `scripts/build wasm`.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { instantiate } from "./wasm.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function measureSplice(sizes = [10, 100, 1000, 3000], runs = 21) {
  const wasm = instantiate(new WebAssembly.Module(readFileSync(path.join(root, "build/wasm/pb_bench_splice.wasm"))));
  const rows = [];
  for (const n of sizes) {
    const bytes = Number(wasm.pb_bench_splice_setup(n));
    if (Number(wasm.pb_bench_splice_run(2)) !== 1) throw new Error(`splice and rebuild differ at ${n} versions`);
    const time = (mode) => {
      for (let i = 0; i < 3; i++) wasm.pb_bench_splice_run(mode); // warm-up (tier-up)
      const ms = [];
      for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint();
        if (Number(wasm.pb_bench_splice_run(mode)) < 0) throw new Error(`mode ${mode} failed at ${n} versions`);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      return median(ms);
    };
    const full = time(0), splice = time(1);
    rows.push({ versions: n, document_bytes: bytes, full_ms: full, splice_ms: splice });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.slice(2).map(Number);
  const rows = measureSplice(sizes.length ? sizes : undefined);
  console.log("| versions | p2 document | full rebuild in wasm (median) | splice in wasm (median) | ratio |");
  console.log("|---:|---:|---:|---:|---:|");
  for (const r of rows)
    console.log(`| ${r.versions} → ${r.versions + 1} | ${(r.document_bytes / 1024).toFixed(0)} KiB | ${r.full_ms.toFixed(2)} ms | ${r.splice_ms.toFixed(3)} ms | ${(r.full_ms / r.splice_ms).toFixed(0)}x |`);
}
