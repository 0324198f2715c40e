// Repository registry shared by the VCS emulators: options.repos is a list of createRepo() objects or
// repoFromSpec() specs; state.repos is a Map "owner/repo" (lower-cased) -> repo.
import { createRepo, repoFromSpec } from "./repo-model.mjs";

export function repoRegistry(list = []) {
  const repos = new Map();
  const add = (r) => {
    const repo = typeof r?.commit === "function" ? r : repoFromSpec(r);
    repos.set(repo.name.toLowerCase(), repo);
    return repo;
  };
  for (const r of list) add(r);
  return { repos, add, get: (name) => repos.get(String(name).toLowerCase()) ?? null, createRepo };
}

export const tokenList = (t) => (t == null ? [] : Array.isArray(t) ? t.map(String) : [String(t)]);
