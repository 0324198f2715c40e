// Cloudflare Queues in the API emulator (emulator.mjs): what wrangler 4.86 calls for `wrangler queues
// create/info/list` and, on deploy, to check that every producer's and consumer's queue exists and to add
// or update the Worker's consumer. Validation follows Cloudflare's documented limits (queue names, batch
// size 1-100, retries 0-100, batch timeout up to 60 s, retry delay up to 12 h); errors come in the v4
// envelope. A Worker upload's `queue` binding must name an existing queue and makes the Worker a producer.
import { randomUUID } from "node:crypto";
import { ApiError, readJson } from "./emulator-common.mjs";

// Queue names: lower-case letters, digits and hyphens, 1-63 characters (Cloudflare's rule).
const QUEUE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const nowIso = () => new Date().toISOString();

// Checks a consumer's settings the way the Queues API does; unknown settings are refused.
function consumerSettings(s = {}) {
  const allowed = ["batch_size", "max_retries", "max_wait_time_ms", "max_concurrency", "retry_delay", "visibility_timeout_ms"];
  for (const k of Object.keys(s)) if (!allowed.includes(k)) throw new ApiError(400, 11003, `Unknown consumer setting "${k}"`);
  const range = (k, lo, hi) => {
    if (s[k] === undefined || s[k] === null) return;
    if (!Number.isInteger(s[k]) || s[k] < lo || s[k] > hi) throw new ApiError(400, 11003, `${k} must be an integer from ${lo} to ${hi}`);
  };
  range("batch_size", 1, 100);
  range("max_retries", 0, 100);
  range("max_wait_time_ms", 0, 60_000);
  range("max_concurrency", 1, 250);
  range("retry_delay", 0, 43_200);
  const out = {};
  for (const [k, v] of Object.entries(s)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

// paginate: the emulator's page/per_page helper (result_info as Cloudflare's lists answer it).
export function createQueues(state, paginate) {
  const queues = new Map(); // queue_id -> { queue_id, queue_name, created_on, modified_on, settings, producers, consumers }
  const byName = (name) => [...queues.values()].find((q) => q.queue_name === name);
  const view = (q) => ({
    queue_id: q.queue_id,
    queue_name: q.queue_name,
    created_on: q.created_on,
    modified_on: q.modified_on,
    settings: q.settings,
    producers_total_count: q.producers.length,
    producers: q.producers,
    consumers_total_count: q.consumers.length,
    consumers: q.consumers,
  });
  const find = (id) => {
    const q = queues.get(id);
    if (!q) throw new ApiError(404, 11000, `Queue ${id} does not exist`);
    return q;
  };

  async function readConsumer(body) {
    const { type, script_name, dead_letter_queue, settings, ...rest } = await readJson(body);
    if (Object.keys(rest).length) throw new ApiError(400, 11003, `Unexpected fields: ${Object.keys(rest).join(", ")}`);
    if (type !== "worker") throw new ApiError(400, 11003, `Unsupported consumer type ${JSON.stringify(type)} (this emulator knows "worker")`);
    if (typeof script_name !== "string" || !state.scripts.has(script_name))
      throw new ApiError(404, 10007, `Worker ${JSON.stringify(script_name)} does not exist`);
    if (dead_letter_queue !== undefined && dead_letter_queue !== null && !byName(dead_letter_queue))
      throw new ApiError(404, 11000, `Queue ${dead_letter_queue} does not exist`);
    return { script_name, dead_letter_queue: dead_letter_queue ?? undefined, settings: consumerSettings(settings) };
  }

  const A = "/accounts/:account";
  const routes = [
    ["POST", `${A}/queues`, [], async ({ body }) => {
      const { queue_name, settings, ...rest } = await readJson(body);
      if (Object.keys(rest).length) throw new ApiError(400, 11003, `Unexpected fields: ${Object.keys(rest).join(", ")}`);
      if (typeof queue_name !== "string" || !QUEUE_NAME.test(queue_name))
        throw new ApiError(400, 11003, "Queue name must be 1-63 lower-case letters, digits or hyphens");
      if (byName(queue_name)) throw new ApiError(409, 11009, `A queue with name ${queue_name} already exists`);
      const q = { queue_id: randomUUID().replaceAll("-", ""), queue_name, created_on: nowIso(), modified_on: nowIso(), settings: settings ?? {}, producers: [], consumers: [] };
      queues.set(q.queue_id, q);
      return view(q);
    }],
    ["GET", `${A}/queues`, ["page", "per_page", "name"], ({ query }) => {
      let list = [...queues.values()];
      const names = query.getAll("name");
      if (names.length) list = list.filter((q) => names.includes(q.queue_name));
      const { items, info } = paginate(list.map(view), query, 100);
      return { result: items, result_info: info };
    }],
    ["GET", `${A}/queues/:queue`, [], ({ params }) => view(find(params.queue))],
    ["POST", `${A}/queues/:queue/consumers`, [], async ({ params, body }) => {
      const q = find(params.queue);
      const c = await readConsumer(body);
      if (q.consumers.some((x) => x.script === c.script_name))
        throw new ApiError(409, 11004, `Worker ${c.script_name} is already a consumer of queue ${q.queue_name}`);
      const consumer = { consumer_id: randomUUID().replaceAll("-", ""), type: "worker", script: c.script_name, queue_name: q.queue_name, dead_letter_queue: c.dead_letter_queue, settings: c.settings, created_on: nowIso() };
      q.consumers.push(consumer);
      q.modified_on = nowIso();
      return consumer;
    }],
    ["PUT", `${A}/queues/:queue/consumers/:consumer`, [], async ({ params, body }) => {
      const q = find(params.queue);
      const consumer = q.consumers.find((x) => x.consumer_id === params.consumer);
      if (!consumer) throw new ApiError(404, 11005, `Consumer ${params.consumer} does not exist`);
      const c = await readConsumer(body);
      Object.assign(consumer, { script: c.script_name, dead_letter_queue: c.dead_letter_queue, settings: c.settings });
      q.modified_on = nowIso();
      return consumer;
    }],
  ];

  return {
    queues,
    routes,
    byName,
    // A Worker upload's queue binding: the queue must exist; the Worker becomes one of its producers.
    checkBinding(b, scriptName) {
      const q = byName(b.queue_name);
      if (!q) throw new ApiError(400, 10021, `Queue "${b.queue_name}" does not exist`);
      if (!q.producers.some((p) => p.script === scriptName)) q.producers.push({ type: "worker", script: scriptName });
    },
  };
}
