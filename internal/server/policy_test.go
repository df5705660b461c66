package server_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/oidctest"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/testdb"
)

const (
	setPolicy = `mutation($id: ID!, $in: SecurityPolicyInput!) { updateSecurityPolicy(id: $id, input: $in) {
		id securityPolicy { requireSso allowedIpRanges sessionTtlMinutes } } }`
	setBranding = `mutation($id: ID!, $in: BrandingInput!) { updateOrganizationBranding(id: $id, input: $in) {
		id branding { displayName logoUrl primaryColor } } }`
	publicBranding = `query($s: String!) { organizationBranding(slug: $s) { displayName logoUrl primaryColor } }`
	pwLogin        = `mutation($in: LoginInput!) { login(input: $in) { token expiresAt } }`
)

func policyVars(org string, requireSSO bool, ranges []string, ttl any) map[string]any {
	if ranges == nil {
		ranges = []string{}
	}
	return map[string]any{"id": org, "in": map[string]any{"requireSso": requireSSO, "allowedIpRanges": ranges, "sessionTtlMinutes": ttl}}
}

// wantField fails unless r is BAD_USER_INPUT naming field.
func wantField(t *testing.T, r *apitest.Response, field string) {
	t.Helper()
	r.Want(t, "BAD_USER_INPUT")
	if got := r.Get("errors.0.extensions.field").String(); got != field {
		t.Errorf("field %q, want %q: %s", got, field, r.Body)
	}
}

// tokenLifetime is exp - nbf of a service token, read from its payload.
func tokenLifetime(t *testing.T, token string) time.Duration {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Exp, Nbf int64 }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return time.Duration(c.Exp-c.Nbf) * time.Second
}

func TestSecurityPolicyIPRanges(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d, apitest.WithTrustedProxies("127.0.0.1/32"))
		admin := env.Register("admin@ipr.test", "IPR")
		member := env.Invite(admin, "member@ipr.test", "MEMBER")
		other := env.Register("admin@elsewhere.test", "Elsewhere")
		const inside, outside, inside6, outside6 = "192.0.2.10", "198.51.100.7", "2001:db8::42", "2001:db9::1"

		t.Run("bad ranges are BAD_USER_INPUT naming allowedIpRanges, nothing written", func(t *testing.T) {
			many := make([]string, 100) // 101 with the caller's own range
			for i := range many {
				many[i] = apitest.Sprintf("10.0.%d.0/24", i)
			}
			for _, bad := range [][]string{{"10.0.0.0/33"}, {"not-an-ip"}, {"fe80::1%eth0"}, {"::ffff:192.0.2.1"}, {""},
				{"192.0.2.0/24; DROP TABLE"}, {"2001:db8::/129"}, {"192.0.2.1-192.0.2.9"}, many} {
				// With the caller's own range, so that only the bad entry can be the reason.
				bad = append(bad, "192.0.2.0/24")
				r := env.DoFrom(inside, admin.Token, setPolicy, policyVars(admin.OrgID, false, bad, nil))
				wantField(t, r, "allowedIpRanges")
				if strings.Contains(r.Message(), "lock yourself out") {
					t.Errorf("%q refused only as a lockout: %s", bad[0], r.Message())
				}
			}
			if n := env.Count("SELECT COUNT(*) FROM organization_policies"); n != 0 {
				t.Errorf("%d policy rows written", n)
			}
		})
		t.Run("an admin cannot lock themselves out", func(t *testing.T) {
			r := env.DoFrom(outside, admin.Token, setPolicy, policyVars(admin.OrgID, false, []string{"192.0.2.0/24"}, nil))
			wantField(t, r, "allowedIpRanges")
			if !strings.Contains(r.Message(), outside) {
				t.Errorf("message does not name the caller's address: %s", r.Message())
			}
		})
		t.Run("ranges are saved canonical and audited with before and after", func(t *testing.T) {
			r := env.DoFrom(inside, admin.Token, setPolicy, policyVars(admin.OrgID, false,
				[]string{"2001:DB8::/32", " 192.0.2.5 ", "192.0.2.77/24", "2001:db8::1", "192.0.2.0/24"}, nil)).OK(t)
			got := r.Get("data.updateSecurityPolicy.securityPolicy.allowedIpRanges").Raw
			if got != `["192.0.2.0/24","192.0.2.5/32","2001:db8::/32","2001:db8::1/128"]` {
				t.Errorf("ranges %s", got)
			}
			var meta string
			env.DB.Raw("SELECT metadata FROM audit_events WHERE action = 'organization.security_policy_updated'").Scan(&meta)
			if !strings.Contains(meta, `"before"`) || !strings.Contains(meta, `"after"`) || !strings.Contains(meta, "2001:db8::1/128") {
				t.Errorf("audit metadata %s", meta)
			}
		})
		t.Run("session tokens: inside passes, outside is FORBIDDEN, v4 and v6", func(t *testing.T) {
			env.DoFrom(inside, admin.Token, meQuery, nil).OK(t)
			env.DoFrom(inside6, member.Token, meQuery, nil).OK(t)
			for _, ip := range []string{outside, outside6, ""} { // "": the connection's own 127.0.0.1
				r := env.DoFrom(ip, member.Token, meQuery, nil).Want(t, "FORBIDDEN")
				if r.Status != 403 || !strings.Contains(r.Message(), "allowedIpRanges") {
					t.Errorf("from %q: %d %s", ip, r.Status, r.Body)
				}
			}
			// Another organization is not affected.
			env.DoFrom(outside, other.Token, meQuery, nil).OK(t)
		})
		t.Run("API tokens alike", func(t *testing.T) {
			r := env.DoFrom(inside, admin.Token, `mutation { createApiToken(input: {name: "ipr", scopes: [READ_ORGANIZATION]}) { token } }`, nil).OK(t)
			tok := r.Get("data.createApiToken.token").String()
			q := `query($id: ID!) { organization(id: $id) { id name } }`
			env.DoFrom(inside, tok, q, map[string]any{"id": admin.OrgID}).OK(t)
			env.DoFrom("2001:db8::1", tok, q, map[string]any{"id": admin.OrgID}).OK(t)
			env.DoFrom(outside, tok, q, map[string]any{"id": admin.OrgID}).Want(t, "FORBIDDEN")
			env.DoFrom(outside6, tok, q, map[string]any{"id": admin.OrgID}).Want(t, "FORBIDDEN")
		})
		t.Run("refusals are audited as access.denied, tallied per caller and address", func(t *testing.T) {
			for range 3 {
				env.DoFrom("203.0.113.9", member.Token, meQuery, nil).Want(t, "FORBIDDEN")
			}
			n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied' AND ip_address = ? AND organization_id = ?",
				"203.0.113.9", rawID(t, admin.OrgID))
			if n != 1 {
				t.Errorf("%d access.denied events for three refusals in one window, want 1", n)
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied' AND ip_address = ?", outside); n < 2 {
				t.Errorf("refusals from %s (session and API token) audited %d times", outside, n)
			}
		})
		t.Run("a member cannot change the policy; another organization's ID is NOT_FOUND", func(t *testing.T) {
			env.DoFrom(inside, member.Token, setPolicy, policyVars(admin.OrgID, false, nil, nil)).Want(t, "FORBIDDEN")
			env.DoFrom(inside, admin.Token, setPolicy, policyVars(other.OrgID, false, nil, nil)).Want(t, "NOT_FOUND")
			env.DoFrom(inside, member.Token, `query($id: ID!) { organization(id: $id) { securityPolicy { requireSso } } }`,
				map[string]any{"id": admin.OrgID}).Want(t, "FORBIDDEN")
		})
		t.Run("platform administrators are exempt", func(t *testing.T) {
			env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", admin.Email)
			defer env.Exec("UPDATE users SET platform_admin = FALSE WHERE email = ?", admin.Email)
			env.DoFrom(outside, admin.Token, meQuery, nil).OK(t)
		})
		t.Run("clearing the ranges lets every address in again", func(t *testing.T) {
			env.DoFrom(inside, admin.Token, setPolicy, policyVars(admin.OrgID, false, nil, nil)).OK(t)
			env.DoFrom(outside, member.Token, meQuery, nil).OK(t)
		})
	})
}

func TestSecurityPolicySessionTTL(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@ttl.test", "TTL")
		for _, bad := range []any{4, 43201, 0, -5} {
			wantField(t, env.Do(admin.Token, setPolicy, policyVars(admin.OrgID, false, nil, bad)), "sessionTtlMinutes")
		}
		full := tokenLifetime(t, signIn(t, env, admin.Email, "password-"+admin.Email))
		if full <= 10*time.Minute {
			t.Fatalf("default lifetime %s", full)
		}
		r := env.Do(admin.Token, setPolicy, policyVars(admin.OrgID, false, nil, 10)).OK(t)
		if r.Get("data.updateSecurityPolicy.securityPolicy.sessionTtlMinutes").Int() != 10 {
			t.Fatalf("ttl: %s", r.Body)
		}
		t.Run("login", func(t *testing.T) {
			r := env.Do("", pwLogin, map[string]any{"in": map[string]any{"email": admin.Email, "password": "password-" + admin.Email}}).OK(t)
			if got := tokenLifetime(t, r.Get("data.login.token").String()); got != 10*time.Minute {
				t.Errorf("login token lives %s", got)
			}
			exp, _ := time.Parse(time.RFC3339, r.Get("data.login.expiresAt").String())
			if d := time.Until(exp); d > 10*time.Minute+time.Second || d < 9*time.Minute {
				t.Errorf("expiresAt in %s", d)
			}
		})
		t.Run("verifyEmail", func(t *testing.T) {
			r := env.Do("", `mutation($t: String!) { verifyEmail(token: $t) { token } }`, map[string]any{"t": env.MailedToken(admin.Email)}).OK(t)
			if got := tokenLifetime(t, r.Get("data.verifyEmail.token").String()); got != 10*time.Minute {
				t.Errorf("verifyEmail token lives %s", got)
			}
		})
		t.Run("accepting an invitation", func(t *testing.T) {
			u := env.Invite(admin, "new@ttl.test", "MEMBER")
			if got := tokenLifetime(t, u.Token); got != 10*time.Minute {
				t.Errorf("acceptInvitation token lives %s", got)
			}
		})
		t.Run("changePassword", func(t *testing.T) {
			r := env.Do(signIn(t, env, "new@ttl.test", "password-new@ttl.test"),
				`mutation($in: ChangePasswordInput!) { changePassword(input: $in) { token } }`,
				map[string]any{"in": map[string]any{"currentPassword": "password-new@ttl.test", "newPassword": "a brand new password"}}).OK(t)
			if got := tokenLifetime(t, r.Get("data.changePassword.token").String()); got != 10*time.Minute {
				t.Errorf("changePassword token lives %s", got)
			}
		})
		t.Run("another organization keeps the server's TTL", func(t *testing.T) {
			o := env.Register("admin@other-ttl.test", "Other TTL")
			if got := tokenLifetime(t, o.Token); got != full {
				t.Errorf("lives %s, want %s", got, full)
			}
		})
		t.Run("null restores the server's TTL", func(t *testing.T) {
			env.Do(admin.Token, setPolicy, policyVars(admin.OrgID, false, nil, nil)).OK(t)
			if got := tokenLifetime(t, signIn(t, env, admin.Email, "password-"+admin.Email)); got != full {
				t.Errorf("lives %s, want %s", got, full)
			}
		})
	})
}

func TestSecurityPolicyRequireSSO(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		op := oidctest.Start(t)
		env := apitest.New(t, d, apitest.WithOIDC(op.Issuer, op.ClientID(), strings.Split(config.DefaultOrgClaims, ",")),
			apitest.WithTrustedProxies("127.0.0.1/32"))
		plain := env.Register("admin@plain.test", "Plain")
		t.Run("an organization without SSO cannot require it", func(t *testing.T) {
			wantField(t, env.Do(plain.Token, setPolicy, policyVars(plain.OrgID, true, nil, nil)), "requireSso")
		})

		// An organization whose users sign in by SSO, with a password
		// administrator from before it was linked to the provider, a
		// pending invitation and a second password user.
		admin := env.Register("boss@linked.test", "Linked")
		pw := env.Invite(admin, "pw@linked.test", "MEMBER")
		env.Do(admin.Token, `mutation { inviteUser(input: {email: "late@linked.test", role: MEMBER}) { id } }`, nil).OK(t)
		invitation := env.MailedToken("late@linked.test")
		env.Exec("UPDATE organizations SET external_issuer = ?, external_id = ? WHERE id = ?", op.Issuer, "zorg-linked", rawID(t, admin.OrgID))
		sso := oidctest.User{Subject: "sso-1", Email: "sso-1@linked.test", Name: "SSO One", OrgID: "zorg-linked", OrgName: "Linked"}
		env.Do("", ssoLogin, map[string]any{"t": op.Token(t, sso)}).OK(t)

		r := env.Do(admin.Token, setPolicy, policyVars(admin.OrgID, true, nil, nil)).OK(t)
		if !r.Get("data.updateSecurityPolicy.securityPolicy.requireSso").Bool() {
			t.Fatalf("requireSso: %s", r.Body)
		}
		t.Run("password login is FORBIDDEN, after the password is checked", func(t *testing.T) {
			r := env.Do("", pwLogin, map[string]any{"in": map[string]any{"email": pw.Email, "password": "password-" + pw.Email}}).Want(t, "FORBIDDEN")
			if !strings.Contains(r.Message(), "single sign-on") {
				t.Errorf("message: %s", r.Message())
			}
			env.Do("", pwLogin, map[string]any{"in": map[string]any{"email": pw.Email, "password": "wrong password!"}}).Want(t, "UNAUTHENTICATED")
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.login_failed' AND actor_email = ?", pw.Email); n < 1 {
				t.Error("refused sign-in not audited")
			}
		})
		t.Run("invitation acceptance with a password is FORBIDDEN", func(t *testing.T) {
			users := env.Count("SELECT COUNT(*) FROM users")
			r := env.Do("", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token } }`,
				map[string]any{"in": map[string]any{"token": invitation, "name": "Late", "password": "long-enough-pw"}}).Want(t, "FORBIDDEN")
			if !strings.Contains(r.Message(), "single sign-on") || env.Count("SELECT COUNT(*) FROM users") != users {
				t.Errorf("accept: %s", r.Body)
			}
		})
		t.Run("password registration is FORBIDDEN", func(t *testing.T) {
			env.Do("", `mutation($in: RegisterInput!) { register(input: $in) { token } }`,
				map[string]any{"in": map[string]any{"email": "walkin@linked.test", "password": "long-enough-pw", "name": "W", "organization": "Linked"}}).Want(t, "FORBIDDEN")
		})
		t.Run("SSO still works (its session capped by sessionTtlMinutes)", func(t *testing.T) {
			env.Do(admin.Token, setPolicy, policyVars(admin.OrgID, true, nil, 15)).OK(t)
			r := env.Do("", ssoLogin, map[string]any{"t": op.Token(t, sso)}).OK(t)
			if r.Get("data.ssoLogin.user.organization.id").String() != admin.OrgID {
				t.Errorf("ssoLogin: %s", r.Body)
			}
			if got := tokenLifetime(t, r.Get("data.ssoLogin.token").String()); got != 15*time.Minute {
				t.Errorf("ssoLogin token lives %s", got)
			}
			env.Do(op.Token(t, oidctest.User{Subject: "sso-2", OrgID: "zorg-linked"}), meQuery, nil).OK(t)
		})
		t.Run("allowedIpRanges hold for the provider's access tokens and SSO sessions too", func(t *testing.T) {
			env.DoFrom("192.0.2.1", admin.Token, setPolicy, policyVars(admin.OrgID, true, []string{"192.0.2.0/24"}, nil)).OK(t)
			defer func() { env.DoFrom("192.0.2.1", admin.Token, setPolicy, policyVars(admin.OrgID, true, nil, nil)).OK(t) }()
			access := op.Token(t, sso)
			env.DoFrom("192.0.2.1", access, meQuery, nil).OK(t)
			env.DoFrom("198.51.100.1", access, meQuery, nil).Want(t, "FORBIDDEN")
			session := env.DoFrom("192.0.2.1", "", ssoLogin, map[string]any{"t": access}).OK(t).Get("data.ssoLogin.token").String()
			env.DoFrom("192.0.2.1", session, meQuery, nil).OK(t)
			env.DoFrom("198.51.100.1", session, meQuery, nil).Want(t, "FORBIDDEN")
		})
		t.Run("platform administrators are exempt", func(t *testing.T) {
			env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", pw.Email)
			defer env.Exec("UPDATE users SET platform_admin = FALSE WHERE email = ?", pw.Email)
			env.Do("", pwLogin, map[string]any{"in": map[string]any{"email": pw.Email, "password": "password-" + pw.Email}}).OK(t)
		})
		t.Run("turned off, passwords work again", func(t *testing.T) {
			env.Do(admin.Token, setPolicy, policyVars(admin.OrgID, false, nil, nil)).OK(t)
			env.Do("", pwLogin, map[string]any{"in": map[string]any{"email": pw.Email, "password": "password-" + pw.Email}}).OK(t)
		})
	})
}

func TestBranding(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@brand.test", "Brand Co")
		member := env.Invite(admin, "member@brand.test", "MEMBER")
		other := env.Register("admin@nobrand.test", "No Brand")
		var slug string
		env.DB.Raw("SELECT slug FROM organizations WHERE id = ?", rawID(t, admin.OrgID)).Scan(&slug)

		t.Run("hostile URLs and colours are BAD_USER_INPUT naming the field", func(t *testing.T) {
			for _, u := range []string{
				"javascript:alert(1)", "JavaScript:alert(1)", "http://cdn.brand.test/logo.png", "https://user:pw@cdn.brand.test/logo.png",
				"https://user@cdn.brand.test/logo.png", "https://cdn.brand.test/lo\ngo.png", "https://cdn.brand.test/lo\x00go.png",
				"https:///logo.png", "https:cdn.brand.test/logo.png", "data:image/png;base64,AAAA", "//cdn.brand.test/logo.png",
				"https://cdn.brand.test/" + strings.Repeat("a", 2048), "https://cdn.brand.test/a b.png", "https://cdn.brand.test\\@evil.test/",
				"https://cdn.brand.test/\u202egnp.exe", "ftp://cdn.brand.test/logo.png", "logo.png", " https://cdn.brand.test/logo.png",
				"https://cdn.brand.test/\u200blogo.png", "vbscript:msgbox(1)", "https://[::1/logo.png",
			} {
				r := env.Do(admin.Token, setBranding, map[string]any{"id": admin.OrgID, "in": map[string]any{"logoUrl": u}})
				if r.Code() != "BAD_USER_INPUT" || r.Get("errors.0.extensions.field").String() != "logoUrl" {
					t.Errorf("logoUrl %q: %s", u, r.Body)
				}
			}
			for _, c := range []string{"red", "#fff", "#GGGGGG", "#12345678", "123456", "#12345 ", "#12 456", "#１２３４５６", "rgb(1,2,3)"} {
				r := env.Do(admin.Token, setBranding, map[string]any{"id": admin.OrgID, "in": map[string]any{"primaryColor": c}})
				if r.Code() != "BAD_USER_INPUT" || r.Get("errors.0.extensions.field").String() != "primaryColor" {
					t.Errorf("primaryColor %q: %s", c, r.Body)
				}
			}
			for _, n := range []string{strings.Repeat("x", 101), "a\u0000b", "\u202eevil"} {
				r := env.Do(admin.Token, setBranding, map[string]any{"id": admin.OrgID, "in": map[string]any{"displayName": n}})
				if r.Code() != "BAD_USER_INPUT" || r.Get("errors.0.extensions.field").String() != "displayName" {
					t.Errorf("displayName %q: %s", n, r.Body)
				}
			}
			if n := env.Count("SELECT COUNT(*) FROM organization_policies"); n != 0 {
				t.Errorf("%d rows written", n)
			}
		})
		t.Run("happy path: saved cleaned, audited, answered publicly", func(t *testing.T) {
			r := env.Do(admin.Token, setBranding, map[string]any{"id": admin.OrgID, "in": map[string]any{
				"displayName": "  Brand   Co ", "logoUrl": "https://cdn.brand.test/logo.png?v=2", "primaryColor": "#a1b2c3"}}).OK(t)
			b := r.Get("data.updateOrganizationBranding.branding").Raw
			if b != `{"displayName":"Brand Co","logoUrl":"https://cdn.brand.test/logo.png?v=2","primaryColor":"#A1B2C3"}` {
				t.Errorf("branding %s", b)
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'organization.branding_updated'"); n != 1 {
				t.Errorf("%d branding events", n)
			}
			p := env.Do("", publicBranding, map[string]any{"s": slug}).OK(t)
			if p.Get("data.organizationBranding").Raw != b {
				t.Errorf("public %s", p.Body)
			}
			env.Do(member.Token, `query($id: ID!) { organization(id: $id) { branding { displayName } } }`, map[string]any{"id": admin.OrgID}).OK(t)
		})
		t.Run("null keeps a field, an empty string clears it", func(t *testing.T) {
			r := env.Do(admin.Token, setBranding, map[string]any{"id": admin.OrgID, "in": map[string]any{"logoUrl": ""}}).OK(t)
			if r.Get("data.updateOrganizationBranding.branding").Raw != `{"displayName":"Brand Co","logoUrl":null,"primaryColor":"#A1B2C3"}` {
				t.Errorf("branding %s", r.Body)
			}
		})
		t.Run("a member cannot change it; another organization's ID is NOT_FOUND", func(t *testing.T) {
			env.Do(member.Token, setBranding, map[string]any{"id": admin.OrgID, "in": map[string]any{"displayName": "x"}}).Want(t, "FORBIDDEN")
			env.Do(other.Token, setBranding, map[string]any{"id": admin.OrgID, "in": map[string]any{"displayName": "x"}}).Want(t, "NOT_FOUND")
		})
		t.Run("organizationBranding is null for unknown, suspended and reserved organizations, same shape", func(t *testing.T) {
			var otherSlug, defaultSlug string
			env.DB.Raw("SELECT slug FROM organizations WHERE id = ?", rawID(t, other.OrgID)).Scan(&otherSlug)
			env.DB.Raw("SELECT slug FROM organizations WHERE kind <> 'TENANT' LIMIT 1").Scan(&defaultSlug)
			unbranded := env.Do("", publicBranding, map[string]any{"s": otherSlug}).OK(t)
			if unbranded.Get("data.organizationBranding").Raw != `{"displayName":null,"logoUrl":null,"primaryColor":null}` {
				t.Errorf("unbranded %s", unbranded.Body)
			}
			env.Exec("UPDATE organizations SET status = 'SUSPENDED' WHERE id = ?", rawID(t, admin.OrgID))
			defer env.Exec("UPDATE organizations SET status = 'ACTIVE' WHERE id = ?", rawID(t, admin.OrgID))
			var bodies []string
			for _, s := range []string{"no-such-org", slug, defaultSlug, strings.Repeat("z", 5000), ""} {
				r := env.Do("", publicBranding, map[string]any{"s": s}).OK(t)
				bodies = append(bodies, string(r.Body))
			}
			for i, b := range bodies {
				if b != `{"data":{"organizationBranding":null}}` && !strings.HasPrefix(b, `{"data":{"organizationBranding":null},"extensions"`) {
					t.Errorf("slug %d: %s", i, b)
				}
			}
		})
	})
}

func TestOrganizationBrandingIsRateLimited(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d, apitest.WithTrustedProxies("127.0.0.1/32"),
			apitest.WithRateLimits(ratelimit.Config{Anonymous: ratelimit.Rate{Limit: 3, Period: time.Minute}}))
		for i := range 3 {
			if r := env.DoFrom("192.0.2.50", "", publicBranding, map[string]any{"s": apitest.Sprintf("guess-%d", i)}); r.Code() != "" {
				t.Fatalf("call %d: %s", i, r.Body)
			}
		}
		r := env.DoFrom("192.0.2.50", "", publicBranding, map[string]any{"s": "guess-4"}).Want(t, "RATE_LIMITED")
		if r.Status != 429 {
			t.Errorf("status %d", r.Status)
		}
		env.DoFrom("192.0.2.51", "", publicBranding, map[string]any{"s": "guess-5"}).OK(t)
	})
}
