// The floor for `scripts/bench --composer`: a Worker that serves a static Composer repository from
// memory, as nginx serves it from disk. FILES is one blob of every file, INDEX maps a path to
// [offset, length, content type]; every file has the same Last-Modified and a matching
// If-Modified-Since gets 304 (what nginx does). POST /downloads and /api/security-advisories get the
// answers the broker gave (ANSWERS). Running in workerd next to the broker, it shows how much of the
// broker's time is the runtime's and how much the broker's own.
let index = null;

export default {
  fetch(request, env) {
    const response = serve(request, env);
    // One log line per request, as the broker logs with PB_LOG=requests (the bench counts them).
    console.log(`{"method":${JSON.stringify(request.method)},"path":${JSON.stringify(new URL(request.url).pathname)},"status":${response.status}}`);
    return response;
  },
};

function serve(request, env) {
  {
    index ??= JSON.parse(env.INDEX);
    const url = new URL(request.url);
    const answers = JSON.parse(env.ANSWERS);
    const canned = { "/downloads": answers.downloads, "/api/security-advisories": answers.advisories }[url.pathname];
    if (canned) return new Response(canned.body, { status: canned.status, headers: { "content-type": "application/json" } });
    const entry = request.method === "GET" || request.method === "HEAD" ? index[url.pathname] : undefined;
    if (!entry) return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
    const lastModified = env.LAST_MODIFIED;
    if (request.headers.get("if-modified-since") === lastModified) return new Response(null, { status: 304, headers: { "last-modified": lastModified } });
    const [offset, length, type] = entry;
    return new Response(new Uint8Array(env.FILES, offset, length), { headers: { "content-type": type, "last-modified": lastModified } });
  }
}
