// The audit log with its filters (time range, actor, action with a trailing *, target) and paging, each
// entry's before/after on demand; and the admins page (owners only): create with the token shown once,
// revoke.
import { html, useLoad, ErrorText, Loading, Time, Confirm, CopyButton } from "../lib.js";
import { useState } from "preact/hooks";
import { call, query } from "./api.js";
import { Field, FormError, Pager, useAction, useForm } from "./forms.js";

const ACTIONS = [
  "", "token.*", "artifact.upload", "package.delete", "version.delete", "source.*", "admin.*", "session.*", "advisory.*",
  "access.denied", "access.rate_limited",
];

export function Audit() {
  const [form, set] = useForm({ since: "", until: "", actor: "", action: "", target: "" });
  const [filters, setFilters] = useState({});
  const [cursor, setCursor] = useState(null);
  const log = useLoad(
    (signal) => call("GET", `/admin/api/audit${query({ ...filters, cursor, limit: 50 })}`, undefined, { signal }),
    [JSON.stringify(filters), cursor],
  );
  function apply(e) {
    e.preventDefault();
    setCursor(null);
    setFilters({
      since: form.since,
      until: form.until ? `${form.until}T23:59:59Z` : "",
      actor: form.actor.trim(),
      action: form.action.trim(),
      target: form.target.trim(),
    });
  }
  return html`<h1 tabindex="-1">Audit log</h1>
    <form class="panel" onSubmit=${apply} aria-label="Filters">
      <div class="row">
        <${Field} form="audit" name="since" label="From (UTC day)" type="date" value=${form.since} onInput=${set("since")} error=${log.error} />
        <${Field} form="audit" name="until" label="To (UTC day, inclusive)" type="date" value=${form.until} onInput=${set("until")} error=${log.error} />
        <${Field} form="audit" name="actor" label="Actor" value=${form.actor} onInput=${set("actor")} error=${log.error}
          placeholder="alice, admin:3, token:12, anonymous" />
        <${Field} form="audit" name="action" label="Action" list="audit-actions" value=${form.action} onInput=${set("action")} error=${log.error}
          placeholder="token.*" hint="An action, or a prefix ending in *." />
        <${Field} form="audit" name="target" label="Target" value=${form.target} onInput=${set("target")} error=${log.error}
          placeholder="package:acme/widget" />
      </div>
      <datalist id="audit-actions">${ACTIONS.filter(Boolean).map((a) => html`<option value=${a} key=${a} />`)}</datalist>
      <div class="actions"><button type="submit">Apply filters</button></div>
    </form>
    <section class="panel" aria-labelledby="log-h">
      <h2 id="log-h">Entries, newest first</h2>
      ${log.loading && !log.data ? html`<${Loading} />` : null}
      <${FormError} form="audit" error=${log.error} />
      ${log.data
        ? html`${log.data.entries.length
              ? html`<div class="table-wrap"><table>
                  <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th>
                    <th scope="col" class="num">Status</th><th scope="col">Details</th></tr></thead>
                  <tbody>${log.data.entries.map((e) => html`<tr key=${e.id}>
                    <td><${Time} at=${e.at} /></td>
                    <td>${e.actor_name ? html`${e.actor_name}<div class="muted">${e.actor}</div>` : e.actor}</td>
                    <td><code>${e.action}</code>${e.count > 1 ? html` <span class="muted">×${e.count}</span>` : null}</td>
                    <td>${e.target ?? "–"}<div class="muted">${e.method} ${e.path}</div></td>
                    <td class="num">${e.status}</td>
                    <td>${e.reason ? html`<div>${e.reason}</div>` : null}
                      ${e.before || e.after
                        ? html`<details><summary>Before and after</summary>
                            ${e.before ? html`<h3>Before</h3><pre>${JSON.stringify(e.before, null, 2)}</pre>` : null}
                            ${e.after ? html`<h3>After</h3><pre>${JSON.stringify(e.after, null, 2)}</pre>` : null}</details>`
                        : null}</td>
                  </tr>`)}</tbody>
                </table></div>`
              : html`<p class="muted">No entries match.</p>`}
            <${Pager} cursor=${cursor} next=${log.data.next_cursor} count=${log.data.entries.length} noun="entry" plural="entries"
              onFirst=${() => setCursor(null)} onNext=${setCursor} />`
        : null}
    </section>`;
}

function CreateAdmin({ onCreated }) {
  const [v, set] = useForm({ name: "", role: "viewer" });
  const { busy, error, run } = useAction();
  async function submit(e) {
    e.preventDefault();
    await run(async () => onCreated(await call("POST", "/admin/api/admins", { name: v.name.trim(), role: v.role })));
  }
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="new-admin-h" novalidate>
    <h2 id="new-admin-h">Add an admin</h2>
    <div class="row">
      <${Field} form="admin" name="name" label="Name" value=${v.name} onInput=${set("name")} error=${error} />
      <${Field} form="admin" name="role" label="Role" as="select" value=${v.role} onChange=${set("role")} error=${error}
        options=${[["viewer", "viewer: reads everything but admins"], ["maintainer", "maintainer: also changes all but admins"], ["owner", "owner: also manages admins"]]} />
    </div>
    <${FormError} form="admin" error=${error} />
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Adding…" : "Add admin"}</button></div>
  </form>`;
}

export function Admins() {
  const [cursor, setCursor] = useState(null);
  const [created, setCreated] = useState(null);
  const [revoke, setRevoke] = useState(null);
  const list = useLoad((signal) => call("GET", `/admin/api/admins${query({ cursor, limit: 50 })}`, undefined, { signal }), [cursor]);
  return html`<h1 tabindex="-1">Admins</h1>
    <p class="muted">The deployment's ADMIN_TOKEN secret is the first owner (admin:0). Named admins sign in with their own <code>pba_…</code> token.</p>
    ${created
      ? html`<section class="panel" aria-labelledby="admin-created-h">
          <h2 id="admin-created-h">Admin "${created.name}" added</h2>
          <p class="notice" role="status"><strong>Copy the token now</strong> and give it to ${created.name}; it is not shown again.</p>
          <label for="new-admin-token">Admin token</label>
          <div class="row"><input id="new-admin-token" class="mono secret" readonly value=${created.token} />
            <div class="shrink"><${CopyButton} text=${created.token} label="Copy token" target="new-admin-token" /></div></div>
          <div class="actions"><button type="button" onClick=${() => setCreated(null)}>I have copied it</button></div>
        </section>`
      : html`<${CreateAdmin} onCreated=${(a) => (setCreated(a), list.reload())} />`}
    <section class="panel" aria-labelledby="admins-h">
      <h2 id="admins-h">All admins</h2>
      ${list.loading && !list.data ? html`<${Loading} />` : null}
      <${ErrorText} error=${list.error} />
      ${list.data
        ? html`<div class="table-wrap"><table>
            <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Prefix</th><th scope="col">Created</th>
              <th scope="col">Last used</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>${list.data.admins.map((a) => html`<tr key=${a.id} class=${a.revoked_at ? "revoked" : ""}>
              <td>${a.name} <span class="muted">admin:${a.id}</span></td><td>${a.role}</td><td><code>${a.token_prefix}…</code></td>
              <td><${Time} at=${a.created_at} /> <span class="muted">by ${a.created_by}</span></td>
              <td>${a.last_used_at ? html`<${Time} at=${a.last_used_at} />` : "never"}</td>
              <td>${a.revoked_at ? html`<span class="badge off">revoked</span>` : html`<span class="badge ok">active</span>`}</td>
              <td class="actions-cell">${a.revoked_at ? null : html`<button type="button" class="secondary small" aria-label=${`Revoke admin ${a.name}`}
                onClick=${() => setRevoke(a)}>Revoke</button>`}</td>
            </tr>`)}</tbody>
          </table></div>
          <${Pager} cursor=${cursor} next=${list.data.next_cursor} count=${list.data.admins.length} noun="admin"
            onFirst=${() => setCursor(null)} onNext=${setCursor} />`
        : null}
    </section>
    ${revoke
      ? html`<${Confirm} title=${`Revoke the admin "${revoke.name}"?`} confirmLabel="Revoke" onClose=${() => setRevoke(null)}
          onConfirm=${async () => (await call("DELETE", `/admin/api/admins/${revoke.id}`), list.reload())}>
          <p>Their token and every console session they have stop working at once.</p>
        <//>`
      : null}`;
}
