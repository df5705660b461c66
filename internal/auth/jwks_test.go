package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/x25519"
)

// TestSignatureKeyOf pins which JWKS entries verify tokens, and with which
// algorithms: a key's alg when it has one (and it fits the key type), its
// key type's asymmetric algorithms when it has none, never a symmetric key.
func TestSignatureKeyOf(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	xPub, _, _ := x25519.GenerateKey(rand.Reader)
	rsaFamily := []jwa.SignatureAlgorithm{jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512}
	for _, c := range []struct {
		name string
		raw  any
		set  map[string]any
		want []jwa.SignatureAlgorithm // nil: not usable
	}{
		{"RSA without alg", &rsaKey.PublicKey, nil, rsaFamily},
		{"RSA private key without alg: its public part", rsaKey, nil, rsaFamily},
		{"RSA with alg RS256", &rsaKey.PublicKey, map[string]any{jwk.AlgorithmKey: jwa.RS256}, []jwa.SignatureAlgorithm{jwa.RS256}},
		{"RSA with alg PS512", &rsaKey.PublicKey, map[string]any{jwk.AlgorithmKey: jwa.PS512}, []jwa.SignatureAlgorithm{jwa.PS512}},
		{"RSA with use sig", &rsaKey.PublicKey, map[string]any{jwk.KeyUsageKey: "sig"}, rsaFamily},
		{"RSA with key_ops verify", &rsaKey.PublicKey, map[string]any{jwk.KeyOpsKey: jwk.KeyOperationList{jwk.KeyOpVerify}}, rsaFamily},
		{"EC P-256 without alg", &p256.PublicKey, nil, []jwa.SignatureAlgorithm{jwa.ES256}},
		{"EC P-384 without alg", &p384.PublicKey, nil, []jwa.SignatureAlgorithm{jwa.ES384}},
		{"EC P-521 without alg", &p521.PublicKey, nil, []jwa.SignatureAlgorithm{jwa.ES512}},
		{"Ed25519 without alg", edPub, nil, []jwa.SignatureAlgorithm{jwa.EdDSA}},
		{"Ed25519 with alg EdDSA", edPub, map[string]any{jwk.AlgorithmKey: jwa.EdDSA}, []jwa.SignatureAlgorithm{jwa.EdDSA}},

		{"oct without alg", []byte("0123456789abcdef0123456789abcdef"), nil, nil},
		{"oct with alg HS256", []byte("0123456789abcdef0123456789abcdef"), map[string]any{jwk.AlgorithmKey: jwa.HS256}, nil},
		{"RSA with alg HS256", &rsaKey.PublicKey, map[string]any{jwk.AlgorithmKey: jwa.HS256}, nil},
		{"RSA with alg ES256", &rsaKey.PublicKey, map[string]any{jwk.AlgorithmKey: jwa.ES256}, nil},
		{"RSA encryption key (RSA-OAEP)", &rsaKey.PublicKey, map[string]any{jwk.AlgorithmKey: jwa.RSA_OAEP}, nil},
		{"RSA with use enc", &rsaKey.PublicKey, map[string]any{jwk.KeyUsageKey: "enc"}, nil},
		{"RSA with key_ops encrypt", &rsaKey.PublicKey, map[string]any{jwk.KeyOpsKey: jwk.KeyOperationList{jwk.KeyOpEncrypt}}, nil},
		{"EC P-256 with alg ES384", &p256.PublicKey, map[string]any{jwk.AlgorithmKey: jwa.ES384}, nil},
		{"OKP X25519 (key agreement)", xPub, nil, nil},
		{"RSA without kid", &rsaKey.PublicKey, map[string]any{jwk.KeyIDKey: ""}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := jwk.FromRaw(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			_ = k.Set(jwk.KeyIDKey, "k1")
			for name, v := range c.set {
				if name == jwk.KeyIDKey {
					_ = k.Remove(name)
					continue
				}
				if err := k.Set(name, v); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := signatureKeyOf(k)
			if ok != (c.want != nil) || !slices.Equal(got.algs, c.want) {
				t.Fatalf("usable %v with %v, want %v", ok, got.algs, c.want)
			}
			if ok {
				if _, private := got.key.(interface{ D() []byte }); private {
					t.Error("a private key is kept: want its public part")
				}
				if got.key.KeyID() != "k1" {
					t.Errorf("kid %q", got.key.KeyID())
				}
			}
		})
	}
}

func TestCacheMaxAge(t *testing.T) {
	for header, want := range map[string]time.Duration{
		"":                                   -1,
		"public":                             -1,
		"public, max-age=300":                300 * time.Second,
		"max-age=86400, private":             24 * time.Hour,
		`max-age="60"`:                       time.Minute,
		"no-cache":                           0,
		"no-store, max-age=600":              0,
		"Max-Age=20, s-maxage=5":             20 * time.Second,
		"max-age=junk":                       -1,
		"max-age=-5":                         -1,
		"max-age=60, max-age=30":             30 * time.Second,
		"public, max-age=15, stale-if-error": 15 * time.Second,
	} {
		h := http.Header{}
		if header != "" {
			h.Set("Cache-Control", header)
		}
		if got := cacheMaxAge(h); got != want {
			t.Errorf("Cache-Control %q: %v, want %v", header, got, want)
		}
	}
}
