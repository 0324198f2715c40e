// Miniflare definitions of the benchmark's Workers (scripts/bench.mjs, tests/bench/profile.mjs): the
// broker as deployed (its own D1/KV/R2 named after `storage`) and the floor Worker over a given bucket.
import path from "node:path";
import { root } from "../worker/helpers.mjs";

const direct = () => [{ host: "127.0.0.1", port: 0 }];

export function brokerWorker({ name, storage, adminToken, log = "errors" }) {
  return {
    name,
    modules: true,
    modulesRoot: root,
    scriptPath: path.join(root, "worker/index.mjs"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2025-09-01",
    d1Databases: { DB: `${storage}-db` },
    kvNamespaces: { KV: `${storage}-kv` },
    r2Buckets: { BUCKET: `${storage}-bucket` },
    bindings: { PB_TEST_HOOKS: "0", ADMIN_TOKEN: adminToken, PB_LOG: log },
    unsafeDirectSockets: direct(),
  };
}

// The floor streams R2 objects from `storage`'s bucket: the broker's own, for /dist.
export function floorWorker({ storage }) {
  return {
    name: "floor",
    modules: true,
    modulesRoot: root,
    scriptPath: path.join(root, "tests/bench/floor-worker.mjs"),
    compatibilityDate: "2025-09-01",
    r2Buckets: { BUCKET: `${storage}-bucket` },
    d1Databases: { FLOOR_DB: `${storage}-floor-db` }, // the counted /dist floor's own table
    unsafeDirectSockets: direct(),
  };
}
