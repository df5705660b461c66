// "Sign in with SSO": OAuth 2.0 authorization code flow with PKCE (RFC 7636)
// run in the browser against the deployment's OpenID Provider, then the
// provider's access token is exchanged for a NeoSC session with ssoLogin.
// The console is a public client: there is no client secret.

const FLOW_KEY = 'neosc.sso';

// openid profile email: who the user is. urn:zitadel:iam:user:resourceowner
// makes Zitadel assert the user's organization (ID, name, primary domain),
// which NeoSC maps to its organization (docs/sso.md); other providers ignore
// scopes they do not know.
export const SSO_SCOPES = 'openid profile email urn:zitadel:iam:user:resourceowner';

export function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random string of n bytes, base64url (PKCE verifier, state, nonce). */
export function randomString(n = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

/** The S256 code challenge of a verifier: base64url(SHA-256(verifier)). */
export async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

async function discover(issuer) {
  const url = issuer.replace(/\/+$/, '') + '/.well-known/openid-configuration';
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`The identity provider's discovery document answered ${res.status}.`);
  const doc = await res.json();
  if (doc.issuer && doc.issuer.replace(/\/+$/, '') !== issuer.replace(/\/+$/, '')) {
    throw new Error('The identity provider\'s discovery document names another issuer.');
  }
  if (!doc.authorization_endpoint || !doc.token_endpoint) {
    throw new Error('The identity provider does not advertise an authorization and a token endpoint.');
  }
  return doc;
}

export function redirectUri() {
  return `${location.origin}/signin/callback`;
}

/**
 * Starts the flow: keeps verifier and state in sessionStorage and sends the
 * browser to the provider's authorization endpoint.
 */
export async function startSso({ oidcIssuer, oidcClientId }, returnTo = '/') {
  const doc = await discover(oidcIssuer);
  const verifier = randomString(48);
  const state = randomString(24);
  sessionStorage.setItem(
    FLOW_KEY,
    JSON.stringify({ verifier, state, tokenEndpoint: doc.token_endpoint, clientId: oidcClientId, returnTo }),
  );
  const u = new URL(doc.authorization_endpoint);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: oidcClientId,
    redirect_uri: redirectUri(),
    scope: SSO_SCOPES,
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(u.toString());
}

/**
 * Finishes the flow on /signin/callback: checks state, exchanges the code
 * (with the verifier) at the token endpoint and returns {accessToken,
 * returnTo}. The stored flow is removed whatever happens: a code is good once.
 */
export async function finishSso(search) {
  const params = new URLSearchParams(search);
  const raw = sessionStorage.getItem(FLOW_KEY);
  sessionStorage.removeItem(FLOW_KEY);
  if (params.get('error')) {
    // Only the standard error code, and only when it looks like one: the
    // description is free text anyone can put in a link to this page.
    const code = /^[a-z_]{1,64}$/.test(params.get('error')) ? ` (${params.get('error')})` : '';
    throw new Error(`The identity provider refused the sign-in${code}. Try again, or ask your administrator.`);
  }
  if (!raw) throw new Error('No sign-in was started in this tab. Start again from the sign-in page.');
  const flow = JSON.parse(raw);
  if (!params.get('state') || params.get('state') !== flow.state) {
    throw new Error('The sign-in answer does not match the sign-in this tab started (state). Start again.');
  }
  const code = params.get('code');
  if (!code) throw new Error('The identity provider sent no authorization code.');
  const res = await fetch(flow.tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: flow.clientId,
      code_verifier: flow.verifier,
    }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.access_token) {
    throw new Error(`The identity provider did not issue a token: ${body.error_description || body.error || res.status}`);
  }
  return { accessToken: body.access_token, returnTo: flow.returnTo || '/' };
}
