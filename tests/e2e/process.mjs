// Background processes for end-to-end tests: started with setsid (own process group), stopped by
// group (TERM, then KILL), waited for with bounded polling. Nothing outlives the test. Also the
// environment a composer run gets (its own home and cache, no proxies).
import { spawn } from "node:child_process";
import net from "node:net";
import { root } from "../worker/helpers.mjs";

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts `command args` in a new session; output is kept for failure messages.
export function startGroup(command, args, { env = {}, cwd = root } = {}) {
  const child = spawn("setsid", [command, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: false,
  });
  const proc = { child, output: "" };
  child.stdout.on("data", (d) => (proc.output += d));
  child.stderr.on("data", (d) => (proc.output += d));
  return proc;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

// setsid execs into the command, so the child's pid is the group id.
export async function stopGroup(proc) {
  const pgid = proc?.child?.pid;
  if (!pgid) return;
  try {
    process.kill(-pgid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 40 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {}
  }
}

// Polls url until check(response) is true; at most `seconds`.
export async function waitFor(url, { seconds = 90, check = (r) => r.ok, proc } = {}) {
  const deadline = Date.now() + seconds * 1000;
  let last = "";
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}):\n${proc.output}`);
    try {
      // The attempt's bound covers the body too, so the body is read here: a caller reading it later
      // under the same signal failed with "aborted due to timeout" when the machine was busy.
      const signal = AbortSignal.timeout(5000);
      const fetched = await fetch(url, { signal });
      const bytes = await fetched.arrayBuffer();
      const r = new Response([204, 205, 304].includes(fetched.status) ? null : bytes, { status: fetched.status, statusText: fetched.statusText, headers: fetched.headers });
      if (await check(r.clone())) return r;
      last = `status ${r.status}`;
    } catch (e) {
      last = String(e.message);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready after ${seconds}s (${last})\n${proc?.output ?? ""}`);
}

// The environment for a composer run on 127.0.0.1: the caller's, without any COMPOSER_* setting or
// proxy, with its own home and cache, never interactive (as root too).
export function composerEnv({ home, cache }, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^COMPOSER_/.test(k) && !/^(https?|all|no)_proxy$/i.test(k)) env[k] = v;
  return {
    ...env,
    COMPOSER_HOME: home,
    COMPOSER_CACHE_DIR: cache,
    COMPOSER_NO_INTERACTION: "1",
    COMPOSER_ALLOW_SUPERUSER: "1",
    no_proxy: "127.0.0.1",
    NO_PROXY: "127.0.0.1",
    ...extra,
  };
}

// One HTTP call on 127.0.0.1 with a deadline: a body that is not a string is sent as JSON (and any body
// as application/json unless `headers` say otherwise). Answers the status, the text, the JSON when the
// text is JSON, and the headers.
export async function fetchJson(url, { method = "GET", headers = {}, body, timeoutMs = 60_000 } = {}) {
  const r = await fetch(url, {
    method,
    headers: { ...(body != null ? { "content-type": "application/json" } : {}), ...headers },
    body: body == null ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, text, json, headers: r.headers };
}
