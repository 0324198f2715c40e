// The load generator and meters of the benchmark (scripts/bench) and the load test (scripts/load): one
// request or a bounded closed loop over node:http keep-alive connections to 127.0.0.1, latency
// percentiles, the CPU time of the workerd process(es) read from /proc/<pid>/stat (utime + stime, in
// clock ticks) and of the whole machine (/proc/stat).
import http from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function stat(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // f[0] = field 3 (state)
  return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]) };
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

// workerd processes among the descendants of `root` (this node process).
export function workerdPids(root = process.pid) {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parent.set(Number(d), stat(d).ppid);
    } catch {} // exited meanwhile
  }
  const isDescendant = (pid) => {
    for (let p = parent.get(pid), hops = 0; p && hops < 64; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  return [...parent.keys()].filter((pid) => isDescendant(pid) && cmdline(pid).includes("workerd")).sort((a, b) => a - b);
}

// Total utime + stime of pids, in clock ticks (threads included: /proc/<pid>/stat sums them).
export function cpuTicks(pids) {
  let t = 0;
  for (const pid of pids) {
    const s = stat(pid);
    t += s.utime + s.stime;
  }
  return t;
}

// Total on-CPU time of pids' threads in nanoseconds (/proc/<pid>/task/<tid>/schedstat, first field):
// a finer-grained cross-check of the tick counts; null when the kernel does not provide it.
export function cpuNanos(pids) {
  try {
    let ns = 0;
    for (const pid of pids)
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
          ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        } catch {} // thread exited meanwhile
      }
    return ns;
  } catch {
    return null;
  }
}

// Busy and total jiffies of the whole machine (/proc/stat "cpu" line): to tell how much CPU other
// processes took during a phase, since the benchmark shares the machine.
export function machineJiffies() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

export const NCPU = readFileSync("/proc/stat", "utf8").split("\n").filter((l) => /^cpu\d+ /.test(l)).length || 1;

// One request over `agent`; resolves (never rejects) with { status, bytes, headers, ms } or { error, ms }.
// keepBody: also { body } (a Buffer), for callers that check what came back.
export function request(agent, port, { path, headers, method = "GET", body, keepBody = false, timeoutMs = 30_000 }) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const done = (r) => resolve({ ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    const req = http.request({ agent, host: "127.0.0.1", port, path, method, headers }, (res) => {
      let bytes = 0;
      const chunks = [];
      res.on("data", (c) => {
        bytes += c.length;
        if (keepBody) chunks.push(c);
      });
      res.on("end", () => done({ status: res.statusCode, bytes, headers: res.headers, ...(keepBody ? { body: Buffer.concat(chunks) } : {}) }));
      res.on("error", (error) => done({ error }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs / 1000} s`)));
    req.on("error", (error) => done({ error }));
    req.end(body);
  });
}

// One closed loop: `concurrency` clients, each sending its next request when the previous one has
// fully arrived, until `limit` requests were sent or `seconds` passed (checked before each send).
async function loop({ agent, port, target, check, concurrency, limit, seconds }) {
  const latencies = [];
  const errors = [];
  let sent = 0;
  let bytes = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < limit && performance.now() < deadline) {
        const i = sent++;
        const r = await request(agent, port, target(i));
        latencies.push(r.ms);
        const why = r.error ? `network: ${r.error.message}` : check(r, i);
        if (why) errors.push(why);
        else bytes += r.bytes;
      }
    }),
  );
  return { latencies, errors, bytes };
}

export const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);

// Runs a warm-up and a measured loop; returns the phase's numbers.
export async function measure({ name, port, target, check, concurrency = 8, warmup = 200, requests = 3000, seconds = 10, pids }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  try {
    const w = await loop({ agent, port, target, check, concurrency, limit: warmup, seconds: 120 });
    const cpu0 = cpuTicks(pids);
    const ns0 = cpuNanos(pids);
    const mach0 = machineJiffies();
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const m = await loop({ agent, port, target, check, concurrency, limit: requests, seconds });
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = cpuTicks(pids);
    const ns1 = cpuNanos(pids);
    const mach1 = machineJiffies();
    const client = process.cpuUsage(client0);
    const n = m.latencies.length;
    const sorted = Float64Array.from(m.latencies).sort();
    const errorSamples = [...new Set([...w.errors, ...m.errors])].slice(0, 5);
    const r = {
      name,
      requests: n,
      seconds: elapsed,
      rps: n / elapsed,
      p50_ms: percentile(sorted, 50),
      p99_ms: percentile(sorted, 99),
      mean_ms: m.latencies.reduce((a, b) => a + b, 0) / (n || 1),
      max_ms: sorted[sorted.length - 1] ?? NaN,
      workerd_cpu_ticks: cpu1 - cpu0,
      workerd_cpu_ms_per_req: ((cpu1 - cpu0) * 1000) / CLK_TCK / (n || 1),
      workerd_cpu_ms_per_req_schedstat: ns0 != null && ns1 != null ? (ns1 - ns0) / 1e6 / (n || 1) : null,
      workerd_cpu_util: (cpu1 - cpu0) / CLK_TCK / elapsed, // cores busy on average
      machine_busy_cores: ((mach1.busy - mach0.busy) / (mach1.total - mach0.total || 1)) * NCPU,
      client_cpu_util: (client.user + client.system) / 1e6 / elapsed,
      client_cpu_ms_per_req: (client.user + client.system) / 1000 / (n || 1),
      bytes_per_req: m.bytes / (n - m.errors.length || 1),
      warmup_requests: w.latencies.length,
      warmup_errors: w.errors.length,
      errors: m.errors.length,
      error_samples: errorSamples,
      failed: w.errors.length + m.errors.length > 0,
    };
    // CPU taken by everything but workerd and this process (other tenants of the machine).
    r.other_cpu_cores = Math.max(0, r.machine_busy_cores - r.workerd_cpu_util - r.client_cpu_util);
    // Kept for combine(), left out of results.json (one number per request).
    Object.defineProperty(r, "latencies", { value: sorted, enumerable: false });
    return r;
  } finally {
    agent.destroy();
  }
}

// One result from several measure() runs of the same target (the rounds of a phase, interleaved with its
// floor's): rates and per-request figures over all requests, latency percentiles over all latencies,
// machine figures weighted by each run's duration; `rounds` keeps each run's rate and CPU per request.
export function combine(runs) {
  if (runs.length === 1) return { ...runs[0], rounds: [{ rps: runs[0].rps, workerd_cpu_ms_per_req: runs[0].workerd_cpu_ms_per_req }] };
  const sum = (f) => runs.reduce((a, r) => a + f(r), 0);
  const n = sum((r) => r.requests);
  const seconds = sum((r) => r.seconds);
  const ticks = sum((r) => r.workerd_cpu_ticks);
  const byTime = (key) => sum((r) => r[key] * r.seconds) / (seconds || 1);
  const latencies = Float64Array.from(runs.flatMap((r) => [...(r.latencies ?? [])])).sort();
  const schedstat = runs.every((r) => r.workerd_cpu_ms_per_req_schedstat != null)
    ? sum((r) => r.workerd_cpu_ms_per_req_schedstat * r.requests) / (n || 1)
    : null;
  const errors = sum((r) => r.errors);
  const r = {
    name: runs[0].name,
    requests: n,
    seconds,
    rps: n / seconds,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    mean_ms: sum((r) => r.mean_ms * r.requests) / (n || 1),
    max_ms: Math.max(...runs.map((r) => r.max_ms)),
    workerd_cpu_ticks: ticks,
    workerd_cpu_ms_per_req: (ticks * 1000) / CLK_TCK / (n || 1),
    workerd_cpu_ms_per_req_schedstat: schedstat,
    workerd_cpu_util: ticks / CLK_TCK / seconds,
    machine_busy_cores: byTime("machine_busy_cores"),
    client_cpu_util: byTime("client_cpu_util"),
    client_cpu_ms_per_req: sum((r) => r.client_cpu_ms_per_req * r.requests) / (n || 1),
    bytes_per_req: sum((r) => r.bytes_per_req * (r.requests - r.errors)) / (n - errors || 1),
    warmup_requests: sum((r) => r.warmup_requests),
    warmup_errors: sum((r) => r.warmup_errors),
    errors,
    error_samples: [...new Set(runs.flatMap((r) => r.error_samples))].slice(0, 5),
    failed: runs.some((r) => r.failed),
    other_cpu_cores: byTime("other_cpu_cores"),
    rounds: runs.map((x) => ({ rps: x.rps, workerd_cpu_ms_per_req: x.workerd_cpu_ms_per_req })),
  };
  Object.defineProperty(r, "latencies", { value: latencies, enumerable: false });
  return r;
}
