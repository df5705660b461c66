// The console's one GraphQL client: POST /graphql with the session token as
// a Bearer header. Everything the console shows and changes goes through the
// public API, so the console can do nothing a GraphQL client could not.
//
// The token lives in memory and in sessionStorage (one tab, gone when the
// tab closes); never in localStorage or a cookie.

const TOKEN_KEY = 'neosc.session';

// Where the API is: the console's own origin, unless the page says otherwise
// with <meta name="neosc-api-url" content="https://api.example.com"> (a
// console served from another origin; the API must list that origin in
// NEOSC_CORS_ORIGINS).
export const API_URL = (document.querySelector('meta[name="neosc-api-url"]')?.content ?? '').replace(/\/+$/, '');

let token = readStoredToken();
const listeners = new Set();

function readStoredToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** The current session token, or null. */
export function getToken() {
  return token;
}

/** Replaces the session token (null signs out locally) and tells listeners. */
export function setToken(next) {
  token = next || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token stays in memory for this page only.
  }
  for (const fn of listeners) fn(token);
}

/** Calls fn(token) whenever the token changes; returns the unsubscribe. */
export function onTokenChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * An error the API answered (or the network failed with). `code` is the
 * GraphQL extensions.code (NETWORK when there was no answer), `requestId`
 * the server's request ID to quote to an operator, `field` the input field
 * a BAD_USER_INPUT error is about, when the server names one.
 */
export class ApiError extends Error {
  constructor(message, { code = 'INTERNAL_SERVER_ERROR', requestId = null, field = null, status = 0, errors = [] } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.requestId = requestId;
    this.field = field;
    this.status = status;
    this.errors = errors;
  }
}

/**
 * Runs a GraphQL operation and returns its data. Any error rejects with an
 * ApiError, unless `partial` is set: then the data comes back with the
 * errors beside it ({data, errors}) for pages that can show what they got.
 * An UNAUTHENTICATED answer to a request that carried a token ends the
 * session (the token expired or was signed out elsewhere).
 */
export async function gql(query, variables = {}, { partial = false, signal } = {}) {
  const sent = token;
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (sent) headers.Authorization = `Bearer ${sent}`;
  let res;
  try {
    res = await fetch(`${API_URL}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('The server could not be reached. Check your connection and try again.', { code: 'NETWORK' });
  }
  const requestIdHeader = res.headers.get('X-Request-Id');
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's error page): described below by status.
  }
  const errors = body?.errors ?? [];
  if (res.status === 401 || errors.some((e) => e?.extensions?.code === 'UNAUTHENTICATED')) {
    if (sent && sent === token) setToken(null);
  }
  if (errors.length > 0 && !(partial && body?.data)) {
    const first = errors[0];
    const ext = first.extensions ?? {};
    throw new ApiError(first.message || 'The request failed.', {
      code: ext.code ?? 'INTERNAL_SERVER_ERROR',
      requestId: ext.requestId ?? requestIdHeader,
      field: ext.field ?? null,
      status: res.status,
      errors,
    });
  }
  if (!body?.data) {
    throw new ApiError(`The server answered ${res.status} ${res.statusText}`.trim(), {
      code: res.status === 429 ? 'RATE_LIMITED' : res.status === 503 ? 'UNAVAILABLE' : 'INTERNAL_SERVER_ERROR',
      requestId: requestIdHeader,
      status: res.status,
    });
  }
  return partial ? { data: body.data, errors } : body.data;
}

/** Reads GET /ui/config.json once: {sso, oidcIssuer, oidcClientId}. */
let configPromise = null;
export function loadConfig() {
  configPromise ??= fetch(`${API_URL}/ui/config.json`, { headers: { Accept: 'application/json' } })
    .then((r) => (r.ok ? r.json() : { sso: false }))
    .catch(() => ({ sso: false }));
  return configPromise;
}
