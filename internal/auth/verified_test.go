package auth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// clock is a clock a test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func testTokens(t *testing.T, ttl time.Duration) *auth.Tokens {
	t.Helper()
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "k.jwk"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://issuer", ttl, key)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// A cached token is accepted exactly as long as verifying it again would
// be: up to exp plus the clock skew, not a second more.
func TestVerifiedTokenExpiresWhenCached(t *testing.T) {
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	cached := testTokens(t, time.Minute)
	cached.SetClock(clk.Now)
	tok, exp, err := cached.Issue(ids.New(), ids.New())
	if err != nil {
		t.Fatal(err)
	}
	// The same key and issuer, without a cache.
	uncached, err := auth.NewTokens("http://issuer", time.Minute, cached.SigningKey())
	if err != nil {
		t.Fatal(err)
	}
	uncached.SetVerifiedTokens(0)
	uncached.SetClock(clk.Now)

	if _, err := cached.Verify(tok); err != nil {
		t.Fatal(err)
	}
	if n := cached.VerifiedLen(); n != 1 {
		t.Fatalf("%d tokens cached after one verified, want 1", n)
	}
	for _, tc := range []struct {
		name   string
		at     time.Time
		accept bool
	}{
		{"before exp", exp.Add(-time.Second), true},
		{"at exp, within the skew", exp, true},
		{"the last second of the skew", exp.Add(auth.ClockSkew - time.Nanosecond), true},
		{"past exp and the skew", exp.Add(auth.ClockSkew), false},
		{"long after", exp.Add(time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.Set(tc.at)
			_, errCached := cached.Verify(tok)
			_, errCold := uncached.Verify(tok)
			if (errCold == nil) != tc.accept {
				t.Fatalf("uncached verification: err %v, want accepted=%v", errCold, tc.accept)
			}
			if (errCached == nil) != tc.accept {
				t.Errorf("cached verification: err %v, want accepted=%v (as uncached)", errCached, tc.accept)
			}
		})
	}
	if n := cached.VerifiedLen(); n != 0 {
		t.Errorf("an expired token stays cached (%d entries)", n)
	}
}

// Only tokens that verified are cached, and no more than the bound: a flood
// of bad tokens caches nothing, and valid ones beyond the bound evict the
// least recently used.
func TestVerifiedTokensAreBounded(t *testing.T) {
	const bound, n = 50, 400
	tokens := testTokens(t, time.Hour)
	tokens.SetVerifiedTokens(bound)
	stranger, err := auth.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := tokens.Issue(ids.New(), ids.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(first); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		good, _, err := tokens.Issue(ids.New(), ids.New())
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{
			badSignature(good),
			signedWith(t, forged(t), stranger, stranger.KeyID()), // an unknown key
			signedWith(t, forged(t), stranger, kidOf(t, good)),   // our kid, another key
			good + "x",
			"a.b.c" + ids.New(),
		} {
			if _, err := tokens.Verify(bad); err == nil {
				t.Fatalf("a bad token verified: %s", bad)
			}
		}
	}
	if got := tokens.VerifiedLen(); got != 1 {
		t.Fatalf("%d tokens cached after %d bad ones and one good, want 1", got, 5*n)
	}
	var last string
	for i := 0; i < n; i++ {
		good, _, err := tokens.Issue(ids.New(), ids.New())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tokens.Verify(good); err != nil {
			t.Fatal(err)
		}
		last = good
	}
	if got := tokens.VerifiedLen(); got != bound {
		t.Fatalf("%d tokens cached after %d good ones, want the bound %d", got, n, bound)
	}
	// An evicted token verifies again (its signature checked anew).
	for _, tok := range []string{first, last} {
		if _, err := tokens.Verify(tok); err != nil {
			t.Errorf("a valid token refused after eviction: %v", err)
		}
	}
}

// forged are the claims of a valid-looking session token of testTokens'
// issuer.
func forged(t *testing.T) jwt.Token {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewBuilder().Issuer("http://issuer").Audience([]string{auth.Audience}).
		Subject(ids.Encode(ids.User, ids.New())).Claim("org", ids.Encode(ids.Organization, ids.New())).
		IssuedAt(now).NotBefore(now).Expiration(now.Add(time.Hour)).JwtID(ids.New()).Build()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signedWith signs tok with the Ed25519 private key, naming kid (jwx
// would write the key's own kid over the header's: the key is given kid).
func signedWith(t *testing.T, tok jwt.Token, key jwk.Key, kid string) string {
	t.Helper()
	key, err := key.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// authEnv is an authenticator over a real database, with a token cache.
type authEnv struct {
	st     *store.Store
	tokens *auth.Tokens
	h      http.Handler
}

func newAuthEnv(t *testing.T, d *db.DB) *authEnv {
	t.Helper()
	st := store.New(d.DB)
	tokens := testTokens(t, time.Hour)
	authn := &auth.Authenticator{Tokens: tokens, Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Reject: rejectJSON}
	return &authEnv{st: st, tokens: tokens, h: authn.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.ActorFrom(r.Context()) == nil {
			t.Error("authenticated request without an actor")
		}
		w.WriteHeader(http.StatusNoContent)
	}))}
}

// status runs one request with token and answers its status.
func (e *authEnv) status(token string) int {
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w.Code
}

// wantCachedButRefused asserts that token still verifies (from the cache)
// and yet the request with it is refused: what ended it is read from the
// database, not from the token.
func (e *authEnv) wantCachedButRefused(t *testing.T, token, what string) {
	t.Helper()
	n := e.tokens.VerifiedLen()
	if _, err := e.tokens.Verify(token); err != nil {
		t.Fatalf("%s: the token no longer verifies (%v): the test proves nothing", what, err)
	}
	if e.tokens.VerifiedLen() != n {
		t.Fatalf("%s: the token was not cached", what)
	}
	if got := e.status(token); got != http.StatusUnauthorized {
		t.Errorf("%s: status %d on the next request, want 401", what, got)
	}
}

// Revocation holds although verification is cached: signOut, revokeSessions,
// a deactivated user and a revoked API token are refused on the very next
// request.
func TestRevocationHoldsForCachedTokens(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newAuthEnv(t, d)
		signedIn := func(t *testing.T) (*store.User, string, *auth.Claims) {
			t.Helper()
			u := gen.User(t, d, store.User{})
			tok, _, err := e.tokens.Issue(u.ID, u.OrganizationID)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.status(tok); got != http.StatusNoContent {
				t.Fatalf("status %d for a fresh token, want 204", got)
			}
			c, err := e.tokens.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			return u, tok, c
		}
		now := time.Now().UTC().Truncate(time.Microsecond)

		t.Run("signed out", func(t *testing.T) {
			u, tok, c := signedIn(t)
			if err := e.st.Sessions.Revoke(ctx, &store.RevokedSession{JTI: c.JTI, OrganizationID: u.OrganizationID,
				UserID: u.ID, ExpiresAt: c.ExpiresAt, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			e.wantCachedButRefused(t, tok, "a signed-out token")
		})
		t.Run("sessions ended", func(t *testing.T) {
			u, tok, _ := signedIn(t)
			cutoff := auth.SessionsCutoff(time.Now())
			if err := e.st.Users.RevokeSessions(ctx, u.OrganizationID, u.ID, cutoff, now); err != nil {
				t.Fatal(err)
			}
			e.wantCachedButRefused(t, tok, "a token issued before revokeSessions")
		})
		t.Run("user deactivated", func(t *testing.T) {
			u, tok, _ := signedIn(t)
			if err := e.st.Users.SetStatus(ctx, u.OrganizationID, u.ID, store.UserDeactivated, now); err != nil {
				t.Fatal(err)
			}
			e.wantCachedButRefused(t, tok, "a deactivated user's token")
			if err := e.st.Users.SetStatus(ctx, u.OrganizationID, u.ID, store.UserActive, now); err != nil {
				t.Fatal(err)
			}
			if got := e.status(tok); got != http.StatusNoContent {
				t.Errorf("status %d once reactivated, want 204", got)
			}
		})
		t.Run("API token revoked", func(t *testing.T) {
			row := gen.APIToken(t, d, store.APIToken{})
			var tok string
			if err := e.st.Tx(ctx, func(tx *store.Store) error {
				var err error
				tok, err = e.tokens.IssueAPIToken(ctx, tx, row.ID, row.OrganizationID, row.ExpiresAt, []string{"READ_ORGANIZATION"})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got := e.status(tok); got != http.StatusNoContent {
				t.Fatalf("status %d for a live API token, want 204", got)
			}
			if _, err := e.st.APITokens.Revoke(ctx, row.OrganizationID, row.ID, now); err != nil {
				t.Fatal(err)
			}
			e.wantCachedButRefused(t, tok, "a revoked API token")
		})
	})
}

// A token cached while its key verified is refused once the key no longer
// does (retired past its window, or expired by hand after a leak), on the
// replica's next key load, as an uncached one is.
func TestCachedTokenOfARetiredKey(t *testing.T) {
	ctx := context.Background()
	d := testdb.New(t, db.SQLite)
	st := store.New(d.DB)
	kek := make([]byte, 32)
	if _, err := rand.Read(kek); err != nil {
		t.Fatal(err)
	}
	ring, err := auth.OpenKeyring(ctx, st, kek, auth.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokensWith("http://issuer", time.Hour, ring)
	tok, _, err := tokens.Issue(ids.New(), ids.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(tok); err != nil || tokens.VerifiedLen() != 1 {
		t.Fatalf("verify: %v, %d cached", err, tokens.VerifiedLen())
	}
	if err := st.Tx(ctx, func(tx *store.Store) error {
		_, err := ring.Rotate(ctx, tx, time.Hour)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := ring.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(tok); err != nil {
		t.Fatalf("a token of the retired key refused within its window: %v", err)
	}
	kid := tokens.SigningKey().KeyID()
	if err := d.DB.Exec("UPDATE signing_keys SET expires_at = ?, keep_until = NULL WHERE id = ?",
		time.Now().UTC().Add(-time.Second), kid).Error; err != nil {
		t.Fatal(err)
	}
	if err := ring.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(tok); err == nil {
		t.Error("a cached token of an expired key still verifies")
	}
	if n := tokens.VerifiedLen(); n != 0 {
		t.Errorf("%d tokens cached after their key expired, want 0", n)
	}
}

// The same bad token sent again is refused without a second signature
// check when nothing can make it pass — its signature does not verify with
// the key its kid names — and checked anew every time when something can:
// no known key for its kid yet, iat in the future, expiry (a clock that ran
// ahead is set back).
func TestRejectedTokensAreRememberedForGood(t *testing.T) {
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	tokens := testTokens(t, time.Minute)
	tokens.SetClock(clk.Now)
	stranger, err := auth.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	good, exp, err := tokens.Issue(ids.New(), ids.New())
	if err != nil {
		t.Fatal(err)
	}
	// refusals verifies tok three times, each refused with ErrBadToken, and
	// answers how many signature checks that took.
	refusals := func(t *testing.T, tok string) int64 {
		t.Helper()
		before := tokens.SignatureChecks()
		for i := range 3 {
			if _, err := tokens.Verify(tok); !errors.Is(err, auth.ErrBadToken) {
				t.Fatalf("verification %d: err %v, want ErrBadToken", i+1, err)
			}
		}
		return tokens.SignatureChecks() - before
	}
	for _, tc := range []struct {
		name    string
		token   string
		forGood bool
	}{
		{"a broken signature, our kid", badSignature(good), true},
		{"another key's signature under our kid", signedWith(t, forged(t), stranger, kidOf(t, good)), true},
		{"a kid naming no key of ours", signedWith(t, forged(t), stranger, stranger.KeyID()), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tokens.RejectedLen()
			checks := refusals(t, tc.token)
			want, remembered := int64(3), n
			if tc.forGood {
				want, remembered = 1, n+1
			}
			if checks != want || tokens.RejectedLen() != remembered {
				t.Errorf("%d signature checks for three refusals, %d tokens remembered; want %d and %d", checks, tokens.RejectedLen(), want, remembered)
			}
		})
	}
	t.Run("issued in the future, then valid", func(t *testing.T) {
		now := clk.Now()
		defer clk.Set(now)
		clk.Set(now.Add(-2 * auth.ClockSkew))
		n := tokens.RejectedLen()
		if checks := refusals(t, good); checks != 3 || tokens.RejectedLen() != n {
			t.Fatalf("a token not valid yet: %d signature checks for three refusals, %d remembered (had %d): it must be checked anew", checks, tokens.RejectedLen(), n)
		}
		clk.Set(now)
		if _, err := tokens.Verify(good); err != nil {
			t.Fatalf("the token, now valid, is refused: %v", err)
		}
	})
	t.Run("expired, then the clock set back", func(t *testing.T) {
		fresh, _, err := tokens.Issue(ids.New(), ids.New())
		if err != nil {
			t.Fatal(err)
		}
		tokens.SetVerifiedTokens(0) // so that expiry is jwx's verdict, not the verified cache's
		defer tokens.SetVerifiedTokens(auth.VerifiedTokens)
		now := clk.Now()
		defer clk.Set(now)
		clk.Set(exp.Add(auth.ClockSkew + time.Second))
		n := tokens.RejectedLen()
		if checks := refusals(t, fresh); checks != 3 || tokens.RejectedLen() != n {
			t.Errorf("an expired token: %d signature checks for three refusals, %d remembered (had %d); want 3 and %d: the clock decides expiry", checks, tokens.RejectedLen(), n, n)
		}
		clk.Set(now) // a clock corrected after running ahead
		if _, err := tokens.Verify(fresh); err != nil {
			t.Errorf("the token, valid again by the corrected clock, is refused: %v", err)
		}
	})
}

// A flood of distinct forged tokens fills the table of refused tokens up to
// its bound and no further (1,000 tokens into 20 slots leave one empty
// with a chance of 1 in 10^21), leaves the cache of verified tokens alone,
// and a valid token still verifies.
func TestRejectedTokensAreBounded(t *testing.T) {
	const bound, n = 20, 1000
	tokens := testTokens(t, time.Hour)
	tokens.SetRejectedTokens(bound)
	stranger, err := auth.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	good, _, err := tokens.Issue(ids.New(), ids.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(good); err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := tokens.Verify(signedWith(t, forged(t), stranger, kidOf(t, good))); !errors.Is(err, auth.ErrBadToken) {
			t.Fatalf("a forged token: err %v", err)
		}
	}
	if got := tokens.RejectedLen(); got != bound {
		t.Errorf("%d forged tokens remembered after %d, want the bound %d", got, n, bound)
	}
	if got := tokens.VerifiedLen(); got != 1 {
		t.Errorf("%d verified tokens remembered, want 1", got)
	}
	tokens.SetVerifiedTokens(0) // the signature checked, not remembered
	if _, err := tokens.Verify(good); err != nil {
		t.Errorf("the valid token is refused after the flood: %v", err)
	}
}

// kidOf is the kid in the protected header of the compact JWS raw.
func kidOf(t *testing.T, raw string) string {
	t.Helper()
	msg, err := jws.Parse([]byte(raw))
	if err != nil || len(msg.Signatures()) != 1 {
		t.Fatalf("parse %q: %v", raw, err)
	}
	kid := msg.Signatures()[0].ProtectedHeaders().KeyID()
	if kid == "" {
		t.Fatalf("no kid in %q", raw)
	}
	return kid
}

// Through the authenticator (which verifies with Tokens.cached and
// verifyNew, not Verify): the same forged token on every request is
// checked once, and refused every time.
func TestAuthenticatorRemembersAForgery(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newAuthEnv(t, d)
		good, _, err := e.tokens.Issue(ids.New(), ids.New())
		if err != nil {
			t.Fatal(err)
		}
		forgery := badSignature(good)
		before := e.tokens.SignatureChecks()
		for i := range 5 {
			if got := e.status(forgery); got != http.StatusUnauthorized {
				t.Fatalf("request %d with a forged token: status %d, want 401", i+1, got)
			}
		}
		if n := e.tokens.SignatureChecks() - before; n != 1 {
			t.Errorf("%d signature checks for five requests with one forged token, want 1", n)
		}
	})
}
