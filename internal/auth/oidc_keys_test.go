package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/oidctest"
)

func newTestOIDC(t *testing.T, op *oidctest.Provider) *OIDC {
	t.Helper()
	o := NewOIDC(op.Issuer, op.ClientID(), []string{"org"}, "admin")
	t.Cleanup(o.Close)
	return o
}

func providerToken(t *testing.T, op *oidctest.Provider) string {
	t.Helper()
	return op.Token(t, oidctest.User{Subject: "s", Extra: map[string]any{"org": "o"}})
}

// TestJWKSRemovedKeyRefusedAfterMaxAge (finding: "a key removed by the
// provider stays trusted for ~15 minutes"), on the real clock: the JWKS
// says Cache-Control: max-age=1 and the least refresh interval is one
// second, so a key the provider removes is refused once that second has
// passed, not at the cache's next 15-minute tick.
func TestJWKSRemovedKeyRefusedAfterMaxAge(t *testing.T) {
	op := oidctest.Start(t)
	op.SetJWKSMaxAge(time.Second)
	o := newTestOIDC(t, op)
	o.MinRefresh = time.Second
	ctx := context.Background()
	old := providerToken(t, op)
	if _, err := o.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	op.RotateKey(t)
	op.RetireOldKeys()
	time.Sleep(2500 * time.Millisecond)
	if _, err := o.Verify(ctx, old); err == nil {
		t.Error("a token of a key removed 2.5 s ago (JWKS max-age 1 s) still verifies")
	}
	if _, err := o.Verify(ctx, providerToken(t, op)); err != nil {
		t.Errorf("the new key: %v", err)
	}
}

// fakeClock is the key cache's clock in tests (token validation keeps the
// real one).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// clocked is newTestOIDC with its key cache on a fake clock set to start.
func clocked(t *testing.T, op *oidctest.Provider, start time.Time) (*OIDC, *fakeClock) {
	o, clock := newTestOIDC(t, op), &fakeClock{t: start}
	o.now = clock.now
	return o, clock
}

func (c *fakeClock) set(start time.Time, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = start.Add(d)
}

// TestJWKSRefresh: when the provider's keys are fetched again, on a fake
// clock, against the real OP. The defaults (RefreshInterval 5 minutes,
// MinRefresh 10 seconds) are what docs/sso.md promises.
func TestJWKSRefresh(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	// setup starts a provider (JWKS max-age as given, negative for none)
	// and a verifier that has fetched its keys at t0; it returns a token of
	// the first key, and what to call to remove that key at the provider.
	setup := func(t *testing.T, maxAge time.Duration) (*oidctest.Provider, *OIDC, *fakeClock, string, func()) {
		op := oidctest.Start(t)
		op.SetJWKSMaxAge(maxAge)
		o, clock := clocked(t, op, t0)
		old := providerToken(t, op)
		if _, err := o.Verify(ctx, old); err != nil {
			t.Fatal(err)
		}
		if n := op.JWKSRequests(); n != 1 {
			t.Fatalf("%d JWKS fetches for the first token", n)
		}
		return op, o, clock, old, func() { op.RotateKey(t); op.RetireOldKeys() }
	}
	// trusted checks whether tok verifies at t0+at, and how many JWKS
	// fetches there have been by then.
	trusted := func(t *testing.T, op *oidctest.Provider, o *OIDC, clock *fakeClock, tok string, at time.Duration, want bool, fetches int) {
		t.Helper()
		clock.set(t0, at)
		if _, err := o.Verify(ctx, tok); (err == nil) != want {
			t.Errorf("at +%v: verifies %v (%v), want %v", at, err == nil, err, want)
		}
		if n := op.JWKSRequests(); n != fetches {
			t.Errorf("at +%v: %d JWKS fetches, want %d", at, n, fetches)
		}
	}

	t.Run("a removed key is refused after 5 minutes, not before", func(t *testing.T) {
		if DefaultJWKSRefreshInterval != 5*time.Minute || DefaultJWKSMinRefresh != 10*time.Second {
			t.Fatalf("defaults %v, %v: docs/sso.md says 5 minutes and 10 seconds", DefaultJWKSRefreshInterval, DefaultJWKSMinRefresh)
		}
		op, o, clock, old, remove := setup(t, -1)
		remove()
		trusted(t, op, o, clock, old, 5*time.Minute-time.Second, true, 1)
		trusted(t, op, o, clock, old, 5*time.Minute, false, 2)
		trusted(t, op, o, clock, providerToken(t, op), 5*time.Minute, true, 2)
	})
	t.Run("a shorter Cache-Control max-age is honoured", func(t *testing.T) {
		op, o, clock, old, remove := setup(t, time.Minute)
		remove()
		trusted(t, op, o, clock, old, 59*time.Second, true, 1)
		trusted(t, op, o, clock, old, time.Minute, false, 2)
	})
	t.Run("a longer max-age does not lengthen the interval", func(t *testing.T) {
		op, o, clock, old, remove := setup(t, 24*time.Hour)
		remove()
		trusted(t, op, o, clock, old, 5*time.Minute-time.Second, true, 1)
		trusted(t, op, o, clock, old, 5*time.Minute, false, 2)
	})
	t.Run("max-age=0 waits MinRefresh", func(t *testing.T) {
		op, o, clock, old, remove := setup(t, 0)
		trusted(t, op, o, clock, old, 9*time.Second, true, 1)
		trusted(t, op, o, clock, old, 10*time.Second, true, 2)
		remove()
		trusted(t, op, o, clock, old, 20*time.Second, false, 3)
	})
	t.Run("a failed refresh keeps the last good keys and is retried after MinRefresh", func(t *testing.T) {
		op, o, clock, old, remove := setup(t, -1)
		op.SetJWKSDown(true)
		trusted(t, op, o, clock, old, 5*time.Minute, true, 2)
		trusted(t, op, o, clock, old, 5*time.Minute+9*time.Second, true, 2)
		trusted(t, op, o, clock, old, 5*time.Minute+10*time.Second, true, 3)
		op.SetJWKSDown(false)
		remove()
		trusted(t, op, o, clock, old, 5*time.Minute+20*time.Second, false, 4)
	})
	t.Run("no keys yet: refused, and retried after MinRefresh", func(t *testing.T) {
		op := oidctest.Start(t)
		op.SetJWKSDown(true)
		o, clock := clocked(t, op, t0)
		tok := providerToken(t, op)
		trusted(t, op, o, clock, tok, 0, false, 1)
		trusted(t, op, o, clock, tok, 9*time.Second, false, 1)
		op.SetJWKSDown(false)
		trusted(t, op, o, clock, tok, 10*time.Second, true, 2)
	})
	t.Run("requests that find the keys due wait for one fetch", func(t *testing.T) {
		op, o, clock, tok, _ := setup(t, -1)
		clock.set(t0, 5*time.Minute)
		var wg sync.WaitGroup
		var accepted atomic.Int32
		for range 20 {
			wg.Go(func() {
				if _, err := o.Verify(ctx, tok); err == nil {
					accepted.Add(1)
				}
			})
		}
		wg.Wait()
		if n := op.JWKSRequests(); n != 2 || accepted.Load() != 20 {
			t.Errorf("%d JWKS fetches (want 2), %d of 20 requests accepted", n, accepted.Load())
		}
	})
}

// TestOIDCInsecureURLs (finding: "http:// issuers and JWKS URLs are
// accepted silently"): discovery refuses a plain-http issuer or jwks_uri,
// or a redirect to one, unless the host is loopback or AllowInsecure
// (NEOSC_OIDC_ALLOW_INSECURE) is set; the error names the variable.
func TestOIDCInsecureURLs(t *testing.T) {
	ctx := context.Background()
	// A provider on loopback whose discovery advertises jwks_uri.
	provider := func(t *testing.T, jwksURI string) *httptest.Server {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": jwksURI})
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	wantRefused := func(t *testing.T, o *OIDC) {
		t.Helper()
		if _, err := o.discover(ctx); err == nil || !strings.Contains(err.Error(), "NEOSC_OIDC_ALLOW_INSECURE=true") {
			t.Errorf("want an error naming NEOSC_OIDC_ALLOW_INSECURE=true, got %v", err)
		}
	}

	t.Run("http issuer on another host", func(t *testing.T) {
		wantRefused(t, NewOIDC("http://idp.example.invalid", "aud", []string{"org"}, ""))
	})
	t.Run("http jwks_uri on another host", func(t *testing.T) {
		srv := provider(t, "http://keys.example.invalid/jwks")
		wantRefused(t, NewOIDC(srv.URL, "aud", []string{"org"}, ""))
		o := NewOIDC(srv.URL, "aud", []string{"org"}, "")
		o.AllowInsecure = true
		if u, err := o.discover(ctx); err != nil || u != "http://keys.example.invalid/jwks" {
			t.Errorf("with AllowInsecure: %q, %v", u, err)
		}
	})
	t.Run("a redirect to http on another host", func(t *testing.T) {
		tls := httptest.NewTLSServer(http.RedirectHandler("http://idp.example.invalid/.well-known/openid-configuration", http.StatusFound))
		t.Cleanup(tls.Close)
		o := NewOIDC(tls.URL, "aud", []string{"org"}, "")
		o.Client = tls.Client()
		wantRefused(t, o)
	})
	t.Run("loopback over http is allowed", func(t *testing.T) {
		for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
			srv := provider(t, "http://"+host+":1/jwks")
			if _, err := NewOIDC(srv.URL, "aud", []string{"org"}, "").discover(ctx); err != nil {
				t.Errorf("jwks_uri on %s: %v", host, err)
			}
		}
	})
}
