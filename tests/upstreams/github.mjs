// GitHub REST v3 emulator, usable as GitHub Enterprise (API under <url>/api/v3) and optionally with the
// api.github.com layout (API at the root). Archives come from codeload, a second server on its own
// origin, as on github.com. As strict as GitHub: 403 without a User-Agent, per-repository token grants
// (a valid token without access to a private repository gets 404), and a separate rate-limit bucket
// for anonymous requests. See README.md for endpoints and options.
import { randomBytes } from "node:crypto";
import { startServer, json, raw, redirect, paginate, postWebhook, hmacHex, newDeliveryId } from "./server.mjs";
import { archive } from "./server.mjs";
import { blobSha } from "./repo-model.mjs";
import { repoRegistry, tokenList } from "./common-repos.mjs";

const NOT_FOUND = { message: "Not Found", documentation_url: "https://docs.github.com/rest" };
const ZERO = "0000000000000000000000000000000000000000";

export async function start(options = {}) {
  const {
    repos = [], token, tokens, requireAuth = false, perPageMax = 100, perPageDefault = 30,
    apiRoot = false, tls = false, rateLimit = 5000, anonRateLimit = 60, apiPrefix = "/api/v3", grants = {},
  } = options;
  const registry = repoRegistry(repos);
  const valid = new Set([...tokenList(token), ...tokenList(tokens)]);
  const codeloadTokens = new Map(); // token -> repo name (private repo archive links)
  const state = {
    repos: registry.repos,
    addRepo: registry.add,
    rateLimit: { limit: rateLimit, remaining: rateLimit, reset: Math.floor(Date.now() / 1000) + 3600 },
    // Requests without a token count against their own, much smaller bucket (per IP on GitHub).
    anonRateLimit: { limit: anonRateLimit, remaining: anonRateLimit, reset: Math.floor(Date.now() / 1000) + 3600 },
    tokens: valid,
    // token -> ["owner/repo", ...]: that token sees those private repositories only (fine-grained
    // tokens); a token not listed sees every repository.
    grants: Object.fromEntries(Object.entries(grants).map(([t, list]) => [t, new Set(list.map((n) => n.toLowerCase()))])),
  };

  function tokenOf(ctx) {
    const a = ctx.auth;
    if (!a) return null;
    const candidates = a.scheme === "basic" ? [a.password, a.username] : [a.token];
    return candidates.find((c) => c && valid.has(c)) ?? null;
  }
  function authState(ctx) {
    if (!ctx.auth) return "none";
    return tokenOf(ctx) ? "ok" : "bad";
  }
  // Whether the request may see the repository: public ones always, private ones with a token granted them.
  function mayRead(ctx, repo) {
    if (!repo.private) return true;
    const t = tokenOf(ctx);
    if (!t) return false;
    const g = state.grants[t];
    return !g || g.has(repo.name.toLowerCase());
  }

  function bucket(ctx) { return authState(ctx) === "ok" ? state.rateLimit : state.anonRateLimit; }
  function rateHeaders(ctx) {
    const rl = ctx ? bucket(ctx) : state.rateLimit;
    return {
      "x-ratelimit-limit": String(rl.limit), "x-ratelimit-remaining": String(Math.max(0, rl.remaining)),
      "x-ratelimit-reset": String(rl.reset), "x-ratelimit-used": String(rl.limit - Math.max(0, rl.remaining)),
      "x-ratelimit-resource": "core",
    };
  }
  let current = null; // the request being answered (rate-limit headers show its bucket)
  const apiJson = (body, status = 200, extra = {}) => json(body, status, {
    "content-type": "application/json; charset=utf-8", "x-github-media-type": "github.v3; format=json",
    "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(), ...rateHeaders(current), ...extra,
  });

  const apiBase = (ctx) => (ctx.host === "api.github.com" ? ctx.origin : ctx.origin + apiPrefix);
  const webBase = (ctx) => (ctx.host === "api.github.com" ? ctx.origin.replace("://api.", "://") : ctx.origin);

  function repoJson(ctx, repo) {
    const api = `${apiBase(ctx)}/repos/${repo.name}`;
    const web = `${webBase(ctx)}/${repo.name}`;
    return {
      id: repo.id, node_id: Buffer.from(`010:Repository${repo.id}`).toString("base64"), name: repo.repo, full_name: repo.name,
      private: repo.private, visibility: repo.private ? "private" : "public",
      owner: { login: repo.owner, id: repo.id + 1, type: "Organization", url: `${apiBase(ctx)}/users/${repo.owner}`, html_url: `${webBase(ctx)}/${repo.owner}` },
      html_url: web, description: repo.description || null, fork: false, url: api,
      tags_url: `${api}/tags`, branches_url: `${api}/branches{/branch}`, contents_url: `${api}/contents/{+path}`,
      archive_url: `${api}/{archive_format}{/ref}`, git_refs_url: `${api}/git/refs{/sha}`,
      git_url: `git://${new URL(web).host}/${repo.name}.git`, ssh_url: `git@${new URL(web).hostname}:${repo.name}.git`,
      clone_url: `${web}.git`, homepage: null, size: 1, default_branch: repo.defaultBranch,
      has_issues: true, has_wiki: false, archived: false, disabled: false,
      created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z", pushed_at: "2024-01-01T00:00:00Z",
      permissions: authState(ctx) === "ok" ? { admin: false, maintain: false, push: false, triage: false, pull: true } : undefined,
    };
  }

  function linkHeader(ctx, pg) {
    const links = [];
    const at = (p) => {
      const u = new URL(ctx.origin + ctx.fullPath);
      u.searchParams.set("per_page", String(pg.perPage));
      u.searchParams.set("page", String(p));
      return u.toString();
    };
    if (pg.prev) links.push(`<${at(pg.prev)}>; rel="prev"`);
    if (pg.next) links.push(`<${at(pg.next)}>; rel="next"`);
    if (pg.page < pg.totalPages) links.push(`<${at(pg.totalPages)}>; rel="last"`);
    if (pg.page > 1) links.push(`<${at(1)}>; rel="first"`);
    return links.length ? { link: links.join(", ") } : {};
  }
  function paged(ctx, list) {
    const perPage = Math.min(perPageMax, Math.max(1, parseInt(ctx.query.get("per_page") ?? "", 10) || perPageDefault));
    const pg = paginate(list, parseInt(ctx.query.get("page") ?? "1", 10) || 1, perPage);
    return apiJson(pg.items, 200, linkHeader(ctx, pg));
  }

  function commitJson(ctx, repo, c) {
    const api = `${apiBase(ctx)}/repos/${repo.name}`;
    const person = { name: c.author.name, email: c.author.email, date: c.date };
    return {
      sha: c.sha, node_id: Buffer.from(`04:Commit${c.sha}`).toString("base64"),
      commit: { author: person, committer: person, message: c.message, tree: { sha: c.treeId, url: `${api}/git/trees/${c.treeId}` }, url: `${api}/git/commits/${c.sha}` },
      url: `${api}/commits/${c.sha}`, html_url: `${webBase(ctx)}/${repo.name}/commit/${c.sha}`,
      parents: c.parent ? [{ sha: c.parent, url: `${api}/commits/${c.parent}` }] : [],
      files: [],
    };
  }

  function codeloadResponse(repo, ref) {
    const zip = repo.archive(ref, "github");
    if (!zip) return raw("404: Not Found", 404, { "content-type": "text/plain; charset=utf-8" });
    const sha = repo.resolve(ref);
    // codeload builds archives on the fly: chunked, no Content-Length.
    return archive(zip, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename=${repo.archivePrefix(ref, "github").slice(0, -1)}.zip`,
      etag: `"${sha}"`,
    }, { gzip: !!options.archiveGzip });
  }

  // codeload: the zipball redirect target, on its own server (codeload.github.com through the proxy).
  async function codeloadHandler(ctx) {
    const m = /^\/([^/]+)\/([^/]+)\/(?:legacy\.)?zip\/(.+)$/.exec(ctx.pathname);
    if (!m || (ctx.method !== "GET" && ctx.method !== "HEAD")) return raw("404: Not Found", 404, { "content-type": "text/plain; charset=utf-8" });
    const repo = registry.get(`${m[1]}/${m[2]}`);
    if (!repo) return raw("404: Not Found", 404);
    if (repo.private) {
      const t = ctx.query.get("token");
      if (!t || codeloadTokens.get(t) !== repo.name) return raw("404: Not Found", 404);
    }
    return codeloadResponse(repo, m[3]);
  }

  async function handler(ctx) {
    current = ctx;
    let m;
    let path = null;
    if (ctx.host === "api.github.com") path = ctx.pathname;
    else if (ctx.pathname === apiPrefix || ctx.pathname.startsWith(apiPrefix + "/")) path = ctx.pathname.slice(apiPrefix.length) || "/";
    else if (apiRoot) path = ctx.pathname;
    if (path === null) return raw("Not Found", 404, { "content-type": "text/plain" });

    // the API. GitHub refuses requests without a User-Agent before anything else.
    if (!String(ctx.headers["user-agent"] ?? "").trim()) {
      return raw("\r\nRequest forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\r\n", 403, { "content-type": "text/html", connection: "close" });
    }
    const auth = authState(ctx);
    if (auth === "bad") return apiJson({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest" }, 401);
    if (requireAuth && auth !== "ok") return apiJson({ message: "Requires authentication", documentation_url: "https://docs.github.com/rest" }, 401);
    const rl = bucket(ctx);
    if (Date.now() / 1000 >= rl.reset) { rl.remaining = rl.limit; rl.reset = Math.floor(Date.now() / 1000) + 3600; }
    if (path !== "/rate_limit") {
      if (rl.remaining <= 0) {
        return apiJson({ message: "API rate limit exceeded for 127.0.0.1.", documentation_url: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting" }, 403);
      }
      rl.remaining--;
    }
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return apiJson({ message: "Not Found" }, 404);

    if (path === "/" || path === "") return apiJson({ current_user_url: `${apiBase(ctx)}/user`, repository_url: `${apiBase(ctx)}/repos/{owner}/{repo}`, rate_limit_url: `${apiBase(ctx)}/rate_limit` });
    if (path === "/rate_limit") return apiJson({ resources: { core: { limit: rl.limit, remaining: rl.remaining, reset: rl.reset, used: rl.limit - rl.remaining } }, rate: { limit: rl.limit, remaining: rl.remaining, reset: rl.reset, used: rl.limit - rl.remaining } });

    if (!(m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path))) return apiJson(NOT_FOUND, 404);
    const repo = registry.get(`${m[1]}/${m[2]}`);
    if (!repo || !mayRead(ctx, repo)) return apiJson(NOT_FOUND, 404);
    const sub = m[3] ?? "";
    const api = `${apiBase(ctx)}/repos/${repo.name}`;

    if (sub === "" || sub === "/") return apiJson(repoJson(ctx, repo));
    if (sub === "/tags") {
      // GitHub lists tags newest first (by tag name, descending)
      const list = repo.tags().reverse().map((t) => ({
        name: t.name, zipball_url: `${api}/zipball/refs/tags/${t.name}`, tarball_url: `${api}/tarball/refs/tags/${t.name}`,
        commit: { sha: t.sha, url: `${api}/commits/${t.sha}` }, node_id: Buffer.from(`03:Ref${repo.id}:refs/tags/${t.name}`).toString("base64"),
      }));
      return paged(ctx, list);
    }
    if (sub === "/branches") {
      return paged(ctx, repo.branches().map((b) => ({ name: b.name, commit: { sha: b.sha, url: `${api}/commits/${b.sha}` }, protected: false })));
    }
    if ((m = /^\/branches\/(.+)$/.exec(sub))) {
      const sha = repo.branches().find((b) => b.name === m[1])?.sha;
      if (!sha) return apiJson({ message: "Branch not found", documentation_url: "https://docs.github.com/rest" }, 404);
      return apiJson({ name: m[1], commit: commitJson(ctx, repo, repo.getCommit(sha)), protected: false, _links: { self: `${api}/branches/${m[1]}`, html: `${webBase(ctx)}/${repo.name}/tree/${m[1]}` } });
    }
    if ((m = /^\/git\/(?:matching-)?refs(?:\/(heads|tags))?\/?$/.exec(sub))) {
      const refs = [];
      if (!m[1] || m[1] === "heads") for (const b of repo.branches()) refs.push({ ref: `refs/heads/${b.name}`, sha: b.sha });
      if (!m[1] || m[1] === "tags") for (const t of repo.tags()) refs.push({ ref: `refs/tags/${t.name}`, sha: t.sha });
      return paged(ctx, refs.map((r) => ({
        ref: r.ref, node_id: Buffer.from(`03:Ref${repo.id}:${r.ref}`).toString("base64"), url: `${api}/git/${r.ref}`,
        object: { sha: r.sha, type: "commit", url: `${api}/git/commits/${r.sha}` },
      })));
    }
    if ((m = /^\/commits\/(.+)$/.exec(sub))) {
      const c = repo.getCommit(m[1]);
      if (!c) return apiJson({ message: `No commit found for SHA: ${m[1]}`, documentation_url: "https://docs.github.com/rest" }, 422);
      return apiJson(commitJson(ctx, repo, c));
    }
    if ((m = /^\/contents(?:\/(.*))?$/.exec(sub))) {
      const filePath = (m[1] ?? "").replace(/\/+$/, "");
      const ref = ctx.query.get("ref") ?? repo.defaultBranch;
      const sha = repo.resolve(ref);
      if (!sha) return apiJson({ message: `No commit found for the ref ${ref}`, documentation_url: "https://docs.github.com/rest/repos/contents" }, 404);
      const buf = filePath ? repo.fileAt(sha, filePath) : null;
      const accept = String(ctx.headers.accept ?? "");
      const linkFor = (p, type) => ({
        self: `${api}/contents/${p}?ref=${encodeURIComponent(ref)}`,
        git: `${api}/git/${type === "dir" ? "trees" : "blobs"}/${type === "dir" ? sha : blobSha(repo.fileAt(sha, p))}`,
        html: `${webBase(ctx)}/${repo.name}/${type === "dir" ? "tree" : "blob"}/${ref}/${p}`,
      });
      if (buf) {
        if (/application\/vnd\.github(\.v3)?\.raw/.test(accept)) return raw(buf, 200, { "content-type": "text/plain; charset=utf-8", ...rateHeaders(ctx) });
        const links = linkFor(filePath, "file");
        return apiJson({
          type: "file", encoding: "base64", size: buf.length, name: filePath.split("/").pop(), path: filePath,
          content: buf.toString("base64").replace(/(.{60})/g, "$1\n") + "\n", sha: blobSha(buf),
          url: links.self, git_url: links.git, html_url: links.html,
          download_url: `${webBase(ctx)}/${repo.name}/raw/${sha}/${filePath}`, _links: links,
        });
      }
      const listing = repo.listAt(sha, filePath);
      if (!listing) return apiJson({ message: "Not Found", documentation_url: "https://docs.github.com/rest/repos/contents#get-repository-content" }, 404);
      return apiJson(listing.map((e) => {
        const links = linkFor(e.path, e.type);
        return { type: e.type, size: e.size, name: e.name, path: e.path, sha: e.type === "file" ? blobSha(repo.fileAt(sha, e.path)) : sha, url: links.self, git_url: links.git, html_url: links.html, download_url: e.type === "file" ? `${webBase(ctx)}/${repo.name}/raw/${sha}/${e.path}` : null, _links: links };
      }));
    }
    if ((m = /^\/zipball(?:\/(.+))?$/.exec(sub))) {
      const ref = m[1] ?? repo.defaultBranch;
      const sha = repo.resolve(ref);
      if (!sha) return apiJson(NOT_FOUND, 404);
      const legacyRef = ref.startsWith("refs/") ? ref : /^[0-9a-f]{40}$/.test(ref) ? ref : repo.tags().some((t) => t.name === ref) ? `refs/tags/${ref}` : `refs/heads/${ref}`;
      let loc = ctx.host === "api.github.com"
        ? `${ctx.origin.replace("://api.github.com", "://codeload.github.com")}/${repo.name}/legacy.zip/${legacyRef}`
        : `${codeload.url}/${repo.name}/legacy.zip/${legacyRef}`;
      if (repo.private) {
        const t = "AAA" + randomBytes(12).toString("hex").toUpperCase();
        codeloadTokens.set(t, repo.name);
        if (codeloadTokens.size > 1000) codeloadTokens.delete(codeloadTokens.keys().next().value);
        loc += `?token=${t}`;
      }
      return redirect(loc, 302, rateHeaders(ctx));
    }
    return apiJson(NOT_FOUND, 404);
  }

  const codeloadState = {};
  const codeload = await startServer({ name: "codeload", tls, handler: codeloadHandler, state: codeloadState });
  const handle = await startServer({ name: "github", tls, handler, state, rateLimitStyle: "github" });
  state.apiUrl = handle.url + apiPrefix;
  state.codeloadUrl = codeload.url;

  // Webhooks: POSTs `payload` (object or string) to targetUrl as GitHub does, signed with `secret`
  // (X-Hub-Signature-256: sha256=<hmac>, and the legacy sha1 X-Hub-Signature). Resolves the receiver's
  // { status, headers, body }, plus `delivery` (the X-GitHub-Delivery id) and `sent` (body, headers).
  state.sendWebhook = async (targetUrl, event, payload, secret, { headers: extra = {} } = {}) => {
    const body = Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
    const delivery = newDeliveryId();
    const headers = {
      "content-type": "application/json", "user-agent": "GitHub-Hookshot/8a5e2b1", accept: "*/*",
      "x-github-event": event, "x-github-delivery": delivery, "x-github-hook-id": "4242",
      "x-github-hook-installation-target-type": "repository", "x-github-hook-installation-target-id": "1",
      ...(secret != null ? { "x-hub-signature": `sha1=${hmacHex("sha1", secret, body)}`, "x-hub-signature-256": `sha256=${hmacHex("sha256", secret, body)}` } : {}),
      ...extra,
    };
    const res = await postWebhook(targetUrl, headers, body);
    return { ...res, delivery, sent: { body: body.toString("utf8"), headers } };
  };
  // Payloads shaped like GitHub's: push (a branch or tag ref moved) and create (a tag or branch created).
  state.pushPayload = (repoName, { ref, before = ZERO, after } = {}) => {
    const repo = registry.get(repoName);
    const fullRef = ref.startsWith("refs/") ? ref : repo.tags().some((t) => t.name === ref) ? `refs/tags/${ref}` : `refs/heads/${ref}`;
    const sha = after ?? repo.resolve(fullRef) ?? ZERO;
    const c = repo.getCommit(sha);
    const ctx = { host: "", origin: handle.url };
    const head = c ? { id: c.sha, tree_id: c.treeId, distinct: true, message: c.message, timestamp: c.date, url: `${handle.url}/${repo.name}/commit/${c.sha}`, author: c.author, committer: c.author, added: [], removed: [], modified: [] } : null;
    return {
      ref: fullRef, before, after: sha, created: before === ZERO, deleted: sha === ZERO, forced: false, base_ref: null,
      compare: `${handle.url}/${repo.name}/compare/${before.slice(0, 12)}...${sha.slice(0, 12)}`,
      commits: fullRef.startsWith("refs/heads/") && head ? [head] : [], head_commit: head,
      repository: { ...repoJson(ctx, repo), permissions: undefined },
      pusher: { name: "tester", email: "tester@example.test" }, sender: { login: "tester", id: 1, type: "User" },
    };
  };
  state.createPayload = (repoName, { ref, refType = "tag" } = {}) => {
    const repo = registry.get(repoName);
    return { ref, ref_type: refType, master_branch: repo.defaultBranch, description: repo.description || null, pusher_type: "user", repository: { ...repoJson({ host: "", origin: handle.url }, repo), permissions: undefined }, sender: { login: "tester", id: 1, type: "User" } };
  };
  const stop = async () => { await Promise.all([handle.stop(), codeload.stop()]); };
  return {
    url: handle.url, apiUrl: state.apiUrl, codeloadUrl: codeload.url, port: handle.port, state, stop,
    codeload: { url: codeload.url, port: codeload.port, state: codeload.state, stop: codeload.stop },
  };
}
