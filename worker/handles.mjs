// Host body handles: streams that stay in JS (request bodies, R2 objects, upstream responses, cache
// hits) and that C++ names by number. A handle is consumed when used; each invocation has its own table.
export class Handles {
  constructor() {
    this.next = 1;
    this.map = new Map();
  }
  add(stream, meta = {}) {
    const id = this.next++;
    this.map.set(id, { stream, ...meta });
    return id;
  }
  // Handle 0 is the request body (set by the entry point).
  setRequestBody(stream, meta = {}) {
    this.map.set(0, { stream, ...meta });
  }
  take(id) {
    const h = this.map.get(id);
    if (!h) throw Object.assign(new Error(`unknown or already used body handle ${id}`), { name: "BadHandle" });
    this.map.delete(id);
    return h;
  }
  // Whether release() has streams to cancel.
  get open() {
    return this.map.size > (this.map.has(0) ? 1 : 0);
  }
  // Cancels streams nobody used, so upstream connections are released. Not the request body: the
  // runtime discards an unread request body itself, and touching it after the response (a cancel or a
  // drain in waitUntil) stalls the next request under `wrangler dev`, whose proxy waits for its own
  // body-draining middleware (docs/OPERATIONS.md).
  async release() {
    this.map.delete(0);
    const pending = [...this.map.values()];
    this.map.clear();
    await Promise.allSettled(pending.map((h) => h.stream?.cancel?.()));
  }
}
