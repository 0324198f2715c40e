// What scripts/bench and scripts/load write down next to their numbers: the machine they ran on, and
// their own section of docs/PERFORMANCE.md (replaced in place, the other sections untouched).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "../worker/helpers.mjs";
import { CLK_TCK } from "./load.mjs";

export function machine() {
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim()) || nproc;
  } catch {}
  const workerd = JSON.parse(readFileSync(path.join(root, "node_modules/workerd/package.json"), "utf8")).version;
  const miniflare = JSON.parse(readFileSync(path.join(root, "node_modules/miniflare/package.json"), "utf8")).version;
  const wrangler = JSON.parse(readFileSync(path.join(root, "node_modules/wrangler/package.json"), "utf8")).version;
  const cpu = os.cpus()[0]?.model?.trim() ?? "unknown cpu";
  return { nproc, node: process.version, workerd, miniflare, wrangler, cpu, clk_tck: CLK_TCK };
}

// Replaces the section that starts with the line `heading` (up to the next "## " heading) with
// `section`, or appends it.
export function rewriteSection(heading, section) {
  const file = path.join(root, "docs/PERFORMANCE.md");
  const text = readFileSync(file, "utf8");
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const start = text.search(new RegExp(`^${escaped}[ \\t]*$`, "m"));
  let out;
  if (start < 0) {
    out = text.replace(/\s*$/, "\n\n") + section;
  } else {
    const rest = text.slice(start + 1);
    const next = rest.search(/^## /m);
    const end = next < 0 ? text.length : start + 1 + next;
    out = text.slice(0, start) + section + (next < 0 ? "" : "\n" + text.slice(end));
  }
  writeFileSync(file, out.replace(/\n*$/, "\n"));
}
