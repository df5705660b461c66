// The sign-in page: email and password (login), and "Sign in with SSO" when
// the deployment has an OpenID Provider for the console (/ui/config.json).
import { useEffect, useState } from 'react';
import { Redirect, useLocation } from 'wouter';
import { gql, loadConfig } from '../api.js';
import { useSession } from '../session.jsx';
import { ErrorAlert, useTitle } from '../ui.jsx';
import { startSso } from '../sso.js';

const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { token expiresAt user { id email name role platformAdmin organization { id name } } }
}`;

/** Where to go after signing in: the page that sent the user here, or /. */
export function takeReturnTo() {
  const to = sessionStorage.getItem('neosc.returnTo');
  sessionStorage.removeItem('neosc.returnTo');
  return to && to.startsWith('/') && !to.startsWith('//') ? to : '/';
}

export default function SignIn() {
  useTitle('Sign in');
  const { token, signIn } = useSession();
  const [, navigate] = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [config, setConfig] = useState(null);

  useEffect(() => {
    loadConfig().then(setConfig);
  }, []);

  if (token && !busy) return <Redirect to="/" replace />;

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const d = await gql(LOGIN, { input: { email: email.trim(), password } });
      signIn(d.login);
      navigate(takeReturnTo(), { replace: true });
    } catch (err) {
      setError(
        err.code === 'UNAUTHENTICATED'
          ? Object.assign(new Error('The email address or the password is not right.'), { code: err.code })
          : err,
      );
      setBusy(false);
    }
  }

  async function sso() {
    setError(null);
    try {
      await startSso(config, sessionStorage.getItem('neosc.returnTo') || '/');
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div className="signin">
      <section className="panel signin-panel" aria-labelledby="signin-title">
        <h1 id="signin-title" tabIndex={-1}>Sign in to NeoSC</h1>
        <p className="muted">Manage your organization's workspaces, members and access.</p>
        <ErrorAlert error={error} title="Sign-in failed" />
        <form onSubmit={submit} className="form" data-testid="signin-form">
          <div className="field">
            <label htmlFor="signin-email">Email address</label>
            <input id="signin-email" name="email" type="email" autoComplete="username" required
              value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="signin-password">Password</label>
            <input id="signin-password" name="password" type="password" autoComplete="current-password" required
              value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        {config?.sso && (
          <>
            <p className="divider"><span>or</span></p>
            <button type="button" className="btn btn-block" onClick={sso} data-testid="sso-signin">
              Sign in with SSO
            </button>
          </>
        )}
      </section>
    </div>
  );
}
