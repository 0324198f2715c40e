// The repository is self-contained: no file a clone holds points at notes outside it (a clone has
// neither the notes folder beside the checkout nor any machine path of ours).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { root } from "../worker/helpers.mjs";

test("no tracked file points outside the repository", () => {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
  const outside = /\.\.\/shared\b|\/work\/(shared|main|wt)\b/;
  const offenders = [];
  for (const f of files) {
    if (f === "tests/e2e/self-contained.test.mjs" || /\.(zip|wasm|png)$/.test(f)) continue;
    const text = readFileSync(path.join(root, f), "utf8");
    if (outside.test(text)) offenders.push(f);
  }
  assert.deepEqual(offenders, []);
});
