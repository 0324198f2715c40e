// Output for the admin CLI: tables for people, JSON for scripts, progress on stderr, and the errors
// with their exit codes (docs/ADMIN.md lists them).
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, unhealthy: 4 };

export class CliError extends Error {
  constructor(message, code = EXIT.refused, details) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

const cell = (v) => {
  if (v === null || v === undefined) return "-";
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ") || "-";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
};

// rows: objects; columns: [key, heading?] pairs or keys.
export function table(rows, columns) {
  const cols = columns.map((c) => (Array.isArray(c) ? c : [c, c]));
  const body = rows.map((r) => cols.map(([k]) => cell(typeof k === "function" ? k(r) : r[k]).replace(/\s+/g, " ")));
  const head = cols.map(([, h]) => h.toUpperCase());
  const width = head.map((h, i) => Math.min(60, Math.max(h.length, ...body.map((b) => b[i].length))));
  const fmt = (cells) => cells.map((c, i) => (c.length > width[i] ? c.slice(0, width[i] - 1) + "…" : c.padEnd(width[i]))).join("  ").trimEnd();
  return [fmt(head), ...body.map(fmt)].join("\n") + (rows.length === 0 ? "\n(none)" : "");
}

// key: value lines for one object (nested objects as JSON).
export function details(obj) {
  const keys = Object.keys(obj);
  const w = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(w)}  ${cell(obj[k])}`).join("\n");
}

export function progress(enabled) {
  let last = "";
  return {
    update(text) {
      if (!enabled || text === last) return;
      last = text;
      process.stderr.write(process.stderr.isTTY ? `\r${text}\x1b[K` : `${text}\n`);
    },
    done() {
      if (enabled && process.stderr.isTTY && last) process.stderr.write("\n");
    },
  };
}
