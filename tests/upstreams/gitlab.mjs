// GitLab REST v4 emulator (gitlab.com or self-hosted: API under <url>/api/v4). See README.md.
import { startServer, json, raw, paginate, postWebhook, newDeliveryId } from "./server.mjs";
import { archive } from "./server.mjs";
import { blobSha } from "./repo-model.mjs";
import { repoRegistry, tokenList } from "./common-repos.mjs";

const ZERO = "0000000000000000000000000000000000000000";

export async function start(options = {}) {
  const { repos = [], token, tokens, requireAuth = false, perPageMax = 100, perPageDefault = 20, tls = false } = options;
  const registry = repoRegistry(repos);
  const valid = new Set([...tokenList(token), ...tokenList(tokens)]);
  const state = { repos: registry.repos, addRepo: registry.add, tokens: valid };

  const authState = (ctx) => {
    const a = ctx.auth;
    if (!a) return ctx.query.get("private_token") ? (valid.has(ctx.query.get("private_token")) ? "ok" : "bad") : "none";
    if (a.scheme === "private-token" || a.scheme === "bearer") return valid.has(a.token) ? "ok" : "bad";
    if (a.scheme === "basic") return valid.has(a.password) ? "ok" : "bad"; // e.g. oauth2:<token>
    return "bad";
  };
  const apiJson = (body, status = 200, extra = {}) => json(body, status, { "content-type": "application/json", "cache-control": "max-age=0, private, must-revalidate", "x-request-id": newDeliveryId().replace(/-/g, ""), ...extra });

  function projectJson(ctx, repo, authed) {
    const web = `${ctx.origin}/${repo.name}`;
    const ns = repo.owner;
    const p = {
      id: repo.id, description: repo.description || null, name: repo.repo, name_with_namespace: `${ns} / ${repo.repo}`,
      path: repo.repo, path_with_namespace: repo.name, created_at: "2024-01-01T00:00:00.000Z",
      default_branch: repo.defaultBranch, tag_list: [], topics: [],
      ssh_url_to_repo: `git@${new URL(ctx.origin).hostname}:${repo.name}.git`, http_url_to_repo: `${web}.git`, web_url: web,
      readme_url: null, avatar_url: null, forks_count: 0, star_count: 0, last_activity_at: "2024-01-01T00:00:00.000Z",
      namespace: { id: repo.id + 1, name: ns, path: ns, kind: "group", full_path: ns, parent_id: null, web_url: `${ctx.origin}/groups/${ns}` },
      _links: { self: `${ctx.origin}/api/v4/projects/${repo.id}`, repo_branches: `${ctx.origin}/api/v4/projects/${repo.id}/repository/branches` },
      archived: false, visibility: repo.private ? "private" : "public", repository_access_level: "enabled",
      empty_repo: false,
    };
    if (authed) p.permissions = { project_access: { access_level: 30, notification_level: 3 }, group_access: null };
    return p;
  }
  function commitJson(ctx, repo, c) {
    return {
      id: c.sha, short_id: c.sha.slice(0, 8), created_at: c.date.replace("Z", ".000+00:00"), parent_ids: c.parent ? [c.parent] : [],
      title: c.message.split("\n")[0], message: c.message, author_name: c.author.name, author_email: c.author.email,
      authored_date: c.date.replace("Z", ".000+00:00"), committer_name: c.author.name, committer_email: c.author.email,
      committed_date: c.date.replace("Z", ".000+00:00"), trailers: {}, web_url: `${ctx.origin}/${repo.name}/-/commit/${c.sha}`,
    };
  }
  function paged(ctx, list) {
    const perPage = Math.min(perPageMax, Math.max(1, parseInt(ctx.query.get("per_page") ?? "", 10) || perPageDefault));
    const pg = paginate(list, parseInt(ctx.query.get("page") ?? "1", 10) || 1, perPage);
    const at = (p) => {
      const u = new URL(ctx.origin + ctx.fullPath);
      u.searchParams.set("page", String(p));
      u.searchParams.set("per_page", String(pg.perPage));
      return u.toString();
    };
    const links = [];
    if (pg.prev) links.push(`<${at(pg.prev)}>; rel="prev"`);
    if (pg.next) links.push(`<${at(pg.next)}>; rel="next"`);
    links.push(`<${at(1)}>; rel="first"`, `<${at(pg.totalPages)}>; rel="last"`);
    return apiJson(pg.items, 200, {
      link: links.join(", "), "x-page": String(pg.page), "x-per-page": String(pg.perPage),
      "x-next-page": pg.next ? String(pg.next) : "", "x-prev-page": pg.prev ? String(pg.prev) : "",
      "x-total": String(pg.total), "x-total-pages": String(pg.totalPages),
    });
  }

  async function handler(ctx) {
    let m;
    // web archive URL (what the UI's "Download zip" uses): /<ns>/<repo>/-/archive/<ref>/<name>.zip
    if ((m = /^\/(.+?)\/-\/archive\/([^/]+)\/[^/]+\.zip$/.exec(ctx.pathname))) {
      const repo = registry.get(m[1]);
      if (!repo || (repo.private && authState(ctx) !== "ok")) return raw("Not Found", 404);
      const zip = repo.archive(m[2], "gitlab");
      return zip ? archive(zip, { "content-type": "application/zip" }, { gzip: !!options.archiveGzip }) : raw("Not Found", 404);
    }
    // the raw path keeps %2F in the project id: match on the undecoded path
    const rawPath = ctx.url.pathname;
    if (!(m = /^\/api\/v4(\/.*)?$/.exec(rawPath))) return raw("Not Found", 404, { "content-type": "text/plain" });
    const path = m[1] ?? "/";
    const auth = authState(ctx);
    if (auth === "bad") return apiJson({ message: "401 Unauthorized" }, 401);
    if (requireAuth && auth !== "ok") return apiJson({ message: "401 Unauthorized" }, 401);
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return apiJson({ error: "405 Method Not Allowed" }, 405);
    if (path === "/version") return apiJson({ version: "16.11.0-ee", revision: "emulator" });
    if (!(m = /^\/projects\/([^/]+)(\/.*)?$/.exec(path))) return apiJson({ error: "404 Not Found" }, 404);
    const id = decodeURIComponent(m[1]);
    const repo = /^\d+$/.test(id) ? [...registry.repos.values()].find((r) => String(r.id) === id) : registry.get(id);
    if (!repo || (repo.private && auth !== "ok")) return apiJson({ message: "404 Project Not Found" }, 404);
    const sub = m[2] ?? "";

    if (sub === "" || sub === "/") return apiJson(projectJson(ctx, repo, auth === "ok"));
    if (sub === "/repository/tags") {
      const list = repo.tags().reverse().map((t) => {
        const c = repo.getCommit(t.sha);
        return { name: t.name, message: "", target: t.sha, commit: commitJson(ctx, repo, c), release: null, protected: false, created_at: null };
      });
      return paged(ctx, list);
    }
    if (sub === "/repository/branches") {
      return paged(ctx, repo.branches().map((b) => ({
        name: b.name, commit: commitJson(ctx, repo, repo.getCommit(b.sha)), merged: false, protected: b.name === repo.defaultBranch,
        developers_can_push: false, developers_can_merge: false, can_push: false, default: b.name === repo.defaultBranch,
        web_url: `${ctx.origin}/${repo.name}/-/tree/${b.name}`,
      })));
    }
    if ((m = /^\/repository\/commits\/([^/]+)$/.exec(sub))) {
      const c = repo.getCommit(decodeURIComponent(m[1]));
      return c ? apiJson({ ...commitJson(ctx, repo, c), stats: { additions: 0, deletions: 0, total: 0 }, status: null }) : apiJson({ message: "404 Commit Not Found" }, 404);
    }
    if ((m = /^\/repository\/files\/([^/]+)(\/raw)?$/.exec(sub))) {
      const filePath = decodeURIComponent(m[1]);
      const ref = ctx.query.get("ref");
      if (!ref) return apiJson({ error: "ref is missing" }, 400);
      const sha = repo.resolve(ref);
      const buf = sha ? repo.fileAt(sha, filePath) : null;
      if (!buf) return apiJson({ message: "404 File Not Found" }, 404);
      const c = repo.getCommit(sha);
      const meta = {
        "x-gitlab-blob-id": blobSha(buf), "x-gitlab-commit-id": sha, "x-gitlab-file-name": filePath.split("/").pop(),
        "x-gitlab-file-path": filePath, "x-gitlab-ref": ref, "x-gitlab-size": String(buf.length), "x-gitlab-encoding": "base64",
        "x-gitlab-last-commit-id": c.sha,
      };
      if (m[2]) return raw(buf, 200, { "content-type": "text/plain; charset=utf-8", ...meta });
      return apiJson({
        file_name: filePath.split("/").pop(), file_path: filePath, size: buf.length, encoding: "base64",
        content_sha256: (await import("node:crypto")).createHash("sha256").update(buf).digest("hex"), ref,
        blob_id: blobSha(buf), commit_id: sha, last_commit_id: c.sha, execute_filemode: false, content: buf.toString("base64"),
      }, 200, meta);
    }
    if ((m = /^\/repository\/archive(\.zip)?$/.exec(sub))) {
      if (!m[1] && ctx.query.get("format") !== "zip") return apiJson({ error: "only zip archives are emulated (use archive.zip)" }, 400);
      const ref = ctx.query.get("sha") ?? repo.defaultBranch;
      const zip = repo.archive(ref, "gitlab");
      if (!zip) return apiJson({ message: "404 File Not Found" }, 404);
      const name = repo.archivePrefix(ref, "gitlab").slice(0, -1);
      // Archives are generated on request and streamed: chunked, no Content-Length.
      return archive(zip, { "content-type": "application/zip", "content-disposition": `attachment; filename="${name}.zip"`, "content-transfer-encoding": "binary" }, { gzip: !!options.archiveGzip });
    }
    return apiJson({ error: "404 Not Found" }, 404);
  }

  const handle = await startServer({ name: "gitlab", tls, handler, state, rateLimitStyle: "429" });
  state.apiUrl = handle.url + "/api/v4";

  // Webhooks as GitLab sends them: X-Gitlab-Event ("Push Hook" | "Tag Push Hook"), X-Gitlab-Token
  // (the secret, verbatim), X-Gitlab-Event-UUID, X-Gitlab-Instance.
  state.sendWebhook = async (targetUrl, event, payload, secret, { headers: extra = {} } = {}) => {
    const body = Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
    const uuid = newDeliveryId();
    const headers = {
      "content-type": "application/json", "user-agent": "GitLab/16.11.0-ee", "x-gitlab-event": event,
      "x-gitlab-event-uuid": uuid, "x-gitlab-webhook-uuid": "6d8a0d9e-5a3b-4a8b-9c0e-0b0a1c2d3e4f",
      "x-gitlab-instance": handle.url, ...(secret != null ? { "x-gitlab-token": secret } : {}), ...extra,
    };
    const res = await postWebhook(targetUrl, headers, body);
    return { ...res, delivery: uuid, sent: { body: body.toString("utf8"), headers } };
  };
  // Push / tag-push payloads shaped like GitLab's (object_kind "push" | "tag_push").
  state.pushPayload = (repoName, { ref, before = ZERO, after } = {}) => {
    const repo = registry.get(repoName);
    const isTag = ref.startsWith("refs/tags/") || (!ref.startsWith("refs/heads/") && repo.tags().some((t) => t.name === ref));
    const fullRef = ref.startsWith("refs/") ? ref : `refs/${isTag ? "tags" : "heads"}/${ref}`;
    const sha = after ?? repo.resolve(fullRef) ?? ZERO;
    const ctx = { origin: handle.url };
    const project = projectJson(ctx, repo, false);
    return {
      object_kind: isTag ? "tag_push" : "push", event_name: isTag ? "tag_push" : "push", before, after: sha, ref: fullRef,
      ref_protected: false, checkout_sha: sha === ZERO ? null : sha, message: null, user_id: 1, user_name: "Tester",
      user_username: "tester", user_email: "", user_avatar: null, project_id: repo.id,
      project: { id: repo.id, name: repo.repo, description: project.description, web_url: project.web_url, avatar_url: null,
        git_ssh_url: project.ssh_url_to_repo, git_http_url: project.http_url_to_repo, namespace: repo.owner, visibility_level: repo.private ? 0 : 20,
        path_with_namespace: repo.name, default_branch: repo.defaultBranch, homepage: project.web_url, url: project.ssh_url_to_repo,
        ssh_url: project.ssh_url_to_repo, http_url: project.http_url_to_repo },
      commits: [], total_commits_count: 0, push_options: {},
      repository: { name: repo.repo, url: project.ssh_url_to_repo, description: project.description, homepage: project.web_url,
        git_http_url: project.http_url_to_repo, git_ssh_url: project.ssh_url_to_repo, visibility_level: repo.private ? 0 : 20 },
    };
  };
  return { url: handle.url, apiUrl: state.apiUrl, port: handle.port, state, stop: handle.stop };
}
