package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/oidctest"
	"github.com/neosc/neosc/internal/testdb"
)

// providerEnv is ssoEnv for a provider of another shape (oidctest options)
// and the organization claims orgClaims (comma-separated; "" for the
// default).
func providerEnv(t *testing.T, d *db.DB, orgClaims string, opts ...oidctest.Option) (*apitest.Env, *oidctest.Provider) {
	t.Helper()
	op := oidctest.Start(t, opts...)
	if orgClaims == "" {
		orgClaims = config.DefaultOrgClaims
	}
	return apitest.New(t, d, apitest.WithOIDC(op.Issuer, op.ClientID(), strings.Split(orgClaims, ","))), op
}

// wantRefused checks that tok gets 401 UNAUTHENTICATED, as a Bearer token
// and from ssoLogin, before any SQL runs.
func wantRefused(t *testing.T, env *apitest.Env, tok string) {
	t.Helper()
	env.Counter.Reset()
	if r := env.Do(tok, meQuery, nil); r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
		t.Errorf("status %d code %q: %.200s", r.Status, r.Code(), r.Body)
	}
	if r := env.Do("", ssoLogin, map[string]any{"t": tok}); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("ssoLogin: %q: %.200s", r.Code(), r.Body)
	}
	if n := env.Counter.N(); n != 0 {
		t.Errorf("%d statements ran before refusal:\n%s", n, env.Counter.SQL())
	}
}

// TestSSOKeyWithoutAlg (finding: "a JWKS key without alg is never usable").
// RFC 7517 makes a JWK's alg optional and Microsoft Entra ID and panva's
// oidc-provider omit it for RSA keys. Such a key verifies the tokens it
// signs with an algorithm its key type allows: RSA RS256/384/512 and
// PS256/384/512, EC by curve ES256/384/512, OKP Ed25519 EdDSA.
func TestSSOKeyWithoutAlg(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env, op := providerEnv(t, d, "")
		op.SetJWKSOmitAlg(true)
		// One token per key, all keys in the JWKS before the service
		// fetches it (a token of each, in turn, would wait for the
		// rate-limited refresh of unknown kids).
		tokens := map[string]string{"RS256": op.Token(t, zitadelUser("no-alg", "zorg-no-alg"))}
		for _, alg := range []string{"PS256", "RS512", "ES256", "ES384", "ES512", "EdDSA"} {
			op.RotateKeyTo(t, alg)
			tokens[alg] = op.Token(t, zitadelUser("no-alg", "zorg-no-alg"))
		}
		for alg, tok := range tokens {
			if r := env.Do(tok, meQuery, nil); r.Code() != "" {
				t.Errorf("token signed %s by a key without alg: %s", alg, r.Body)
			}
		}
	})
}

// TestSSOKeyWithoutAlgConfusion: a key without alg accepts only what its key
// type allows, with its own signature: HS*/none confusion and algorithms of
// another key type stay refused, and a symmetric (oct) key in the JWKS is
// never used.
func TestSSOKeyWithoutAlgConfusion(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env, op := providerEnv(t, d, "")
		op.SetJWKSOmitAlg(true)
		secret := []byte("a-provider-that-publishes-its-hmac-secret")
		oct, _ := jwk.FromRaw(secret)
		_ = oct.Set(jwk.KeyIDKey, "oct-1")
		op.PublishKey(t, oct)
		// An RSA and an EC key, both published without alg and both in the
		// JWKS before the service first fetches it.
		rsaKey, rsaTok := op.SigningKey(), op.Token(t, zitadelUser("warm", "zorg-warm"))
		op.RotateKeyTo(t, "ES256")
		ecKey, ecTok := op.SigningKey(), op.Token(t, zitadelUser("warm", "zorg-warm"))
		env.Do(rsaTok, meQuery, nil).OK(t)
		env.Do(ecTok, meQuery, nil).OK(t)
		rsaParts, ecParts := strings.Split(rsaTok, "."), strings.Split(ecTok, ".")

		pub, _ := rsaKey.PublicKey()
		pubJSON, _ := json.Marshal(pub)
		var rawPub rsa.PublicKey
		_ = pub.Raw(&rawPub)
		ecPub, _ := ecKey.PublicKey()
		ecPubJSON, _ := json.Marshal(ecPub)
		// Raw keys: signing with a jwk.Key would set its own kid.
		var rsaRaw rsa.PrivateKey
		var ecRaw ecdsa.PrivateKey
		_ = rsaKey.Raw(&rsaRaw)
		_ = ecKey.Raw(&ecRaw)
		attackerRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
		attackerEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		iss, aud := op.Issuer, op.ClientID()
		withKid := func(kid string) func(jwt.Token, jws.Headers) {
			return func(_ jwt.Token, h jws.Headers) { _ = h.Set(jws.KeyIDKey, kid) }
		}

		for name, tok := range map[string]string{
			"alg none, RSA key without alg":         b64(map[string]any{"alg": "none", "kid": rsaKey.KeyID()}) + "." + rsaParts[1] + ".",
			"alg none, EC key without alg":          b64(map[string]any{"alg": "none", "kid": ecKey.KeyID()}) + "." + ecParts[1] + ".",
			"HS256 keyed with the RSA JWK":          signExternal(t, iss, aud, pubJSON, jwa.HS256, withKid(rsaKey.KeyID())),
			"HS256 keyed with the RSA modulus":      signExternal(t, iss, aud, rawPub.N.Bytes(), jwa.HS256, withKid(rsaKey.KeyID())),
			"HS384 keyed with the EC JWK":           signExternal(t, iss, aud, ecPubJSON, jwa.HS384, withKid(ecKey.KeyID())),
			"HS256 with the published oct key":      signExternal(t, iss, aud, secret, jwa.HS256, withKid("oct-1")),
			"ES256 by another key on the RSA kid":   signExternal(t, iss, aud, attackerEC, jwa.ES256, withKid(rsaKey.KeyID())),
			"RS256 by another key on the EC kid":    signExternal(t, iss, aud, attackerRSA, jwa.RS256, withKid(ecKey.KeyID())),
			"PS256 by another key on the RSA kid":   signExternal(t, iss, aud, attackerRSA, jwa.PS256, withKid(rsaKey.KeyID())),
			"ES384 by the P-256 key":                signExternal(t, iss, aud, &ecRaw, jwa.ES384, withKid(ecKey.KeyID())),
			"the EC key's ES256 on the RSA kid":     signExternal(t, iss, aud, &ecRaw, jwa.ES256, withKid(rsaKey.KeyID())),
			"the RSA key's RS256 on the EC kid":     signExternal(t, iss, aud, &rsaRaw, jwa.RS256, withKid(ecKey.KeyID())),
			"the RSA key's RS256 without kid":       signExternal(t, iss, aud, &rsaRaw, jwa.RS256, nil),
			"the RSA key's RS256 on an unknown kid": signExternal(t, iss, aud, &rsaRaw, jwa.RS256, withKid("not-published")),
			"RS384 header over the RSA key's RS256": b64(map[string]any{"alg": "RS384", "kid": rsaKey.KeyID()}) + "." + rsaParts[1] + "." + rsaParts[2],
			"EdDSA header over the EC key's ES256":  b64(map[string]any{"alg": "EdDSA", "kid": ecKey.KeyID()}) + "." + ecParts[1] + "." + ecParts[2],
		} {
			t.Run(name, func(t *testing.T) { wantRefused(t, env, tok) })
		}
		// The control: the provider's own keys without alg, with an
		// algorithm of their type that the provider did not advertise.
		env.Do(signExternal(t, iss, aud, &rsaRaw, jwa.PS384, withKid(rsaKey.KeyID())), meQuery, nil).OK(t)
		env.Do(signExternal(t, iss, aud, &ecRaw, jwa.ES256, withKid(ecKey.KeyID())), meQuery, nil).OK(t)
	})
}

// TestSSOKeyWithAlgIsPinned: a key whose JWK names its alg verifies only
// that algorithm, even one its key type would allow.
func TestSSOKeyWithAlgIsPinned(t *testing.T) {
	env, op := providerEnv(t, testdb.New(t, db.SQLite), "")
	env.Do(op.Token(t, zitadelUser("warm", "zorg-warm")), meQuery, nil).OK(t)
	key := op.SigningKey() // published with alg RS256
	withKid := func(_ jwt.Token, h jws.Headers) { _ = h.Set(jws.KeyIDKey, key.KeyID()) }
	env.Do(signExternal(t, op.Issuer, op.ClientID(), key, jwa.RS256, withKid), meQuery, nil).OK(t)
	for _, alg := range []jwa.SignatureAlgorithm{jwa.PS256, jwa.RS512} {
		t.Run(alg.String(), func(t *testing.T) { wantRefused(t, env, signExternal(t, op.Issuer, op.ClientID(), key, alg, withKid)) })
	}
}

// TestSSOKeycloakOrganizationOrder (finding: "a Keycloak organization list
// is read in token order"). A user in two Keycloak organizations belongs to
// the first alias in alphabetical order, whatever order the token lists
// them in, so a token that lists them the other way round does not lock the
// user out.
func TestSSOKeycloakOrganizationOrder(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env, op := providerEnv(t, d, "organization")
		member := func(orgs ...any) oidctest.User {
			return oidctest.User{Subject: "kc-two-orgs", OmitOrgClaims: true, Extra: map[string]any{"organization": orgs}}
		}
		const q = `{ me { id organization { externalId } } }`
		first := env.Do(op.Token(t, member("zeta", "acme")), q, nil).OK(t)
		if got := first.Get("data.me.organization.externalId").String(); got != "acme" {
			t.Errorf("listed [zeta acme]: organization %q, want acme (alphabetical)", got)
		}
		again := env.Do(op.Token(t, member("acme", "zeta")), q, nil)
		if again.Code() != "" || again.Get("data.me.id").String() != first.Get("data.me.id").String() {
			t.Errorf("listed [acme zeta]: %s", again.Body)
		}
		if n := env.Count("SELECT COUNT(*) FROM organizations WHERE external_id IN ('acme', 'zeta')"); n != 1 {
			t.Errorf("%d organizations provisioned, want 1", n)
		}
	})
}

// TestSSOIssuerSpelling (finding: "NEOSC_OIDC_ISSUER with or without a
// trailing / provisions duplicates"). Both spellings verify the same
// tokens; they must also reach the same user and organization, for a
// provider whose issuer has no trailing slash (Zitadel, Keycloak, Entra ID)
// and for one whose issuer has one (Auth0). Identities are keyed by the
// provider's issuer without its trailing slash.
func TestSSOIssuerSpelling(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		for _, c := range []struct {
			name string
			opts []oidctest.Option
		}{
			{"discovery without trailing slash", nil},
			{"discovery with trailing slash (Auth0)", []oidctest.Option{oidctest.WithTrailingSlash()}},
		} {
			t.Run(c.name, func(t *testing.T) {
				op := oidctest.Start(t, c.opts...)
				canonical := strings.TrimSuffix(op.Issuer, "/")
				u := zitadelUser("spelled", "zorg-spelled-"+strings.ReplaceAll(c.name, " ", "-"))
				const q = `{ me { id ssoIssuer organization { id } } }`
				var first string
				for _, configured := range []string{canonical + "/", canonical, canonical + "/"} {
					env := apitest.New(t, d, apitest.WithOIDC(configured, op.ClientID(), strings.Split(config.DefaultOrgClaims, ",")))
					r := env.Do(op.Token(t, u), q, nil).OK(t)
					if r.Get("data.me.ssoIssuer").String() != canonical {
						t.Errorf("NEOSC_OIDC_ISSUER=%s: ssoIssuer %q, want %q", configured, r.Get("data.me.ssoIssuer"), canonical)
					}
					if got := r.Get("data.me.id").String() + r.Get("data.me.organization.id").String(); first == "" {
						first = got
					} else if got != first {
						t.Errorf("NEOSC_OIDC_ISSUER=%s: another user or organization: %s", configured, r.Body)
					}
				}
				var orgs, users int64
				d.Raw("SELECT COUNT(*) FROM organizations WHERE external_id = ?", u.OrgID).Row().Scan(&orgs)
				d.Raw("SELECT COUNT(*) FROM users WHERE sso_subject = ? AND sso_issuer LIKE ?", u.Subject, canonical+"%").Row().Scan(&users)
				if orgs != 1 || users != 1 {
					t.Errorf("%d organizations and %d users provisioned, want 1 each", orgs, users)
				}
			})
		}
	})
}

const providerMe = `{ me { id email name role ssoIssuer organization { id name externalId } } }`

// TestSSOEntraID: tokens shaped like Microsoft Entra ID's v2.0 access
// tokens for an API: issuer https://login.microsoftonline.com/{tid}/v2.0,
// RS256 keys published without alg, the tenant in tid, the user's object
// ID in oid, a pairwise sub, no email_verified. NEOSC_OIDC_ORG_CLAIMS=tid
// makes the tenant the organization (docs/sso.md, "Entra ID").
func TestSSOEntraID(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		env, op := providerEnv(t, d, "tid", oidctest.WithIssuerPath("/"+tid+"/v2.0"))
		op.SetJWKSOmitAlg(true)
		entra := func(sub, oid, upn string) oidctest.User {
			return oidctest.User{Subject: sub, Name: "User " + upn, Extra: map[string]any{
				"tid": tid, "oid": oid, "ver": "2.0", "preferred_username": upn, "azp": "c0ffee00-0000-4000-8000-000000000001",
				"scp": "access_as_user", "email": upn, // Entra sends no email_verified
			}}
		}
		r := env.Do(op.Token(t, entra("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "00000000-0000-0000-66f3-3332eca7ea81", "alice@contoso.example")), providerMe, nil).OK(t)
		me := r.Get("data.me")
		if me.Get("organization.externalId").String() != tid || me.Get("role").String() != "MEMBER" ||
			me.Get("ssoIssuer").String() != op.Issuer || !strings.HasSuffix(op.Issuer, "/"+tid+"/v2.0") {
			t.Errorf("Entra ID user: %s", r.Body)
		}
		if me.Get("email").String() == "alice@contoso.example" || me.Get("name").String() != "User alice@contoso.example" {
			t.Errorf("an email without email_verified was taken, or the name was not: %s", r.Body)
		}
		orgID := me.Get("organization.id").String()
		bob := env.Do("", ssoLogin, map[string]any{"t": op.Token(t, entra("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "00000000-0000-0000-1234-000000000002", "bob@contoso.example"))}).OK(t)
		if bob.Get("data.ssoLogin.user.organization.id").String() != orgID {
			t.Errorf("a second user of the tenant landed elsewhere: %s", bob.Body)
		}
		// Another tenant has another issuer: its tokens are not this
		// provider's.
		other := oidctest.Start(t, oidctest.WithIssuerPath("/11111111-2222-3333-4444-555555555555/v2.0"))
		other.SetJWKSOmitAlg(true)
		wantRefused(t, env, other.Token(t, entra("CCCC", "00000000-0000-0000-0000-000000000003", "eve@fabrikam.example")))
	})
}

// TestSSOKeycloak: tokens shaped like Keycloak's: issuer /realms/{realm},
// an RSA signing key with alg beside an encryption key (use enc,
// RSA-OAEP) in the JWKS, the organization claim as a list of aliases and
// as a map with ids.
func TestSSOKeycloak(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env, op := providerEnv(t, d, "organization", oidctest.WithIssuerPath("/realms/neosc"))
		encRaw, _ := rsa.GenerateKey(rand.Reader, 2048)
		enc, _ := jwk.FromRaw(&encRaw.PublicKey)
		_ = enc.Set(jwk.KeyIDKey, "enc-key")
		_ = enc.Set(jwk.KeyUsageKey, "enc")
		_ = enc.Set(jwk.AlgorithmKey, jwa.RSA_OAEP)
		op.PublishKey(t, enc)
		keycloak := func(sub string, orgs any) oidctest.User {
			return oidctest.User{Subject: sub, Email: sub + "@kc.example", Name: "KC " + sub,
				Extra: map[string]any{"preferred_username": sub, "typ": "Bearer", "azp": "neosc-console", "organization": orgs}}
		}
		r := env.Do(op.Token(t, keycloak("kc-list", []any{"globex", "acme"})), providerMe, nil).OK(t)
		if r.Get("data.me.organization.externalId").String() != "acme" || r.Get("data.me.organization.name").String() != "acme" ||
			r.Get("data.me.email").String() != "kc-list@kc.example" || r.Get("data.me.ssoIssuer").String() != op.Issuer {
			t.Errorf("list form: %s", r.Body)
		}
		r = env.Do(op.Token(t, keycloak("kc-map", map[string]any{
			"globex": map[string]any{"id": "5e1c7a8e-globex"}, "initech": map[string]any{"id": "0b6f9d2c-initech"}})), providerMe, nil).OK(t)
		if r.Get("data.me.organization.externalId").String() != "5e1c7a8e-globex" || r.Get("data.me.organization.name").String() != "globex" {
			t.Errorf("map form: %s", r.Body)
		}
		// The encryption key verifies nothing, even with a signature it made.
		wantRefused(t, env, signExternal(t, op.Issuer, op.ClientID(), encRaw, jwa.RS256, func(_ jwt.Token, h jws.Headers) { _ = h.Set(jws.KeyIDKey, "enc-key") }))
	})
}

// TestSSOAuth0: tokens shaped like Auth0's for an API: issuer ending in
// "/", RS256 keys with alg, the organization in org_id.
func TestSSOAuth0(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env, op := providerEnv(t, d, "org_id", oidctest.WithTrailingSlash())
		u := oidctest.User{Subject: "auth0|65f0c1d2e3", Email: "ann@initech.example", Name: "Ann",
			Extra: map[string]any{"org_id": "org_Xk2Pq9RvT1", "org_name": "initech", "azp": "spa-client", "scope": "openid profile"}}
		r := env.Do(op.Token(t, u), providerMe, nil).OK(t)
		if r.Get("data.me.organization.externalId").String() != "org_Xk2Pq9RvT1" || r.Get("data.me.email").String() != "ann@initech.example" ||
			r.Get("data.me.ssoIssuer").String() != strings.TrimSuffix(op.Issuer, "/") {
			t.Errorf("Auth0 user: %s", r.Body)
		}
		if l := env.Do("", ssoLogin, map[string]any{"t": op.Token(t, u)}).OK(t); l.Get("data.ssoLogin.user.id").String() != r.Get("data.me.id").String() {
			t.Errorf("ssoLogin: %s", l.Body)
		}
	})
}
