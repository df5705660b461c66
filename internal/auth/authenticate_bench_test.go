package auth_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/policy"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// authBench is an authenticator wired as internal/server wires it (the
// policy's Admit hook included) over a SQLite database holding one user,
// with a session token of theirs.
type authBench struct {
	st     *store.Store
	authn  *auth.Authenticator
	user   *store.User
	token  string
	claims *auth.Claims
}

func newAuthBench(b *testing.B, tokens func(b *testing.B) *auth.Tokens) *authBench {
	b.Helper()
	d := testdb.New(b, db.SQLite)
	st := store.New(d.DB)
	user := gen.User(b, d, store.User{})
	tok := tokens(b)
	raw, _, err := tok.Issue(user.ID, user.OrganizationID)
	if err != nil {
		b.Fatal(err)
	}
	claims, err := tok.Verify(raw)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	return &authBench{st: st, user: user, token: raw, claims: claims, authn: &auth.Authenticator{
		Tokens: tok, Store: st, Log: log, Reject: rejectJSON,
		Admit: (&policy.Service{Store: st, Log: log}).Admit,
	}}
}

// rejectJSON is a stand-in for the server's error writer: a status and a
// short JSON body.
func rejectJSON(w http.ResponseWriter, _ *http.Request, status int, err *apperr.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"errors":[{"message":"`+err.Error()+`"}]}`)
}

func fileTokens(b *testing.B) *auth.Tokens {
	b.Helper()
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(b.TempDir(), "k.jwk"))
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://bench", time.Hour, key)
	if err != nil {
		b.Fatal(err)
	}
	return tokens
}

// discard is a ResponseWriter that keeps nothing but the status.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(status int)      { d.status = status }

// serve runs the authenticator with a next handler that does nothing, on
// one request reused (the middleware derives its own), and wants status.
func (ab *authBench) serve(b *testing.B, token string, status int) {
	b.Helper()
	var reached bool
	h := ab.authn.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		reached, w.status = false, 0
		clear(w.h)
		h.ServeHTTP(w, req)
		if got := cmpStatus(reached, w.status); got != status {
			b.Fatalf("status %d, want %d", got, status)
		}
	}
}

func cmpStatus(reached bool, status int) int {
	if reached && status == 0 {
		return http.StatusOK
	}
	return status
}

// BenchmarkAuthenticate measures the authenticator as a whole (header,
// token, the caller's row, the policy hook) with a next handler that does
// nothing. "warm" is a token seen before, as every request of a session
// but its first; "cold" the same without the cache of verified tokens;
// "bad-signature" is scenario S6 (a token of the right shape and key ID
// whose signature does not verify: 401), remembered as refused after the
// first request; "bad-signature-uncached" the same without that memory (a
// signature check each: a flood of distinct forgeries). Compare warm with
// BenchmarkActorRow: the difference is what authentication costs beyond
// reading the caller's row. cpu-ns/op is the process's CPU time per
// operation, which other processes on the machine inflate less than ns/op.
func BenchmarkAuthenticate(b *testing.B) {
	ab := newAuthBench(b, fileTokens)
	b.Run("warm", func(b *testing.B) { ab.serve(b, ab.token, http.StatusOK) })
	b.Run("cold", func(b *testing.B) {
		ab.authn.Tokens.SetVerifiedTokens(0)
		defer ab.authn.Tokens.SetVerifiedTokens(auth.VerifiedTokens)
		ab.serve(b, ab.token, http.StatusOK)
	})
	b.Run("bad-signature", func(b *testing.B) { ab.serve(b, badSignature(ab.token), http.StatusUnauthorized) })
	b.Run("bad-signature-uncached", func(b *testing.B) {
		ab.authn.Tokens.SetRejectedTokens(0)
		defer ab.authn.Tokens.SetRejectedTokens(auth.RejectedTokens)
		ab.serve(b, badSignature(ab.token), http.StatusUnauthorized)
	})
}

// BenchmarkActorRow measures only the statement that loads the caller
// (Users.GetActor), the part of authentication the database answers.
func BenchmarkActorRow(b *testing.B) {
	ab := newAuthBench(b, fileTokens)
	ctx := context.Background()
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		row, err := ab.st.Users.GetActor(ctx, ab.claims.UserID, ab.claims.JTI)
		if err != nil || row.User.ID != ab.user.ID {
			b.Fatal(row, err)
		}
	}
}

// badSignature is raw with its signature's first bytes changed: the same
// header (kid) and claims, a signature that does not verify.
func badSignature(raw string) string {
	b := []byte(raw)
	i := len(b) - 20
	for j := i; j < i+4; j++ {
		if b[j] == 'A' {
			b[j] = 'B'
		} else {
			b[j] = 'A'
		}
	}
	return string(b)
}

// cpuPerOp reports, when the returned func is called after the loop, the
// process's CPU time (user and system) per operation as cpu-ns/op.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
