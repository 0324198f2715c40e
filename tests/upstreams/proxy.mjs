// A CONNECT proxy on 127.0.0.1 that hands tunnels for chosen host names to emulators running with
// tls: true (their certificate covers github.com, api.github.com, codeload.github.com, bitbucket.org,
// api.bitbucket.org, ...; see tls.mjs). It lets a client whose code hard-codes a provider's public
// host (composer's Bitbucket driver, or its GitHub driver for github.com) reach an emulator, through
// `https_proxy=<proxy url>` plus composer's `cafile`. Nothing is ever forwarded anywhere else: a
// CONNECT to another host, or a plain proxied HTTP request, gets 403 and is logged.
import http from "node:http";

// routes: { "api.bitbucket.org": <emulator handle or state>, ... } (port 443 implied; "host:port" keys
// are accepted too). Returns { url, port, state: { requests, routes }, stop() }.
export async function start({ routes = {} } = {}) {
  const state = { requests: [], routes: { ...routes } };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    state.requests.push({ method: req.method, target: req.url, status: 403, time: new Date().toISOString() });
    res.writeHead(403, { "content-type": "text/plain", connection: "close" });
    res.end("this test proxy only tunnels to the emulators\n");
  });
  server.on("connection", (s) => { sockets.add(s); s.once("close", () => sockets.delete(s)); });
  server.on("connect", (req, socket, head) => {
    const target = String(req.url).toLowerCase();
    const host = target.replace(/:443$/, "");
    const route = state.routes[target] ?? state.routes[host];
    const acceptConnection = route?.state?.acceptConnection ?? route?.acceptConnection;
    const entry = { method: "CONNECT", target, status: acceptConnection ? 200 : 403, time: new Date().toISOString() };
    state.requests.push(entry);
    if (!acceptConnection) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head?.length) socket.unshift(head);
    acceptConnection(socket);
  });
  server.on("clientError", (_e, s) => { try { s.destroy(); } catch {} });
  await new Promise((resolve, reject) => { server.once("error", reject); server.listen(0, "127.0.0.1", resolve); });
  const port = server.address().port;
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`, port, state,
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = new Promise((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000).unref())]);
    },
  };
}
