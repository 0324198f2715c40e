// Group commit of coalescible D1 writes (PROTOCOL.md, d1.run "group"; docs/PERFORMANCE.md "/dist"):
// per isolate and group at most one D1 call in flight. A statement that arrives while none is runs at
// once, alone, as a plain run (an idle isolate writes exactly as without grouping: no timer, no added
// latency); statements that arrive meanwhile wait and go together in the next db.batch when it ends.
// Under steady load calls would follow each other back to back, each holding only what arrived during
// the last; so the next batch starts no sooner than GATHER_MS after the last one started, and gathers
// what arrives until then. A call that took longer (remote D1 takes tens of ms) adds no wait at all; on
// a busy isolate it turns many small D1 calls into a few large ones, each costing about one statement's
// CPU (docs/PERFORMANCE.md "/dist").
//
// workerd cancels a continuation whose creating request has ended (cloudflare/workerd#2719), so no
// invocation ever awaits another's promise: each waiting invocation awaits one it made itself and
// leaves its resolver in the queue; the invocation whose batch ends settles them (a resolve across
// requests is fine while the waiter's request is alive: its waitUntil is, until then). The batch after
// it is run by the first of its statements' own invocation, in that invocation's context, so each
// invocation runs at most one D1 call, as before, and keeps its waitUntil only until its batch ended.
//
// Bounded: at most MAX_STATEMENTS statements and MAX_PARAMS bound values per batch; a waiter gives up
// waiting after WAIT_MS (under the 30 s Cloudflare grants waitUntil after the response). Then, if its
// statement was not sent yet, it takes it back and writes it itself (the batch in flight is declared
// dead if it is that old, so the group recovers); if it was sent, the outcome is unknown and it is not
// written again (it may have committed: a count written twice is as wrong as one lost), with a log line.
export const MAX_STATEMENTS = 100;
export const MAX_PARAMS = 1000; // D1 binds at most 100 per statement; this bounds the whole request
export const WAIT_MS = 15_000;
export const GATHER_MS = 20; // a count waits at most this much longer; far under WAIT_MS

// The window in force; the fault harness widens it so that a test can see a batch gather without racing
// a 20 ms timer (tests/worker/fixtures/harness.mjs).
export const groupTuning = { gatherMs: GATHER_MS };

const groups = new Map(); // group name -> { busy: { started } | null, queue: [entry] }

// What tests and the debug log read: totals per isolate.
export const groupStats = { runs: 0, batches: 0, statements: 0, waiting: 0, failed: 0, fallbacks: 0, unknown: 0 };

const meta = (r) => ({ results: [], meta: { changes: r.meta?.changes ?? 0, last_row_id: r.meta?.last_row_id ?? 0 } });

function groupOf(name) {
  let g = groups.get(name);
  if (!g) groups.set(name, (g = { busy: null, queue: [] }));
  return g;
}

// Takes the rest of the next batch off the queue, behind `first` (the statement cap and the parameter cap).
function takeBatch(g, first) {
  let n = 0;
  let params = first.params.length;
  while (n < g.queue.length && n + 1 < MAX_STATEMENTS) {
    params += g.queue[n].params.length;
    if (params > MAX_PARAMS) break;
    n++;
  }
  const rest = g.queue.splice(0, n);
  for (const e of rest) e.taken = true;
  return [first, ...rest];
}

// Runs `entries` (entries[0] is the caller's own) as one D1 call, settles the others' promises, hands
// the group on to the next batch's first invocation, and returns the caller's own outcome.
async function lead(g, taken, db, log) {
  const entries = taken.filter((e, i) => i === 0 || !e.abandoned); // an abandoned one wrote itself
  const run = { started: Date.now() };
  g.busy = run;
  for (const e of entries) e.sent = true;
  let outcomes;
  try {
    if (entries.length === 1) {
      groupStats.runs++;
      outcomes = [{ value: meta(await db.prepare(entries[0].sql).bind(...entries[0].params).run()) }];
    } else {
      groupStats.batches++;
      const rs = await db.batch(entries.map((e) => db.prepare(e.sql).bind(...e.params)));
      outcomes = entries.map((_, i) => (rs[i] ? { value: meta(rs[i]) } : { error: new Error(`D1 batch answered ${rs.length} of ${entries.length} statements`) }));
    }
    groupStats.statements += entries.length;
    log?.({ kind: "d1_group", statements: entries.length, ms: Date.now() - run.started });
  } catch (err) {
    groupStats.failed += entries.length;
    outcomes = entries.map(() => ({ error: err }));
    if (entries.length > 1)
      log?.({ level: "error", msg: "grouped D1 batch failed; its statements are lost", statements: entries.length, error: String(err?.message ?? err) }, true);
  }
  if (g.busy === run) handOn(g, run.started + groupTuning.gatherMs);
  for (let i = 1; i < entries.length; i++) entries[i].settle(outcomes[i]);
  if (outcomes[0].error) throw outcomes[0].error;
  return outcomes[0].value;
}

// The next batch goes to its first statement's invocation, which gathers it from `notBefore` on, or
// the group is idle.
function handOn(g, notBefore) {
  const first = g.queue.shift();
  if (!first) {
    g.busy = null;
    return;
  }
  g.busy = { started: Date.now() };
  first.taken = true;
  first.lead = { notBefore };
  first.settle(null);
}

// d1.run with a "group": the outcome of the caller's own statement, as a plain run would give it.
export async function runGrouped(e, db, log) {
  const g = groupOf(e.group);
  const me = { sql: e.sql, params: e.params ?? [], taken: false, sent: false, lead: null, settle: null };
  if (!g.busy) return lead(g, [me], db, log);
  let timer;
  const woken = new Promise((resolve) => {
    me.settle = resolve;
    timer = setTimeout(() => resolve(undefined), WAIT_MS);
  });
  g.queue.push(me);
  groupStats.waiting++;
  let got;
  try {
    got = await woken;
  } finally {
    clearTimeout(timer);
    groupStats.waiting--;
  }
  if (me.lead) {
    // Wait out the window in this invocation's own context (its waitUntil keeps it alive), then take
    // whatever queued meanwhile.
    const wait = me.lead.notBefore - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return lead(g, takeBatch(g, me), db, log);
  }
  if (got) {
    if (got.error) throw got.error;
    return got.value;
  }
  // Waited WAIT_MS without an outcome: the batch that holds or would hold this statement did not end.
  if (me.sent) {
    groupStats.unknown++;
    log?.({ level: "error", msg: "grouped D1 batch did not finish in time; its outcome is unknown, the statement is not written again", wait_ms: WAIT_MS }, true);
    throw Object.assign(new Error(`the grouped D1 batch did not finish within ${WAIT_MS} ms`), { name: "Timeout" });
  }
  // Not sent: take it back and write it now. A batch in flight that long is presumed dead (its
  // invocation was cancelled): the group goes on without it, or every later statement would wait too.
  groupStats.fallbacks++;
  if (!me.taken) g.queue.splice(g.queue.indexOf(me), 1);
  me.abandoned = true;
  if (g.busy && Date.now() - g.busy.started >= WAIT_MS) g.busy = null;
  if (!g.busy) return lead(g, [me], db, log);
  groupStats.runs++;
  const r = meta(await db.prepare(me.sql).bind(...me.params).run());
  groupStats.statements++;
  return r;
}
