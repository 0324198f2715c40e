// The admin console at /admin/: sign-in (an admin token exchanged for the session cookie), the page
// frame with its navigation (hash routes, so every page is the one static file), sign-out, and the
// sign-in dialog that appears over the page when the session ends, so nothing typed is lost.
import { html, render, api, ApiError, ErrorText, Loading, Boundary } from "../lib.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { session, setSession, onSessionLost, call, isOwner } from "./api.js";
import { Overview } from "./overview.js";
import { PackageList, PackageDetail } from "./packages.js";
import { Tokens } from "./tokens.js";
import { Sources, SourceDetail } from "./sources.js";
import { Audit, Admins } from "./audit.js";

const PAGES = [
  ["overview", "Overview", "#/"],
  ["packages", "Packages", "#/packages"],
  ["tokens", "Tokens", "#/tokens"],
  ["sources", "Sources", "#/sources"],
  ["audit", "Audit log", "#/audit"],
  ["admins", "Admins", "#/admins"],
];

function parseRoute(hash) {
  const p = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (!p.length) return { page: "overview" };
  if (p[0] === "packages" && p.length === 3) return { page: "packages", name: `${p[1]}/${p[2]}` };
  if (p[0] === "sources" && p.length === 2) return { page: "sources", id: p[1] };
  return { page: p[0] };
}

function useRoute() {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return parseRoute(hash);
}

function SignInForm({ onSignedIn, intro }) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    if (!token.trim()) return setError(new Error("Enter an admin token."));
    setBusy(true);
    setError(null);
    try {
      const s = await api("POST", "/admin/api/sessions", { auth: `Bearer ${token.trim()}`, credentials: "same-origin" });
      setToken("");
      onSignedIn({ name: s.name, role: s.role, actor: s.actor, csrf: s.csrf_token, expires_at: s.expires_at });
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? new Error(`Not signed in: ${err.message}. Use an admin token (ADMIN_TOKEN or pba_…); package tokens cannot open the console.`) : err);
    } finally {
      setBusy(false);
    }
  }
  return html`<form onSubmit=${submit} novalidate>
    ${intro}
    <label for="admin-token">Admin token</label>
    <input id="admin-token" type="password" autocomplete="current-password" spellcheck="false" value=${token}
      onInput=${(e) => setToken(e.currentTarget.value)} aria-describedby="admin-token-hint admin-token-error" aria-invalid=${error ? "true" : "false"} />
    <span class="hint" id="admin-token-hint">The deployment's ADMIN_TOKEN secret or a named admin's <code>pba_…</code> token. It is
      exchanged for a session cookie of 8 hours and not kept by the browser.</span>
    <${ErrorText} error=${error} id="admin-token-error" />
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button></div>
  </form>`;
}

function SignInPage({ onSignedIn, note }) {
  const h1 = useRef();
  useEffect(() => h1.current?.focus(), []);
  return html`<header class="top"><a class="brand" href="/admin/"><img src="/assets/icon.svg" alt="" /> package-broker</a></header>
    <main class="narrow" id="main">
      <h1 tabindex="-1" ref=${h1}>Sign in to the console</h1>
      ${note ? html`<p class="notice" role="status">${note}</p>` : null}
      <div class="panel"><${SignInForm} onSignedIn=${onSignedIn} /></div>
      <p class="muted">Looking for your packages as a customer? They are on <a href="/">the repository's start page</a>.</p>
    </main>`;
}

// Over the current page when a call answers 401: sign in again and carry on where you were.
function SessionLostDialog({ reason, onSignedIn }) {
  const ref = useRef();
  useEffect(() => {
    ref.current.showModal();
  }, []);
  return html`<dialog ref=${ref} aria-labelledby="lost-title" onCancel=${(e) => e.preventDefault()}>
    <h2 id="lost-title">Your session ended</h2>
    <p>${reason} Sign in again to continue; this page keeps what you typed.</p>
    <${SignInForm} onSignedIn=${onSignedIn} />
  </dialog>`;
}

function Frame({ route, onSignOut, children }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function signOut() {
    setBusy(true);
    try {
      await call("DELETE", "/admin/api/sessions/current");
      onSignOut();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="#/"><img src="/assets/icon.svg" alt="" /> package-broker</a>
      <nav class="main" aria-label="Console">
        ${PAGES.filter(([key]) => key !== "admins" || isOwner()).map(
          ([key, label, href]) => html`<a href=${href} key=${key} aria-current=${route.page === key ? "page" : undefined}>${label}</a>`,
        )}
      </nav>
      <div class="who">
        <span>${session.name} (${session.role})</span>
        <button type="button" class="secondary small" onClick=${signOut} disabled=${busy}>${busy ? "Signing out…" : "Sign out"}</button>
      </div>
    </header>
    ${error ? html`<div class="banner"><${ErrorText} error=${error} /></div>` : null}
    <main id="main">${children}</main>`;
}

function Page({ route }) {
  switch (route.page) {
    case "overview":
      return html`<${Overview} />`;
    case "packages":
      return route.name ? html`<${PackageDetail} name=${route.name} />` : html`<${PackageList} />`;
    case "tokens":
      return html`<${Tokens} />`;
    case "sources":
      return route.id ? html`<${SourceDetail} id=${route.id} />` : html`<${Sources} />`;
    case "audit":
      return html`<${Audit} />`;
    case "admins":
      return isOwner() ? html`<${Admins} />` : html`<h1 tabindex="-1">Admins</h1><p>Only owners manage admins.</p>`;
    default:
      return html`<h1 tabindex="-1">Not found</h1><p>There is no page <code>${window.location.hash}</code>. <a href="#/">Back to the overview</a>.</p>`;
  }
}

function App() {
  const [phase, setPhase] = useState("checking"); // checking | out | in
  const [note, setNote] = useState(null);
  const [lost, setLost] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const route = useRoute();

  useEffect(() => {
    // A tab opened after sign-in finds the session (and its CSRF token) through the cookie.
    api("GET", "/admin/api/sessions/current").then(
      (s) => {
        setSession({ name: s.name, role: s.role, actor: s.actor, csrf: s.csrf_token, expires_at: s.expires_at });
        setPhase("in");
      },
      (e) => {
        if (e instanceof ApiError && (e.status === 401 || e.status === 404)) setPhase("out");
        else setLoadError(e);
      },
    );
    return onSessionLost((e) => setLost(e));
  }, []);
  // Each page's heading takes the focus after navigation, so keyboard and screen reader users start there.
  useEffect(() => {
    if (phase !== "in") return;
    const label = PAGES.find(([k]) => k === route.page)?.[1] ?? "Console";
    document.title = `${label} · package-broker`;
    const t = setTimeout(() => document.querySelector("main h1")?.focus(), 0);
    return () => clearTimeout(t);
  }, [phase, route.page, route.name, route.id]);

  if (loadError)
    return html`<main class="narrow"><h1>The console cannot start</h1><${ErrorText} error=${loadError} />
      <button type="button" onClick=${() => window.location.reload()}>Reload</button></main>`;
  if (phase === "checking") return html`<main class="narrow"><${Loading} what="Checking your session" /></main>`;
  const signedIn = (s) => {
    setSession(s);
    setLost(null);
    setNote(null);
    setPhase("in");
  };
  if (phase === "out") return html`<${SignInPage} onSignedIn=${signedIn} note=${note} />`;
  return html`<${Frame} route=${route} onSignOut=${() => (setSession({ csrf: null, role: null, name: null }), setNote("You are signed out."), setPhase("out"))}>
      <${Boundary} key=${route.page + (route.name ?? route.id ?? "")}><${Page} route=${route} /><//>
    <//>
    ${lost ? html`<${SessionLostDialog} reason=${lost.message} onSignedIn=${signedIn} />` : null}`;
}

const mount = document.getElementById("app");
mount.textContent = "";
render(html`<${App} />`, mount);
