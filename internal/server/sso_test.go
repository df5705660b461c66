package server_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

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

func ssoEnv(t *testing.T, d *db.DB, claims ...string) (*apitest.Env, *oidctest.Provider) {
	t.Helper()
	op := oidctest.Start(t)
	if len(claims) == 0 {
		claims = strings.Split(config.DefaultOrgClaims, ",")
	}
	return apitest.New(t, d, apitest.WithOIDC(op.Issuer, op.ClientID(), claims)), op
}

const ssoLogin = `mutation($t: String!) { ssoLogin(token: $t) { token expiresAt user { id email name role ssoIssuer lastLoginAt organization { id name domain externalId userCount } } } }`

func zitadelUser(sub, orgID string) oidctest.User {
	return oidctest.User{Subject: sub, Email: sub + "@acme.example", Name: "User " + sub,
		OrgID: orgID, OrgName: "Acme Corp", OrgPrimaryDomain: "acme.example"}
}

func TestSSO(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env, op := ssoEnv(t, d)
		other := env.Register("admin@other.test", "Other")

		var orgID string
		t.Run("happy path: a provider token works directly and provisions once", func(t *testing.T) {
			tok := op.Token(t, zitadelUser("u1", "zorg-1"))
			r := env.Do(tok, meQuery, nil).OK(t)
			orgID = r.Get("data.me.organization.id").String()
			if r.Get("data.me.email").String() != "u1@acme.example" || r.Get("data.me.organization.name").String() != "Acme Corp" ||
				r.Get("data.me.organization.domain").String() != "acme.example" || r.Get("data.me.role").String() != "MEMBER" {
				t.Errorf("provisioned: %s", r.Body)
			}
			env.Do(tok, meQuery, nil).OK(t)
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.sso_provisioned'"); n != 1 {
				t.Errorf("user.sso_provisioned = %d, want 1", n)
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'organization.created' AND actor_email = ?", "oidc:"+op.Issuer); n != 1 {
				t.Errorf("organization.created by the provider = %d, want 1", n)
			}
		})
		t.Run("happy path: ssoLogin exchanges it for a service token and records the login", func(t *testing.T) {
			u := zitadelUser("u1", "zorg-1")
			u.Name = "Renamed At IdP"
			r := env.Do("", ssoLogin, map[string]any{"t": op.Token(t, u)}).OK(t)
			p := r.Get("data.ssoLogin")
			if p.Get("user.name").String() != "Renamed At IdP" || p.Get("user.lastLoginAt").String() == "" ||
				p.Get("user.ssoIssuer").String() != op.Issuer || p.Get("user.organization.externalId").String() != "zorg-1" {
				t.Errorf("ssoLogin: %s", r.Body)
			}
			me := env.Do(p.Get("token").String(), meQuery, nil).OK(t)
			if me.Get("data.me.organization.id").String() != orgID {
				t.Errorf("service token lands elsewhere: %s", me.Body)
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.sso_login'"); n != 1 {
				t.Errorf("user.sso_login = %d", n)
			}
			if n := env.Count("SELECT COUNT(*) FROM users WHERE sso_subject = 'u1'"); n != 1 {
				t.Errorf("users for sub u1 = %d", n)
			}
		})
		t.Run("no access, other organization", func(t *testing.T) {
			tok := op.Token(t, zitadelUser("u1", "zorg-1"))
			env.Do(tok, `query($id: ID!) { organization(id: $id) { name } }`, map[string]any{"id": other.OrgID}).Want(t, "NOT_FOUND")
			svc := env.Do("", ssoLogin, map[string]any{"t": tok}).OK(t).Get("data.ssoLogin.token").String()
			env.Do(svc, `query($id: ID!) { organization(id: $id) { name } }`, map[string]any{"id": other.OrgID}).Want(t, "NOT_FOUND")
			env.Do(svc, `query($id: ID!) { organization(id: $id) { name } }`, map[string]any{"id": orgID}).OK(t)
		})
		t.Run("provisioned exactly once under concurrent first requests", func(t *testing.T) {
			tok := op.Token(t, zitadelUser("racer", "zorg-race"))
			var wg sync.WaitGroup
			codes := make([]string, 12)
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = env.Do(tok, meQuery, nil).Code()
				}()
			}
			wg.Wait()
			for i, c := range codes {
				if c != "" {
					t.Errorf("request %d: %s", i, c)
				}
			}
			if n := env.Count("SELECT COUNT(*) FROM users WHERE sso_subject = 'racer'"); n != 1 {
				t.Errorf("users = %d, want 1", n)
			}
			if n := env.Count("SELECT COUNT(*) FROM organizations WHERE external_id = 'zorg-race'"); n != 1 {
				t.Errorf("organizations = %d, want 1", n)
			}
			if n := env.Count("SELECT user_count FROM organizations WHERE external_id = 'zorg-race'"); n != 1 {
				t.Errorf("userCount = %d, want 1", n)
			}
		})
		t.Run("an organization provisioned by SSO admits no password sign-up", func(t *testing.T) {
			r := register(env, "newcomer@acme.example", "long-enough", "Newcomer", strp("Acme Corp")).Want(t, "FORBIDDEN")
			if !strings.Contains(r.Message(), "admits members by invitation") {
				t.Errorf("message: %q", r.Message())
			}
			if n := env.Count("SELECT COUNT(*) FROM users WHERE email = 'newcomer@acme.example'"); n != 0 {
				t.Error("a password account was created in an SSO organization")
			}
		})
		t.Run("an SSO user with a local account's email never takes it over", func(t *testing.T) {
			local := env.Register("victim@victim.test", "Victim Corp")
			// The victim owns victim.test: its primary domain, as DNS
			// verification sets it (a founder's email domain alone proves
			// nothing any more, issue 8).
			env.Exec("UPDATE organizations SET domain = 'victim.test' WHERE id = ?", rawID(t, local.OrgID))
			u := oidctest.User{Subject: "attacker", Email: "victim@victim.test", Name: "Attacker", OrgID: "zorg-evil", OrgName: "Evil", OrgPrimaryDomain: "victim.test"}
			r := env.Do(op.Token(t, u), meQuery, nil).OK(t)
			if r.Get("data.me.id").String() == local.UserID || r.Get("data.me.organization.id").String() == local.OrgID {
				t.Fatalf("the SSO identity became the local account: %s", r.Body)
			}
			if r.Get("data.me.organization.domain").Type != 0 && r.Get("data.me.organization.domain").String() != "" {
				t.Errorf("the new organization took victim.test over: %s", r.Body)
			}
			env.Do(op.Token(t, u), `query($id: ID!) { organization(id: $id) { name } }`, map[string]any{"id": local.OrgID}).Want(t, "NOT_FOUND")
			env.Do("", `mutation { login(input: {email: "victim@victim.test", password: "password-victim@victim.test"}) { user { id } } }`, nil).OK(t)
			var meta string
			env.DB.Raw("SELECT metadata FROM audit_events WHERE action = 'organization.created' AND metadata LIKE '%zorg-evil%'").Scan(&meta)
			if !strings.Contains(meta, "domainSkipped") {
				t.Errorf("organization.created should say why it has no domain: %s", meta)
			}
		})
		t.Run("an unverified email is not taken: nobody can squat an address", func(t *testing.T) {
			squatter := oidctest.User{Subject: "squatter", Email: "ceo@squat.test", OrgID: "zorg-squat",
				Extra: map[string]any{"email_verified": false}}
			r := env.Do(op.Token(t, squatter), meQuery, nil).OK(t)
			if strings.Contains(r.Get("data.me.email").String(), "ceo@squat.test") {
				t.Errorf("unverified email used: %s", r.Body)
			}
			register(env, "ceo@squat.test", "long-enough", "The CEO", nil).OK(t)
			// Two identities of the provider asserting the same verified
			// email: the second gets a stand-in instead of being locked out.
			a := oidctest.User{Subject: "dup-1", Email: "dup@dup.test", OrgID: "zorg-dup"}
			b := oidctest.User{Subject: "dup-2", Email: "dup@dup.test", OrgID: "zorg-dup"}
			env.Do(op.Token(t, a), meQuery, nil).OK(t)
			if r := env.Do(op.Token(t, b), meQuery, nil).OK(t); r.Get("data.me.email").String() == "dup@dup.test" {
				t.Errorf("two users with one email in one scope: %s", r.Body)
			}
		})
		t.Run("ADMIN only for the organization the role is keyed under", func(t *testing.T) {
			admin := zitadelUser("boss", "zorg-roles")
			admin.Roles = map[string]map[string]string{"admin": {"zorg-roles": "acme.example"}}
			if r := env.Do(op.Token(t, admin), meQuery, nil).OK(t); r.Get("data.me.role").String() != "ADMIN" {
				t.Errorf("role %s, want ADMIN", r.Get("data.me.role"))
			}
			elsewhere := zitadelUser("not-boss", "zorg-roles")
			elsewhere.Roles = map[string]map[string]string{"admin": {"zorg-other": "other.example"}, "viewer": {"zorg-roles": "acme.example"}}
			if r := env.Do(op.Token(t, elsewhere), meQuery, nil).OK(t); r.Get("data.me.role").String() != "MEMBER" {
				t.Errorf("admin in another organization made %s", r.Get("data.me.role"))
			}
			perProject := zitadelUser("project-boss", "zorg-roles")
			perProject.ProjectID, perProject.ProjectRoles = op.ClientID(), map[string]map[string]string{"admin": {"zorg-roles": "acme.example"}}
			if r := env.Do(op.Token(t, perProject), meQuery, nil).OK(t); r.Get("data.me.role").String() != "ADMIN" {
				t.Errorf("this project's per-project admin role gave %s", r.Get("data.me.role"))
			}
			otherProject := zitadelUser("wiki-boss", "zorg-roles")
			otherProject.ProjectID, otherProject.ProjectRoles = "unrelated-wiki", map[string]map[string]string{"admin": {"zorg-roles": "acme.example"}}
			if r := env.Do(op.Token(t, otherProject), meQuery, nil).OK(t); r.Get("data.me.role").String() != "MEMBER" {
				t.Errorf("admin of an unrelated project made %s", r.Get("data.me.role"))
			}
		})
		t.Run("deactivation and suspension count on the next request", func(t *testing.T) {
			u := zitadelUser("leaver", "zorg-leave")
			env.Do(op.Token(t, u), meQuery, nil).OK(t)
			env.Exec("UPDATE users SET status = 'DEACTIVATED' WHERE sso_subject = 'leaver'")
			env.Do(op.Token(t, u), meQuery, nil).Want(t, "UNAUTHENTICATED")
			env.Do("", ssoLogin, map[string]any{"t": op.Token(t, u)}).Want(t, "UNAUTHENTICATED")
			v := zitadelUser("stayer", "zorg-leave")
			env.Do(op.Token(t, v), meQuery, nil).OK(t)
			env.Exec("UPDATE organizations SET status = 'SUSPENDED' WHERE external_id = 'zorg-leave'")
			env.Do(op.Token(t, v), meQuery, nil).Want(t, "ORGANIZATION_SUSPENDED")
		})
		t.Run("a token without an organization claim is refused", func(t *testing.T) {
			u := zitadelUser("orphan", "")
			u.OmitOrgClaims = true
			env.Do(op.Token(t, u), meQuery, nil).Want(t, "UNAUTHENTICATED")
			env.Do("", ssoLogin, map[string]any{"t": op.Token(t, u)}).Want(t, "UNAUTHENTICATED")
		})
	})
}

func TestSSOKeys(t *testing.T) {
	env, op := ssoEnv(t, testdb.New(t, db.SQLite))
	u := zitadelUser("keys", "zorg-keys")
	old := op.Token(t, u)
	env.Do(old, meQuery, nil).OK(t)
	fetched := op.JWKSRequests()

	t.Run("keys are cached", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			env.Do(old, meQuery, nil).OK(t)
		}
		if n := op.JWKSRequests() - fetched; n != 0 {
			t.Errorf("%d JWKS fetches for a cached key", n)
		}
	})
	t.Run("rotation: a new kid is fetched once, old tokens keep working", func(t *testing.T) {
		op.RotateKey(t)
		fresh := op.Token(t, u)
		env.Do(fresh, meQuery, nil).OK(t)
		env.Do(old, meQuery, nil).OK(t)
		if n := op.JWKSRequests() - fetched; n != 1 {
			t.Errorf("%d JWKS fetches after rotation, want 1", n)
		}
	})
	t.Run("unknown kids trigger one rate-limited refresh", func(t *testing.T) {
		before := op.JWKSRequests()
		attacker, _ := rsa.GenerateKey(rand.Reader, 2048)
		for i := 0; i < 5; i++ {
			key, _ := jwk.FromRaw(attacker)
			_ = key.Set(jwk.KeyIDKey, fmt.Sprintf("unknown-%d", i))
			tok := signExternal(t, op.Issuer, op.ClientID(), key, jwa.RS256, nil)
			env.Do(tok, meQuery, nil).Want(t, "UNAUTHENTICATED")
		}
		if n := op.JWKSRequests() - before; n > 1 {
			t.Errorf("%d JWKS fetches for 5 unknown kids, want at most 1", n)
		}
	})
	t.Run("a JWKS outage does not stop cached keys", func(t *testing.T) {
		op.SetJWKSDown(true)
		defer op.SetJWKSDown(false)
		env.Do(op.Token(t, u), meQuery, nil).OK(t)
		env.Do(old, meQuery, nil).OK(t)
	})
}

// signExternal hand-builds a token claiming to come from the provider.
func signExternal(t *testing.T, iss, aud string, key any, alg jwa.SignatureAlgorithm, change func(jwt.Token, jws.Headers)) string {
	t.Helper()
	now := time.Now()
	tok := jwt.New()
	for k, v := range map[string]any{
		jwt.IssuerKey: iss, jwt.AudienceKey: []string{aud}, jwt.SubjectKey: "forged", jwt.IssuedAtKey: now,
		jwt.NotBeforeKey: now, jwt.ExpirationKey: now.Add(time.Hour), oidctest.ClaimOrgID: "zorg-forged",
		oidctest.ClaimResourceOwnerName: "Forged",
	} {
		_ = tok.Set(k, v)
	}
	hdr := jws.NewHeaders()
	if change != nil {
		change(tok, hdr)
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSSOAttackMatrix: everything in the foundation's forged-token matrix,
// aimed at the external path, plus a service-signed token with the
// provider's iss, key-carrying headers and JSON serialization. All refused
// with 401 before any SQL runs.
func TestSSOAttackMatrix(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env, op := ssoEnv(t, d)
		env.Do(op.Token(t, zitadelUser("warm", "zorg-warm")), meQuery, nil).OK(t) // keys cached
		provider := op.SigningKey()
		var pubJWKS map[string]any
		_ = json.Unmarshal(op.PublicJWKS(), &pubJWKS)
		pub, _ := provider.PublicKey()
		pubJSON, _ := json.Marshal(pub)
		var rawPub rsa.PublicKey
		_ = pub.Raw(&rawPub)
		attackerRaw, _ := rsa.GenerateKey(rand.Reader, 2048)
		attacker, _ := jwk.FromRaw(attackerRaw)
		_ = attacker.Set(jwk.KeyIDKey, "attacker")
		_ = attacker.Set(jwk.AlgorithmKey, jwa.RS256)
		attackerPub, _ := attacker.PublicKey()
		attackerSet := jwk.NewSet()
		_ = attackerSet.AddKey(attackerPub)
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(attackerSet) }))
		t.Cleanup(evil.Close)
		valid := op.Token(t, zitadelUser("valid", "zorg-valid"))
		parts := strings.Split(valid, ".")
		iss, aud := op.Issuer, op.ClientID()
		withKid := func(kid string) func(jwt.Token, jws.Headers) {
			return func(_ jwt.Token, h jws.Headers) { _ = h.Set(jws.KeyIDKey, kid) }
		}

		cases := map[string]string{
			"alg none":                                b64(map[string]any{"alg": "none", "kid": provider.KeyID()}) + "." + parts[1] + ".",
			"HS256 keyed with the provider's JWK":     signExternal(t, iss, aud, pubJSON, jwa.HS256, withKid(provider.KeyID())),
			"HS256 keyed with the provider's modulus": signExternal(t, iss, aud, rawPub.N.Bytes(), jwa.HS256, withKid(provider.KeyID())),
			"unknown kid":                             signExternal(t, iss, aud, attacker, jwa.RS256, nil),
			"attacker key with the provider's kid":    signExternal(t, iss, aud, attackerRaw, jwa.RS256, withKid(provider.KeyID())),
			"expired":                                 op.Token(t, oidctest.User{Subject: "late", OrgID: "zorg-late", Lifetime: -time.Minute}),
			"no exp": signExternal(t, iss, aud, provider, jwa.RS256, func(tok jwt.Token, _ jws.Headers) {
				_ = tok.Remove(jwt.ExpirationKey)
			}),
			"nbf in the future": signExternal(t, iss, aud, provider, jwa.RS256, func(tok jwt.Token, _ jws.Headers) {
				_ = tok.Set(jwt.NotBeforeKey, time.Now().Add(5*time.Minute))
			}),
			"wrong aud":                 op.Token(t, oidctest.User{Subject: "aud", OrgID: "zorg-aud", Audience: []string{"some-other-app"}}),
			"wrong iss, provider's key": signExternal(t, "https://evil.example", aud, provider, jwa.RS256, nil),
			"service-signed token carrying the provider's iss": signExternal(t, iss, aud, env.Key, jwa.EdDSA, nil),
			"jku pointing at another key set": signExternal(t, iss, aud, attacker, jwa.RS256, func(_ jwt.Token, h jws.Headers) {
				_ = h.Set(jws.JWKSetURLKey, evil.URL)
			}),
			"x5u pointing elsewhere": signExternal(t, iss, aud, attacker, jwa.RS256, func(_ jwt.Token, h jws.Headers) {
				_ = h.Set(jws.X509URLKey, evil.URL)
			}),
			"embedded jwk header": signExternal(t, iss, aud, attacker, jwa.RS256, func(_ jwt.Token, h jws.Headers) {
				_ = h.Set(jws.JWKKey, attackerPub)
			}),
			"JSON serialization": `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`,
			"tampered payload":   parts[0] + "." + b64(map[string]any{"iss": iss, "aud": aud, "sub": "x", "exp": time.Now().Add(time.Hour).Unix(), oidctest.ClaimOrgID: "zorg-x"}) + "." + parts[2],
		}
		env.Do(valid, meQuery, nil).OK(t) // the control
		for name, tok := range cases {
			t.Run(name, func(t *testing.T) {
				env.Counter.Reset()
				r := env.Do(tok, meQuery, nil)
				if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
					t.Errorf("status %d code %q: %.200s", r.Status, r.Code(), r.Body)
				}
				if n := env.Counter.N(); n != 0 {
					t.Errorf("%d statements ran before refusal:\n%s", n, env.Counter.SQL())
				}
				env.Counter.Reset()
				r = env.Do("", ssoLogin, map[string]any{"t": tok})
				if r.Code() != "UNAUTHENTICATED" {
					t.Errorf("ssoLogin: %q: %.200s", r.Code(), r.Body)
				}
				if n := env.Counter.N(); n != 0 {
					t.Errorf("ssoLogin: %d statements ran before refusal", n)
				}
			})
		}
		if n := env.Count("SELECT COUNT(*) FROM users WHERE sso_subject IN ('forged', 'late', 'aud', 'x')"); n != 0 {
			t.Errorf("%d users provisioned from forged tokens", n)
		}
		_ = pubJWKS
	})
}

// TestSSOOtherProviders: the same configuration shape works for Keycloak's
// organization claim and Auth0's org_id, by changing NEOSC_OIDC_ORG_CLAIMS.
func TestSSOOtherProviders(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	t.Run("Keycloak organization map", func(t *testing.T) {
		env, op := ssoEnv(t, d, "organization")
		u := oidctest.User{Subject: "kc-user", Email: "kc@kc.example", OmitOrgClaims: true,
			Extra: map[string]any{"organization": map[string]any{"acme": map[string]any{"id": "kc-org-42"}}}}
		r := env.Do(op.Token(t, u), `{ me { organization { name externalId } } }`, nil).OK(t)
		if r.Get("data.me.organization.externalId").String() != "kc-org-42" || r.Get("data.me.organization.name").String() != "acme" {
			t.Errorf("keycloak: %s", r.Body)
		}
		u2 := oidctest.User{Subject: "kc-user-2", OmitOrgClaims: true, Extra: map[string]any{"organization": []any{"beta"}}}
		r = env.Do(op.Token(t, u2), `{ me { organization { externalId } } }`, nil).OK(t)
		if r.Get("data.me.organization.externalId").String() != "beta" {
			t.Errorf("keycloak list form: %s", r.Body)
		}
	})
	t.Run("Auth0 org_id", func(t *testing.T) {
		env, op := ssoEnv(t, d, "org_id")
		u := oidctest.User{Subject: "auth0|1", Email: "a0@a0.example", OmitOrgClaims: true, Extra: map[string]any{"org_id": "org_abc123"}}
		r := env.Do(op.Token(t, u), `{ me { organization { externalId } } }`, nil).OK(t)
		if r.Get("data.me.organization.externalId").String() != "org_abc123" {
			t.Errorf("auth0: %s", r.Body)
		}
		// The Zitadel claim is ignored when not configured.
		z := zitadelUser("z-in-auth0", "zorg-ignored")
		env.Do(op.Token(t, z), meQuery, nil).Want(t, "UNAUTHENTICATED")
	})
}

func TestSSOLoginWithoutProvider(t *testing.T) {
	env := apitest.New(t, testdb.New(t, db.SQLite))
	op := oidctest.Start(t)
	tok := op.Token(t, zitadelUser("nobody", "zorg"))
	env.Do("", ssoLogin, map[string]any{"t": tok}).Want(t, "UNAUTHENTICATED")
	if r := env.Do(tok, meQuery, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("a provider token without SSO configured: %d", r.Status)
	}
}
