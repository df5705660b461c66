package oidctest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/neosc/neosc/internal/oidctest"
)

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

type discovery struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	TokenEndpoint string   `json:"token_endpoint"`
	GrantTypes    []string `json:"grant_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
}

func discover(t *testing.T, p *oidctest.Provider) discovery {
	t.Helper()
	code, body := get(t, p.DiscoveryURL())
	if code != http.StatusOK {
		t.Fatalf("discovery: %d %s", code, body)
	}
	var d discovery
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("discovery: %v: %s", err, body)
	}
	return d
}

func fetchJWKS(t *testing.T, jwksURI string) jwk.Set {
	t.Helper()
	code, body := get(t, jwksURI)
	if code != http.StatusOK {
		t.Fatalf("JWKS: %d %s", code, body)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		t.Fatalf("JWKS: %v: %s", err, body)
	}
	return set
}

func verify(p *oidctest.Provider, set jwk.Set, token string) (jwt.Token, error) {
	return jwt.Parse([]byte(token),
		jwt.WithKeySet(set),
		jwt.WithValidate(true),
		jwt.WithIssuer(p.Issuer),
		jwt.WithAudience(p.ClientID()),
	)
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Algorithm() != jwa.RS256 {
		t.Errorf("alg = %v, want RS256", h.Algorithm())
	}
	if h.KeyID() == "" {
		t.Error("no kid in header")
	}
	return h.KeyID()
}

// payload decodes the token's claims as plain JSON, to check exact shapes.
func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestProvider(t *testing.T) {
	p := oidctest.Start(t)

	// Discovery.
	if strings.HasSuffix(p.Issuer, "/") || !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") {
		t.Fatalf("Issuer = %q", p.Issuer)
	}
	d := discover(t, p)
	if d.Issuer != p.Issuer {
		t.Fatalf("discovery issuer %q != %q", d.Issuer, p.Issuer)
	}
	if d.JWKSURI != p.JWKSURI() || !strings.HasPrefix(d.JWKSURI, p.Issuer+"/") {
		t.Fatalf("jwks_uri = %q, JWKSURI() = %q", d.JWKSURI, p.JWKSURI())
	}
	if d.TokenEndpoint != p.TokenEndpoint() {
		t.Fatalf("token_endpoint = %q", d.TokenEndpoint)
	}
	if !contains(d.GrantTypes, "client_credentials") || !contains(d.SigningAlgs, "RS256") {
		t.Fatalf("discovery: grant types %v, algs %v", d.GrantTypes, d.SigningAlgs)
	}

	// JWKS shape.
	set := fetchJWKS(t, d.JWKSURI)
	if set.Len() != 1 {
		t.Fatalf("JWKS has %d keys", set.Len())
	}
	k, _ := set.Key(0)
	if k.KeyID() == "" || k.Algorithm() != jwa.RS256 || k.KeyUsage() != "sig" || k.KeyType() != jwa.RSA {
		t.Fatalf("JWK kid=%q alg=%v use=%q kty=%v", k.KeyID(), k.Algorithm(), k.KeyUsage(), k.KeyType())
	}

	// A token with every kind of claim.
	u := oidctest.User{
		Subject:          "user-123",
		Email:            "alice@example.com",
		Name:             "Alice Example",
		OrgID:            "org-1",
		OrgName:          "Acme",
		OrgPrimaryDomain: "acme.example.com",
		Roles:            map[string]map[string]string{"admin": {"org-1": "acme.example.com"}},
		ProjectID:        "proj-9",
		ProjectRoles:     map[string]map[string]string{"member": {"org-1": "acme.example.com"}},
		Extra: map[string]any{
			"org":          "acme",
			"org_id":       "auth0-org",
			"organization": []any{"acme", "other"},
		},
	}
	before := time.Now().Add(-time.Second)
	tok := p.Token(t, u)
	if kidOf(t, tok) != k.KeyID() {
		t.Fatalf("kid %q not the JWKS key %q", kidOf(t, tok), k.KeyID())
	}
	parsed, err := verify(p, set, tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if parsed.Subject() != u.Subject || parsed.Issuer() != p.Issuer {
		t.Fatalf("sub=%q iss=%q", parsed.Subject(), parsed.Issuer())
	}
	if !contains(parsed.Audience(), p.ClientID()) || !contains(parsed.Audience(), "proj-9") {
		t.Fatalf("aud = %v", parsed.Audience())
	}
	if exp := parsed.Expiration(); exp.Before(time.Now().Add(oidctest.DefaultTokenLifetime-time.Minute)) ||
		exp.After(time.Now().Add(oidctest.DefaultTokenLifetime+time.Minute)) {
		t.Fatalf("exp = %v", exp)
	}
	if parsed.IssuedAt().Before(before.Truncate(time.Second)) || parsed.NotBefore().IsZero() || parsed.JwtID() == "" {
		t.Fatalf("iat=%v nbf=%v jti=%q", parsed.IssuedAt(), parsed.NotBefore(), parsed.JwtID())
	}

	claims := payload(t, tok)
	if _, ok := claims["aud"].([]any); !ok {
		t.Errorf("aud is not a JSON array: %#v", claims["aud"])
	}
	if claims["client_id"] != p.ClientID() {
		t.Errorf("client_id = %v", claims["client_id"])
	}
	want := map[string]any{
		"email":                                 "alice@example.com",
		"email_verified":                        true,
		"name":                                  "Alice Example",
		"urn:zitadel:iam:user:resourceowner:id": "org-1",
		"urn:zitadel:iam:user:resourceowner:name":           "Acme",
		"urn:zitadel:iam:user:resourceowner:primary_domain": "acme.example.com",
		"urn:zitadel:iam:org:id":                            "org-1",
		"urn:zitadel:iam:org:domain:primary":                "acme.example.com",
		"urn:zitadel:iam:org:project:roles":                 jsonRoundTrip(t, u.Roles),
		"urn:zitadel:iam:org:project:proj-9:roles":          jsonRoundTrip(t, u.ProjectRoles),
		"org":          "acme",
		"org_id":       "auth0-org",
		"organization": []any{"acme", "other"},
	}
	for name, w := range want {
		if !reflect.DeepEqual(claims[name], w) {
			t.Errorf("claim %s = %#v, want %#v", name, claims[name], w)
		}
	}
	if parsed.PrivateClaims()[oidctest.ClaimProjectIDRoles("proj-9")] == nil {
		t.Errorf("jwx private claims lack the project roles: %v", parsed.PrivateClaims())
	}

	// OmitOrgClaims, a Keycloak-style organization map, a custom audience, expiry.
	tok2 := p.Token(t, oidctest.User{
		Subject: "user-2", OrgID: "org-1", OrgName: "Acme", OrgPrimaryDomain: "acme.example.com",
		OmitOrgClaims: true,
		Extra:         map[string]any{"organization": map[string]any{"acme": map[string]any{"id": "kc-1"}}},
	})
	c2 := payload(t, tok2)
	for _, name := range []string{oidctest.ClaimOrgID, oidctest.ClaimResourceOwnerID, oidctest.ClaimResourceOwnerName,
		oidctest.ClaimResourceOwnerPrimaryDomain, oidctest.ClaimOrgDomainPrimary, oidctest.ClaimProjectRoles, "email", "name"} {
		if _, ok := c2[name]; ok {
			t.Errorf("claim %s present with OmitOrgClaims / empty fields", name)
		}
	}
	if !reflect.DeepEqual(c2["organization"], map[string]any{"acme": map[string]any{"id": "kc-1"}}) {
		t.Errorf("organization = %#v", c2["organization"])
	}
	if !reflect.DeepEqual(c2["aud"], []any{p.ClientID()}) {
		t.Errorf("default aud = %#v", c2["aud"])
	}
	if _, err := verify(p, set, tok2); err != nil {
		t.Errorf("verify tok2: %v", err)
	}
	if _, err := verify(p, set, p.Token(t, oidctest.User{Subject: "u3", Audience: []string{"someone-else"}})); err == nil {
		t.Error("token for another audience verified")
	}
	if _, err := verify(p, set, p.Token(t, oidctest.User{Subject: "u4", Lifetime: -time.Minute})); err == nil {
		t.Error("expired token verified")
	}

	// Userinfo accepts the access token (it is a real OP token).
	req, _ := http.NewRequest(http.MethodGet, p.Issuer+"/oidc/v1/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"sub":"user-123"`) {
		t.Errorf("userinfo: %d %s", resp.StatusCode, body)
	}

	// Token endpoint rejects a wrong secret.
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}
	req, _ = http.NewRequest(http.MethodPost, p.TokenEndpoint(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(p.ClientID(), "wrong")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("wrong secret: %d", resp.StatusCode)
	}

	// SigningKey signs tokens that verify against the JWKS.
	sk := p.SigningKey()
	if sk.KeyID() != k.KeyID() || sk.Algorithm() != jwa.RS256 {
		t.Fatalf("SigningKey kid=%q alg=%v", sk.KeyID(), sk.Algorithm())
	}
	hand := jwt.New()
	_ = hand.Set(jwt.IssuerKey, p.Issuer)
	_ = hand.Set(jwt.AudienceKey, []string{p.ClientID()})
	_ = hand.Set(jwt.SubjectKey, "forged")
	_ = hand.Set(jwt.ExpirationKey, time.Now().Add(time.Minute))
	signed, err := jwt.Sign(hand, jwt.WithKey(jwa.RS256, sk))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify(p, set, string(signed)); err != nil {
		t.Errorf("hand-signed token: %v", err)
	}
	if pub, err := jwk.Parse(p.PublicJWKS()); err != nil || pub.Len() != 1 {
		t.Errorf("PublicJWKS: %v %v", pub, err)
	} else if pk, _ := pub.Key(0); pk.KeyID() != k.KeyID() {
		t.Errorf("PublicJWKS kid %q", pk.KeyID())
	}
}

func TestRotationAndJWKSControls(t *testing.T) {
	p := oidctest.Start(t)
	jwksURI := discover(t, p).JWKSURI
	if n := p.JWKSRequests(); n != 0 {
		t.Fatalf("JWKSRequests = %d before any fetch", n)
	}

	old := p.Token(t, oidctest.User{Subject: "s1"})
	oldKid := kidOf(t, old)
	if _, err := verify(p, fetchJWKS(t, jwksURI), old); err != nil {
		t.Fatal(err)
	}

	p.RotateKey(t)
	fresh := p.Token(t, oidctest.User{Subject: "s1"})
	newKid := kidOf(t, fresh)
	if newKid == oldKid {
		t.Fatalf("kid unchanged after RotateKey: %q", newKid)
	}
	if p.SigningKey().KeyID() != newKid {
		t.Fatalf("SigningKey kid %q, want %q", p.SigningKey().KeyID(), newKid)
	}
	set := fetchJWKS(t, jwksURI)
	if set.Len() != 2 {
		t.Fatalf("JWKS after rotation has %d keys", set.Len())
	}
	for _, kid := range []string{oldKid, newKid} {
		if _, ok := set.LookupKeyID(kid); !ok {
			t.Fatalf("JWKS lacks kid %q", kid)
		}
	}
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if _, err := verify(p, set, tok); err != nil {
			t.Errorf("%s token after rotation: %v", name, err)
		}
	}

	p.RetireOldKeys()
	set = fetchJWKS(t, jwksURI)
	if set.Len() != 1 {
		t.Fatalf("JWKS after RetireOldKeys has %d keys", set.Len())
	}
	if _, err := verify(p, set, old); err == nil {
		t.Error("old token still verifies after RetireOldKeys")
	}
	if _, err := verify(p, set, fresh); err != nil {
		t.Errorf("new token after RetireOldKeys: %v", err)
	}
	if got := p.JWKSRequests(); got != 3 {
		t.Errorf("JWKSRequests = %d, want 3", got)
	}

	p.SetJWKSDown(true)
	if code, _ := get(t, jwksURI); code != http.StatusServiceUnavailable {
		t.Errorf("JWKS while down: %d", code)
	}
	if d := discover(t, p); d.JWKSURI != jwksURI {
		t.Errorf("discovery while JWKS down: %+v", d)
	}
	_ = p.Token(t, oidctest.User{Subject: "s2"}) // token endpoint still works
	p.SetJWKSDown(false)
	if code, _ := get(t, jwksURI); code != http.StatusOK {
		t.Errorf("JWKS after recovery: %d", code)
	}
	if got := p.JWKSRequests(); got != 5 {
		t.Errorf("JWKSRequests = %d, want 5", got)
	}
}

// TestJWKCache shows the provider works with jwx's auto-refreshing cache, as a service would use it.
func TestJWKCache(t *testing.T) {
	p := oidctest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := jwk.NewCache(ctx)
	if err := c.Register(p.JWKSURI(), jwk.WithMinRefreshInterval(time.Hour)); err != nil {
		t.Fatal(err)
	}
	set := jwk.NewCachedSet(c, p.JWKSURI())
	tok := p.Token(t, oidctest.User{Subject: "cached"})
	for range 3 {
		if _, err := verify(p, set, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.JWKSRequests(); got != 1 {
		t.Errorf("JWKSRequests = %d, want 1 (cached)", got)
	}
}

func TestConcurrentTokens(t *testing.T) {
	p := oidctest.Start(t)
	var wg sync.WaitGroup
	subs := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	toks := make([]string, len(subs))
	for i, s := range subs {
		wg.Go(func() { toks[i] = p.Token(t, oidctest.User{Subject: s, Extra: map[string]any{"n": i}}) })
	}
	wg.Wait()
	for i, tok := range toks {
		c := payload(t, tok)
		if c["sub"] != subs[i] || c["n"] != float64(i) {
			t.Errorf("token %d: sub=%v n=%v", i, c["sub"], c["n"])
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestProviderShapes: the options and setters that give the provider other
// real providers' shapes.
func TestProviderShapes(t *testing.T) {
	t.Run("issuer with a path, as Entra ID's and Keycloak's", func(t *testing.T) {
		p := oidctest.Start(t, oidctest.WithIssuerPath("/tenant-1/v2.0"))
		if !strings.HasSuffix(p.Issuer, "/tenant-1/v2.0") {
			t.Fatalf("Issuer = %q", p.Issuer)
		}
		d := discover(t, p)
		if d.Issuer != p.Issuer || d.JWKSURI != p.Issuer+"/oauth/v2/keys" || d.TokenEndpoint != p.TokenEndpoint() {
			t.Fatalf("discovery %+v", d)
		}
		tok := p.Token(t, oidctest.User{Subject: "s"})
		if _, err := verify(p, fetchJWKS(t, d.JWKSURI), tok); err != nil {
			t.Fatal(err)
		}
		if code, _ := get(t, strings.TrimSuffix(p.Issuer, "/tenant-1/v2.0")+"/.well-known/openid-configuration"); code != http.StatusNotFound {
			t.Errorf("discovery outside the issuer's path: %d", code)
		}
	})
	t.Run("issuer with a trailing slash, as Auth0's", func(t *testing.T) {
		p := oidctest.Start(t, oidctest.WithTrailingSlash())
		if !strings.HasSuffix(p.Issuer, "/") || strings.HasSuffix(p.Issuer, "//") {
			t.Fatalf("Issuer = %q", p.Issuer)
		}
		d := discover(t, p)
		if d.Issuer != p.Issuer || strings.Contains(strings.TrimPrefix(d.JWKSURI, "http://"), "//") {
			t.Fatalf("discovery %+v", d)
		}
		tok := p.Token(t, oidctest.User{Subject: "s"})
		if payload(t, tok)["iss"] != p.Issuer {
			t.Errorf("iss = %v", payload(t, tok)["iss"])
		}
		if _, err := verify(p, fetchJWKS(t, d.JWKSURI), tok); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("JWKS without alg, Cache-Control max-age, published keys", func(t *testing.T) {
		p := oidctest.Start(t)
		p.SetJWKSOmitAlg(true)
		p.SetJWKSMaxAge(90 * time.Second)
		secret := jwkFrom(t, []byte("0123456789abcdef0123456789abcdef"), "oct-1", jwa.HS256, "sig")
		p.PublishKey(t, secret)
		resp, err := http.Get(p.JWKSURI())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=90" {
			t.Errorf("Cache-Control = %q", cc)
		}
		var raw struct{ Keys []map[string]any }
		if err := json.Unmarshal(body, &raw); err != nil || len(raw.Keys) != 2 {
			t.Fatalf("JWKS %s (%v)", body, err)
		}
		if _, ok := raw.Keys[0]["alg"]; ok || raw.Keys[0]["kty"] != "RSA" {
			t.Errorf("signing key %v: want RSA without alg", raw.Keys[0])
		}
		if raw.Keys[1]["kty"] != "oct" || raw.Keys[1]["alg"] != "HS256" || raw.Keys[1]["kid"] != "oct-1" {
			t.Errorf("published key %v", raw.Keys[1])
		}
		set, _ := jwk.Parse(body)
		tok := p.Token(t, oidctest.User{Subject: "s"})
		if _, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true))); err != nil {
			t.Errorf("token against the JWKS without alg, inferring: %v", err)
		}
		p.SetJWKSMaxAge(-1)
		p.SetJWKSOmitAlg(false)
		resp, _ = http.Get(p.JWKSURI())
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); cc != "" {
			t.Errorf("Cache-Control after SetJWKSMaxAge(-1) = %q", cc)
		}
		if k, _ := fetchJWKS(t, p.JWKSURI()).Key(0); k.Algorithm() != jwa.RS256 {
			t.Errorf("alg after SetJWKSOmitAlg(false) = %v", k.Algorithm())
		}
	})
	t.Run("RotateKeyTo each algorithm", func(t *testing.T) {
		p := oidctest.Start(t)
		for _, alg := range []jwa.SignatureAlgorithm{jwa.PS256, jwa.ES256, jwa.ES384, jwa.ES512, jwa.EdDSA, jwa.RS512} {
			p.RotateKeyTo(t, alg.String())
			tok := p.Token(t, oidctest.User{Subject: "s"})
			msg, err := jws.Parse([]byte(tok))
			if err != nil {
				t.Fatal(err)
			}
			if h := msg.Signatures()[0].ProtectedHeaders(); h.Algorithm() != alg || h.KeyID() != p.SigningKey().KeyID() {
				t.Errorf("%s: header alg %v kid %q", alg, h.Algorithm(), h.KeyID())
			}
			if _, err := verify(p, fetchJWKS(t, p.JWKSURI()), tok); err != nil {
				t.Errorf("%s: %v", alg, err)
			}
		}
	})
}

func jwkFrom(t *testing.T, raw any, kid string, alg jwa.KeyAlgorithm, use string) jwk.Key {
	t.Helper()
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.AlgorithmKey, alg)
	_ = k.Set(jwk.KeyUsageKey, use)
	return k
}
