// The control API of the emulator that served this page: same origin, token in a header.
const TOKEN_KEY = "trackmock-admin-token";
const TOKEN_HEADER = "X-Trackmock-Admin-Token";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let askToken = null;
let asking = null;

/** Set the function that asks the user for the admin token (returns a promise). */
export function onTokenNeeded(ask) {
  askToken = ask;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function needToken(refused) {
  // Every call that met a 401 waits for the same prompt.
  if (!asking) asking = askToken(refused).finally(() => { asking = null; });
  return asking;
}

/**
 * Call /__admin/<path>. `body` is sent as JSON (a string is sent as it is); `query` is an
 * object of query parameters (empty values left out). Resolves to the decoded JSON answer
 * (null for 204), or to the Response itself with `raw`.
 */
export async function api(method, path, { body, query, raw = false } = {}) {
  const url = new URL(`/__admin/${path}`, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  for (;;) {
    const headers = { Accept: "application/json" };
    const secret = token();
    if (secret) headers[TOKEN_HEADER] = secret;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (response.status === 401 && askToken) {
      await needToken(Boolean(secret));
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
    if (raw) return response;
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
}

async function errorMessage(response) {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text);
    const message = parsed?.error?.message || parsed?.message;
    if (message) return `${response.status}: ${message}`;
  } catch {
    // not JSON: the text says it
  }
  return `${response.status}: ${text || response.statusText}`;
}
