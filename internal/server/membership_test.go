package server_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

const registerQ = `mutation($in: RegisterInput!) { register(input: $in) { token user { id role status emailVerified organization { id name } } } }`

func registerInput(email, org string) map[string]any {
	in := map[string]any{"email": email, "password": "correct horse battery", "name": "N"}
	if org != "" {
		in["organization"] = org
	}
	return map[string]any{"in": in}
}

// TestDefaultOrganizationTakeover: on a fresh deployment the first caller
// registered "Default Organization" by name and became its ADMIN, so
// everyone who registered without an organization landed in the attacker's.
// Now the default organization exists from the migrations, reserved.
func TestDefaultOrganizationTakeover(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		for _, name := range []string{apitest.DefaultOrg, "default organization", "  Default Organization  "} {
			r := env.Do("", registerQ, registerInput("mallory"+itoa(len(name))+"@evil.test", name))
			r.Want(t, "FORBIDDEN")
		}
		if n := env.Count("SELECT COUNT(*) FROM users WHERE email LIKE 'mallory%'"); n != 0 {
			t.Fatalf("%d takeover registrations were written", n)
		}
		if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.registration_denied'"); n != 3 {
			t.Errorf("registration_denied events: %d, want 3", n)
		}
		r := env.Do("", registerQ, registerInput("alice@example.com", "")).OK(t)
		if r.Get("data.register.user.role").String() != "MEMBER" || r.Get("data.register.user.organization.name").String() != apitest.DefaultOrg {
			t.Fatalf("registration without an organization: %s", r.Body)
		}
		if n := env.Count("SELECT COUNT(*) FROM organizations WHERE kind = 'DEFAULT' AND domain IS NULL"); n != 1 {
			t.Errorf("default organizations without a domain: %d, want 1", n)
		}
	})
}

// TestJoinByTypingAnEmail: register(email: "eve@acme.example",
// organization: "Acme") made Eve a MEMBER of Acme with no proof of anything
// (plus-addressing, upper case and a padded or differently cased name
// worked too). Now an existing organization admits by invitation (or a
// DNS-verified AUTO_JOIN domain), and every refusal is the same FORBIDDEN,
// audited, with nothing written.
func TestJoinByTypingAnEmail(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("ceo@acme.example", "Acme")
		for _, tc := range []struct{ email, org string }{
			{"eve@acme.example", "Acme"},
			{"ceo+eve@acme.example", "Acme"},
			{"EVE@ACME.EXAMPLE", "acme"},
			{"eve2@acme.example", "  ACME "},
		} {
			r := env.Do("", registerQ, registerInput(tc.email, tc.org)).Want(t, "FORBIDDEN")
			if !strings.Contains(r.Message(), "admits members by invitation") {
				t.Errorf("%s into %q: %q", tc.email, tc.org, r.Message())
			}
		}
		if n := env.Count("SELECT user_count FROM organizations WHERE name = 'Acme'"); n != 1 {
			t.Errorf("Acme has %d users, want only its founder", n)
		}
		r := env.Do(admin.Token, `query($id: ID!) { organization(id: $id) { auditEvents(filter: {actions: ["user.registration_denied"]}) { nodes { actorEmail outcome } } } }`,
			map[string]any{"id": admin.OrgID}).OK(t)
		if n := len(r.Get("data.organization.auditEvents.nodes").Array()); n != 4 {
			t.Errorf("Acme's trail has %d registration denials, want 4: %s", n, r.Body)
		}
	})
}

// TestPublicMailDomainFounderAdmitsNobody: an organization founded by a
// gmail.com address took gmail.com as its domain and admitted every other
// gmail user. Now a founder's domain gives nothing by itself.
func TestPublicMailDomainFounderAdmitsNobody(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		env.Register("founder@gmail.com", "Gmail Fans")
		env.Do("", registerQ, registerInput("stranger@gmail.com", "Gmail Fans")).Want(t, "FORBIDDEN")
		if n := env.Count("SELECT COUNT(*) FROM organizations WHERE domain = 'gmail.com'"); n != 0 {
			t.Errorf("gmail.com became the primary domain of %d organizations", n)
		}
	})
}

// TestInvitations: an admin invites an address, the invitee accepts with
// the mailed token and is a verified member with the invited role; the
// token works once (two concurrent accepts: one wins, one CONFLICT);
// revoked and expired invitations are refused; an address that has an
// account is a CONFLICT; a member may not invite.
func TestInvitations(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@initrode.test", "Initrode")

		bob := env.Invite(admin, "bob@elsewhere.test", "ADMIN")
		if bob.OrgID != admin.OrgID {
			t.Fatalf("bob joined %s, want %s", bob.OrgID, admin.OrgID)
		}
		me := env.Do(bob.Token, `{ me { role status emailVerified } }`, nil).OK(t)
		if me.Get("data.me.role").String() != "ADMIN" || !me.Get("data.me.emailVerified").Bool() || me.Get("data.me.status").String() != "ACTIVE" {
			t.Errorf("bob after accepting: %s", me.Body)
		}
		member := env.Invite(admin, "carol@elsewhere.test", "MEMBER")
		env.Do(member.Token, inviteQ, inviteVars("dave@x.test")).Want(t, "FORBIDDEN")

		t.Run("reuse of an accepted token", func(t *testing.T) {
			acceptAs(env, env.MailedToken("bob@elsewhere.test"), "again").Want(t, "CONFLICT")
		})
		t.Run("two concurrent accepts: one wins", func(t *testing.T) {
			env.Do(admin.Token, inviteQ, inviteVars("erin@x.test")).OK(t)
			tok := env.MailedToken("erin@x.test")
			var wg sync.WaitGroup
			codes := make([]string, 4)
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = acceptAs(env, tok, "erin").Code()
				}()
			}
			wg.Wait()
			won := 0
			for _, c := range codes {
				switch c {
				case "":
					won++
				case "CONFLICT":
				default:
					t.Errorf("concurrent accept answered %q", c)
				}
			}
			if won != 1 || env.Count("SELECT COUNT(*) FROM users WHERE email = 'erin@x.test'") != 1 {
				t.Errorf("%d accepts won (%v), want exactly one account", won, codes)
			}
		})
		t.Run("revoked", func(t *testing.T) {
			r := env.Do(admin.Token, inviteQ, inviteVars("frank@x.test")).OK(t)
			env.Do(admin.Token, `mutation($id: ID!) { revokeInvitation(id: $id) { status } }`,
				map[string]any{"id": r.Get("data.inviteUser.id").String()}).OK(t)
			acceptAs(env, env.MailedToken("frank@x.test"), "frank").Want(t, "BAD_USER_INPUT")
		})
		t.Run("expired", func(t *testing.T) {
			env.Do(admin.Token, inviteQ, inviteVars("grace@x.test")).OK(t)
			env.Exec("UPDATE invitations SET expires_at = created_at WHERE email = 'grace@x.test'")
			acceptAs(env, env.MailedToken("grace@x.test"), "grace").Want(t, "BAD_USER_INPUT")
			r := env.Do(admin.Token, `query($id: ID!) { organization(id: $id) { invitations(status: EXPIRED) { totalCount nodes { email status invitedBy { email } } } } }`,
				map[string]any{"id": admin.OrgID}).OK(t)
			if r.Get("data.organization.invitations.totalCount").Int() != 1 || r.Get("data.organization.invitations.nodes.0.invitedBy.email").String() != "admin@initrode.test" {
				t.Errorf("expired invitations: %s", r.Body)
			}
		})
		t.Run("an address with an account", func(t *testing.T) {
			env.Register("heidi@x.test", "Heidi Co")
			env.Do(admin.Token, inviteQ, inviteVars("heidi@x.test")).OK(t)
			acceptAs(env, env.MailedToken("heidi@x.test"), "heidi").Want(t, "CONFLICT")
		})
		t.Run("a forged token", func(t *testing.T) {
			tok := env.MailedToken("heidi@x.test")
			acceptAs(env, tok[:len(tok)-2]+"xx", "heidi").Want(t, "BAD_USER_INPUT")
			acceptAs(env, "garbage", "heidi").Want(t, "BAD_USER_INPUT")
		})
		t.Run("a pending invitation for the same address", func(t *testing.T) {
			env.Do(admin.Token, inviteQ, inviteVars("ivan@x.test")).OK(t)
			env.Do(admin.Token, inviteQ, inviteVars("IVAN@x.test")).Want(t, "CONFLICT")
		})
	})
}

const inviteQ = `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id email role status } }`

func inviteVars(email string) map[string]any {
	return map[string]any{"in": map[string]any{"email": email}}
}

func acceptAs(env *apitest.Env, token, name string) *apitest.Response {
	return env.Do("", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token } }`,
		map[string]any{"in": map[string]any{"token": token, "name": name, "password": "correct horse battery"}})
}

// TestVerifyEmail: a registrant's address is unverified until the mailed
// link is used; the token works once.
func TestVerifyEmail(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		acc := env.Register("judy@hooli.test", "Hooli")
		if env.Do(acc.Token, `{ me { emailVerified } }`, nil).OK(t).Get("data.me.emailVerified").Bool() {
			t.Fatal("verified before the link was used")
		}
		tok := env.MailedToken("judy@hooli.test")
		const verify = `mutation($t: String!) { verifyEmail(token: $t) { user { emailVerified } } }`
		r := env.Do("", verify, map[string]any{"t": tok}).OK(t)
		if !r.Get("data.verifyEmail.user.emailVerified").Bool() {
			t.Errorf("after verifyEmail: %s", r.Body)
		}
		env.Do("", verify, map[string]any{"t": tok}).Want(t, "BAD_USER_INPUT")
		if got := env.Do(acc.Token, `mutation { resendVerificationEmail }`, nil).OK(t).Get("data.resendVerificationEmail").Bool(); got {
			t.Error("resend for a verified address answered true")
		}
		other := env.Register("kim@hooli2.test", "Hooli Two")
		env.Do(other.Token, `mutation { resendVerificationEmail }`, nil).Want(t, "RATE_LIMITED")
		if n := env.Count("SELECT COUNT(*) FROM email_verifications WHERE token_hash LIKE '%.%'"); n != 0 {
			t.Error("a token is stored in clear")
		}
	})
}

func itoa(n int) string { return strings.Repeat("x", n%7) }

// TestLookAlikes: organization names with a Greek Α, a Cyrillic е, a
// zero-width space or a right-to-left override created organizations that
// displayed like existing ones ("Default Organization" with a double or
// no-break space made its registrant ADMIN of a second "default"), and
// "élise@" in NFC and NFD made two accounts that looked the same.
func TestLookAlikes(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		env.Register("founder@acme.example", "Acme")
		for _, tc := range []struct{ name, org, code string }{
			{"Greek capital alpha", "\u0391cme", "CONFLICT"},
			{"Cyrillic small ie", "Acm\u0435", "CONFLICT"},
			{"all-Cyrillic capitals", "\u0410\u0421\u041c\u0415", "CONFLICT"},
			{"full-width letters", "\uff21\uff43\uff4d\uff45", "FORBIDDEN"}, // PRECIS maps it to "Acme" itself
			{"zero-width space", "Ac\u200bme", "BAD_USER_INPUT"},
			{"right-to-left override", "\u202eemcA", "BAD_USER_INPUT"},
			{"default organization, double space", "Default  Organization", "FORBIDDEN"},
			{"default organization, no-break space", "Default\u00a0Organization", "FORBIDDEN"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				env.Do("", registerQ, registerInput("x"+itoa(len(tc.org))+tc.code+"@lookalike.test", tc.org)).Want(t, tc.code)
			})
		}
		if n := env.Count("SELECT COUNT(*) FROM organizations"); n != 2 {
			t.Errorf("%d organizations, want Acme and the default one", n)
		}
		nfc, nfd := "\u00e9lise@example.com", "e\u0301lise@example.com"
		env.Do("", registerQ, registerInput(nfc, "")).OK(t)
		env.Do("", registerQ, registerInput(nfd, "")).Want(t, "CONFLICT")
		env.Do("", registerQ, registerInput("\u00c9LISE@EXAMPLE.COM", "")).Want(t, "CONFLICT")
	})
}
