// The session token of this page. It lives in memory and in this tab's
// sessionStorage (so a reload keeps the sign-in, closing the tab ends it),
// never in localStorage or a cookie: the API takes only
// `Authorization: Bearer`, and a token in localStorage would outlive the
// session and be readable by every page of the origin for good.
const KEY = 'neosc.graphiql.token';

let current = read();
const listeners = new Set();

function read() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

export function getToken() {
  return current;
}

export function setToken(token) {
  current = token || '';
  try {
    if (current) sessionStorage.setItem(KEY, current);
    else sessionStorage.removeItem(KEY);
  } catch {
    // sessionStorage unavailable (private mode, disabled): memory only.
  }
  listeners.forEach((fn) => fn(current));
}

export function onToken(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const loginMutation = `mutation GraphiQLSignIn($input: LoginInput!) {
  login(input: $input) { token expiresAt user { email name organization { name } } }
}`;

// signIn runs the public login mutation and keeps the token it answers.
export async function signIn(email, password) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ query: loginMutation, variables: { input: { email, password } }, operationName: 'GraphiQLSignIn' }),
    credentials: 'omit',
  });
  let body;
  try {
    body = await res.json();
  } catch {
    throw new Error(`sign-in failed: HTTP ${res.status}`);
  }
  const err = body.errors && body.errors[0];
  if (err) {
    const code = err.extensions && err.extensions.code;
    throw new Error(code === 'UNAUTHENTICATED' ? 'Wrong email or password.' : err.message || code || 'sign-in failed');
  }
  const login = body.data && body.data.login;
  if (!login || !login.token) throw new Error('sign-in failed: no token in the answer');
  setToken(login.token);
  return login.user;
}

// signOut ends the session on the server too (the signOut mutation), then
// forgets the token here; the token is forgotten even when the server
// cannot be reached.
export async function signOut() {
  const token = getToken();
  setToken('');
  if (!token) return;
  try {
    await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation GraphiQLSignOut { signOut }', operationName: 'GraphiQLSignOut' }),
      credentials: 'omit',
    });
  } catch {
    // offline: the token is forgotten here and expires on its own
  }
}
