// The NeoSC console: the router, the session and the page frame. Each page
// is one module under pages/; a later feature adds its page here and, for a
// tab of the organization page, in pages/Organization.jsx.
import { StrictMode, useEffect, useRef } from 'react';
import { createRoot } from 'react-dom/client';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { SessionProvider, rememberReturnTo, useSession } from './session.jsx';
import { Loading, ErrorAlert } from './ui.jsx';
import SignIn from './pages/SignIn.jsx';
import SsoCallback from './pages/SsoCallback.jsx';
import Organizations from './pages/Organizations.jsx';
import Organization from './pages/Organization.jsx';
import NotFound from './pages/NotFound.jsx';
import './console.css';

function Header() {
  const { me, signOut } = useSession();
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true">N</span>
          <span>NeoSC</span>
        </Link>
        {me && (
          <nav aria-label="Main" className="topnav">
            <Link href="/" className={(active) => (active ? 'active' : '')}>
              Organizations
            </Link>
          </nav>
        )}
        {me && (
          <div className="whoami">
            <span className="whoami-name" data-testid="whoami">
              {me.name} <span className="muted">({me.email})</span>
              {me.platformAdmin && <span className="badge badge-platform">Platform admin</span>}
            </span>
            <button type="button" className="btn btn-quiet" onClick={signOut} data-testid="sign-out">
              Sign out
            </button>
          </div>
        )}
      </div>
    </header>
  );
}

/** Pages that need a session: without one, off to the sign-in page. */
function Authenticated({ children }) {
  const { token, me, error } = useSession();
  const [location] = useLocation();
  const signedOut = !token;
  useEffect(() => {
    if (signedOut) rememberReturnTo(location);
  }, [signedOut, location]);
  if (!token) return <Redirect to="/signin" replace />;
  if (error) return <ErrorAlert error={error} title="Your account could not be loaded" />;
  if (!me) return <Loading label="Loading your account…" />;
  return children;
}

function App() {
  const [location] = useLocation();
  // A new page (not a new tab of the same page): move focus to its heading,
  // so screen readers announce it and keyboards start from the top.
  const page = location.split('/').slice(0, 3).join('/');
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const t = setTimeout(() => {
      // Someone already typing in a field of the new page keeps their
      // place: moving focus would send the rest of their keys elsewhere.
      const active = document.activeElement;
      if (active?.matches('input, textarea, select') && document.querySelector('main')?.contains(active)) return;
      document.querySelector('main h1')?.focus({ preventScroll: true });
    }, 50);
    return () => clearTimeout(t);
  }, [page]);
  return (
    <>
      <a className="skip-link" href="#content">Skip to content</a>
      <Header />
      <main id="content" className="content" tabIndex={-1}>
        <Switch>
          <Route path="/signin" component={SignIn} />
          <Route path="/signin/callback" component={SsoCallback} />
          <Route path="/">
            <Authenticated>
              <Organizations />
            </Authenticated>
          </Route>
          <Route path="/organizations/:id/:tab?">
            {(params) => (
              <Authenticated>
                <Organization id={params.id} tab={params.tab} />
              </Authenticated>
            )}
          </Route>
          <Route>
            <NotFound />
          </Route>
        </Switch>
      </main>
    </>
  );
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <SessionProvider>
      <App />
    </SessionProvider>
  </StrictMode>,
);
