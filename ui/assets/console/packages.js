// Packages: search and paging (/admin/api/packages), the upload of a zip with its progress (the name
// comes from the archive's composer.json: PUT /admin/api/artifacts), and a package's versions with
// size, release date, digests and download counts, each deletable after a confirmation.
import { html, useLoad, ErrorText, Loading, Time, Confirm, fmtBytes, CopyButton } from "../lib.js";
import { useState } from "preact/hooks";
import { call, canChange, query, upload, setFlash, takeFlash } from "./api.js";
import { Field, FormError, Pager, useAction, useForm, ReadOnlyNote } from "./forms.js";

function Upload({ onUploaded }) {
  const [file, setFile] = useState(null);
  const [values, set] = useForm({ version: "" });
  const [progress, setProgress] = useState(null);
  const [done, setDone] = useState(null);
  const { busy, error, run } = useAction();
  async function submit(e) {
    e.preventDefault();
    setDone(null);
    await run(async () => {
      if (!file) throw Object.assign(new Error("Choose a zip file first."), { field: "file" });
      setProgress({ sent: 0, total: file.size, phase: "sending" });
      try {
        const r = await upload(`/admin/api/artifacts${query({ version: values.version.trim() })}`, file, (sent, total) =>
          setProgress({ sent, total, phase: sent >= total ? "reading" : "sending" }),
        );
        setDone(r);
        onUploaded?.(r);
      } finally {
        setProgress(null);
      }
    });
  }
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="up-h" novalidate>
    <h2 id="up-h">Upload a version</h2>
    <p class="muted">A zip with <code>composer.json</code> at its root or in one top-level folder; the package name is read from
      it. Versions are immutable: uploading an existing version is refused.</p>
    <div class="row">
      <${Field} form="upload" name="file" label="Archive (.zip)" type="file" accept=".zip,application/zip" error=${error}
        onChange=${(e) => setFile(e.currentTarget.files[0] ?? null)} />
      <${Field} form="upload" name="version" label="Version" hint="Empty: the version in composer.json." placeholder="1.2.0"
        value=${values.version} onInput=${set("version")} error=${error} />
    </div>
    ${progress
      ? html`<div role="status">
          <progress max=${progress.total || 1} value=${progress.sent} aria-label="Upload progress"></progress>
          <span class="muted">${progress.phase === "sending"
            ? `Sending ${fmtBytes(progress.sent)} of ${fmtBytes(progress.total)} (${Math.floor((100 * progress.sent) / (progress.total || 1))}%)`
            : "Sent; the server reads composer.json and publishes the version…"}</span>
        </div>`
      : null}
    <${FormError} form="upload" error=${error} />
    ${done
      ? html`<p class="notice success" role="status">Uploaded <a href=${`#/packages/${done.name}`}>${done.name}</a> ${done.version}${" "}
          (${fmtBytes(done.size)}, sha256 <code class="digest">${done.sha256}</code>).</p>`
      : null}
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Uploading…" : "Upload"}</button></div>
  </form>`;
}

export function PackageList() {
  const [flash] = useState(takeFlash);
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const [cursor, setCursor] = useState(null);
  const list = useLoad(
    (signal) => call("GET", `/admin/api/packages${query({ q: search, cursor, limit: 50 })}`, undefined, { signal }),
    [search, cursor],
  );
  return html`<h1 tabindex="-1">Packages</h1>
    ${flash ? html`<p class="notice success" role="status">${flash}</p>` : null}
    ${canChange() ? html`<${Upload} onUploaded=${() => list.reload()} />` : html`<${ReadOnlyNote} />`}
    <section class="panel" aria-labelledby="list-h">
      <h2 id="list-h">All packages</h2>
      <form role="search" class="row" onSubmit=${(e) => (e.preventDefault(), setCursor(null), setSearch(q.trim()))}>
        <div><label for="pkg-q">Search by name</label>
          <input id="pkg-q" type="search" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} placeholder="acme/" /></div>
        <div class="shrink"><button type="submit">Search</button></div>
      </form>
      ${list.loading && !list.data ? html`<${Loading} />` : null}
      <${ErrorText} error=${list.error} />
      ${list.data
        ? html`${list.data.packages.length
              ? html`<div class="table-wrap"><table>
                  <thead><tr><th scope="col">Name</th><th scope="col">Source</th><th scope="col" class="num">Versions</th>
                    <th scope="col">Latest</th><th scope="col">Updated</th></tr></thead>
                  <tbody>${list.data.packages.map((p) => html`<tr key=${p.name}>
                    <td><a href=${`#/packages/${p.name}`}>${p.name}</a></td><td>${p.source}</td><td class="num">${p.versions}</td>
                    <td><code>${p.latest ?? "–"}</code></td><td><${Time} at=${p.updated_at} /></td></tr>`)}</tbody>
                </table></div>`
              : html`<p class="muted">${search ? `No package name contains "${search}".` : "No packages yet: upload one above or add a source."}</p>`}
            <${Pager} cursor=${cursor} next=${list.data.next_cursor} count=${list.data.packages.length} noun="package"
              onFirst=${() => setCursor(null)} onNext=${setCursor} />`
        : null}
    </section>`;
}

// Download counts per version over the whole history (paged through, bounded).
async function versionCounts(name, signal) {
  const counts = new Map();
  let cursor = null;
  for (let page = 0; page < 20; page++) {
    const r = await call("GET", `/admin/api/stats${query({ group: "version", package: name, from: "2000-01-01", limit: 200, cursor })}`, undefined, { signal });
    for (const row of r.rows) counts.set(row.version, row);
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  return counts;
}

export function PackageDetail({ name }) {
  const detail = useLoad(async (signal) => {
    const [pkg, counts] = await Promise.all([
      call("GET", `/admin/api/packages/${name}`, undefined, { signal }),
      versionCounts(name, signal),
    ]);
    return { pkg, counts };
  }, [name]);
  const [confirm, setConfirm] = useState(null);
  const [result, setResult] = useState(null);
  if (detail.loading && !detail.data) return html`<h1 tabindex="-1">${name}</h1><${Loading} />`;
  if (detail.error && !detail.data)
    return html`<h1 tabindex="-1">${name}</h1><${ErrorText} error=${detail.error} /><p><a href="#/packages">All packages</a></p>`;
  if (!detail.data) return null;
  const { pkg, counts } = detail.data;
  const deleted = (r, what) => {
    const left = r.objects_left.length ? ` ${r.objects_left.length} archive(s) could not be deleted from R2: ${r.objects_left.join(", ")}.` : "";
    const message = `Deleted ${what}; ${r.objects_deleted.length} archive(s) removed from R2.${left}`;
    setResult(message);
    return message;
  };
  return html`<p><a href="#/packages">← All packages</a></p>
    <h1 tabindex="-1">${pkg.name}</h1>
    <p class="muted">From ${pkg.source}. Created <${Time} at=${pkg.created_at} />, updated <${Time} at=${pkg.updated_at} />.</p>
    ${result ? html`<p class="notice success" role="status">${result}</p>` : null}
    <${ErrorText} error=${detail.error} />
    <section class="panel" aria-labelledby="v-h">
      <h2 id="v-h">Versions (${pkg.versions.length})</h2>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Version</th><th scope="col">Released</th><th scope="col" class="num">Size</th>
          <th scope="col">SHA-1 (dist shasum)</th><th scope="col">SHA-256</th><th scope="col" class="num">Downloads</th>
          <th scope="col" class="num">Fetches</th>${canChange() ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}</tr></thead>
        <tbody>${pkg.versions.map((v) => {
          const c = counts.get(v.version_normalized);
          return html`<tr key=${v.version_normalized}>
            <td><code>${v.version}</code></td><td><${Time} at=${v.released_at} /></td><td class="num">${fmtBytes(v.size)}</td>
            <td>${v.shasum ? html`<code class="digest" title=${v.shasum}>${v.shasum}</code> <${CopyButton} text=${v.shasum} label="Copy" />` : "–"}</td>
            <td>${v.sha256 ? html`<code class="digest" title=${v.sha256}>${v.sha256}</code> <${CopyButton} text=${v.sha256} label="Copy" />` : "–"}</td>
            <td class="num">${c?.downloads ?? 0}</td><td class="num">${c?.fetches ?? 0}</td>
            ${canChange()
              ? html`<td class="actions-cell"><button type="button" class="secondary small" aria-label=${`Delete version ${v.version}`}
                  onClick=${() => setConfirm({ version: v })}>Delete</button></td>`
              : null}
          </tr>`;
        })}</tbody>
      </table></div>
      <p class="muted">Downloads are the installs composer reported; fetches the archives served whole. A version from a source comes back
        with its next sync if the upstream still has it.</p>
      ${canChange()
        ? html`<div class="actions"><button type="button" class="danger" onClick=${() => setConfirm({ all: true })}>Delete the package</button></div>`
        : null}
    </section>
    ${confirm?.version
      ? html`<${Confirm} title=${`Delete ${pkg.name} ${confirm.version.version}?`} confirmLabel="Delete version"
          onClose=${() => setConfirm(null)}
          onConfirm=${async () => {
            const r = await call("DELETE", `/admin/api/packages/${pkg.name}/versions/${encodeURIComponent(confirm.version.version_normalized)}`);
            const message = deleted(r, `${pkg.name} ${confirm.version.version}`);
            // The last version takes the package with it.
            if (pkg.versions.length === 1) {
              setFlash(message);
              window.location.hash = "#/packages";
            } else detail.reload();
          }}>
          <p>Composer will no longer find this version and its archive is deleted from R2. Lock files that name it stop installing.
            This cannot be undone.</p>
        <//>`
      : null}
    ${confirm?.all
      ? html`<${Confirm} title=${`Delete ${pkg.name}?`} confirmLabel="Delete package" onClose=${() => setConfirm(null)}
          onConfirm=${async () => {
            const r = await call("DELETE", `/admin/api/packages/${pkg.name}`);
            setFlash(deleted(r, pkg.name));
            window.location.hash = "#/packages";
          }}>
          <p>All ${pkg.versions.length} versions, their archives and their download counts are deleted. This cannot be undone.</p>
        <//>`
      : null}`;
}
