// Sources: the list with sync states, a form per source type (what each type needs: URL shapes, API
// base, the credentials it takes), the webhook URL and secret shown once, and a source's page: sync
// now (slice after slice, with progress), last result and error, skipped refs, webhook secret
// regeneration, enable/disable, changing patterns and credentials, removal.
import { html, useLoad, ErrorText, Loading, Time, Confirm, CopyButton, ApiError } from "../lib.js";
import { useState } from "preact/hooks";
import { call, canChange, query, setFlash, takeFlash } from "./api.js";
import { Field, FormError, Pager, useAction, useForm, patterns, SyncBadge, ReadOnlyNote } from "./forms.js";

// What each type asks for. creds: the credential kinds it takes, first the usual one.
const TYPES = {
  composer: {
    label: "Composer repository",
    about: "Another Composer repository: Satis, Private Packagist, repo.magento.com, another broker (protocol v2 or v1).",
    url: ["Repository URL", "https://satis.example.com"],
    creds: ["none", "basic", "bearer", "secret"],
  },
  packagist: {
    label: "packagist.org mirror",
    about: "Mirrors packagist.org lazily: a package is copied the first time an update token asks for it.",
    url: ["Repository URL", "https://repo.packagist.org"],
    defaultUrl: "https://repo.packagist.org",
    creds: ["none"],
  },
  github: {
    label: "GitHub repository",
    about: "One repository is one package: tags become versions, branches dev- versions. GitHub Enterprise: give its API base.",
    url: ["Repository URL", "https://github.com/acme/widget"],
    api: ["API base (GitHub Enterprise only)", "https://ghe.example.com/api/v3"],
    creds: ["bearer", "secret", "none"],
    tokenHint: "A fine-grained token with read access to contents.",
  },
  gitlab: {
    label: "GitLab project",
    about: "One project is one package, on gitlab.com or a self-hosted GitLab.",
    url: ["Project URL", "https://gitlab.com/group/widget"],
    api: ["API base (self-hosted GitLab)", "https://gitlab.example.com/api/v4"],
    creds: ["bearer", "secret", "none"],
    tokenHint: "A token with the read_api scope.",
  },
  bitbucket: {
    label: "Bitbucket repository",
    about: "One Bitbucket Cloud repository is one package.",
    url: ["Repository URL", "https://bitbucket.org/acme/widget"],
    creds: ["basic", "secret", "none"],
    passwordLabel: "App password",
  },
};
const count = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;
const CRED_LABELS = { none: "none (public)", basic: "user name and password", bearer: "token (Bearer)", secret: "a Worker secret (PB_SOURCE_…)" };

function credentialsBody(kind, v) {
  if (kind === "basic") return { type: "basic", username: v.username, password: v.password };
  if (kind === "bearer") return { type: "bearer", token: v.token };
  if (kind === "secret") return { secret: v.secret.trim() };
  return undefined;
}

// The credential inputs for a kind (shared by the add and change forms).
function CredentialFields({ form, kind, v, set, error, type }) {
  const t = TYPES[type] ?? {};
  if (kind === "basic")
    return html`<div class="row">
      <${Field} form=${form} name="username" label="User name" autocomplete="off" value=${v.username} onInput=${set("username")} error=${error} />
      <${Field} form=${form} name="password" label=${t.passwordLabel ?? "Password"} type="password" autocomplete="new-password"
        value=${v.password} onInput=${set("password")} error=${error} />
    </div>`;
  if (kind === "bearer")
    return html`<${Field} form=${form} name="token" label="Token" type="password" autocomplete="new-password" value=${v.token}
      onInput=${set("token")} error=${error} hint=${t.tokenHint} />`;
  if (kind === "secret")
    return html`<${Field} form=${form} name="secret" label="Worker secret name" placeholder="PB_SOURCE_SATIS" value=${v.secret}
      onInput=${set("secret")} error=${error} hint="Set it with wrangler secret put; its value is a credentials JSON object or a bare token." />`;
  return null;
}

function AddSource({ onAdded }) {
  const [type, setType] = useState("composer");
  const [v, set, setValues] = useForm({ url: "", api_url: "", kind: "none", username: "", password: "", token: "", secret: "", include: "", exclude: "", interval: "3600", enabled: true });
  const { busy, error, run } = useAction();
  const t = TYPES[type];
  const kind = t.creds.includes(v.kind) ? v.kind : t.creds[0];
  function pick(next) {
    setType(next);
    // What was typed stays; only a credential kind the new type does not take is reset.
    setValues((old) => ({ ...old, kind: TYPES[next].creds.includes(old.kind) ? old.kind : TYPES[next].creds[0] }));
  }
  async function submit(e) {
    e.preventDefault();
    await run(async () => {
      const body = { type, enabled: v.enabled };
      const url = v.url.trim() || t.defaultUrl;
      if (url) body.url = url;
      if (t.api && v.api_url.trim()) body.api_url = v.api_url.trim();
      const creds = credentialsBody(kind, v);
      if (creds) body.credentials = creds;
      if (patterns(v.include).length) body.include = patterns(v.include);
      if (patterns(v.exclude).length) body.exclude = patterns(v.exclude);
      if (v.interval.trim()) body.sync_interval_s = Number(v.interval);
      onAdded(await call("POST", "/admin/api/sources", body));
    });
  }
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="add-src-h" novalidate>
    <h2 id="add-src-h">Add a source</h2>
    <fieldset>
      <legend>Type</legend>
      ${Object.entries(TYPES).map(([key, d]) => html`<label class="inline" key=${key}>
        <input type="radio" name="source-type" value=${key} checked=${type === key} onChange=${() => pick(key)} /> ${d.label}</label>`)}
    </fieldset>
    <p class="muted">${t.about}</p>
    <${Field} form="src" name="url" label=${t.url[0]} type="url" placeholder=${t.url[1]} value=${v.url} onInput=${set("url")} error=${error}
      hint=${t.defaultUrl ? `Empty: ${t.defaultUrl}.` : undefined} />
    ${t.api ? html`<${Field} form="src" name="api_url" label=${t.api[0]} type="url" placeholder=${t.api[1]} value=${v.api_url}
      onInput=${set("api_url")} error=${error} />` : null}
    ${t.creds.length > 1
      ? html`<${Field} form="src" name="credentials" label="Credentials" as="select" value=${kind} onChange=${set("kind")} error=${error}
          options=${t.creds.map((c) => [c, CRED_LABELS[c]])} hint="Sealed with PB_ENCRYPTION_KEY, sent only to this source's own origins, never shown again." />
        <${CredentialFields} form="src" kind=${kind} v=${v} set=${set} error=${error} type=${type} />`
      : null}
    <div class="row">
      <${Field} form="src" name="include" label="Include patterns" value=${v.include} onInput=${set("include")} error=${error}
        placeholder="acme/*" hint="Empty: every package." />
      <${Field} form="src" name="exclude" label="Exclude patterns" value=${v.exclude} onInput=${set("exclude")} error=${error}
        placeholder="acme/legacy-*" />
      <${Field} form="src" name="sync_interval_s" label="Sync every (seconds)" type="number" min="60" value=${v.interval}
        onInput=${set("interval")} error=${error} />
    </div>
    <label class="inline"><input type="checkbox" checked=${v.enabled} onChange=${set("enabled")} /> Enabled</label>
    <${FormError} form="src" error=${error} />
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Adding…" : "Add source"}</button></div>
  </form>`;
}

// A webhook secret, once (at creation and at regeneration).
function WebhookSecret({ source, onDone }) {
  return html`<section class="panel" aria-labelledby="hook-h">
    <h2 id="hook-h">Webhook for source ${source.id}</h2>
    <p class="notice" role="status"><strong>Copy the webhook secret now;</strong> it is shown only here. Point the provider at the URL with
      this secret (GitHub: content type application/json; GitLab: secret token; Bitbucket: webhook secret).</p>
    <label for="hook-url">Webhook URL</label>
    <div class="row"><input id="hook-url" class="mono" readonly value=${source.webhook_url} />
      <div class="shrink"><${CopyButton} text=${source.webhook_url} label="Copy URL" target="hook-url" /></div></div>
    <label for="hook-secret">Webhook secret</label>
    <div class="row"><input id="hook-secret" class="mono secret" readonly value=${source.webhook_secret} />
      <div class="shrink"><${CopyButton} text=${source.webhook_secret} label="Copy secret" target="hook-secret" /></div></div>
    <div class="actions"><button type="button" onClick=${onDone}>Done</button>
      ${source.id ? html`<a href=${`#/sources/${source.id}`}>Open the source</a>` : null}</div>
  </section>`;
}

export function Sources() {
  const [flash] = useState(takeFlash);
  const [cursor, setCursor] = useState(null);
  const [added, setAdded] = useState(null);
  const list = useLoad((signal) => call("GET", `/admin/api/sources${query({ cursor, limit: 50 })}`, undefined, { signal }), [cursor]);
  return html`<h1 tabindex="-1">Sources</h1>
    ${flash ? html`<p class="notice success" role="status">${flash}</p>` : null}
    ${added ? html`<${WebhookSecret} source=${added} onDone=${() => setAdded(null)} />` : null}
    ${!added && canChange() ? html`<${AddSource} onAdded=${(s) => (setAdded(s), list.reload())} />` : null}
    ${canChange() ? null : html`<${ReadOnlyNote} />`}
    <section class="panel" aria-labelledby="srcs-h">
      <h2 id="srcs-h">All sources</h2>
      ${list.loading && !list.data ? html`<${Loading} />` : null}
      <${ErrorText} error=${list.error} />
      ${list.data
        ? html`${list.data.sources.length
              ? html`<div class="table-wrap"><table>
                  <thead><tr><th scope="col">Source</th><th scope="col">Patterns</th><th scope="col">Last sync</th><th scope="col">Result</th></tr></thead>
                  <tbody>${list.data.sources.map((s) => html`<tr key=${s.id}>
                    <td><a href=${`#/sources/${s.id}`}>#${s.id} ${s.type}</a><div class="muted mono">${s.url}</div></td>
                    <td>${s.include.length ? s.include.join(", ") : "all"}${s.exclude.length ? html`<div class="muted">not ${s.exclude.join(", ")}</div>` : null}</td>
                    <td><${SyncBadge} last=${s.last_sync} enabled=${s.enabled} />${s.last_sync?.finished_at ? html`<div><${Time} at=${s.last_sync.finished_at} /></div>` : null}</td>
                    <td>${s.last_sync ? `${s.last_sync.packages} packages, ${s.last_sync.versions} versions` : "–"}
                      ${s.last_sync?.error ? html`<div class="error">${s.last_sync.error}</div>` : null}</td>
                  </tr>`)}</tbody>
                </table></div>`
              : html`<p class="muted">No sources yet.</p>`}
            <${Pager} cursor=${cursor} next=${list.data.next_cursor} count=${list.data.sources.length} noun="source"
              onFirst=${() => setCursor(null)} onNext=${setCursor} />`
        : null}
    </section>`;
}

// Sync now: one slice in this call. When the rest goes on in the background on the sync queue (or a
// slice is already running elsewhere: 409), the page follows the source's last_sync until it settles
// (bounded); without a queue it calls again, one slice per call (bounded), as the cron trigger would.
function SyncNow({ source, onSynced }) {
  const [progress, setProgress] = useState(null);
  const { busy, error, run } = useAction();
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  // Polls the source until its sync is no longer running (at most 10 minutes).
  async function follow(slice) {
    let last;
    for (let i = 0; i < 300; i++) {
      last = (await call("GET", `/admin/api/sources/${source.id}`)).last_sync;
      if (last && last.status !== "running") break;
      setProgress({ slice, packages: last?.packages ?? 0, versions: last?.versions ?? 0, running: true, background: true });
      await pause(2000);
    }
    return last;
  }
  async function sync() {
    await run(async () => {
      let packages = 0, versions = 0, r;
      const errors = [];
      try {
        for (let slice = 1; slice <= 200; slice++) {
          setProgress({ slice, packages, versions, remaining: r?.result.remaining, running: true });
          try {
            r = await call("POST", `/admin/api/sources/${source.id}/sync`);
          } catch (e) {
            if (!(e instanceof ApiError && e.status === 409 && /another invocation/.test(e.message))) throw e;
            r = null;
          }
          if (r) {
            packages += r.result.packages;
            versions += r.result.versions;
            errors.push(...(r.result.errors ?? []));
          }
          if (!r || r.continues === "queue") {
            const last = await follow(slice);
            setProgress({ done: true, status: last?.status ?? "running", packages: last?.packages ?? packages, versions: last?.versions ?? versions,
              errors: last?.error ? [last.error] : errors, remaining: 0 });
            return;
          }
          if (r.result.status !== "running") break;
        }
      } finally {
        onSynced();
      }
      setProgress({ done: true, status: r.result.status, packages, versions, errors, remaining: r.result.remaining });
    });
  }
  return html`<div>
    <div class="actions"><button type="button" onClick=${sync} disabled=${busy || !source.enabled}>${busy ? "Syncing…" : "Sync now"}</button>
      ${source.enabled ? null : html`<span class="muted">Enable the source to sync it.</span>`}</div>
    ${progress && !progress.done
      ? html`<p role="status"><span class="spinner" aria-hidden="true"></span>${
          progress.background ? " Syncing in the background on the sync queue" : ` Slice ${progress.slice}: ${count(progress.packages, "package")} and ${count(progress.versions, "version")} written so far`}${
          progress.remaining != null ? `, ${progress.remaining} to go` : ""}.</p>`
      : null}
    ${progress?.done
      ? html`<p class=${`notice ${progress.status === "ok" ? "success" : ""}`} role="status" id="sync-result">${
          `Sync ${progress.status}: ${count(progress.packages, "package")}, ${count(progress.versions, "version")}.`}${
          progress.remaining ? ` ${count(progress.remaining, "package")} continue on the cron trigger.` : ""}</p>
          ${progress.errors.length ? html`<ul class="error">${progress.errors.map((e, i) => html`<li key=${i}>${e}</li>`)}</ul>` : null}`
      : null}
    <${ErrorText} error=${error} />
  </div>`;
}

function ChangeSource({ source, onChanged }) {
  const t = TYPES[source.type];
  const [v, set] = useForm({
    url: source.url, api_url: source.api_url ?? "", include: source.include.join(", "), exclude: source.exclude.join(", "),
    interval: String(source.sync_interval_s), kind: "keep", username: "", password: "", token: "", secret: "",
  });
  const { busy, error, run } = useAction();
  const [saved, setSaved] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setSaved(false);
    await run(async () => {
      const body = { url: v.url.trim(), include: patterns(v.include), exclude: patterns(v.exclude), sync_interval_s: Number(v.interval) };
      if (t.api) body.api_url = v.api_url.trim() || null;
      if (v.kind === "none") body.credentials = null;
      else if (v.kind !== "keep") body.credentials = credentialsBody(v.kind, v);
      await call("PATCH", `/admin/api/sources/${source.id}`, body);
      setSaved(true);
      onChanged();
    });
  }
  const current = source.credentials ? (source.credentials.secret ? `the Worker secret ${source.credentials.secret}` : source.credentials.type) : "none";
  return html`<form onSubmit=${submit} novalidate aria-labelledby="change-h">
    <h2 id="change-h">Change</h2>
    <${Field} form="chg" name="url" label=${t.url[0]} type="url" value=${v.url} onInput=${set("url")} error=${error}
      hint="Another origin drops the stored credentials unless you give new ones below." />
    ${t.api ? html`<${Field} form="chg" name="api_url" label=${t.api[0]} type="url" value=${v.api_url} onInput=${set("api_url")} error=${error} />` : null}
    <div class="row">
      <${Field} form="chg" name="include" label="Include patterns" value=${v.include} onInput=${set("include")} error=${error} />
      <${Field} form="chg" name="exclude" label="Exclude patterns" value=${v.exclude} onInput=${set("exclude")} error=${error} />
      <${Field} form="chg" name="sync_interval_s" label="Sync every (seconds)" type="number" min="60" value=${v.interval} onInput=${set("interval")} error=${error} />
    </div>
    ${t.creds.length > 1 || source.credentials
      ? html`<${Field} form="chg" name="credentials" label=${`Credentials (now: ${current})`} as="select" value=${v.kind} onChange=${set("kind")}
          error=${error} options=${[["keep", "keep as they are"], ...t.creds.map((c) => [c, c === "none" ? "remove them" : `replace with ${CRED_LABELS[c]}`])]} />
        ${v.kind !== "keep" ? html`<${CredentialFields} form="chg" kind=${v.kind} v=${v} set=${set} error=${error} type=${source.type} />` : null}`
      : null}
    <${FormError} form="chg" error=${error} />
    ${saved ? html`<p class="notice success" role="status">Saved.</p>` : null}
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Saving…" : "Save changes"}</button></div>
  </form>`;
}

function SkippedRefs({ id }) {
  const [cursor, setCursor] = useState(null);
  const refs = useLoad((signal) => call("GET", `/admin/api/sources/${id}/skipped-refs${query({ cursor, limit: 50 })}`, undefined, { signal }), [id, cursor]);
  return html`<section class="panel" aria-labelledby="skip-h">
    <h2 id="skip-h">Skipped refs</h2>
    ${refs.loading && !refs.data ? html`<${Loading} />` : null}
    <${ErrorText} error=${refs.error} />
    ${refs.data
      ? refs.data.refs.length
        ? html`<div class="table-wrap"><table>
            <thead><tr><th scope="col">Ref</th><th scope="col">Why</th><th scope="col">Seen</th></tr></thead>
            <tbody>${refs.data.refs.map((r) => html`<tr key=${r.ref}><td><code>${r.ref}</code></td><td>${r.reason}</td><td><${Time} at=${r.seen_at} /></td></tr>`)}</tbody>
          </table></div>
          <${Pager} cursor=${cursor} next=${refs.data.next_cursor} count=${refs.data.refs.length} noun="ref"
            onFirst=${() => setCursor(null)} onNext=${setCursor} />`
        : html`<p class="muted">None: every tag and branch had a usable composer.json (or this is not a VCS source).</p>`
      : null}
  </section>`;
}

export function SourceDetail({ id }) {
  const src = useLoad((signal) => call("GET", `/admin/api/sources/${id}`, undefined, { signal }), [id]);
  const [confirm, setConfirm] = useState(null);
  const [secret, setSecret] = useState(null);
  const toggle = useAction();
  if (src.loading && !src.data) return html`<h1 tabindex="-1">Source ${id}</h1><${Loading} />`;
  if (src.error && !src.data) return html`<h1 tabindex="-1">Source ${id}</h1><${ErrorText} error=${src.error} /><p><a href="#/sources">All sources</a></p>`;
  const s = src.data;
  const last = s.last_sync;
  return html`<p><a href="#/sources">← All sources</a></p>
    <h1 tabindex="-1">Source #${s.id}: ${TYPES[s.type]?.label ?? s.type}</h1>
    <p class="mono">${s.url}${s.api_url ? html` <span class="muted">(API ${s.api_url})</span>` : null}</p>
    ${secret ? html`<${WebhookSecret} source=${secret} onDone=${() => setSecret(null)} />` : null}
    <div class="grid">
      <section class="panel" aria-labelledby="state-h">
        <h2 id="state-h">Sync</h2>
        <p><${SyncBadge} last=${last} enabled=${s.enabled} /> every ${s.sync_interval_s} s</p>
        ${last
          ? html`<p>Last run started <${Time} at=${last.started_at} />${last.finished_at ? html`, finished <${Time} at=${last.finished_at} />` : null}:${" "}
              ${count(last.packages, "package")}, ${count(last.versions, "version")}.</p>
              ${last.error ? html`<p class="error">Error: ${last.error}</p>` : null}`
          : html`<p class="muted">Not synced yet.</p>`}
        ${s.advisories ? html`<p>Security advisories: <span class=${`badge ${s.advisories.status}`}>${s.advisories.status}</span>
          ${s.advisories.at ? html` <${Time} at=${s.advisories.at} />` : null}${s.advisories.error ? html`<span class="error"> ${s.advisories.error}</span>` : null}</p>` : null}
        ${canChange() ? html`<${SyncNow} source=${s} onSynced=${src.reload} />` : null}
      </section>
      <section class="panel" aria-labelledby="hook-state-h">
        <h2 id="hook-state-h">Webhook and state</h2>
        <label for="webhook-url">Webhook URL</label>
        <div class="row"><input id="webhook-url" class="mono" readonly value=${s.webhook_url} />
          <div class="shrink"><${CopyButton} text=${s.webhook_url} label="Copy" target="webhook-url" /></div></div>
        <p class="muted">Credentials: ${s.credentials ? (s.credentials.secret ? `Worker secret ${s.credentials.secret}` : s.credentials.type) : "none"}.
          Patterns: ${s.include.length ? s.include.join(", ") : "all"}${s.exclude.length ? `, not ${s.exclude.join(", ")}` : ""}.</p>
        ${canChange()
          ? html`<div class="actions">
              <button type="button" class="secondary" onClick=${() => setConfirm("secret")}>New webhook secret</button>
              <button type="button" class="secondary" disabled=${toggle.busy}
                onClick=${() => toggle.run(async () => (await call("PATCH", `/admin/api/sources/${s.id}`, { enabled: !s.enabled }), src.reload()))}>
                ${toggle.busy ? "Saving…" : s.enabled ? "Disable" : "Enable"}</button>
              <button type="button" class="danger" onClick=${() => setConfirm("remove")}>Remove source</button>
            </div>
            <${ErrorText} error=${toggle.error} />`
          : null}
        ${s.endpoints ? html`<details><summary>What the upstream advertises</summary><ul class="plain mono">
          ${Object.entries(s.endpoints).filter(([, u]) => u).map(([k, u]) => html`<li key=${k}>${k}: ${u}</li>`)}</ul></details>` : null}
      </section>
    </div>
    ${canChange() ? html`<section class="panel"><${ChangeSource} source=${s} key=${s.updated_at} onChanged=${src.reload} /></section>` : html`<${ReadOnlyNote} />`}
    <${SkippedRefs} id=${s.id} />
    ${confirm === "secret"
      ? html`<${Confirm} title="Make a new webhook URL and secret?" confirmLabel="Make new ones" danger=${false} onClose=${() => setConfirm(null)}
          onConfirm=${async () => setSecret({ id: s.id, ...(await call("POST", `/admin/api/sources/${s.id}/webhook-secret`)) })}>
          <p>The current webhook URL and secret stop working at once; update the provider's webhook with the new ones.</p>
        <//>`
      : null}
    ${confirm === "remove"
      ? html`<${Confirm} title=${`Remove source #${s.id}?`} confirmLabel="Remove source" onClose=${() => setConfirm(null)}
          onConfirm=${async () => {
            const r = await call("DELETE", `/admin/api/sources/${s.id}`);
            setFlash(`Removed source #${s.id} with its ${r.packages.length} packages; ${r.objects_deleted.length} archive(s) deleted from R2.`);
            window.location.hash = "#/sources";
          }}>
          <p>Its packages (${last?.packages ?? "all"} from the last sync), their metadata and their archives in R2 are deleted; composer stops finding
            them. This cannot be undone.</p>
        <//>`
      : null}`;
}
