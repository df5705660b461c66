// The storage GraphiQL persists its tabs, queries and history in: the
// browser's localStorage, with request headers scrubbed. GraphiQL keeps the
// headers editor out of its tab state when shouldPersistHeaders is false,
// but its history plugin stores each run's headers all the same; a token
// typed into the headers editor would then stay in localStorage. Here every
// "headers" field of a stored JSON value is dropped, and a value that still
// contains a bearer token or the signed-in token is not written at all.
import { getToken } from './token.js';

const PREFIX = 'graphiql:';
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./;
// password: "…" in a query, "password": "…" in variables (quotes escaped
// once inside GraphiQL's JSON tab state), and the same for token and secret.
const SECRET = /(password|token|secret)\\?"?\s*:\s*\\?"/i;

function scrub(value) {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === 'headers' ? null : scrub(v);
    }
    return out;
  }
  return value;
}

export function safeValue(key, value) {
  if (/(^|:)headers$/.test(key)) return null;
  let out = value;
  try {
    out = JSON.stringify(scrub(JSON.parse(value)));
  } catch {
    // not JSON: kept as it is, checked below
  }
  const token = getToken();
  if (/bearer\s+[A-Za-z0-9._~+/=-]{16,}/i.test(out) || (token && out.includes(token))) return null;
  // A JWT pasted anywhere (ssoLogin's token as a variable), or a secret
  // written into a query or its variables (login's password, an
  // invitation or verification token): not kept on disk either.
  if (JWT.test(out) || SECRET.test(out)) return null;
  return out;
}

export const storage = {
  getItem: (key) => localStorage.getItem(key),
  setItem(key, value) {
    const safe = safeValue(key, String(value));
    if (safe === null) localStorage.removeItem(key);
    else localStorage.setItem(key, safe);
  },
  removeItem: (key) => localStorage.removeItem(key),
  get length() {
    return Object.keys(localStorage).filter((k) => k.startsWith(PREFIX)).length;
  },
  clear() {
    Object.keys(localStorage).filter((k) => k.startsWith(PREFIX)).forEach((k) => localStorage.removeItem(k));
  },
};
