// The benchmark's in-process measurements (no HTTP): the mirror rewrite of a large upstream p2 document
// in wasm (MB/s) and the Worker's cold start (compile + instantiate + first request, ms). Both run in
// node's V8 on the same wasm the Worker ships (pb_bench.wasm is the same core with one benchmark entry
// point, built next to package_broker.wasm by `scripts/build wasm`).
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Imports as the shim provides them (worker/engine.mjs): a reactor that needs nothing from its host.
export function instantiate(module) {
  const imports = {};
  for (const { module: m, name } of WebAssembly.Module.imports(module)) {
    (imports[m] ??= {})[name] =
      name === "emscripten_notify_memory_growth"
        ? () => {}
        : name === "proc_exit"
          ? (code) => {
              throw new Error(`wasm called proc_exit(${code}) (an abort: out of memory?)`);
            }
          : () => {
              throw new Error(`unexpected wasm import ${m}.${name}`);
            };
  }
  const instance = new WebAssembly.Instance(module, imports);
  instance.exports._initialize?.();
  return instance.exports;
}

// Composer's MetadataMinifier::minify: the first version whole, each later one only with the keys that
// changed and "__unset" for keys that went away (what packagist.org serves).
function minify(versions) {
  const out = [];
  let last = null;
  for (const v of versions) {
    if (!last) {
      out.push(v);
    } else {
      const diff = {};
      for (const [k, val] of Object.entries(v)) if (JSON.stringify(val) !== JSON.stringify(last[k])) diff[k] = val;
      for (const k of Object.keys(last)) if (!(k in v)) diff[k] = "__unset";
      out.push(diff);
    }
    last = v;
  }
  return out;
}

// A packagist-shaped, minified p2 document of about `bytes` bytes for `name`: tagged releases (newest
// first) whose requirements, description and autoload drift from release to release, as in a large SDK.
export function upstreamDocument(name, bytes) {
  const build = (i) => {
    const major = 1 + Math.floor(i / 400), minor = Math.floor(i / 20) % 20, patch = i % 20;
    const version = `${major}.${minor}.${patch}`;
    const ref = (i.toString(16).padStart(8, "0") + "9f3c2b1a0e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b").slice(0, 40);
    const require = { php: major >= 3 ? ">=8.1" : ">=7.2.5", "ext-json": "*", "guzzlehttp/guzzle": `^7.${4 + (minor % 5)}` };
    for (let k = 0; k < 12; k++) require[`acme/service-${String((i + k) % 40).padStart(2, "0")}`] = `^${major}.${(minor + k) % 20}`;
    return {
      name,
      description: `The SDK for ${name} services, release ${version}: clients, waiters and paginators for every API.`,
      keywords: ["sdk", "cloud", "api", `v${major}`],
      homepage: `https://github.com/${name}`,
      version,
      version_normalized: `${version}.0`,
      license: ["Apache-2.0"],
      authors: [{ name: "Example Corp", homepage: "https://example.com" }],
      source: { type: "git", url: `https://github.com/${name}.git`, reference: ref },
      dist: { type: "zip", url: `https://api.github.com/repos/${name}/zipball/${ref}`, reference: ref, shasum: "" },
      type: "library",
      support: { issues: `https://github.com/${name}/issues`, source: `https://github.com/${name}/tree/${version}` },
      time: new Date(Date.UTC(2015, 0, 1) + i * 86_400_000).toISOString().replace(".000Z", "+00:00"),
      autoload: { "psr-4": { "Acme\\Sdk\\": "src/" }, files: [`src/functions-${major}.${minor}.php`] },
      require,
      "require-dev": { "phpunit/phpunit": `^9.${minor % 7}`, "ext-openssl": "*" },
      extra: { "branch-alias": { "dev-master": `${major}.${minor + 1}-dev` }, generated: `build ${i}` },
    };
  };
  return grow(name, bytes, build);
}

// A document shaped like a large package on packagist.org (aws/aws-sdk-php, symfony/*): consecutive
// releases share most members (description, keywords, authors, autoload, suggest; require and
// require-dev change every few dozen releases) and differ in what every release has of its own
// (version, source and dist references, support.source, time). Its minified entries are a few hundred
// bytes, so a megabyte holds about twice as many versions as upstreamDocument's, each expanding to
// a full row: the same work per version on less input per version.
export function packagistDocument(name, bytes) {
  const versions = [];
  const build = (i) => {
    const major = 3, minor = Math.floor(i / 40), patch = i % 40;
    const version = `${major}.${minor}.${patch}`;
    const ref = (i.toString(16).padStart(8, "0") + "4b1e0c9d8a7f6e5d4c3b2a1908f7e6d5c4b3a291").slice(0, 40);
    const req = Math.floor(i / 25), dev = Math.floor(i / 15);
    const require = { php: req < 60 ? ">=7.2.5" : ">=8.1", "ext-json": "*", "ext-pcre": "*", "ext-simplexml": "*",
      "guzzlehttp/guzzle": `^6.5.8 || ^7.${4 + (req % 5)}.5`, "guzzlehttp/psr7": `^1.9.1 || ^2.${4 + (req % 3)}.5`,
      "guzzlehttp/promises": "^1.4.0 || ^2.0", "mtdowling/jmespath.php": `^2.${6 + (req % 2)}.1`, "psr/http-message": "^1.0 || ^2.0" };
    const requireDev = { "ext-openssl": "*", "ext-dom": "*", "ext-sockets": "*", "phpunit/phpunit": `^5.6.3 || ^8.5 || ^9.${5 + (dev % 3)}`,
      "behat/behat": "~3.0", "doctrine/cache": "~1.4", "aws/aws-php-sns-message-validator": "~1.0", "nette/neon": "^2.3",
      "andrewsville/php-token-reflection": "^1.4", "psr/cache": "^1.0", "psr/simple-cache": "^1.0", "paragonie/random_compat": ">= 2",
      "sebastian/comparator": `^1.2.3 || ^4.0 || ^${5 + (dev % 2)}.0`, "yoast/phpunit-polyfills": `^1.0 || ^2.${dev % 2}`, "dms/phpunit-arraysubset-asserts": "^0.4.0" };
    return {
      name,
      description: "AWS SDK for PHP - Use Amazon Web Services in your PHP project",
      keywords: ["aws", "amazon", "sdk", "s3", "ec2", "dynamodb", "cloud", "glacier"],
      homepage: "http://aws.amazon.com/sdkforphp",
      version,
      version_normalized: `${version}.0`,
      license: ["Apache-2.0"],
      authors: [{ name: "Amazon Web Services", homepage: "http://aws.amazon.com" }],
      source: { type: "git", url: `https://github.com/${name}.git`, reference: ref },
      dist: { type: "zip", url: `https://api.github.com/repos/${name}/zipball/${ref}`, reference: ref, shasum: "" },
      type: "library",
      support: { forum: "https://forums.aws.amazon.com/forum.jspa?forumID=80", issues: `https://github.com/${name}/issues`, source: `https://github.com/${name}/tree/${version}` },
      time: new Date(Date.UTC(2015, 0, 1) + i * 43_200_000).toISOString().replace(".000Z", "+00:00"),
      autoload: { files: ["src/functions.php"], "psr-4": { "Aws\\": "src/" }, "exclude-from-classmap": ["src/data/"] },
      require,
      "require-dev": requireDev,
      suggest: { "ext-openssl": "Allows working with CloudFront private distributions and verifying received SNS messages",
        "ext-curl": "To send requests using cURL", "ext-sockets": "To use client-side monitoring",
        "doctrine/cache": "To use the DoctrineCacheAdapter", "aws/aws-php-sns-message-validator": "To validate incoming SNS notifications" },
      extra: { "branch-alias": { "dev-master": `${major}.${minor + 1}-dev` } },
    };
  };
  return grow(name, bytes, build);
}

// Grows the list until the minified document reaches `bytes`: each new (newest) version costs its diff to
// the previous newest plus the difference between its full form and that one's.
function grow(name, bytes, build) {
  const versions = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    versions.push(build(i));
    const [prev, cur] = [versions[i - 1], versions[i]];
    size += prev ? JSON.stringify(minify([cur, prev])[1]).length + 1 + JSON.stringify(cur).length - JSON.stringify(prev).length : JSON.stringify(cur).length;
  }
  const text = JSON.stringify({ minified: "composer/2.0", packages: { [name]: minify(versions.reverse()) } });
  return { text, versions: versions.length };
}

// MB/s (10^6 bytes of upstream document per second) of pb_bench_mirror_rewrite; one warm-up run. The
// module has the Worker's memory limit (128 MB): a document too large for it traps; then the result
// says so (`failed`) and the rate is measured on the largest half-size that fits (`measured_mb`).
// `entry: "pb_bench_parse_floor"` measures the floor instead: one simdjson parse and one copy of the
// same document in the same module; `entry: "pb_bench_design_floor"` the design's floor: two parses
// and two copies, one per side of the D1 round trip (tests/bench/mirror_rewrite.cpp).
// `shape: "packagist"` measures packagistDocument instead of upstreamDocument.
export async function mirrorRewrite({ mb = 5, runs = 7, wasm = path.join(root, "build/wasm/pb_bench.wasm"), entry = "pb_bench_mirror_rewrite", shape = "sdk" } = {}) {
  const module = new WebAssembly.Module(readFileSync(wasm));
  const failures = [];
  const document = shape === "packagist" ? packagistDocument : upstreamDocument;
  for (let size = mb; size >= mb / 64; size /= 2) {
    try {
      const r = rewriteRuns(module, size, runs, entry, document);
      return { ...r, requested_mb: mb, measured_mb: size, failed: failures };
    } catch (e) {
      failures.push({ mb: size, error: String(e.message ?? e).slice(0, 200) });
    }
  }
  return { requested_mb: mb, failed: failures, runs: [], mb_per_s: NaN };
}

function rewriteRuns(module, mb, runs, entry, document) {
  const name = document === packagistDocument ? "aws/aws-sdk-php" : "acme/cloud-sdk";
  const { text, versions } = document(name, mb * 1e6);
  const input = new TextEncoder().encode(text);
  const nameBytes = new TextEncoder().encode(name);
  const ex = instantiate(module); // a fresh instance: a trap leaves nothing behind
  const put = (bytes) => {
    const ptr = ex.malloc(bytes.length + 64);
    if (!ptr) throw new Error("malloc failed in pb_bench.wasm");
    new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
    return ptr;
  };
  const once = () => {
    const doc = put(input), nm = put(nameBytes);
    try {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = Number(ex[entry](doc, input.length, nm, nameBytes.length));
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (out <= 0) throw new Error(`${entry} failed (${out})`);
      return { ms, cpu_ms: (c.user + c.system) / 1000, out };
    } finally {
      ex.free(doc);
      ex.free(nm);
    }
  };
  const first = once(); // warm-up (and the tiering of the wasm code)
  const times = [], cpu = [];
  for (let i = 0; i < runs; i++) {
    const r = once();
    times.push(r.ms);
    cpu.push(r.cpu_ms);
  }
  const mbps = times.map((ms) => input.length / 1e6 / (ms / 1000));
  // On a shared machine the wall time includes waiting for a core; the process's CPU time (the call is
  // synchronous, on this thread) does not, so A/B comparisons read cpu_mb_per_s.
  const cpuMbps = cpu.map((ms) => input.length / 1e6 / (ms / 1000));
  return {
    input_bytes: input.length,
    output_bytes: first.out,
    versions,
    runs: mbps,
    run_ms: times,
    mb_per_s: median(mbps),
    ms: median(times),
    cpu_runs: cpuMbps,
    cpu_mb_per_s: median(cpuMbps),
    peak_memory_mb: ex.memory.buffer.byteLength / 1048576, // wasm memory only grows: its size is the peak
  };
}

// Each run in a fresh node process (tests/bench/coldstart.mjs): nothing compiled or tiered before.
export function coldStart({ runs = 9 } = {}) {
  const all = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, [path.join(here, "coldstart.mjs")], { encoding: "utf8", timeout: 60_000 });
    all.push(JSON.parse(out));
  }
  const pick = (k) => median(all.map((r) => r[k]));
  return { runs: all, compile_ms: pick("compile_ms"), instantiate_ms: pick("instantiate_ms"), first_request_ms: pick("first_request_ms"), total_ms: pick("total_ms") };
}
