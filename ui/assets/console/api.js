// The console's side of the admin API: the session (who, role, CSRF token) in memory only, every call
// with the session cookie and the CSRF token, a 401 (session ended) announced so the app can ask for
// the token again without dropping the page, and uploads through XHR for their progress.
import { api, ApiError } from "../lib.js";

export const session = { name: null, role: null, actor: null, csrf: null, expires_at: null };
const listeners = new Set();
export const onSessionLost = (fn) => (listeners.add(fn), () => listeners.delete(fn));

export function setSession(s) {
  Object.assign(session, s);
}
export const canChange = () => session.role === "maintainer" || session.role === "owner";
export const isOwner = () => session.role === "owner";

export async function call(method, path, body, { signal } = {}) {
  try {
    return await api(method, path, { body, csrf: session.csrf, signal });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) for (const fn of listeners) fn(e);
    throw e;
  }
}

// A message for the next page (a deletion that navigated away from what it deleted).
let flash = null;
export const setFlash = (message) => (flash = message);
export const takeFlash = () => {
  const m = flash;
  flash = null;
  return m;
};

// Builds a query string from the non-empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

// PUT of a file with upload progress (fetch has none): onProgress(sentBytes, totalBytes).
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("PUT", path);
    x.setRequestHeader("content-type", "application/zip");
    x.setRequestHeader("accept", "application/json");
    if (session.csrf) x.setRequestHeader("x-csrf-token", session.csrf);
    x.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    x.onerror = () => reject(new ApiError(0, "network", "The upload was interrupted (no connection to the server). Nothing was stored; try again."));
    x.onload = () => {
      let json = null;
      try {
        json = JSON.parse(x.responseText);
      } catch {}
      if (x.status >= 200 && x.status < 300) return resolve(json);
      const e = new ApiError(x.status, json?.error?.code ?? "http", json?.error?.message ?? `The server answered ${x.status}.`);
      if (x.status === 401) for (const fn of listeners) fn(e);
      reject(e);
    };
    x.send(file);
  });
}
