// Form pieces for the console: a labelled field that shows the API's error when the message names it,
// a submit helper that keeps what was typed when a call fails and says why next to the button, paging
// buttons, and small views shared by several pages.
import { html, ErrorText } from "../lib.js";
import { useState } from "preact/hooks";

// Values of a form; set(name) is an input handler. Nothing here clears values on failure.
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const set = (name) => (e) => {
    const t = e.currentTarget;
    const v = t.type === "checkbox" ? t.checked : t.value;
    setValues((old) => ({ ...old, [name]: v }));
  };
  return [values, set, setValues];
}

// run(fn): busy while fn runs; an error stays until the next try. fn's result is returned.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function run(fn) {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run, setError };
}

// A labelled input. `error` is the form's last ApiError: shown here when its message names `name`.
// `form` prefixes the id, so two forms on a page can both have a "name".
export function Field({ form, name, label, hint, error, as = "input", options, children, ...rest }) {
  const id = `${form}-${name}`;
  const mine = error && error.field === name;
  const described = [hint ? `${id}-hint` : null, mine ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
  const common = { id, name, "aria-describedby": described, "aria-invalid": mine ? "true" : undefined, ...rest };
  let control;
  if (as === "select")
    control = html`<select ...${common}>${options.map(([v, l]) => html`<option value=${v} key=${v}>${l}</option>`)}</select>`;
  else if (as === "textarea") control = html`<textarea ...${common}></textarea>`;
  else control = html`<input ...${common} />`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${control}
    ${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : null}
    ${mine ? html`<${ErrorText} error=${error} id=${`${id}-error`} />` : null}
    ${children}
  </div>`;
}

// The form's error when no field of the form shows it (next to the submit button).
export const FormError = ({ form, error }) =>
  error && !(error.field && document.getElementById(`${form}-${error.field}`)) ? html`<${ErrorText} error=${error} />` : null;

// Patterns typed one per line or separated by commas or spaces.
export const patterns = (text) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

// "2027-01-31" from a date input → the end of that day, UTC, as the API's ISO time.
export const endOfDay = (date) => (date ? `${date}T23:59:59Z` : undefined);

export function Pager({ cursor, next, onFirst, onNext, count, noun, plural = `${noun}s` }) {
  return html`<div class="pager">
    <span class="muted">${count} ${count === 1 ? noun : plural} on this page${cursor ? " (not the first)" : ""}</span>
    <span class="spacer"></span>
    ${cursor ? html`<button type="button" class="secondary small" onClick=${onFirst}>First page</button>` : null}
    ${next ? html`<button type="button" class="secondary small" onClick=${() => onNext(next)}>Next page</button>` : null}
  </div>`;
}

export const SyncBadge = ({ last, enabled = true }) => {
  if (!enabled) return html`<span class="badge off">disabled</span>`;
  if (!last) return html`<span class="badge off">never synced</span>`;
  return html`<span class=${`badge ${last.status}`}>${last.status === "ok" ? "synced" : last.status}</span>`;
};

export const ReadOnlyNote = () =>
  html`<p class="notice">Your role can read everything here but change nothing; changes need the maintainer role.</p>`;
