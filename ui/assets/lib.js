// Shared by the customer page and the admin console: Preact with htm (no build step), the API client
// (errors carry the API's message and the field it names), formatting, the copy button, the confirm
// dialog, and the composer set-up snippets (repositories entry, auth.json keyed by host[:port]).
import { h, render } from "preact";
import { useEffect, useRef, useState, useErrorBoundary } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);
export { render };

// An API answer that was not 2xx, or no answer at all (status 0). `field` is the body field the
// message names (the API quotes it: "\"name\" is required", "... in \"include\""), so a form can show
// the message at that field.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = /"([a-z_]+)[".[]/.exec(message)?.[1] ?? null;
  }
}

// One JSON call. auth: "Bearer …" for the customer page (sent with credentials "omit", so the browser
// adds no cookie and never opens its own password dialog); the console sends its session cookie and,
// for changes, the session's CSRF token (its sign-in sends the admin token with credentials, so the
// answer's cookie is kept).
export async function api(method, path, { body, csrf, auth, signal, credentials } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (csrf && method !== "GET") headers["x-csrf-token"] = csrf;
  if (auth) headers.authorization = auth;
  let r;
  try {
    r = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: credentials ?? (auth ? "omit" : "same-origin"),
      cache: "no-store",
      signal,
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "network", `The server could not be reached (${e.message}). Nothing was changed by this attempt; try again.`);
  }
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  if (!r.ok) {
    const message = json?.warning ?? json?.error?.message ?? `The server answered ${r.status} ${r.statusText}.`;
    throw new ApiError(r.status, json?.error?.code ?? "http", message);
  }
  return json;
}

// A list page's state: rows, the cursor of the next page, loading and error, with a reload.
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, error: null, data: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    load(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ loading: false, error: null, data }),
      (error) => !ctl.signal.aborted && error.name !== "AbortError" && setState((s) => ({ loading: false, error, data: s.data })),
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

// Formatting.
export const fmtBytes = (n) =>
  n == null ? "–" : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
export const fmtDate = (iso) => (iso ? new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" }) : "–");
export const Time = ({ at }) => html`<time datetime=${at ?? ""} title=${at ?? ""}>${fmtTime(at)}</time>`;

// Error text in words, next to what caused it. role=alert makes screen readers say it at once.
export const ErrorText = ({ error, id }) =>
  error ? html`<p class="error" role="alert" id=${id}>${error.message ?? String(error)}</p>` : null;

export const Loading = ({ what = "Loading" }) => html`<p class="muted" role="status"><span class="spinner" aria-hidden="true"></span> ${what}…</p>`;

// Copies text; where the Clipboard API is missing (plain http on another host) the text is selected
// so that Ctrl+C copies it, and the button says so.
export function CopyButton({ text, label = "Copy", target }) {
  const [done, setDone] = useState("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setDone("Copied");
    } catch {
      const el = target && document.getElementById(target);
      if (el?.select) el.select();
      setDone("Press Ctrl+C to copy");
    }
    setTimeout(() => setDone(""), 2500);
  }
  return html`<span class="copy"><button type="button" class="secondary small" onClick=${copy}>${label}</button>
    <span class="copied" role="status">${done}</span></span>`;
}

// A read-only block of text with its copy button.
export function Snippet({ id, text, label = "", display }) {
  return html`<div class="snippet">
    <div class="snippet-head"><span>${label}</span><${CopyButton} text=${text} target=${id} label=${label ? `Copy ${label}` : "Copy"} /></div>
    <pre id=${id} tabindex="0" aria-label=${label || undefined}>${display ?? text}</pre>
  </div>`;
}

// A modal confirmation (<dialog>: focus stays inside, Escape cancels). onConfirm may be async: the
// dialog shows progress while it runs and its error if it fails, and closes only on success.
export function Confirm({ title, children, confirmLabel = "Delete", danger = true, onConfirm, onClose }) {
  const ref = useRef();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    const d = ref.current;
    d.showModal();
    return () => d.open && d.close();
  }, []);
  async function go() {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return html`<dialog ref=${ref} aria-labelledby="confirm-title" onCancel=${(e) => (busy ? e.preventDefault() : onClose())}>
    <h2 id="confirm-title">${title}</h2>
    <div>${children}</div>
    <${ErrorText} error=${error} />
    <div class="actions">
      <button type="button" class=${danger ? "danger" : ""} onClick=${go} disabled=${busy}>${busy ? "Working…" : confirmLabel}</button>
      <button type="button" class="secondary" onClick=${onClose} disabled=${busy}>Cancel</button>
    </div>
  </dialog>`;
}

// Rendering errors become words on the page, never a blank one.
export function Boundary({ children }) {
  const [error, reset] = useErrorBoundary();
  if (error)
    return html`<div class="panel"><h2>Something went wrong on this page</h2><${ErrorText} error=${error} />
      <button type="button" onClick=${reset}>Try again</button></div>`;
  return children;
}

// How composer reaches this repository: the auth.json key is the host with its port (composer's rule),
// and plain http needs secure-http off (only sensible on one's own machine).
export function composerSetup(token, name = "package-broker") {
  const { origin, host, protocol } = window.location;
  const insecure = protocol === "http:";
  const authJson = JSON.stringify({ "http-basic": { [host]: { username: "token", password: token } } }, null, 4);
  const commands = [
    `composer config repositories.${name} composer ${origin}`,
    ...(insecure ? ["composer config secure-http false"] : []),
    `composer config http-basic.${host} token ${token}`,
  ].join("\n");
  const repositories = JSON.stringify({ repositories: [{ type: "composer", url: origin }] }, null, 4);
  return { origin, host, insecure, authJson, commands, repositories };
}

// The composer set-up for a token, as commands and as files. `shown` replaces the secret on screen
// (the copy buttons always copy the real one).
export function ComposerSetup({ token, shown = token, idPrefix = "setup" }) {
  const real = composerSetup(token);
  const visible = composerSetup(shown);
  return html`<div class="setup">
    <p>In your project, run:</p>
    <${Snippet} id=${`${idPrefix}-commands`} label="Commands" text=${real.commands} display=${visible.commands} />
    ${real.insecure
      ? html`<p class="muted">This repository is served over plain http, so composer needs <code>secure-http</code> off: fine on
          your own machine, never for a real deployment (use https there).</p>`
      : null}
    <p>Or write the files yourself: <code>auth.json</code> next to <code>composer.json</code> (keep it out of version
      control; the key is the host${real.host.includes(":") ? " with its port" : ""}):</p>
    <${Snippet} id=${`${idPrefix}-auth`} label="auth.json" text=${real.authJson} display=${visible.authJson} />
    <p>and in <code>composer.json</code>:</p>
    <${Snippet} id=${`${idPrefix}-repos`} label="composer.json" text=${real.repositories} />
  </div>`;
}
