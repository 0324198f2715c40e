// deploy/ agrees with the server: the Dockerfile, the compose file and the Kubernetes manifests use the
// port, probe path, user and setting names the server has, every setting they set is one the code reads
// (and docs/SELF-HOSTING.md documents every one the code reads), the settings parse (`pb_server
// check-config` with each file's values), the runtime image installs a package for each library the
// binary links, the image builds from the same Debian packages as scripts/setup, and nginx accepts the
// compose file's nginx.conf. Where a Docker engine answers, the image is built and its health check run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import YAML from "yaml";
import { root } from "../worker/helpers.mjs";
import { SERVER_BIN } from "./stack.mjs";

const read = (p) => readFileSync(path.join(root, p), "utf8");
const dockerfile = read("deploy/Dockerfile");
const compose = YAML.parse(read("deploy/compose.yaml"), { merge: true });
const k8s = Object.fromEntries(
  ["configmap", "secret", "deployment", "service", "hpa", "kustomization"].map((n) => [n, YAML.parse(read(`deploy/kubernetes/${n}.yaml`))]),
);
const stages = dockerfile.split(/^FROM /m).slice(1);
const finalStage = stages.at(-1);

// Every setting the code reads: the server's own (server/host/config.cpp) and the core's (settings.cpp).
function knownSettings() {
  const names = new Set();
  for (const f of ["server/host/config.cpp", "src/core/settings.cpp"])
    for (const m of read(f).matchAll(/"((?:PB|AWS)_[A-Z0-9_]+|ADMIN_TOKEN)"/g)) names.add(m[1]);
  return names;
}
const KNOWN = knownSettings();
const INTERNAL = new Set(["PB_INVALIDATION_BROADCAST", "PB_TEST_HOOKS"]); // set by the server itself / tests only

function dockerEnv() {
  const env = {};
  for (const m of finalStage.matchAll(/^ENV ((?:\\\n|.)+)$/gm))
    for (const kv of m[1].replace(/\\\n/g, " ").trim().split(/\s+/)) {
      const [k, v] = kv.split("=");
      env[k] = v;
    }
  return env;
}

test("the settings each file sets are settings the server reads, and the docs list them all", () => {
  const used = new Set([
    ...Object.keys(dockerEnv()),
    ...Object.keys(compose.services.server.environment),
    ...Object.keys(k8s.configmap.data),
    ...Object.keys(k8s.secret.stringData),
  ]);
  const unknown = [...used].filter((n) => !KNOWN.has(n));
  assert.deepEqual(unknown, [], `settings in deploy/ that no code reads: ${unknown}`);
  const docs = read("docs/SELF-HOSTING.md");
  const undocumented = [...KNOWN].filter((n) => !INTERNAL.has(n) && !docs.includes(`\`${n}\``));
  assert.deepEqual(undocumented, [], `settings the code reads that docs/SELF-HOSTING.md does not list: ${undocumented}`);
});

test("Dockerfile: multi-stage on Debian 12, non-root, port 8080, health check on /health", () => {
  assert.ok(stages.length >= 2, "a build stage and a runtime stage");
  for (const s of stages) assert.match(s, /^debian:12(-slim)?\b/, `every stage is Debian 12: FROM ${s.split("\n")[0]}`);
  const user = /^USER (\S+)$/m.exec(finalStage)?.[1];
  assert.ok(user && user !== "root" && user !== "0", `the runtime user is not root: ${user}`);
  assert.match(finalStage, /^EXPOSE 8080$/m);
  assert.equal(dockerEnv().PB_LISTEN, "0.0.0.0:8080");
  assert.match(finalStage, /^HEALTHCHECK .*CMD \["\/usr\/local\/bin\/pb_server", "health"\]$/m);
  assert.match(read("server/host/main.cpp"), /"\/health"/, "pb_server health asks /health");
  // What the build stage copies exists; the flags and target exist in CMakeLists.txt.
  for (const m of dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)) assert.ok(existsSync(path.join(root, m[1])), `COPY ${m[1]}`);
  const cmake = read("CMakeLists.txt");
  assert.match(cmake, /option\(PB_BUILD_TESTS /);
  assert.match(cmake, /add_executable\(pb_server /);
  const pinned = JSON.parse(read("package.json")).devDependencies["@nozbe/simdjson"];
  assert.match(dockerfile, new RegExp(`@nozbe/simdjson@${pinned.replace(/\./g, "\\.")}\\b`), "the simdjson version package.json pins");
});

test("the image builds from the packages scripts/setup installs, and its runtime stage has every library pb_server links", () => {
  const apt = (stage) =>
    [...stage.matchAll(/apt-get install -y --no-install-recommends((?:\\\n|[^\n])+?)(?:&&|\n)/g)].flatMap((m) =>
      m[1].replace(/\\\n/g, " ").trim().split(/\s+/).filter((w) => w && w !== "\\"),
    );
  const setup = read("scripts/setup");
  assert.ok(apt(stages[0]).includes("libboost1.81-dev") && apt(finalStage).includes("libpq5"), "both stages' package lists were read");
  for (const p of apt(stages[0]).filter((p) => p.startsWith("lib") || p === "clang" || p === "cmake"))
    assert.ok(setup.includes(p), `the build stage's ${p} is what scripts/setup installs for CI`);
  assert.ok(existsSync(SERVER_BIN), `${SERVER_BIN} (scripts/build native)`);
  const needed = execFileSync("readelf", ["-d", SERVER_BIN], { encoding: "utf8" })
    .split("\n")
    .map((l) => /\(NEEDED\).*\[(.+)\]/.exec(l)?.[1])
    .filter(Boolean);
  const ldd = execFileSync("ldd", [SERVER_BIN], { encoding: "utf8" });
  const runtime = new Set(apt(finalStage));
  const base = new Set(["libc6", "libgcc-s1", "libstdc++6"]); // in debian:12-slim itself
  const missing = [];
  for (const so of needed) {
    const file = new RegExp(`^\\s*${so.replace(/[.+]/g, "\\$&")} => (\\S+)`, "m").exec(ldd)?.[1];
    assert.ok(file, `ldd resolves ${so}`);
    // dpkg knows a library under the path its package installed (/lib or /usr/lib on a merged /usr).
    const owners = [file, file.replace(/^\/usr\/lib\//, "/lib/"), file.replace(/^\/lib\//, "/usr/lib/")].map((f) =>
      spawnSync("dpkg", ["-S", f], { encoding: "utf8" }),
    );
    const found = owners.find((r) => r.status === 0);
    assert.ok(found, `a Debian package owns ${file}`);
    const pkg = found.stdout.split(":")[0];
    if (!runtime.has(pkg) && !base.has(pkg)) missing.push(`${so} (${pkg})`);
  }
  assert.deepEqual(missing, [], "libraries the runtime stage does not install");
});

test("Kubernetes: probes on /health, Service 80 -> 8080, HPA 2..10 at 70% CPU, ConfigMap and Secret wired in", () => {
  const d = k8s.deployment;
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  const http = c.ports.find((p) => p.name === "http");
  assert.equal(http.containerPort, 8080);
  assert.equal(k8s.configmap.data.PB_LISTEN, "0.0.0.0:8080");
  for (const probe of [c.readinessProbe, c.livenessProbe]) {
    assert.equal(probe.httpGet.path, "/health");
    assert.ok(probe.httpGet.port === "http" || probe.httpGet.port === 8080);
  }
  const svc = k8s.service.spec.ports[0];
  assert.equal(svc.port, 80);
  assert.ok(svc.targetPort === "http" || svc.targetPort === 8080);
  assert.deepEqual(k8s.service.spec.selector, d.spec.selector.matchLabels);
  const h = k8s.hpa.spec;
  assert.equal(k8s.hpa.apiVersion, "autoscaling/v2");
  assert.deepEqual([h.minReplicas, h.maxReplicas], [2, 10]);
  assert.equal(h.scaleTargetRef.name, d.metadata.name);
  assert.equal(h.scaleTargetRef.kind, "Deployment");
  assert.deepEqual(h.metrics[0].resource, { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } });
  assert.ok(c.resources.requests.cpu, "a CPU request (the HPA's utilization is relative to it)");
  assert.equal(c.envFrom.find((e) => e.configMapRef)?.configMapRef.name, k8s.configmap.metadata.name);
  assert.equal(c.envFrom.find((e) => e.secretRef)?.secretRef.name, k8s.secret.metadata.name);
  assert.equal(String(pod.securityContext.runAsUser), /^USER (\S+)$/m.exec(finalStage)[1], "the image's user");
  const grace = Number(k8s.configmap.data.PB_SHUTDOWN_GRACE_S) + Number(c.lifecycle.preStop.exec.command[1]);
  assert.ok(pod.terminationGracePeriodSeconds > grace, "Kubernetes waits longer than the server's own grace period");
  assert.deepEqual(k8s.kustomization.resources.sort(), ["configmap.yaml", "deployment.yaml", "hpa.yaml", "secret.yaml", "service.yaml"]);
});

test("compose: three server replicas, PostgreSQL 15, Redis 7, an S3 store, nginx in front", () => {
  const s = compose.services;
  assert.equal(s.server.deploy.replicas, 3);
  assert.match(s.postgres.image, /^postgres:15/);
  assert.match(s.redis.image, /^redis:7/);
  assert.match(s.minio.image, /^minio\/minio/);
  assert.ok(s.nginx.ports.includes("8080:80"));
  const env = s.server.environment;
  assert.match(env.PB_DATABASE_URL, /^postgres:\/\/\S+@postgres:5432\//);
  assert.equal(env.PB_CACHE_URL, "redis://redis:6379");
  assert.match(env.PB_STORAGE_URL, /^s3:\/\/packages\?endpoint=http:\/\/minio:9000&/);
  assert.match(read("deploy/nginx.conf"), /server server:8080\b/, "nginx sends to the replicas' port");
  assert.equal(env.PB_LISTEN, "0.0.0.0:8080");
});

test("the files' settings parse (pb_server check-config)", () => {
  const fill = (env) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{(\w+)(?::[-?][^}]*)?\}/g, "x")]));
  for (const [name, env] of [
    ["Dockerfile", dockerEnv()],
    ["compose.yaml", fill(compose.services.server.environment)],
    ["kubernetes", { ...k8s.configmap.data, ...k8s.secret.stringData }],
  ]) {
    const r = spawnSync(SERVER_BIN, ["check-config"], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
  }
  const bad = spawnSync(SERVER_BIN, ["check-config"], { env: { PB_STORAGE_URL: "s3://x" }, encoding: "utf8" });
  assert.notEqual(bad.status, 0, "a bad setting is refused");
});

test("nginx accepts deploy/nginx.conf", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pb-nginx-conf-"));
  try {
    mkdirSync(path.join(dir, "logs"));
    // Docker's DNS name "server" does not resolve here: only the upstream's address changes.
    const conf = read("deploy/nginx.conf").replace("server server:8080", "server 127.0.0.1:8080");
    writeFileSync(path.join(dir, "nginx.conf"), `error_log ${dir}/logs/error.log;\npid ${dir}/nginx.pid;\n${conf}`);
    const r = spawnSync("nginx", ["-t", "-c", path.join(dir, "nginx.conf"), "-p", dir], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the image builds and reports healthy (needs a Docker engine)", (t) => {
  const engine = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8", timeout: 20_000 });
  if (engine.status !== 0) {
    t.skip("no Docker engine on this machine: the checks above stand in for building the image");
    return;
  }
  execFileSync("docker", ["build", "-f", "deploy/Dockerfile", "-t", "package-broker:test", "."], { cwd: root, stdio: "inherit", timeout: 1_800_000 });
  const id = execFileSync("docker", ["run", "-d", "-e", "ADMIN_TOKEN=t", "package-broker:test"], { encoding: "utf8" }).trim();
  try {
    let status = "";
    for (let i = 0; i < 60 && status !== "healthy"; i++) {
      status = execFileSync("docker", ["inspect", "-f", "{{.State.Health.Status}}", id], { encoding: "utf8" }).trim();
      if (status !== "healthy") execFileSync("sleep", ["2"]);
    }
    assert.equal(status, "healthy");
  } finally {
    spawnSync("docker", ["rm", "-f", id]);
  }
});
