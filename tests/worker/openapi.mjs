// docs/openapi.json for tests: the route table of src/routes/routes.cpp (what the document must cover)
// and a checker that validates a response against the document (status documented for the route and
// method; a JSON body matches its schema). Validation with ajv's JSON Schema 2020-12 (OpenAPI 3.1's).
import Ajv2020 from "ajv/dist/2020.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { root } from "./helpers.mjs";

export const openapi = JSON.parse(readFileSync(path.join(root, "docs/openapi.json"), "utf8"));

// [{method, pattern, testHook}] from the C++ route table.
export function routeTable() {
  const src = readFileSync(path.join(root, "src/routes/routes.cpp"), "utf8");
  const table = src.slice(src.indexOf("constexpr route table[]"), src.indexOf("};", src.indexOf("constexpr route table[]")));
  // One chunk per entry: from its '{"METHOD"' to the next one.
  return table
    .split(/(?=\{"[A-Z]+",)/)
    .map((e) => e.replace(/\/\/.*$/gm, "").match(/^\{"([A-Z]+)",\s*"([^"]+)",([\s\S]*)$/))
    .filter(Boolean)
    .map((m) => ({ method: m[1], pattern: m[2], testHook: /,\s*true\s*\},?\s*$/.test(m[3]) }));
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: "openapi", components: openapi.components });
const compiled = new Map();

function schemaFor(s) {
  // Local refs (#/components/...) resolve against the document registered above.
  const text = JSON.stringify(s).replaceAll('"#/components/', '"openapi#/components/');
  if (!compiled.has(text)) compiled.set(text, ajv.compile(JSON.parse(text)));
  return compiled.get(text);
}

function templateFor(p) {
  for (const t of Object.keys(openapi.paths)) {
    const re = new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (re.test(p)) return t;
  }
  return null;
}

// Problems with one response (empty when it matches the document).
export function check(method, url, status, contentType, body) {
  const p = new URL(url, "http://x").pathname;
  const t = templateFor(p);
  if (!t) return [`${method} ${p}: no path in docs/openapi.json`];
  const op = openapi.paths[t][method === "HEAD" ? "get" : method.toLowerCase()];
  if (!op) return [`${method} ${t}: method not documented`];
  const r = op.responses[String(status)];
  if (!r) return [`${method} ${t}: status ${status} not documented (${Object.keys(op.responses).join(", ")})`];
  const schema = r.content?.["application/json"]?.schema;
  if (!schema || !/^application\/json/.test(contentType ?? "")) return [];
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [`${method} ${t} ${status}: body is not JSON`];
  }
  const validate = schemaFor(schema);
  if (validate(parsed)) return [];
  return [`${method} ${t} ${status}: ${ajv.errorsText(validate.errors)}\n${body.slice(0, 400)}`];
}
