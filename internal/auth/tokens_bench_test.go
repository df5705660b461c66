package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ids"
)

func benchTokens(b *testing.B) (*auth.Tokens, string) {
	b.Helper()
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(b.TempDir(), "k.jwk"))
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://bench", time.Hour, key)
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := tokens.Issue(ids.New(), ids.New())
	if err != nil {
		b.Fatal(err)
	}
	return tokens, tok
}

func BenchmarkIssue(b *testing.B) {
	tokens, _ := benchTokens(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tokens.Issue(ids.New(), ids.New()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCold verifies a token's signature and claims every time
// (no cache of verified tokens): a token's first request.
func BenchmarkVerifyCold(b *testing.B) {
	tokens, tok := benchTokens(b)
	tokens.SetVerifiedTokens(0)
	benchVerify(b, tokens, tok)
}

// BenchmarkVerifyWarm verifies a token verified before: every request of a
// session but its first.
func BenchmarkVerifyWarm(b *testing.B) {
	tokens, tok := benchTokens(b)
	benchVerify(b, tokens, tok)
}

func benchVerify(b *testing.B, tokens *auth.Tokens, tok string) {
	b.Helper()
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		if _, err := tokens.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefuseForged refuses a token with a forged signature never seen
// before (a flood of distinct forgeries: a signature check each, and the
// token remembered as refused); BenchmarkRefuseForgedUncached the same
// without remembering; BenchmarkRefuseForgedAgain the same forged token
// again and again (remembered after the first).
func BenchmarkRefuseForged(b *testing.B) {
	tokens, tok := benchTokens(b)
	benchRefuse(b, tokens, tok, true)
}

func BenchmarkRefuseForgedUncached(b *testing.B) {
	tokens, tok := benchTokens(b)
	tokens.SetRejectedTokens(0)
	benchRefuse(b, tokens, tok, true)
}

func BenchmarkRefuseForgedAgain(b *testing.B) {
	tokens, tok := benchTokens(b)
	benchRefuse(b, tokens, tok, false)
}

func benchRefuse(b *testing.B, tokens *auth.Tokens, tok string, fresh bool) {
	b.Helper()
	forged := badSignature(tok)
	buf := []byte(forged)
	b.ReportAllocs()
	defer cpuPerOp(b)()
	i := 0
	for b.Loop() {
		if fresh { // the signature's first characters count up
			i++
			for j, n := strings.LastIndexByte(forged, '.')+1, i; n > 0; j, n = j+1, n/64 {
				buf[j] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[n%64]
			}
			forged = string(buf)
		}
		if _, err := tokens.Verify(forged); err == nil {
			b.Fatal("a forged token verified")
		}
	}
}

func TestTokensRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.jwk")
	key, err := auth.LoadOrCreateSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens("http://issuer", time.Hour, key)
	if err != nil {
		t.Fatal(err)
	}
	user, org := ids.New(), ids.New()
	tok, exp, err := tokens.Issue(user, org)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tokens.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != user || c.OrganizationID != org || c.JTI == "" || !c.ExpiresAt.Equal(exp) {
		t.Errorf("claims %+v", c)
	}
	other, _ := auth.NewTokens("http://other-issuer", time.Hour, key)
	if _, err := other.Verify(tok); err == nil {
		t.Error("a token of another issuer verified")
	}
	// The key file is reused, not regenerated, and private to its owner.
	again, err := auth.LoadOrCreateSigningKey(path)
	if err != nil || again.KeyID() != key.KeyID() {
		t.Fatalf("second load: kid %q vs %q, err %v", again.KeyID(), key.KeyID(), err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := tokens.Verify(tok + "x"); err == nil {
		t.Error("a tampered signature verified")
	}
}
