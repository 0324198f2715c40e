// An in-memory, git-like repository for the fake VCS hosts (GitHub, GitLab, Bitbucket) and the
// packagist emulator. Commits are snapshots of a file tree; their sha is the sha1 of their content
// (tree, parent, message, date), 40 hex digits, so the same history gives the same shas every run.
// Tests change a repository at runtime (commit, tag, delete) through `state.repos.get(name)`.
import { createHash } from "node:crypto";
import { zipFiles } from "./zip.mjs";

const sha1 = (s) => createHash("sha1").update(s).digest("hex");
const toBuffer = (c) => (Buffer.isBuffer(c) ? c : Buffer.from(typeof c === "string" ? c : JSON.stringify(c, null, 4) + "\n", "utf8"));

// git's blob id of some content (what GitHub's contents API calls `sha`).
export const blobSha = (buf) => sha1(Buffer.concat([Buffer.from(`blob ${buf.length}\0`), buf]));

// Default commit dates: 2024-01-01T00:00:00Z plus one minute per commit of the repository, so dates are
// deterministic and increase with history.
const BASE_DATE = Date.UTC(2024, 0, 1);

export function createRepo({ name, defaultBranch = "main", private: isPrivate = false, description = "", id } = {}) {
  if (!/^[^/\s]+\/[^\s]+$/.test(name ?? "")) throw new Error(`createRepo: name must be "owner/repo", got ${name}`);
  const [owner, ...rest] = name.split("/");
  const commits = new Map(); // sha -> commit
  const branchMap = new Map(); // name -> sha
  const tagMap = new Map(); // name -> sha
  const archives = new Map(); // `${sha}\0${layout}\0${ref}` -> Buffer
  let counter = 0;
  let version = 0; // bumped on every change (ref or commit), for cache keys and webhooks

  const repo = {
    name,
    owner,
    repo: rest.join("/"),
    id: id ?? parseInt(sha1(name).slice(0, 7), 16),
    defaultBranch,
    private: isPrivate,
    description,
    get version() { return version; },

    // Commits `files` on `branch` (created from the default branch's head, or empty, if missing).
    // files: { path: string | Buffer | object (JSON-encoded) | null (delete) }. options: message, date,
    // author {name,email}, replace (files is the whole tree, not changes), parent (explicit parent sha).
    commit(branch, files = {}, options = {}) {
      const parentSha = options.parent !== undefined ? options.parent : branchMap.get(branch) ?? branchMap.get(repo.defaultBranch) ?? null;
      const parent = parentSha ? commits.get(parentSha) : null;
      const tree = new Map(options.replace || !parent ? [] : parent.tree);
      for (const [p, c] of Object.entries(files)) {
        const path = p.replace(/^\/+/, "");
        if (c === null || c === undefined) tree.delete(path);
        else tree.set(path, toBuffer(c));
      }
      counter++;
      const date = new Date(options.date ?? BASE_DATE + counter * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
      const message = options.message ?? `commit ${counter} on ${branch}`;
      const author = options.author ?? { name: "Test Author", email: "author@example.test" };
      const paths = [...tree.keys()].sort();
      const treeId = sha1(paths.map((p) => `${p}\0${blobSha(tree.get(p))}`).join("\n"));
      const sha = sha1(`tree ${treeId}\nparent ${parentSha ?? ""}\nauthor ${author.name} <${author.email}> ${date}\n\n${message}\n${name}`);
      commits.set(sha, { sha, tree, treeId, parent: parentSha, date, message, author });
      branchMap.set(branch, sha);
      version++;
      return sha;
    },

    // Points tag `name` at `ref` (a sha, branch or tag; default: head of the default branch).
    tag(tagName, ref = repo.defaultBranch) {
      const sha = repo.resolve(ref);
      if (!sha) throw new Error(`tag ${tagName}: unknown ref ${ref} in ${name}`);
      tagMap.set(tagName, sha);
      version++;
      return sha;
    },
    deleteTag(tagName) { const had = tagMap.delete(tagName); if (had) version++; return had; },
    branch(branchName, ref = repo.defaultBranch) {
      const sha = repo.resolve(ref);
      if (!sha) throw new Error(`branch ${branchName}: unknown ref ${ref}`);
      branchMap.set(branchName, sha);
      version++;
      return sha;
    },
    deleteBranch(branchName) { const had = branchMap.delete(branchName); if (had) version++; return had; },

    // [{ name, sha }] sorted by name.
    branches() { return [...branchMap].map(([n, sha]) => ({ name: n, sha })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); },
    tags() { return [...tagMap].map(([n, sha]) => ({ name: n, sha })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); },

    // A full sha for a branch, tag, full or abbreviated (>= 4 hex) sha, "refs/heads/x", "refs/tags/x"
    // or "HEAD"; null when unknown.
    resolve(ref) {
      if (ref == null || ref === "" || ref === "HEAD") ref = repo.defaultBranch;
      ref = String(ref);
      if (ref.startsWith("refs/heads/")) return branchMap.get(ref.slice(11)) ?? null;
      if (ref.startsWith("refs/tags/")) return tagMap.get(ref.slice(10)) ?? null;
      if (branchMap.has(ref)) return branchMap.get(ref);
      if (tagMap.has(ref)) return tagMap.get(ref);
      if (/^[0-9a-f]{40}$/i.test(ref)) return commits.has(ref.toLowerCase()) ? ref.toLowerCase() : null;
      if (/^[0-9a-f]{4,39}$/i.test(ref)) {
        const hits = [...commits.keys()].filter((s) => s.startsWith(ref.toLowerCase()));
        return hits.length === 1 ? hits[0] : null;
      }
      return null;
    },
    getCommit(ref) { const sha = repo.resolve(ref); return sha ? commits.get(sha) : null; },
    commits() { return [...commits.values()]; },

    // File content (Buffer) at a ref, or null.
    fileAt(ref, path) {
      const c = repo.getCommit(ref);
      return c ? c.tree.get(String(path).replace(/^\/+/, "")) ?? null : null;
    },
    // Directory listing at a ref: [{ name, path, type: "file"|"dir", size }] (path "" = root), or null
    // when the directory does not exist.
    listAt(ref, dir = "") {
      const c = repo.getCommit(ref);
      if (!c) return null;
      const base = String(dir).replace(/^\/+|\/+$/g, "");
      const prefix = base ? base + "/" : "";
      const seen = new Map();
      for (const [p, buf] of c.tree) {
        if (!p.startsWith(prefix)) continue;
        const restPath = p.slice(prefix.length);
        const i = restPath.indexOf("/");
        if (i < 0) seen.set(restPath, { name: restPath, path: p, type: "file", size: buf.length });
        else if (!seen.has(restPath.slice(0, i))) seen.set(restPath.slice(0, i), { name: restPath.slice(0, i), path: prefix + restPath.slice(0, i), type: "dir", size: 0 });
      }
      if (base && seen.size === 0) return null;
      return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    },

    // The directory name the provider's archive API puts everything under.
    archivePrefix(ref, layout = "github") {
      const sha = repo.resolve(ref);
      if (!sha) return null;
      const r = repo.repo.replace(/\//g, "-");
      if (typeof layout === "function") return layout(repo, ref, sha);
      switch (layout) {
        case "github": return `${owner}-${r}-${sha.slice(0, 7)}/`;
        case "gitlab": return `${r}-${String(ref).replace(/[^A-Za-z0-9._-]/g, "-")}-${sha}/`;
        case "bitbucket": return `${owner}-${r}-${sha.slice(0, 12)}/`;
        case "flat": return "";
        default: throw new Error(`unknown archive layout ${layout}`);
      }
    },
    // Zip of the tree at `ref`, laid out like the provider's archive API; cached, so the same ref gives
    // the same bytes. GitHub archives carry the commit sha as zip comment, as codeload's do.
    archive(ref, layout = "github") {
      const sha = repo.resolve(ref);
      if (!sha) return null;
      const key = `${sha}\0${typeof layout === "function" ? layout.toString() : layout}\0${layout === "gitlab" ? ref : ""}`;
      if (!archives.has(key)) {
        const c = commits.get(sha);
        archives.set(key, zipFiles([...c.tree], {
          prefix: repo.archivePrefix(ref, layout),
          directories: layout !== "flat",
          date: c.date,
          comment: layout === "github" ? sha : "",
        }));
      }
      return archives.get(key);
    },
  };
  return repo;
}

// Builds a repository from a compact description, e.g.
//   repoFromSpec({ name: "acme/widget", composer: { autoload: ... }, files: {...},
//                  tags: ["v1.0.0", "v1.1.0"], branches: ["main", "develop"] })
// Each tag gets its own commit on the default branch (composer.json with the given fields and the
// files, plus a VERSION file so the trees differ); extra branches fork from the last commit.
export function repoFromSpec(spec) {
  const repo = createRepo(spec);
  const composer = (v) => ({ name: spec.packageName ?? spec.name, description: spec.description ?? `${spec.name} test package`, ...(spec.composer ?? {}) });
  const files = (v) => ({ "composer.json": composer(v), ...(typeof spec.files === "function" ? spec.files(v) : spec.files ?? {}), VERSION: `${v}\n` });
  const tags = spec.tags ?? [];
  if (tags.length === 0) repo.commit(repo.defaultBranch, files("dev"), { message: "initial" });
  for (const t of tags) {
    repo.commit(repo.defaultBranch, files(t), { message: `release ${t}` });
    repo.tag(t);
  }
  for (const b of spec.branches ?? []) if (!repo.resolve(b)) repo.branch(b);
  return repo;
}
