package server_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// claims builds the claims of a valid service token for acc, then applies
// change (a nil value deletes the claim).
func claims(t *testing.T, acc apitest.Account, change map[string]any) jwt.Token {
	t.Helper()
	now := time.Now()
	tok := jwt.New()
	set := map[string]any{
		jwt.IssuerKey: apitest.Issuer, jwt.AudienceKey: []string{"neosc"}, jwt.SubjectKey: acc.UserID, "org": acc.OrgID,
		jwt.IssuedAtKey: now, jwt.NotBeforeKey: now, jwt.ExpirationKey: now.Add(time.Hour), jwt.JwtIDKey: "test-jti",
	}
	for k, v := range change {
		set[k] = v
	}
	for k, v := range set {
		if v == nil {
			continue
		}
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return tok
}

func sign(t *testing.T, tok jwt.Token, alg jwa.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	hdr := jws.NewHeaders()
	if kid != "" {
		_ = hdr.Set(jws.KeyIDKey, kid)
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestForgedTokensAreRefusedBeforeAnySQL(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		acc := env.Register("victim@example.com", "")
		kid := env.Key.KeyID()
		pub, err := env.Key.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		var rawPub ed25519.PublicKey
		if err := pub.Raw(&rawPub); err != nil {
			t.Fatal(err)
		}
		pubJSON, _ := json.Marshal(pub)
		_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
		otherKey, _ := jwk.FromRaw(otherPriv)
		var rawPriv ed25519.PrivateKey
		if err := env.Key.Raw(&rawPriv); err != nil {
			t.Fatal(err)
		}
		ourKeyWithoutKid, _ := jwk.FromRaw(rawPriv)
		valid := sign(t, claims(t, acc, nil), jwa.EdDSA, env.Key, kid)
		parts := strings.Split(valid, ".")
		payload := parts[1]

		cases := map[string]string{
			"alg none":                        b64(map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + payload + ".",
			"alg none, signature kept":        b64(map[string]any{"alg": "none", "kid": kid}) + "." + payload + "." + parts[2],
			"HS256 keyed with the public key": sign(t, claims(t, acc, nil), jwa.HS256, []byte(rawPub), kid),
			"HS256 keyed with the public JWK": sign(t, claims(t, acc, nil), jwa.HS256, pubJSON, kid),
			"unknown kid":                     sign(t, claims(t, acc, nil), jwa.EdDSA, otherKey, "unknown"),
			"other key with our kid":          sign(t, claims(t, acc, nil), jwa.EdDSA, otherKey, kid),
			"no kid":                          sign(t, claims(t, acc, nil), jwa.EdDSA, ourKeyWithoutKid, ""),
			"expired":                         sign(t, claims(t, acc, map[string]any{jwt.ExpirationKey: time.Now().Add(-2 * time.Minute)}), jwa.EdDSA, env.Key, kid),
			"no exp":                          sign(t, claims(t, acc, map[string]any{jwt.ExpirationKey: nil}), jwa.EdDSA, env.Key, kid),
			"nbf in the future":               sign(t, claims(t, acc, map[string]any{jwt.NotBeforeKey: time.Now().Add(5 * time.Minute)}), jwa.EdDSA, env.Key, kid),
			"iat in the future":               sign(t, claims(t, acc, map[string]any{jwt.IssuedAtKey: time.Now().Add(5 * time.Minute)}), jwa.EdDSA, env.Key, kid),
			"wrong iss":                       sign(t, claims(t, acc, map[string]any{jwt.IssuerKey: "https://evil.test"}), jwa.EdDSA, env.Key, kid),
			"wrong aud":                       sign(t, claims(t, acc, map[string]any{jwt.AudienceKey: []string{"other"}}), jwa.EdDSA, env.Key, kid),
			"no aud":                          sign(t, claims(t, acc, map[string]any{jwt.AudienceKey: nil}), jwa.EdDSA, env.Key, kid),
			"sub not a user ID":               sign(t, claims(t, acc, map[string]any{jwt.SubjectKey: acc.OrgID}), jwa.EdDSA, env.Key, kid),
			"org not an organization ID":      sign(t, claims(t, acc, map[string]any{"org": "acme"}), jwa.EdDSA, env.Key, kid),
			"tampered payload":                parts[0] + "." + b64(map[string]any{"sub": acc.UserID, "exp": time.Now().Add(time.Hour).Unix()}) + "." + parts[2],
			"JSON serialization":              `{"payload":"` + payload + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`,
			"garbage":                         "not-a-token",
			"huge":                            strings.Repeat("a", 20000) + "." + payload + "." + parts[2],
		}
		env.Do(valid, meQuery, nil).OK(t) // the control: the valid token works
		for name, token := range cases {
			t.Run(name, func(t *testing.T) {
				env.Counter.Reset()
				r := env.Do(token, meQuery, nil)
				if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
					t.Errorf("status %d code %q, want 401 UNAUTHENTICATED: %s", r.Status, r.Code(), r.Body)
				}
				if n := env.Counter.N(); n != 0 {
					t.Errorf("%d SQL statements ran before the token was refused:\n%s", n, env.Counter.SQL())
				}
			})
		}
		for name, header := range map[string]string{"Basic scheme": "Basic dXNlcjpwYXNz", "empty Bearer": "Bearer ", "no scheme": valid} {
			t.Run(name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", header)
				env.Counter.Reset()
				r := env.Send(req)
				if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" || env.Counter.N() != 0 {
					t.Errorf("status %d code %q statements %d: %s", r.Status, r.Code(), env.Counter.N(), r.Body)
				}
			})
		}
		t.Run("a token for a user that no longer exists", func(t *testing.T) {
			ghost := apitest.Account{UserID: missingUser(), OrgID: acc.OrgID}
			r := env.Do(sign(t, claims(t, ghost, nil), jwa.EdDSA, env.Key, kid), meQuery, nil)
			if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
				t.Errorf("status %d code %q", r.Status, r.Code())
			}
		})
		t.Run("a token whose org claim is not the user's organization", func(t *testing.T) {
			other := env.Register("someone@other.test", "Other")
			forged := apitest.Account{UserID: acc.UserID, OrgID: other.OrgID}
			r := env.Do(sign(t, claims(t, forged, nil), jwa.EdDSA, env.Key, kid), meQuery, nil)
			if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
				t.Errorf("status %d code %q", r.Status, r.Code())
			}
		})
		t.Run("within the clock skew a token still works", func(t *testing.T) {
			tok := sign(t, claims(t, acc, map[string]any{jwt.NotBeforeKey: time.Now().Add(10 * time.Second)}), jwa.EdDSA, env.Key, kid)
			env.Do(tok, meQuery, nil).OK(t)
		})
	})
}
