// The one door to the REST API: tokens in sessionStorage, refreshed before they expire, and
// answers (JSON, problem+json, paging headers, ETags) turned into plain values.

const ROOT = document.body.dataset.apiRoot || "/api/v1";
const KEY = "tracker.session";
const REFRESH_MARGIN_S = 60; // refresh this long before the access token expires

let refreshTimer = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || "";
  }
}

function stored() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

function store(pair) {
  const session = {
    access: pair.access_token,
    refresh: pair.refresh_token,
    accessExpiresAt: Date.now() + pair.expires_in * 1000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  scheduleRefresh(session);
  return session;
}

function forget() {
  sessionStorage.removeItem(KEY);
  clearTimeout(refreshTimer);
  refreshTimer = null;
}

function scheduleRefresh(session) {
  clearTimeout(refreshTimer);
  const wait = Math.max(0, session.accessExpiresAt - Date.now() - REFRESH_MARGIN_S * 1000);
  refreshTimer = setTimeout(() => refresh().catch(() => signedOut()), wait);
}

function signedOut() {
  forget();
  onSignedOut();
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export function hasSession() {
  return stored() !== null;
}

/** Resume a session kept in this tab: refresh now if the access token is (nearly) expired. */
export async function resume() {
  const session = stored();
  if (!session) return false;
  if (session.accessExpiresAt - Date.now() < REFRESH_MARGIN_S * 1000) {
    try {
      await refresh();
    } catch {
      forget();
      return false;
    }
  } else {
    scheduleRefresh(session);
  }
  return true;
}

let refreshing = null;

export function refresh() {
  // One refresh at a time: a refresh token is spent by its use.
  if (!refreshing) {
    const session = stored();
    refreshing = (async () => {
      if (!session) throw new ApiError(401, null);
      const response = await fetch(`${ROOT}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh_token: session.refresh }),
      });
      if (!response.ok) throw new ApiError(response.status, await problemOf(response));
      store(await response.json());
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function login(username, password) {
  const response = await fetch(`${ROOT}/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  store(await response.json());
}

export async function logout() {
  const session = stored();
  forget();
  if (session) {
    // Ends the session on the server: both tokens stop working, and so do its evidence links.
    await fetch(`${ROOT}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${session.access}` } })
      .catch(() => {});
  }
}

async function problemOf(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return null;
}

/** A request with the bearer token; on 401 one refresh and one retry, then signed out. */
export async function request(path, { method = "GET", query, json, body, headers = {}, raw = false } = {}) {
  const url = new URL(ROOT + path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
  }
  const send = () => {
    const session = stored();
    const all = { Accept: "application/json", ...headers };
    if (session) all.Authorization = `Bearer ${session.access}`;
    let payload = body;
    if (json !== undefined) {
      all["Content-Type"] = "application/json";
      payload = JSON.stringify(json);
    }
    return fetch(url, { method, headers: all, body: payload });
  };
  let response = await send();
  if (response.status === 401 && stored()) {
    try {
      await refresh();
    } catch {
      signedOut();
      throw new ApiError(401, await problemOf(response));
    }
    response = await send();
    if (response.status === 401) {
      signedOut();
      throw new ApiError(401, await problemOf(response));
    }
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (raw) return response;
  const data = response.status === 204 ? null : await response.json();
  const paging = response.headers.get("X-Pagination");
  return { data, etag: response.headers.get("ETag"), pagination: paging ? JSON.parse(paging) : null, headers: response.headers };
}

export const get = (path, query) => request(path, { query });
export const post = (path, json, headers) => request(path, { method: "POST", json, headers });

/** Fetch a file (an export) with the token and hand it to the browser as a download. */
export async function download(path, query, fallbackName) {
  const response = await request(path, { query, raw: true, headers: { Accept: "*/*" } });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
