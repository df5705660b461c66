package db_test

import (
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/oidctest"
	"github.com/neosc/neosc/internal/testdb"
)

// TestCanonicalIssuerMigration: before migration 00008 identities were
// keyed by NEOSC_OIDC_ISSUER as configured, so a trailing slash added or
// removed provisioned users and organizations again. 00008 keys every row
// by the issuer without trailing slashes; where both spellings hold one
// identity, the row already without slash (else the oldest) keeps it and
// the duplicates keep their old spelling, which no token reaches any more,
// noted in their organization's trail. Afterwards the service, configured
// with either spelling, finds the identities that hold the key.
func TestCanonicalIssuerMigration(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			op := oidctest.Start(t)
			d := upTo(t, e, 7)
			iss := op.Issuer // the canonical spelling
			s := &seeder{t: t, d: d, at: time.Now().UTC().Add(-time.Hour)}

			// Only ever configured with a slash: simply canonical afterwards.
			orgA := s.org(iss+"/", "ext-a")
			userA := s.user(orgA, iss+"/", "s-a", "a@a.test")
			// Configured without slash, then with: the first ones hold the key.
			orgB := s.org(iss, "ext-b")
			userB := s.user(orgB, iss, "s-b", "b@b.test")
			orgB2 := s.org(iss+"/", "ext-b")
			userB2 := s.user(orgB2, iss+"/", "s-b", "b@b.test")
			newcomer := s.user(orgB2, iss+"/", "s-new", "new@b.test") // joined after the change
			// With, then without: the row without slash holds the key all the same.
			orgC1 := s.org(iss+"/", "ext-c")
			orgC2 := s.org(iss, "ext-c")
			userC := s.user(orgC2, iss, "s-c", "c@c.test")
			// Two slashed spellings and none without: the oldest.
			orgD1 := s.org(iss+"//", "ext-d")
			orgD2 := s.org(iss+"/", "ext-d")
			// A user whose subject or email another user already holds.
			subTaken := s.user(orgA, iss+"/", "s-c", "other@a.test")
			emailTaken := s.user(orgA, iss+"/", "s-f", "c@c.test")
			// Password accounts and other organizations are untouched.
			plain := s.org("", "")
			password := s.user(plain, "", "", "p@p.test")

			migrateRest(t, d, "Default Organization")

			for id, want := range map[string]string{orgA: iss, orgB: iss, orgB2: iss + "/", orgC1: iss + "/", orgC2: iss,
				orgD1: iss, orgD2: iss + "/", plain: ""} {
				if got := s.scalar("SELECT COALESCE(external_issuer, '') FROM organizations WHERE id = ?", id); got != want {
					t.Errorf("organization %s: external_issuer %q, want %q", id, got, want)
				}
			}
			for id, want := range map[string]string{userA: iss, userB: iss, userB2: iss + "/", newcomer: iss + "/", userC: iss,
				subTaken: iss + "/", emailTaken: iss + "/", password: ""} {
				issuer, scope := s.scalar("SELECT COALESCE(sso_issuer, '') FROM users WHERE id = ?", id), s.scalar("SELECT email_scope FROM users WHERE id = ?", id)
				if issuer != want || scope != want {
					t.Errorf("user %s: sso_issuer %q, email_scope %q, want %q", id, issuer, scope, want)
				}
			}
			notes := map[string]string{}
			rows, err := d.Raw("SELECT organization_id, metadata FROM audit_events WHERE actor_email = 'migration:00008'").Rows()
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var org, meta string
				_ = rows.Scan(&org, &meta)
				notes[org] = meta
			}
			_ = rows.Close()
			for org, want := range map[string][]string{
				orgB2: {`"duplicateOf":"` + orgB + `"`, userB2, newcomer},
				orgC1: {`"duplicateOf":"` + orgC2 + `"`},
				orgD2: {`"duplicateOf":"` + orgD1 + `"`},
				orgA:  {subTaken, emailTaken},
			} {
				for _, w := range want {
					if !strings.Contains(notes[org], w) {
						t.Errorf("the note in %s's trail lacks %s: %s", org, w, notes[org])
					}
				}
			}
			if len(notes) != 4 {
				t.Errorf("%d organizations noted, want 4: %v", len(notes), notes)
			}

			// The service, configured with either spelling, finds the
			// identities that hold the key.
			for _, configured := range []string{iss + "/", iss} {
				env := apitest.New(t, d, apitest.WithOIDC(configured, op.ClientID(), []string{"org"}))
				for _, c := range []struct{ sub, org, user string }{
					{"s-a", "ext-a", userA}, {"s-b", "ext-b", userB},
				} {
					tok := op.Token(t, oidctest.User{Subject: c.sub, Extra: map[string]any{"org": c.org}})
					r := env.Do(tok, `{ me { id } }`, nil).OK(t)
					if got := r.Get("data.me.id").String(); got != ids.Encode(ids.User, c.user) {
						t.Errorf("NEOSC_OIDC_ISSUER=%s, sub %s: user %s, want %s", configured, c.sub, got, ids.Encode(ids.User, c.user))
					}
				}
				// The newcomer provisioned in the duplicate organization
				// now lands in the one that holds the key.
				tok := op.Token(t, oidctest.User{Subject: "s-new", Extra: map[string]any{"org": "ext-b"}})
				r := env.Do(tok, `{ me { organization { id } } }`, nil).OK(t)
				if got := r.Get("data.me.organization.id").String(); got != ids.Encode(ids.Organization, orgB) {
					t.Errorf("NEOSC_OIDC_ISSUER=%s: the newcomer is in %s, want %s", configured, got, orgB)
				}
			}
		})
	}
}

// seeder inserts rows as versions before 00008 wrote them, one second
// apart so that the oldest is known.
type seeder struct {
	t  *testing.T
	d  *db.DB
	at time.Time
}

func (s *seeder) next() time.Time {
	s.at = s.at.Add(time.Second)
	return s.at.Truncate(time.Microsecond)
}

// org inserts an organization provisioned from (issuer, externalID), or a
// plain one when issuer is "".
func (s *seeder) org(issuer, externalID string) string {
	s.t.Helper()
	id, now := ids.New(), s.next()
	iss, ext := ssoKey(issuer, externalID)
	if err := s.d.Exec(`INSERT INTO organizations (id, name, name_key, slug, status, external_issuer, external_id, user_count, workspace_count, kind, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?, 0, 0, 'TENANT', ?, ?)`, id, "Org "+id, "org "+id, id, iss, ext, now, now).Error; err != nil {
		s.t.Fatal(err)
	}
	return id
}

// user inserts a member of org signed up through (issuer, subject), or a
// password account when issuer is "".
func (s *seeder) user(org, issuer, subject, email string) string {
	s.t.Helper()
	id, now := ids.New(), s.next()
	iss, sub := ssoKey(issuer, subject)
	if err := s.d.Exec(`INSERT INTO users (id, organization_id, email, email_scope, name, role, platform_admin, status, sso_issuer, sso_subject, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'U', 'MEMBER', FALSE, 'ACTIVE', ?, ?, ?, ?)`, id, org, email, issuer, iss, sub, now, now).Error; err != nil {
		s.t.Fatal(err)
	}
	if err := s.d.Exec("UPDATE organizations SET user_count = user_count + 1 WHERE id = ?", org).Error; err != nil {
		s.t.Fatal(err)
	}
	return id
}

// ssoKey is the (issuer, key) column pair: both NULL when issuer is "".
func ssoKey(issuer, key string) (any, any) {
	if issuer == "" {
		return nil, nil
	}
	return issuer, key
}

func (s *seeder) scalar(query string, args ...any) string {
	s.t.Helper()
	var v string
	if err := s.d.Raw(query, args...).Row().Scan(&v); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return v
}
