// The signed-in user, shared by every page: who they are and what they may
// do. Pages decide what to show from it; the server decides what is allowed.
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { gql, getToken, onTokenChange, setToken } from './api.js';

const ME = `query Me { me { id email name role platformAdmin organization { id name } } }`;

const SessionContext = createContext(null);

// Set by signOut: the sign-in page that follows should not send the next
// user back to the page this one left.
let signedOutOnPurpose = false;

/**
 * Remembers the page a signed-out visitor asked for, to return to it after
 * signing in; not after an explicit sign-out.
 */
export function rememberReturnTo(path) {
  if (signedOutOnPurpose) {
    signedOutOnPurpose = false;
    sessionStorage.removeItem('neosc.returnTo');
    return;
  }
  if (path !== '/' && !path.startsWith('/signin')) sessionStorage.setItem('neosc.returnTo', path);
}

export function SessionProvider({ children }) {
  const [token, setTok] = useState(getToken());
  const [me, setMe] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => onTokenChange(setTok), []);

  useEffect(() => {
    if (!token) {
      setMe(null);
      return;
    }
    let live = true;
    setError(null);
    gql(ME).then(
      (d) => live && setMe(d.me),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [token]);

  const signIn = useCallback((payload) => {
    // payload is an AuthPayload: {token, user}
    setMe(payload.user ?? null);
    setToken(payload.token);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await gql(`mutation SignOut { signOut }`);
    } catch {
      // The token may be expired already; signing out locally is enough then.
    }
    signedOutOnPurpose = true;
    setToken(null);
  }, []);

  return (
    <SessionContext.Provider value={{ token, me, error, signIn, signOut }}>{children}</SessionContext.Provider>
  );
}

export function useSession() {
  return useContext(SessionContext);
}

/**
 * What the signed-in user may do in organization orgId:
 *  - admin: change things (workspaces, invitations, tokens, grants). The
 *    mutations act in the caller's own organization, so only an ADMIN of
 *    orgId who belongs to it.
 *  - readAdmin: read the admin-only parts (audit log, tokens, invitations,
 *    grants): those admins, and platform administrators everywhere.
 */
export function permissions(me, orgId) {
  const own = !!me && me.organization?.id === orgId;
  const admin = own && me.role === 'ADMIN';
  return { own, admin, readAdmin: admin || !!me?.platformAdmin };
}
