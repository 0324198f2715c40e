// Composer metadata helpers shared by composer-repo.mjs and packagist.mjs: the composer/2.0 minifier
// (composer/metadata-minifier, in JS), version normalisation for the common version shapes, ordering.

// Minify: first entry complete; later entries only the keys whose value changed (compared as JSON,
// so nested objects are replaced wholesale) and "__unset" for keys that disappeared.
export function minify(versions) {
  const out = [];
  let last = null;
  for (const v of versions) {
    if (!last) { out.push(v); last = v; continue; }
    const d = {};
    for (const [k, val] of Object.entries(v)) if (!(k in last) || JSON.stringify(last[k]) !== JSON.stringify(val)) d[k] = val;
    for (const k of Object.keys(last)) if (!(k in v)) d[k] = "__unset";
    out.push(d);
    last = v;
  }
  return out;
}
// Expand: the inverse, carrying the previous expanded entry forward.
export function expand(versions) {
  const out = [];
  let last = null;
  for (const v of versions) {
    if (!last) { last = { ...v }; out.push(last); continue; }
    const e = { ...last };
    for (const [k, val] of Object.entries(v)) { if (val === "__unset") delete e[k]; else e[k] = val; }
    out.push(e);
    last = e;
  }
  return out;
}

const STAB = { alpha: "alpha", a: "alpha", beta: "beta", b: "beta", rc: "RC", c: "RC", pl: "patch", p: "patch", patch: "patch", stable: "" };
// Composer's VersionParser::normalize for the usual shapes: 1, 1.2, v1.2.3, 1.2.3.4, 1.0.0-beta2,
// 1.0.0-RC1, dev-main, 1.x-dev, 1.2.x-dev, main (branch => dev-main). Returns null when unsure.
export function normalizeVersion(v) {
  v = String(v).trim();
  if (/^dev-/i.test(v)) return "dev-" + v.slice(4);
  let m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?-dev$/i.exec(v);
  if (m && [m[2], m[3], m[4]].some((p) => p === undefined || /x|\*/i.test(p))) {
    const parts = [m[1], m[2], m[3], m[4]].map((p) => (p === undefined || /x|\*/i.test(p) ? "9999999" : p));
    return `${parts.join(".")}-dev`;
  }
  m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:[-.]?(alpha|beta|rc|a|b|c|pl|p|patch|stable)[.-]?(\d+)?)?(-dev)?$/i.exec(v);
  if (!m) return null;
  const base = [m[1], m[2] ?? "0", m[3] ?? "0", m[4] ?? "0"].map((x) => String(parseInt(x, 10))).join(".");
  let s = base;
  if (m[5] && STAB[m[5].toLowerCase()]) s += `-${STAB[m[5].toLowerCase()]}${m[6] ?? ""}`;
  if (m[7]) s += "-dev";
  return s;
}
export const isDevVersion = (v) => /^dev-/i.test(v) || /-dev$/i.test(v);

// Orders normalised versions newest first (what Packagist does before minifying).
export function compareNormalizedDesc(a, b) {
  const parse = (n) => {
    const [nums, suf = ""] = String(n).split("-");
    const stab = { dev: 0, alpha: 1, beta: 2, RC: 3, "": 4, patch: 5 };
    const sm = /^(dev|alpha|beta|RC|patch)?(\d*)$/.exec(suf) ?? [];
    return { nums: nums.split(".").map((x) => parseInt(x, 10) || 0), stab: stab[sm[1] ?? ""] ?? 0, sn: parseInt(sm[2] || "0", 10) };
  };
  const x = parse(a), y = parse(b);
  for (let i = 0; i < 4; i++) if ((x.nums[i] ?? 0) !== (y.nums[i] ?? 0)) return (y.nums[i] ?? 0) - (x.nums[i] ?? 0);
  if (x.stab !== y.stab) return y.stab - x.stab;
  return y.sn - x.sn;
}
