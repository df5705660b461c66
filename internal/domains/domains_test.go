package domains_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/domains"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// setup is a service over d (no DNS, no authorizer: these tests call what
// needs neither) and two organizations.
func setup(t *testing.T, d *db.DB) (context.Context, *store.Store, *domains.Service, *store.Organization, *store.Organization) {
	t.Helper()
	st := store.New(d.DB)
	return context.Background(), st, &domains.Service{Store: st},
		gen.Organization(t, d, store.Organization{}), gen.Organization(t, d, store.Organization{})
}

// TestAutoJoinOrganization: registration's question, "which organization
// does an email at this domain join by itself", has one answer: the one
// that verified exactly that domain and set it to AUTO_JOIN.
func TestAutoJoinOrganization(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx, st, s, acme, globex := setup(t, d)
		now := time.Now()
		gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: acme.ID, Domain: "acme.example.com",
			VerifiedAt: &now, Enrollment: store.EnrollmentAutoJoin})
		gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: acme.ID, Domain: "invite.example.com", VerifiedAt: &now})
		gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: globex.ID, Domain: "unverified.example.com",
			Enrollment: store.EnrollmentAutoJoin}) // not reachable through the API, and still joins nobody
		gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: globex.ID, Domain: "acme.example.com"})

		for _, tc := range []struct {
			domain string
			want   string // "" = none
		}{
			{"acme.example.com", acme.ID},
			{"ACME.Example.com", acme.ID},
			{"invite.example.com", ""},
			{"unverified.example.com", ""},
			{"eng.acme.example.com", ""},
			{"example.com", ""},
			{"not a domain", ""},
		} {
			var got string
			var ok bool
			err := st.Tx(ctx, func(tx *store.Store) error {
				var err error
				got, ok, err = s.AutoJoinOrganization(ctx, tx, tc.domain)
				return err
			})
			if err != nil || ok != (tc.want != "") || got != tc.want {
				t.Errorf("AutoJoinOrganization(%q) = %q, %v, %v; want %q", tc.domain, got, ok, err, tc.want)
			}
		}
	})
}

// TestAddUnverified: the path registration takes to give a new
// organization its registrant's email domain, in its own transaction.
func TestAddUnverified(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx, st, s, acme, globex := setup(t, d)
		now := time.Now()
		gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: globex.ID, Domain: "globex.example.com", VerifiedAt: &now})
		actor := audit.Actor{Email: "registrant@acme.example.com"}
		add := func(domain string) (*store.OrganizationDomain, error) {
			var out *store.OrganizationDomain
			err := st.Tx(ctx, func(tx *store.Store) error {
				var err error
				out, err = s.AddUnverified(ctx, tx, acme.ID, domain, actor)
				return err
			})
			return out, err
		}

		got, err := add("Acme.Example.com")
		if err != nil || got.Domain != "acme.example.com" || got.Verified() || got.Enrollment != store.EnrollmentInvitationOnly ||
			len(got.VerificationToken) < 20 || domains.Challenge(got).Name != "_neosc-challenge.acme.example.com" {
			t.Fatalf("add: %+v, %v", got, err)
		}
		events, _, _ := st.AuditEvents.ListByOrganization(ctx, acme.ID, store.AuditFilter{Actions: []string{audit.DomainAdded}}, store.Page{First: 10})
		if len(events) != 1 || *events[0].ActorEmail != actor.Email || *events[0].TargetType != "OrganizationDomain" {
			t.Errorf("domain.added events: %+v", events)
		}
		for domain, code := range map[string]apperr.Code{
			"acme.example.com":   apperr.Conflict,     // already added
			"globex.example.com": apperr.Conflict,     // verified by another organization
			"gmail.com":          apperr.BadUserInput, // public mail
		} {
			if _, err := add(domain); apperr.CodeOf(err) != code {
				t.Errorf("add %s: %v, want %s", domain, err, code)
			}
		}
		for i := range domains.MaxPerOrganization - 1 {
			if _, err := add("d" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ".example.com"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := add("one-too-many.example.com"); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("over the bound: %v", err)
		}
	})
}

// TestVerifiedDomainIsUnique: the database itself lets one organization
// at most hold a domain verified, whatever the service checked before.
func TestVerifiedDomainIsUnique(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := store.New(d.DB)
		now := time.Now().UTC().Truncate(time.Microsecond)
		gen.OrganizationDomain(t, d, store.OrganizationDomain{Domain: "taken.example.com", VerifiedAt: &now})
		second := gen.OrganizationDomain(t, d, store.OrganizationDomain{Domain: "taken.example.com"})
		third := gen.OrganizationDomain(t, d, store.OrganizationDomain{Domain: "taken.example.com"}) // unverified: no conflict
		second.VerifiedAt, second.VerifiedDomain, second.UpdatedAt = &now, &second.Domain, now
		if err := st.Domains.Update(ctx, second); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("second verification: %v, want ErrDuplicate", err)
		}
		if got, _ := st.Domains.Get(ctx, third.OrganizationID, third.Domain, false); got == nil || got.Verified() {
			t.Errorf("third: %+v", got)
		}
	})
}
