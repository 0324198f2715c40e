// The customer page at /: someone with a package token sees what it lets them install (the names from
// /packages.json, the versions from the p2 documents: licences applied by the Worker exactly as for
// composer) and how to set up composer. Without a token it explains the service and shows no name.
// The token stays in this tab's sessionStorage (gone when the tab closes); see docs/UI.md for why.
import { html, render, api, ApiError, ErrorText, Loading, ComposerSetup, Snippet, Boundary, fmtDate } from "./lib.js";
import { useEffect, useRef, useState } from "preact/hooks";

const KEY = "package-broker.token";
const PAGE = 50;

const stored = () => {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
};
const remember = (t) => {
  try {
    if (t) sessionStorage.setItem(KEY, t);
    else sessionStorage.removeItem(KEY);
  } catch {}
};

const bearer = (token) => `Bearer ${token}`;
const masked = (token) => `${token.slice(0, 8)}…`;

// Composer's minified p2 lists: each entry holds what changed from the one before ("__unset" removes).
function expand(list) {
  const out = [];
  let prev = {};
  for (const v of list ?? []) {
    const cur = { ...prev, ...v };
    for (const k of Object.keys(v)) if (v[k] === "__unset") delete cur[k];
    out.push(cur);
    prev = cur;
  }
  return out;
}

function Header({ token, onForget }) {
  return html`<header class="top">
    <a class="brand" href="/"><img src="/assets/icon.svg" alt="" /> Private Composer repository</a>
    <span class="spacer"></span>
    ${token
      ? html`<span class="who">Token <code>${masked(token)}</code>
          <button type="button" class="secondary small" onClick=${onForget}>Forget token</button></span>`
      : null}
  </header>`;
}

function SignIn({ onSignedIn }) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError(new Error("Enter the token you were given."));
    setBusy(true);
    setError(null);
    try {
      const root = await api("GET", "/packages.json", { auth: bearer(t) });
      remember(t);
      onSignedIn(t, root);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? new Error(`This token was not accepted: ${err.message}`) : err);
      setBusy(false);
    }
  }
  return html`<main class="narrow" id="main">
    <h1 tabindex="-1">A private Composer repository</h1>
    <section class="panel hero">
      <p>This server hands PHP packages to <a href="https://getcomposer.org/">Composer</a>, the PHP package manager, for
        the people and machines that hold an access token for it. It is a private repository: which packages it has is
        visible only with a token.</p>
      <p><strong>How to get access:</strong> ask the team that runs this repository for a token. With it you can see
        here what it lets you install and how to set up composer for it.</p>
    </section>
    <form class="panel" onSubmit=${submit} novalidate>
      <h2>See what your token gives you</h2>
      <label for="token">Access token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" value=${token}
        onInput=${(e) => setToken(e.currentTarget.value)} aria-describedby="token-hint token-error" aria-invalid=${error ? "true" : "false"} />
      <span class="hint" id="token-hint">Starts with <code>pbt_</code>. It stays in this browser tab only and is sent to
        this server alone.</span>
      <${ErrorText} error=${error} id="token-error" />
      <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Checking…" : "Show my packages"}</button></div>
    </form>
  </main>`;
}

function Versions({ name, token }) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    const ctl = new AbortController();
    const get = (file) =>
      api("GET", `/p2/${name}${file}.json`, { auth: bearer(token), signal: ctl.signal }).then(
        (doc) => expand(doc?.packages?.[name]),
        (e) => (e instanceof ApiError && e.status === 404 ? [] : Promise.reject(e)),
      );
    Promise.all([get(""), get("~dev")]).then(
      ([tagged, dev]) => setState({ versions: [...tagged, ...dev] }),
      (error) => error.name !== "AbortError" && setState({ error }),
    );
    return () => ctl.abort();
  }, [name, token]);
  if (state.loading) return html`<${Loading} what="Loading versions" />`;
  if (state.error) return html`<${ErrorText} error=${state.error} />`;
  const versions = state.versions;
  if (!versions.length) return html`<p class="muted">No version of this package is available to your token.</p>`;
  const latest = versions.find((v) => !/dev/i.test(v.version)) ?? versions[0];
  const m = /^v?(\d+)\.(\d+)/.exec(latest.version);
  const constraint = m ? `:^${m[1]}.${m[2]}` : `:${latest.version}`;
  const id = `req-${name.replace(/[^a-z0-9]/g, "-")}`;
  return html`<div>
    ${latest.description ? html`<p>${latest.description}</p>` : null}
    <${Snippet} id=${id} text=${`composer require ${name}${constraint}`} />
    <div class="table-wrap"><table>
      <caption class="visually-hidden">Versions of ${name} available to your token</caption>
      <thead><tr><th scope="col">Version</th><th scope="col">Released</th><th scope="col">Requires PHP</th></tr></thead>
      <tbody>${versions.map((v) => html`<tr key=${v.version}>
        <td><code>${v.version}</code></td><td>${fmtDate(v.time)}</td><td>${v.require?.php ?? "–"}</td></tr>`)}</tbody>
    </table></div>
  </div>`;
}

function Package({ name, token }) {
  const [open, setOpen] = useState(false);
  return html`<details class="pkg" onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>${name}</summary>
    ${open ? html`<${Versions} name=${name} token=${token} />` : null}
  </details>`;
}

function Packages({ token, root, onForget }) {
  const names = root["available-packages"] ?? [];
  const patterns = root["available-package-patterns"] ?? [];
  const [filter, setFilter] = useState("");
  const [shown, setShown] = useState(PAGE);
  const [reveal, setReveal] = useState(false);
  const heading = useRef();
  useEffect(() => heading.current?.focus(), []);
  const q = filter.trim().toLowerCase();
  const matching = q ? names.filter((n) => n.includes(q)) : names;
  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>Your packages</h1>
    <div class="grid">
      <section class="panel" aria-labelledby="pk-h">
        <h2 id="pk-h">What your token may install (${names.length})</h2>
        ${names.length
          ? html`<label for="filter">Filter by name</label>
              <input id="filter" type="search" value=${filter} onInput=${(e) => (setFilter(e.currentTarget.value), setShown(PAGE))} />
              <p class="muted" role="status">${q ? `${matching.length} of ${names.length} packages match.` : "Open a package to see its versions."}</p>
              <ul class="plain" aria-label="Packages">
                ${matching.slice(0, shown).map((n) => html`<li key=${n}><${Package} name=${n} token=${token} /></li>`)}
              </ul>
              ${matching.length > shown
                ? html`<div class="actions"><button type="button" class="secondary" onClick=${() => setShown(shown + PAGE)}>
                    Show ${Math.min(PAGE, matching.length - shown)} more</button></div>`
                : null}`
          : html`<p>This token does not give access to any package yet. Ask the team that runs this repository.</p>`}
        ${patterns.length
          ? html`<p class="muted">Also available when composer asks for them (mirrored on first use):${" "}
              ${patterns.map((p, i) => html`${i ? ", " : ""}<code>${p}</code>`)}</p>`
          : null}
      </section>
      <section class="panel" aria-labelledby="setup-h">
        <h2 id="setup-h">Set up composer</h2>
        <p>Repository: <code>${window.location.origin}</code>. Your token is the password; any user name works.</p>
        <label class="inline"><input type="checkbox" checked=${reveal} onChange=${(e) => setReveal(e.currentTarget.checked)} /> Show the token in the text below</label>
        <${ComposerSetup} token=${token} shown=${reveal ? token : masked(token)} />
        <div class="actions"><button type="button" class="secondary" onClick=${onForget}>Forget the token in this tab</button></div>
      </section>
    </div>
  </main>`;
}

function App() {
  const [session, setSession] = useState(() => (stored() ? { token: stored(), root: null } : null));
  const [error, setError] = useState(null);
  // A token remembered by this tab is checked again on load (it may have been revoked meanwhile).
  useEffect(() => {
    if (!session || session.root) return;
    api("GET", "/packages.json", { auth: bearer(session.token) }).then(
      (root) => setSession({ token: session.token, root }),
      (e) => {
        if (e instanceof ApiError && e.status === 401) remember(null);
        setError(e instanceof ApiError && e.status === 401 ? new Error(`The token of this tab no longer works: ${e.message}`) : e);
        setSession(null);
      },
    );
  }, [session]);
  const forget = () => {
    remember(null);
    setError(null);
    setSession(null);
  };
  let body;
  if (!session) body = html`<${SignIn} onSignedIn=${(token, root) => (setError(null), setSession({ token, root }))} />`;
  else if (!session.root) body = html`<main><${Loading} what="Checking your token" /></main>`;
  else body = html`<${Packages} token=${session.token} root=${session.root} onForget=${forget} />`;
  return html`<a class="skip" href="#main">Skip to content</a>
    <${Header} token=${session?.root ? session.token : null} onForget=${forget} />
    ${error && !session ? html`<div class="banner"><${ErrorText} error=${error} /></div>` : null}
    <${Boundary}>${body}<//>`;
}

const mount = document.getElementById("app");
mount.textContent = "";
render(html`<${App} />`, mount);
