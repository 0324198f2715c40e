// Bitbucket Cloud 2.0 emulator: API under <url>/2.0 (api.bitbucket.org when reached through the
// proxy), archives at <url>/{workspace}/{slug}/get/{ref}.zip (the web host). See README.md.
import { startServer, json, raw, paginate, postWebhook, hmacHex, newDeliveryId } from "./server.mjs";
import { archive } from "./server.mjs";
import { repoRegistry, tokenList } from "./common-repos.mjs";

const ZERO = "0000000000000000000000000000000000000000";
const NOT_FOUND_MSG = "You may not have access to this repository or it no longer exists in this workspace. If you think this repository exists and you have access, make sure you are authenticated.";
const err = (message, status) => json({ type: "error", error: { message } }, status);

// Bitbucket's partial responses: fields=values.name,values.target.hash,next (inclusions), -owner
// (exclusions), +x (additions, no-op here).
export function applyFields(obj, fields) {
  if (!fields) return obj;
  const parts = fields.split(",").map((s) => s.trim()).filter(Boolean);
  const includes = parts.filter((p) => !p.startsWith("-") && !p.startsWith("+"));
  const excludes = parts.filter((p) => p.startsWith("-")).map((p) => p.slice(1));
  const clone = JSON.parse(JSON.stringify(obj));
  const del = (o, path) => {
    if (Array.isArray(o)) return o.forEach((x) => del(x, path));
    if (!o || typeof o !== "object") return;
    const [h, ...rest] = path;
    if (h === "*") return Object.values(o).forEach((v) => rest.length ? del(v, rest) : null);
    if (!rest.length) delete o[h];
    else del(o[h], rest);
  };
  for (const e of excludes) del(clone, e.split("."));
  if (!includes.length) return clone;
  const tree = {};
  for (const inc of includes) {
    let t = tree;
    for (const k of inc.split(".")) t = t[k] ??= {};
  }
  const pick = (o, t) => {
    if (Array.isArray(o)) return o.map((x) => pick(x, t));
    if (!o || typeof o !== "object" || Object.keys(t).length === 0) return o;
    const out = {};
    for (const [k, sub] of Object.entries(t)) {
      if (k === "*") { for (const [kk, v] of Object.entries(o)) out[kk] = pick(v, sub); continue; }
      if (k in o) out[k] = pick(o[k], sub);
    }
    return out;
  };
  return pick(clone, tree);
}
const getPath = (o, path) => path.split(".").reduce((v, k) => (v == null ? v : v[k]), o);

export async function start(options = {}) {
  const { repos = [], credentials = [], token, tokens, requireAuth = false, pagelenMax = 100, pagelenDefault = 10, tls = false } = options;
  const registry = repoRegistry(repos);
  const validTokens = new Set([...tokenList(token), ...tokenList(tokens)]);
  const validBasic = new Set((Array.isArray(credentials) ? credentials : [credentials]).map((c) => `${c.username}:${c.password}`));
  const state = { repos: registry.repos, addRepo: registry.add, tokens: validTokens };

  const authState = (ctx) => {
    const a = ctx.auth;
    if (!a) return "none";
    if (a.scheme === "bearer") return validTokens.has(a.token) ? "ok" : "bad";
    if (a.scheme === "basic") {
      if (validBasic.has(`${a.username}:${a.password}`)) return "ok";
      if (a.username === "x-token-auth" && validTokens.has(a.password)) return "ok";
      return "bad";
    }
    return "bad";
  };
  const hosts = (ctx) => {
    if (ctx.host === "api.bitbucket.org" || ctx.host === "bitbucket.org") {
      const scheme = ctx.origin.split("://")[0];
      return { api: `${scheme}://api.bitbucket.org/2.0`, web: `${scheme}://bitbucket.org` };
    }
    return { api: `${ctx.origin}/2.0`, web: ctx.origin };
  };

  function repoJson(ctx, repo) {
    const { api, web } = hosts(ctx);
    const self = `${api}/repositories/${repo.name}`;
    const webHost = new URL(web).host;
    const uuid = `{${repo.id.toString(16).padStart(8, "0")}-0000-4000-8000-${repo.id.toString(16).padStart(12, "0")}}`;
    return {
      type: "repository", full_name: repo.name, name: repo.repo, slug: repo.repo, uuid, description: repo.description,
      scm: "git", website: null, is_private: repo.private, has_issues: false, has_wiki: false, fork_policy: "no_public_forks",
      language: "php", size: 1, created_on: "2024-01-01T00:00:00.000000+00:00", updated_on: "2024-01-01T00:00:00.000000+00:00",
      mainbranch: { type: "branch", name: repo.defaultBranch },
      owner: { type: "team", display_name: repo.owner, username: repo.owner, uuid: `{${repo.owner}}` },
      workspace: { type: "workspace", slug: repo.owner, name: repo.owner, uuid: `{${repo.owner}}` },
      project: { type: "project", key: "PROJ", name: "Project" },
      links: {
        self: { href: self }, html: { href: `${web}/${repo.name}` }, avatar: { href: `${web}/${repo.name}/avatar/32` },
        clone: [{ name: "https", href: `${web.replace("://", "://tester@")}/${repo.name}.git` }, { name: "ssh", href: `git@${webHost}:${repo.name}.git` }],
        branches: { href: `${self}/refs/branches` }, tags: { href: `${self}/refs/tags` }, commits: { href: `${self}/commits` },
        source: { href: `${self}/src` }, downloads: { href: `${self}/downloads` }, hooks: { href: `${self}/hooks` },
      },
    };
  }
  function commitJson(ctx, repo, c) {
    const { api, web } = hosts(ctx);
    return {
      type: "commit", hash: c.sha, date: c.date.replace("Z", "+00:00"), message: c.message,
      author: { type: "author", raw: `${c.author.name} <${c.author.email}>` },
      parents: c.parent ? [{ type: "commit", hash: c.parent }] : [],
      links: { self: { href: `${api}/repositories/${repo.name}/commit/${c.sha}` }, html: { href: `${web}/${repo.name}/commits/${c.sha}` } },
    };
  }
  function refJson(ctx, repo, kind, r) {
    const { api, web } = hosts(ctx);
    const o = {
      name: r.name, type: kind === "tags" ? "tag" : "branch", target: commitJson(ctx, repo, repo.getCommit(r.sha)),
      links: { self: { href: `${api}/repositories/${repo.name}/refs/${kind}/${r.name}` }, html: { href: `${web}/${repo.name}/src/${r.name}` } },
    };
    if (kind === "branches") { o.merge_strategies = ["merge_commit"]; o.default_merge_strategy = "merge_commit"; o.heads = [r.sha]; }
    else { o.message = `release ${r.name}\n`; o.date = o.target.date; o.tagger = o.target.author; }
    return o;
  }
  function pagedJson(ctx, list) {
    let items = list;
    const sort = ctx.query.get("sort");
    if (sort) {
      const desc = sort.startsWith("-"), key = sort.replace(/^-/, "");
      items = [...items].sort((a, b) => { const x = getPath(a, key), y = getPath(b, key); return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1); });
    }
    const q = ctx.query.get("q");
    if (q) { const mm = /^name\s*~\s*"(.*)"$/.exec(q); if (mm) items = items.filter((i) => i.name.includes(mm[1])); }
    const pagelen = Math.min(pagelenMax, Math.max(1, parseInt(ctx.query.get("pagelen") ?? "", 10) || pagelenDefault));
    const pg = paginate(items, parseInt(ctx.query.get("page") ?? "1", 10) || 1, pagelen);
    const at = (p) => { const u = new URL(ctx.origin + ctx.fullPath); u.searchParams.set("page", String(p)); return u.toString(); };
    const body = { pagelen, size: pg.total, page: pg.page, values: pg.items };
    if (pg.next) body.next = at(pg.next);
    if (pg.prev) body.previous = at(pg.prev);
    return json(applyFields(body, ctx.query.get("fields")));
  }

  async function handler(ctx) {
    let m;
    const auth = authState(ctx);
    // archives on the web host
    if ((m = /^\/([^/]+)\/([^/]+)\/get\/(.+)\.zip$/.exec(ctx.pathname))) {
      const repo = registry.get(`${m[1]}/${m[2]}`);
      if (auth === "bad") return raw("Unauthorized", 401, { "www-authenticate": 'Basic realm="Bitbucket.org HTTP"' });
      if (!repo || (repo.private && auth !== "ok")) return raw("Not Found", 404);
      const zip = repo.archive(m[3], "bitbucket");
      if (!zip) return raw("Not Found", 404);
      // Built on request and streamed: chunked, no Content-Length.
      return archive(zip, { "content-type": "application/zip", "content-disposition": `attachment; filename="${repo.archivePrefix(m[3], "bitbucket").slice(0, -1)}.zip"` }, { gzip: !!options.archiveGzip });
    }
    if (!(m = /^\/2\.0(\/.*)?$/.exec(ctx.pathname))) return raw("Not Found", 404, { "content-type": "text/plain" });
    const path = m[1] ?? "/";
    if (auth === "bad") return json({ type: "error", error: { message: "Unauthorized" } }, 401, { "www-authenticate": 'Basic realm="Bitbucket.org HTTP"' });
    if (requireAuth && auth !== "ok") return err("Unauthorized", 401);
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return err("Method not allowed", 405);
    if (!(m = /^\/repositories\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path))) return err("Resource not found", 404);
    const repo = registry.get(`${m[1]}/${m[2]}`);
    if (!repo || (repo.private && auth !== "ok")) return err(NOT_FOUND_MSG, 404);
    const sub = m[3] ?? "";
    if (sub === "" || sub === "/") return json(applyFields(repoJson(ctx, repo), ctx.query.get("fields")));
    if ((m = /^\/refs\/(tags|branches)\/?$/.exec(sub))) {
      const list = (m[1] === "tags" ? repo.tags() : repo.branches()).map((r) => refJson(ctx, repo, m[1], r));
      return pagedJson(ctx, list);
    }
    if ((m = /^\/refs\/(tags|branches)\/(.+)$/.exec(sub))) {
      const r = (m[1] === "tags" ? repo.tags() : repo.branches()).find((x) => x.name === m[2]);
      return r ? json(applyFields(refJson(ctx, repo, m[1], r), ctx.query.get("fields"))) : err(`${m[1] === "tags" ? "Tag" : "Branch"} "${m[2]}" does not exist.`, 404);
    }
    if ((m = /^\/commit\/([^/]+)$/.exec(sub))) {
      const c = repo.getCommit(m[1]);
      return c ? json(applyFields(commitJson(ctx, repo, c), ctx.query.get("fields"))) : err(`Commit not found`, 404);
    }
    if ((m = /^\/src\/([^/]+)(?:\/(.*))?$/.exec(sub))) {
      const sha = repo.resolve(m[1]);
      if (!sha) return err(`Commit not found`, 404);
      const p = (m[2] ?? "").replace(/\/+$/, "");
      const buf = p ? repo.fileAt(sha, p) : null;
      if (buf) return raw(buf, 200, { "content-type": p.endsWith(".json") ? "application/json" : "text/plain" });
      const listing = repo.listAt(sha, p);
      if (!listing) return err(`No such file or directory: ${p}`, 404);
      const { api } = hosts(ctx);
      return pagedJson(ctx, listing.map((e) => ({
        path: e.path, type: e.type === "dir" ? "commit_directory" : "commit_file", ...(e.type === "file" ? { size: e.size, mimetype: null, escaped_path: e.path } : {}),
        commit: { type: "commit", hash: sha }, links: { self: { href: `${api}/repositories/${repo.name}/src/${sha}/${e.path}${e.type === "dir" ? "/" : ""}` } },
      })));
    }
    return err("Resource not found", 404);
  }

  const handle = await startServer({ name: "bitbucket", tls, handler, state, rateLimitStyle: "429" });
  state.apiUrl = handle.url + "/2.0";

  // Webhooks as Bitbucket Cloud sends them: X-Event-Key (repo:push), X-Request-UUID, X-Hook-UUID,
  // X-Attempt-Number and, with a secret, X-Hub-Signature: sha256=<hmac of the body>.
  state.sendWebhook = async (targetUrl, event, payload, secret, { headers: extra = {} } = {}) => {
    const body = Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
    const uuid = newDeliveryId();
    const headers = {
      "content-type": "application/json", "user-agent": "Bitbucket-Webhooks/2.0", "x-event-key": event,
      "x-request-uuid": uuid, "x-hook-uuid": "{6f3cbd4f-7a69-4a0b-9b6a-7c2e2f1d1c11}", "x-attempt-number": "1",
      ...(secret != null ? { "x-hub-signature": `sha256=${hmacHex("sha256", secret, body)}` } : {}), ...extra,
    };
    const res = await postWebhook(targetUrl, headers, body);
    return { ...res, delivery: uuid, sent: { body: body.toString("utf8"), headers } };
  };
  // repo:push payload: one change, a tag or branch created/moved to `after`.
  state.pushPayload = (repoName, { ref, before = null, after } = {}) => {
    const repo = registry.get(repoName);
    const isTag = ref.startsWith("refs/tags/") || (!ref.startsWith("refs/heads/") && repo.tags().some((t) => t.name === ref));
    const name = ref.replace(/^refs\/(tags|heads)\//, "");
    const sha = after ?? repo.resolve(ref);
    const ctx = { origin: handle.url, host: "" };
    const target = (s) => (s ? { type: "commit", hash: s, date: repo.getCommit(s)?.date.replace("Z", "+00:00") ?? null, message: repo.getCommit(s)?.message ?? "" } : null);
    const r = repoJson(ctx, repo);
    return {
      push: { changes: [{
        old: before && before !== ZERO ? { type: isTag ? "tag" : "branch", name, target: target(before) } : null,
        new: sha && sha !== ZERO ? { type: isTag ? "tag" : "branch", name, target: target(sha) } : null,
        created: !before || before === ZERO, closed: !sha || sha === ZERO, forced: false, truncated: false, commits: [],
      }] },
      repository: { type: "repository", full_name: r.full_name, name: r.name, uuid: r.uuid, is_private: r.is_private, scm: "git", links: { html: r.links.html, self: r.links.self }, workspace: r.workspace, project: r.project },
      actor: { type: "user", display_name: "Tester", nickname: "tester", uuid: "{00000000-0000-4000-8000-000000000001}" },
    };
  };
  return { url: handle.url, apiUrl: state.apiUrl, port: handle.port, state, stop: handle.stop };
}
