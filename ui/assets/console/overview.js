// Overview: health (/health), counts and deployment checks (/admin/api/status), downloads per day for
// 30 days (a bar chart with its numbers as a table), sources with their sync state, recent audit
// entries. Each panel loads on its own, so one failing call leaves the others readable.
import { html, useLoad, ErrorText, Loading, Time } from "../lib.js";
import { call } from "./api.js";
import { SyncBadge } from "./forms.js";

const DAY = 86_400_000;
const plural = (n, one, many = `${one}s`) => (n === 1 ? one : many);

function Health() {
  const { data, error, loading } = useLoad(async (signal) => {
    // /health answers 503 with its checks when something is down; both are worth showing.
    const r = await fetch("/health", { cache: "no-store", signal });
    return r.json();
  }, []);
  return html`<section class="panel" aria-labelledby="health-h">
    <h2 id="health-h">Health</h2>
    ${loading && !data ? html`<${Loading} />` : null}
    <${ErrorText} error=${error} />
    ${data
      ? html`<p><span class=${`badge ${data.status === "ok" ? "ok" : "error"}`}>${data.status}</span>
            <span class="muted"> version ${data.version}</span></p>
          <ul class="plain">${Object.entries(data.checks ?? {}).map(
            ([k, v]) => html`<li key=${k}>${{ db: "D1 database", kv: "KV", blob: "R2 bucket" }[k] ?? k}:${" "}
              <span class=${`badge ${v.status === "ok" ? "ok" : "error"}`}>${v.status}</span>${v.error ? html` <span class="error">${v.error}</span>` : null}</li>`,
          )}</ul>`
      : null}
  </section>`;
}

function Counts() {
  const { data, error, loading } = useLoad((signal) => call("GET", "/admin/api/status", undefined, { signal }), []);
  if (error) return html`<${ErrorText} error=${error} />`;
  if (loading && !data) return html`<${Loading} what="Loading counts" />`;
  const c = data.counts;
  const cards = [
    ["Packages", c.packages, "#/packages"],
    ["Versions", c.versions, "#/packages"],
    ["Active tokens", c.tokens, "#/tokens"],
    ["Sources", c.sources, "#/sources"],
    ["Failing sources", c.sources_failing, "#/sources"],
    ["Admins", c.admins, null],
  ];
  const problems = [];
  for (const [k, v] of Object.entries(data.secrets)) if (v !== "ok") problems.push(`${k}: ${v}`);
  if (data.cron_age_s == null) problems.push("the cron trigger has not run yet (sources sync on it)");
  else if (data.cron_age_s > 3600) problems.push(`the cron trigger last ran ${Math.round(data.cron_age_s / 60)} minutes ago`);
  return html`<div class="cards">
      ${cards.map(([label, n, href]) => html`<div class="card" key=${label}>
        <span class="n">${href ? html`<a href=${href}>${n}</a>` : n}</span><span class="l">${label}</span></div>`)}
    </div>
    ${problems.length ? html`<div class="notice" role="status"><strong>Check:</strong> ${problems.join("; ")}.</div>` : null}`;
}

function days(from, to) {
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t <= end && out.length < 400; t += DAY)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

// Bars in an SVG that stretches to the panel's width; the labels are HTML text, so they stay readable
// on a phone. The numbers are also a table, for screen readers and for copying.
export function Chart({ stats }) {
  const byDay = new Map(stats.rows.map((r) => [r.day, r]));
  const series = days(stats.from, stats.to).map((d) => ({ day: d, downloads: byDay.get(d)?.downloads ?? 0, fetches: byDay.get(d)?.fetches ?? 0 }));
  const max = Math.max(1, ...series.map((s) => Math.max(s.downloads, s.fetches)));
  const H = 100, slot = 10;
  const hgt = (v) => (H * v) / max;
  const label = `Downloads per day from ${stats.from} to ${stats.to}: ${stats.totals.downloads} in total, at most ${max} a day.`;
  const mid = series[Math.floor(series.length / 2)];
  return html`<figure class="chart">
    <div class="plot">
      <span class="ymax">${max}</span>
      <svg viewBox=${`0 0 ${series.length * slot} ${H}`} preserveAspectRatio="none" role="img" aria-label=${label}>
        ${series.map((s, i) => html`<g key=${s.day}>
          <title>${s.day}: ${s.downloads} downloads, ${s.fetches} archive fetches</title>
          <rect class="bar" x=${i * slot + 1} y=${H - hgt(s.downloads)} width="4" height=${hgt(s.downloads)} />
          <rect class="bar fetch" x=${i * slot + 5} y=${H - hgt(s.fetches)} width="4" height=${hgt(s.fetches)} />
        </g>`)}
      </svg>
    </div>
    <div class="xlabels" aria-hidden="true"><span>${series[0]?.day}</span><span>${mid?.day}</span><span>${series[series.length - 1]?.day}</span></div>
    <figcaption class="legend"><span><i></i>downloads (reported by composer)</span><span><i class="fetch"></i>archive fetches</span></figcaption>
    <details><summary>The numbers as a table</summary>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Day</th><th scope="col" class="num">Downloads</th><th scope="col" class="num">Fetches</th></tr></thead>
        <tbody>${series.filter((s) => s.downloads || s.fetches).map((s) => html`<tr key=${s.day}><td>${s.day}</td><td class="num">${s.downloads}</td><td class="num">${s.fetches}</td></tr>`)}</tbody>
      </table></div>
    </details>
  </figure>`;
}

function Downloads() {
  const { data, error, loading } = useLoad((signal) => call("GET", "/admin/api/stats?group=day&days=30&limit=200", undefined, { signal }), []);
  return html`<section class="panel wide" aria-labelledby="dl-h">
    <h2 id="dl-h">Downloads, last 30 days</h2>
    ${loading && !data ? html`<${Loading} />` : null}
    <${ErrorText} error=${error} />
    ${data
      ? html`<p id="downloads-total"><strong>${data.totals.downloads}</strong> ${plural(data.totals.downloads, "download")},${" "}
            <strong>${data.totals.fetches}</strong> archive ${plural(data.totals.fetches, "fetch", "fetches")}</p>
          <${Chart} stats=${data} />`
      : null}
  </section>`;
}

function SourceStates() {
  const { data, error, loading } = useLoad((signal) => call("GET", "/admin/api/sources?limit=10", undefined, { signal }), []);
  return html`<section class="panel" aria-labelledby="src-h">
    <h2 id="src-h">Sources</h2>
    ${loading && !data ? html`<${Loading} />` : null}
    <${ErrorText} error=${error} />
    ${data && !data.sources.length ? html`<p class="muted">No sources: packages come from uploads only. <a href="#/sources">Add a source</a>.</p>` : null}
    ${data?.sources.length
      ? html`<ul class="plain">${data.sources.map((s) => html`<li key=${s.id} class="pkg">
          <a href=${`#/sources/${s.id}`}>${s.type}: ${s.url}</a> <${SyncBadge} last=${s.last_sync} enabled=${s.enabled} />
          ${s.last_sync?.finished_at ? html` <span class="muted">· <${Time} at=${s.last_sync.finished_at} /></span>` : null}
          ${s.last_sync?.error ? html`<div class="error">${s.last_sync.error}</div>` : null}
        </li>`)}</ul>`
      : null}
  </section>`;
}

export function describeEntry(e) {
  const who = e.actor_name ? `${e.actor_name} (${e.actor})` : e.actor;
  return `${who} · ${e.action}${e.target ? ` · ${e.target}` : ""}${e.count > 1 ? ` ×${e.count}` : ""}`;
}

function RecentAudit() {
  const { data, error, loading } = useLoad((signal) => call("GET", "/admin/api/audit?limit=8", undefined, { signal }), []);
  return html`<section class="panel" aria-labelledby="audit-h">
    <h2 id="audit-h">Recent activity</h2>
    ${loading && !data ? html`<${Loading} />` : null}
    <${ErrorText} error=${error} />
    ${data ? html`<ul class="plain">${data.entries.map((e) => html`<li key=${e.id} class="pkg"><${Time} at=${e.at} /> · ${describeEntry(e)}
        ${e.reason ? html`<div class="muted">${e.reason}</div>` : null}</li>`)}</ul>
        <p><a href="#/audit">The whole audit log</a></p>` : null}
  </section>`;
}

export function Overview() {
  return html`<h1 tabindex="-1">Overview</h1>
    <${Counts} />
    <div class="grid">
      <${Downloads} />
      <${Health} />
      <${SourceStates} />
      <${RecentAudit} />
    </div>`;
}
