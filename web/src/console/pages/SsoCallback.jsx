// /signin/callback: the OpenID Provider sends the browser back here with an
// authorization code; it is exchanged (PKCE) for the provider's access token,
// and that for a NeoSC session with ssoLogin.
import { useEffect, useRef, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { gql } from '../api.js';
import { useSession } from '../session.jsx';
import { ErrorAlert, Loading, useTitle } from '../ui.jsx';
import { finishSso } from '../sso.js';

const SSO_LOGIN = `mutation SsoLogin($token: String!) {
  ssoLogin(token: $token) { token expiresAt user { id email name role platformAdmin organization { id name } } }
}`;

export default function SsoCallback() {
  useTitle('Signing in');
  const { signIn } = useSession();
  const [, navigate] = useLocation();
  const [error, setError] = useState(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return; // StrictMode runs effects twice; a code is good once
    started.current = true;
    (async () => {
      try {
        const { accessToken, returnTo } = await finishSso(location.search);
        const d = await gql(SSO_LOGIN, { token: accessToken });
        signIn(d.ssoLogin);
        sessionStorage.removeItem('neosc.returnTo');
        navigate(returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/', { replace: true });
      } catch (e) {
        setError(e);
      }
    })();
  }, [navigate, signIn]);

  return (
    <div className="signin">
      <section className="panel signin-panel" aria-labelledby="sso-title">
        <h1 id="sso-title" tabIndex={-1}>Signing in with SSO</h1>
        {error ? (
          <>
            <ErrorAlert error={error} title="SSO sign-in failed" />
            <p><Link href="/signin">Back to sign-in</Link></p>
          </>
        ) : (
          <Loading label="Completing sign-in…" />
        )}
      </section>
    </div>
  );
}
