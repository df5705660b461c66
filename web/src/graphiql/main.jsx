// GraphiQL at GET /graphiql: GraphiQL 5 with the explorer plugin, a
// sign-in box and the Monaco workers, all served from this origin.
import './workers.js';
import { StrictMode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { useGraphiQL } from '@graphiql/react';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './page.css';
import { getToken, onToken, signIn, signOut } from './token.js';
import { storage } from './storage.js';

const explorer = explorerPlugin();

const defaultQuery = `# NeoSC GraphiQL
#
# Sign in above (or set "Authorization": "Bearer …" in the headers editor
# below) to load the schema: its descriptions are in the documentation
# explorer, and the explorer plugin builds queries from it.
# Run with Ctrl-Enter.

query Me {
  me {
    email
    name
    role
    organization { name }
  }
}
`;

function useToken() {
  const [token, set] = useState(getToken());
  useEffect(() => onToken(set), []);
  return token;
}

function SignIn({ token }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [who, setWho] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = useCallback(async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const user = await signIn(email, password);
      setWho(user && user.email ? user.email : email);
      setPassword('');
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }, [email, password]);

  if (token) {
    return (
      <div className="neosc-signin" role="status">
        <span className="neosc-who">Signed in{who ? ` as ${who}` : ''}</span>
        <button type="button" onClick={() => { setWho(''); signOut(); }}>Sign out</button>
      </div>
    );
  }
  return (
    <form className="neosc-signin" onSubmit={submit} aria-label="Sign in">
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required value={email}
          onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      {error && <span className="neosc-error" role="alert">{error}</span>}
    </form>
  );
}

// ClearOnToken empties the response pane when the sign-in changes: it may
// hold the answer to the previous caller (such as "introspection requires
// authentication" from before signing in), which no longer applies.
function ClearOnToken({ token }) {
  const responseEditor = useGraphiQL((s) => s.responseEditor);
  const first = useRef(token);
  useEffect(() => {
    if (token !== first.current && responseEditor) responseEditor.setValue('');
    first.current = token;
  }, [token, responseEditor]);
  return null;
}

function App() {
  const token = useToken();
  // A new fetcher for a new token: GraphiQL then fetches the schema again.
  // Headers typed into the headers editor are sent too and win over these.
  const fetcher = useMemo(() => createGraphiQLFetcher({
    url: '/graphql',
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  }), [token]);

  return (
    <div className="neosc-page">
      <header className="neosc-bar">
        <h1>NeoSC GraphiQL</h1>
        <a href="/">Console</a>
        <SignIn token={token} />
      </header>
      <main className="neosc-graphiql">
        <GraphiQL
          fetcher={fetcher}
          plugins={[HISTORY_PLUGIN, explorer]}
          defaultQuery={defaultQuery}
          shouldPersistHeaders={false}
          showPersistHeadersSettings={false}
          storage={storage}
        >
          <GraphiQL.Footer>
            <ClearOnToken token={token} />
          </GraphiQL.Footer>
        </GraphiQL>
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')).render(<StrictMode><App /></StrictMode>);
