package server_test

// Issue, point 3: sessions could not be ended. There was no sign-out, no
// "sign out everywhere", and a password change left every old token valid,
// for up to NEOSC_TOKEN_TTL (as long as 720 h). These tests are named after
// those findings.

import (
	"net/http"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

const (
	signOutQ           = `mutation { signOut }`
	signOutEverywhereQ = `mutation { signOutEverywhere }`
	revokeSessionsQ    = `mutation($id: ID!) { revokeSessions(userId: $id) { id email } }`
	changePasswordQ    = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) { token expiresAt user { id email } } }`
	whoAmI             = `{ me { id } }`
)

// signIn logs acc in again with its apitest password and returns the new
// session token.
func signIn(t *testing.T, env *apitest.Env, email, password string) string {
	t.Helper()
	r := env.Do("", `mutation($in: LoginInput!) { login(input: $in) { token } }`,
		map[string]any{"in": map[string]any{"email": email, "password": password}}).OK(t)
	return r.Get("data.login.token").String()
}

// wantSignedIn fails unless token authenticates.
func wantSignedIn(t *testing.T, env *apitest.Env, token, what string) {
	t.Helper()
	if r := env.Do(token, whoAmI, nil); r.Status != http.StatusOK || r.Code() != "" {
		t.Errorf("%s: refused (%d): %s", what, r.Status, r.Body)
	}
}

// wantSignedOut fails unless token is refused with 401 UNAUTHENTICATED.
func wantSignedOut(t *testing.T, env *apitest.Env, token, what string) {
	t.Helper()
	if r := env.Do(token, whoAmI, nil); r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
		t.Errorf("%s: still works (%d %s): %s", what, r.Status, r.Code(), r.Body)
	}
}

func sessionEvents(t *testing.T, env *apitest.Env, action, outcome, targetUser string) int {
	t.Helper()
	return env.Count(`SELECT COUNT(*) FROM audit_events WHERE action = ? AND outcome = ? AND target_id = ?`,
		action, outcome, rawID(t, targetUser))
}

func TestSessionsCannotBeEnded(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@sessions.test", "Sessions")
		adminPW := "password-admin@sessions.test"

		t.Run("signOut ends the calling token and no other", func(t *testing.T) {
			a, b := signIn(t, env, admin.Email, adminPW), signIn(t, env, admin.Email, adminPW)
			before := sessionEvents(t, env, "user.sessions_revoked", "SUCCESS", admin.UserID)
			r := env.Do(a, signOutQ, nil).OK(t)
			if !r.Get("data.signOut").Bool() {
				t.Fatalf("signOut answered %s", r.Body)
			}
			wantSignedOut(t, env, a, "the signed-out token")
			wantSignedIn(t, env, b, "another token of the same user")
			wantSignedIn(t, env, admin.Token, "the registration token")
			if n := sessionEvents(t, env, "user.sessions_revoked", "SUCCESS", admin.UserID) - before; n != 1 {
				t.Errorf("user.sessions_revoked events: %d, want 1", n)
			}
			// The denylist row lives exactly as long as the token would have.
			claims, err := env.Tokens.Verify(a)
			if err != nil {
				t.Fatal(err)
			}
			var exp time.Time
			if err := env.DB.Raw("SELECT expires_at FROM revoked_sessions WHERE jti = ?", claims.JTI).Row().Scan(&exp); err != nil {
				t.Fatalf("no denylist row for the token: %v", err)
			}
			if !exp.Equal(claims.ExpiresAt) {
				t.Errorf("denylist row expires %v, token %v", exp, claims.ExpiresAt)
			}
		})

		t.Run("signOutEverywhere ends every token of the caller, this one included", func(t *testing.T) {
			u := env.Register("everywhere@sessions.test", "")
			pw := "password-everywhere@sessions.test"
			a, b := signIn(t, env, u.Email, pw), signIn(t, env, u.Email, pw)
			env.Do(a, signOutEverywhereQ, nil).OK(t)
			wantSignedOut(t, env, a, "the calling token")
			wantSignedOut(t, env, b, "another token")
			wantSignedOut(t, env, u.Token, "the registration token")
			wantSignedIn(t, env, admin.Token, "another user's token")
			wantSignedIn(t, env, signIn(t, env, u.Email, pw), "a token issued afterwards")
		})

		t.Run("an admin's revokeSessions ends a member's tokens, audited", func(t *testing.T) {
			m := env.Invite(admin, "member@sessions.test", "MEMBER")
			other := signIn(t, env, m.Email, "password-member@sessions.test")
			r := env.Do(admin.Token, revokeSessionsQ, map[string]any{"id": m.UserID}).OK(t)
			if r.Get("data.revokeSessions.id").String() != m.UserID {
				t.Errorf("revokeSessions answered %s", r.Body)
			}
			wantSignedOut(t, env, m.Token, "the member's first token")
			wantSignedOut(t, env, other, "the member's second token")
			wantSignedIn(t, env, admin.Token, "the admin's own token")
			if n := env.Count(`SELECT COUNT(*) FROM audit_events WHERE action = 'user.sessions_revoked' AND target_id = ? AND actor_id = ?`,
				rawID(t, m.UserID), rawID(t, admin.UserID)); n != 1 {
				t.Errorf("user.sessions_revoked by the admin: %d events, want 1", n)
			}
			wantSignedIn(t, env, signIn(t, env, m.Email, "password-member@sessions.test"), "the member signing in again")
		})

		t.Run("a member may not revoke another member's sessions", func(t *testing.T) {
			m := env.Invite(admin, "member2@sessions.test", "MEMBER")
			env.Do(m.Token, revokeSessionsQ, map[string]any{"id": admin.UserID}).Want(t, "FORBIDDEN")
			wantSignedIn(t, env, admin.Token, "the admin's token")
		})

		t.Run("API tokens have their own revocation: they cannot call these", func(t *testing.T) {
			secret, _ := newToken(t, env, admin, "sessions", "READ_ORGANIZATION")
			for _, q := range []string{signOutQ, signOutEverywhereQ} {
				if r := env.Do(secret, q, nil); r.Code() == "" {
					t.Errorf("%s with an API token: %s", q, r.Body)
				}
			}
			env.Do(secret, `{ organizations { totalCount } }`, nil).OK(t) // and stays valid
		})

		t.Run("the denylist and the cutoff are read in the one statement that loads the caller", func(t *testing.T) {
			tok := signIn(t, env, admin.Email, adminPW)
			env.Counter.Reset()
			env.Do(tok, whoAmI, nil).OK(t)
			if n := env.Counter.N(); n != 1 {
				t.Errorf("an authenticated query ran %d statements, want 1:\n%s", n, env.Counter.SQL())
			}
		})

		t.Run("expired denylist rows do not pile up", func(t *testing.T) {
			env.Exec(`INSERT INTO revoked_sessions (jti, organization_id, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
				"long-gone", rawID(t, admin.OrgID), rawID(t, admin.UserID), time.Now().UTC().Add(-time.Hour), time.Now().UTC().Add(-2*time.Hour))
			env.Do(signIn(t, env, admin.Email, adminPW), signOutQ, nil).OK(t)
			if n := env.Count("SELECT COUNT(*) FROM revoked_sessions WHERE jti = 'long-gone'"); n != 0 {
				t.Error("an expired denylist row survived the next signOut")
			}
			if n := env.Count("SELECT COUNT(*) FROM revoked_sessions WHERE expires_at < ?", time.Now().UTC()); n != 0 {
				t.Errorf("%d expired denylist rows left", n)
			}
		})
	})
}

func TestPasswordChangeLeavesOldTokensValid(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		u := env.Register("grace@passwords.test", "Passwords")
		oldPW, newPW := "password-grace@passwords.test", "a brand new passphrase"
		other := signIn(t, env, u.Email, oldPW)

		t.Run("a wrong current password is refused and changes nothing", func(t *testing.T) {
			r := env.Do(u.Token, changePasswordQ, map[string]any{"in": map[string]any{"currentPassword": "not my password", "newPassword": newPW}})
			r.Want(t, "UNAUTHENTICATED")
			if r.Get("errors.0.message").String() == "" || r.Get("data").Type != 0 && r.Get("data.changePassword").Exists() {
				t.Errorf("answer: %s", r.Body)
			}
			wantSignedIn(t, env, u.Token, "the caller's token after a refused change")
			wantSignedIn(t, env, other, "another token after a refused change")
			signIn(t, env, u.Email, oldPW)
			if n := sessionEvents(t, env, "user.password_changed", "FAILURE", u.UserID); n != 1 {
				t.Errorf("refused attempts recorded: %d, want 1", n)
			}
		})

		t.Run("a new password that breaks the policy is BAD_USER_INPUT", func(t *testing.T) {
			env.Do(u.Token, changePasswordQ, map[string]any{"in": map[string]any{"currentPassword": oldPW, "newPassword": "short"}}).Want(t, "BAD_USER_INPUT")
			env.Do(u.Token, changePasswordQ, map[string]any{"in": map[string]any{"currentPassword": oldPW, "newPassword": oldPW}}).Want(t, "BAD_USER_INPUT")
			wantSignedIn(t, env, other, "another token")
		})

		t.Run("changePassword ends every other token and answers a fresh session", func(t *testing.T) {
			r := env.Do(u.Token, changePasswordQ, map[string]any{"in": map[string]any{"currentPassword": oldPW, "newPassword": newPW}}).OK(t)
			fresh := r.Get("data.changePassword.token").String()
			if fresh == "" || r.Get("data.changePassword.user.id").String() != u.UserID {
				t.Fatalf("changePassword answered %s", r.Body)
			}
			wantSignedOut(t, env, u.Token, "the token that changed the password")
			wantSignedOut(t, env, other, "another token issued before the change")
			wantSignedIn(t, env, fresh, "the fresh session")
			env.Do("", `mutation($in: LoginInput!) { login(input: $in) { token } }`,
				map[string]any{"in": map[string]any{"email": u.Email, "password": oldPW}}).Want(t, "UNAUTHENTICATED")
			wantSignedIn(t, env, signIn(t, env, u.Email, newPW), "a sign-in with the new password")
			if n := sessionEvents(t, env, "user.password_changed", "SUCCESS", u.UserID); n != 1 {
				t.Errorf("user.password_changed events: %d, want 1", n)
			}
		})
	})
}

// An SSO user's service tokens (from ssoLogin) end like anyone's; the
// provider's own access tokens are the provider's to end.
func TestSessionsOfSSOUsers(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env, op := ssoEnv(t, d)
		external := op.Token(t, zitadelUser("s1", "zorg-s"))
		svc := env.Do("", ssoLogin, map[string]any{"t": external}).OK(t).Get("data.ssoLogin.token").String()

		env.Do(external, signOutQ, nil).Want(t, "BAD_USER_INPUT")
		env.Do(external, changePasswordQ, map[string]any{"in": map[string]any{"currentPassword": "whatever!", "newPassword": "a new long one"}}).Want(t, "BAD_USER_INPUT")
		wantSignedIn(t, env, external, "the provider's token")

		env.Do(svc, signOutQ, nil).OK(t)
		wantSignedOut(t, env, svc, "a signed-out ssoLogin token")
		wantSignedIn(t, env, external, "the provider's token after signOut")
	})
}
