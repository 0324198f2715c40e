// Package tokens: the list (scope, access, licences, rate limit, expiry, last use), creation with every
// option the API has, the secret shown once with its copy button and the composer set-up for it, and
// revocation after a confirmation.
import { html, useLoad, ErrorText, Loading, Time, Confirm, ComposerSetup, CopyButton, fmtDate } from "../lib.js";
import { useState } from "preact/hooks";
import { call, canChange, query } from "./api.js";
import { Field, FormError, Pager, useAction, useForm, patterns, endOfDay, ReadOnlyNote } from "./forms.js";

const blankLicence = () => ({ packages: "", constraint: "", updates_until: "" });

function CreateToken({ onCreated }) {
  const [v, set] = useForm({ name: "", packages: "", access: "read", expires: "", rate_limit: "" });
  const [licences, setLicences] = useState([]);
  const { busy, error, run } = useAction();
  const setLicence = (i, key) => (e) => {
    const value = e.currentTarget.value;
    setLicences((ls) => ls.map((l, j) => (j === i ? { ...l, [key]: value } : l)));
  };
  async function submit(e) {
    e.preventDefault();
    await run(async () => {
      const body = { name: v.name.trim(), access: v.access };
      const scope = patterns(v.packages);
      if (scope.length) body.packages = scope;
      if (v.expires) body.expires_at = endOfDay(v.expires);
      if (v.rate_limit.trim() !== "") body.rate_limit = Number(v.rate_limit);
      if (licences.length)
        body.licences = licences.map((l) => ({
          packages: l.packages.trim(),
          constraint: l.constraint.trim(),
          ...(l.updates_until ? { updates_until: l.updates_until } : {}),
        }));
      const created = await call("POST", "/admin/api/tokens", body);
      onCreated(created);
    });
  }
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="new-token-h" novalidate>
    <h2 id="new-token-h">Create a token</h2>
    <div class="row">
      <${Field} form="token" name="name" label="Name" hint="Who or what uses it: a customer, a CI pipeline." required
        value=${v.name} onInput=${set("name")} error=${error} />
      <${Field} form="token" name="access" label="Access" as="select" value=${v.access} onChange=${set("access")} error=${error}
        options=${[["read", "read: install what is here"], ["update", "update: may also mirror new packages"]]} />
    </div>
    <${Field} form="token" name="packages" label="Packages it may see" as="textarea" value=${v.packages} onInput=${set("packages")}
      error=${error} hint="Name patterns, one per line or separated by commas: acme/widget, acme/*. Empty: every package." />
    <div class="row">
      <${Field} form="token" name="expires_at" label="Valid until (inclusive, UTC)" type="date" value=${v.expires}
        onInput=${set("expires")} error=${error} hint="Empty: never expires." />
      <${Field} form="token" name="rate_limit" label="Rate limit (requests per minute)" type="number" min="0" inputmode="numeric"
        value=${v.rate_limit} onInput=${set("rate_limit")} error=${error} hint="Empty: the deployment's default; 0: unlimited." />
    </div>
    <fieldset>
      <legend>Licences</legend>
      <p class="hint">A licence limits the versions of the packages it names to a constraint, and to releases up to a date.
        Packages no licence names follow the scope above alone.</p>
      ${licences.map((l, i) => html`<div class="row" key=${i} role="group" aria-label=${`Licence ${i + 1}`}>
        <div><label for=${`lic-${i}-p`}>Packages</label><input id=${`lic-${i}-p`} value=${l.packages} onInput=${setLicence(i, "packages")} placeholder="acme/*" /></div>
        <div><label for=${`lic-${i}-c`}>Version constraint</label><input id=${`lic-${i}-c`} value=${l.constraint} onInput=${setLicence(i, "constraint")} placeholder="^2.0" /></div>
        <div><label for=${`lic-${i}-u`}>Updates until</label><input id=${`lic-${i}-u`} type="date" value=${l.updates_until} onInput=${setLicence(i, "updates_until")} /></div>
        <div class="shrink"><button type="button" class="secondary small" onClick=${() => setLicences((ls) => ls.filter((_, j) => j !== i))}
          aria-label=${`Remove licence ${i + 1}`}>Remove</button></div>
      </div>`)}
      ${error?.field === "licences" ? html`<${ErrorText} error=${error} />` : null}
      <div class="actions"><button type="button" class="secondary small" onClick=${() => setLicences((ls) => [...ls, blankLicence()])}>Add a licence</button></div>
    </fieldset>
    ${error?.field === "licences" ? null : html`<${FormError} form="token" error=${error} />`}
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Creating…" : "Create token"}</button></div>
  </form>`;
}

// The secret, once. Closing this panel forgets it for good.
function CreatedToken({ token, onDone }) {
  return html`<section class="panel" aria-labelledby="created-h">
    <h2 id="created-h">Token "${token.name}" created</h2>
    <p class="notice" role="status"><strong>Copy the secret now.</strong> It is not stored here and cannot be shown again; if it is lost,
      revoke the token and create another.</p>
    <label for="new-token-secret">Secret</label>
    <div class="row">
      <input id="new-token-secret" class="mono secret" readonly value=${token.token} onFocus=${(e) => e.currentTarget.select()} />
      <div class="shrink"><${CopyButton} text=${token.token} label="Copy secret" target="new-token-secret" /></div>
    </div>
    <h3>Composer set-up for this token</h3>
    <${ComposerSetup} token=${token.token} idPrefix="new-token" />
    <div class="actions"><button type="button" onClick=${onDone}>I have copied it</button></div>
  </section>`;
}

function scopeText(t) {
  return t.packages?.length ? t.packages.join(", ") : "all packages";
}

function status(t) {
  if (t.revoked_at) return html`<span class="badge off">revoked</span>`;
  if (t.expires_at && Date.parse(t.expires_at) < Date.now()) return html`<span class="badge warn">expired</span>`;
  return html`<span class="badge ok">active</span>`;
}

export function Tokens() {
  const [cursor, setCursor] = useState(null);
  const [created, setCreated] = useState(null);
  const [revoke, setRevoke] = useState(null);
  const [notice, setNotice] = useState(null);
  const list = useLoad((signal) => call("GET", `/admin/api/tokens${query({ cursor, limit: 50 })}`, undefined, { signal }), [cursor]);
  return html`<h1 tabindex="-1">Tokens</h1>
    <p class="muted">Package tokens let composer (and <a href="/">the customer page</a>) read this repository. Only their SHA-256
      is stored.</p>
    ${created ? html`<${CreatedToken} token=${created} onDone=${() => setCreated(null)} />` : null}
    ${!created && canChange() ? html`<${CreateToken} onCreated=${(t) => (setCreated(t), setNotice(null), list.reload())} />` : null}
    ${canChange() ? null : html`<${ReadOnlyNote} />`}
    ${notice ? html`<p class="notice success" role="status">${notice}</p>` : null}
    <section class="panel" aria-labelledby="tokens-h">
      <h2 id="tokens-h">All tokens</h2>
      ${list.loading && !list.data ? html`<${Loading} />` : null}
      <${ErrorText} error=${list.error} />
      ${list.data
        ? html`<div class="table-wrap"><table>
            <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Packages</th><th scope="col">Access</th>
              <th scope="col">Licences</th><th scope="col" class="num">Rate limit</th><th scope="col">Expires</th>
              <th scope="col">Last used</th><th scope="col">Status</th>${canChange() ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}</tr></thead>
            <tbody>${list.data.tokens.map((t) => html`<tr key=${t.id} class=${t.revoked_at ? "revoked" : ""}>
              <td>${t.name}</td><td><code>${t.token_prefix}…</code></td><td>${scopeText(t)}</td><td>${t.access}</td>
              <td>${t.licences?.length
                ? t.licences.map((l) => html`<div key=${l.packages + l.constraint}><code>${l.packages}</code> ${l.constraint}${l.updates_until ? ` until ${fmtDate(l.updates_until)}` : ""}</div>`)
                : "–"}</td>
              <td class="num">${t.rate_limit ?? "default"}</td><td>${t.expires_at ? fmtDate(t.expires_at) : "never"}</td>
              <td>${t.last_used_at ? html`<${Time} at=${t.last_used_at} />` : "never"}</td><td>${status(t)}</td>
              ${canChange()
                ? html`<td class="actions-cell">${t.revoked_at ? null : html`<button type="button" class="secondary small" aria-label=${`Revoke token ${t.name}`}
                    onClick=${() => setRevoke(t)}>Revoke</button>`}</td>`
                : null}
            </tr>`)}</tbody>
          </table></div>
          <${Pager} cursor=${cursor} next=${list.data.next_cursor} count=${list.data.tokens.length} noun="token"
            onFirst=${() => setCursor(null)} onNext=${setCursor} />`
        : null}
    </section>
    ${revoke
      ? html`<${Confirm} title=${`Revoke the token "${revoke.name}"?`} confirmLabel="Revoke" onClose=${() => setRevoke(null)}
          onConfirm=${async () => {
            await call("DELETE", `/admin/api/tokens/${revoke.id}`);
            setNotice(`Revoked "${revoke.name}". Composer runs with it now fail with 401 (within 10 seconds everywhere).`);
            list.reload();
          }}>
          <p>Composer and the customer page stop accepting <code>${revoke.token_prefix}…</code> at once in this isolate and within
            10 seconds everywhere. This cannot be undone.</p>
        <//>`
      : null}`;
}
