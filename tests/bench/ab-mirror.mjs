// A/B of the mirror rewrite between two builds of pb_bench.wasm in one node process (docs/PERFORMANCE.md,
// "Mirror rewrite"): rounds alternate A B, B A, ... so both see the same machine; per round, the median
// CPU MB/s of each over `runs` calls and their ratio A/B (below 1: B is faster). Both must write the
// same number of output bytes (a rewrite that changed its output is not a speed-up).
// Usage: node tests/bench/ab-mirror.mjs <a.wasm> <b.wasm> [mb=5] [rounds=8] [sdk|packagist] [runs=3]
// On a busy machine run it as `node --no-liftoff tests/bench/ab-mirror.mjs ...`: the CPU time read is the
// whole process's, and without the flag V8's background tier-up compiles land in some measured runs
// (main against itself: 1.03-1.04 without, 1.00 with; docs/PERFORMANCE.md, "Worker size").
import { mirrorRewrite } from "./wasm.mjs";

const [a, b, mb = "5", rounds = "8", shape = "sdk", runs = "3"] = process.argv.slice(2);
if (!a || !b || !["sdk", "packagist"].includes(shape)) {
  console.error("usage: node tests/bench/ab-mirror.mjs <a.wasm> <b.wasm> [mb=5] [rounds=8] [sdk|packagist] [runs=3]");
  process.exit(2);
}
const median = (v) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
const one = async (wasm) => {
  const r = await mirrorRewrite({ mb: Number(mb), runs: Number(runs), wasm, shape });
  if (r.failed.length || r.measured_mb !== Number(mb)) throw new Error(`${wasm}: ${JSON.stringify(r.failed)}`);
  return r;
};
const ratios = [];
const rateA = [];
const rateB = [];
for (let i = 0; i < Number(rounds); i++) {
  const aFirst = i % 2 === 0;
  const first = await one(aFirst ? a : b);
  const second = await one(aFirst ? b : a);
  const [ra, rb] = aFirst ? [first, second] : [second, first];
  if (ra.output_bytes !== rb.output_bytes) throw new Error(`outputs differ: ${ra.output_bytes} vs ${rb.output_bytes} bytes`);
  rateA.push(ra.cpu_mb_per_s);
  rateB.push(rb.cpu_mb_per_s);
  ratios.push(ra.cpu_mb_per_s / rb.cpu_mb_per_s);
  console.log(`round ${i + 1}: A ${ra.cpu_mb_per_s.toFixed(1)} MB/s, B ${rb.cpu_mb_per_s.toFixed(1)} MB/s, A/B ${ratios.at(-1).toFixed(3)}`);
}
console.log(
  JSON.stringify({
    mb: Number(mb),
    shape,
    median_a_mb_per_s: median(rateA),
    median_b_mb_per_s: median(rateB),
    median_a_over_b: median(ratios),
    rounds_b_faster: ratios.filter((r) => r < 1).length,
    rounds: ratios.length,
  }),
);
