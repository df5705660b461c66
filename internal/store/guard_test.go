package store_test

import (
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// fixture is two organizations with one row of every kind each.
type fixture struct {
	a, b     store.Organization
	userA    store.User
	userB    store.User
	wsA, wsB store.Workspace
	tokB     store.APIToken
	grantB   store.WorkspaceGrant // B shares wsB with... a third organization
	third    store.Organization
	evB      store.AuditEvent
	domB     store.OrganizationDomain // verified by B
	now      time.Time
}

// newFixture generates the fixture in d, next to any other fixture there.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	f := &fixture{now: now}
	f.a = *gen.Organization(t, d, store.Organization{})
	f.b = *gen.Organization(t, d, store.Organization{})
	f.third = *gen.Organization(t, d, store.Organization{})
	f.userA = *gen.User(t, d, store.User{OrganizationID: f.a.ID})
	f.userB = *gen.User(t, d, store.User{OrganizationID: f.b.ID})
	f.wsA = *gen.Workspace(t, d, store.Workspace{OrganizationID: f.a.ID})
	f.wsB = *gen.Workspace(t, d, store.Workspace{OrganizationID: f.b.ID})
	f.tokB = *gen.APIToken(t, d, store.APIToken{OrganizationID: f.b.ID})
	// Live for an hour: Grants.LiveWorkspaceIDs checks it is expired 2h on.
	f.grantB = *gen.Grant(t, d, store.WorkspaceGrant{OrganizationID: f.b.ID, WorkspaceID: f.wsB.ID,
		GranteeOrganizationID: f.third.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	f.evB = *gen.AuditEvent(t, d, store.AuditEvent{OrganizationID: &f.b.ID})
	f.domB = *gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: f.b.ID, VerifiedAt: &now})
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNoScope(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNoScope) {
		t.Errorf("empty organization scope: want ErrNoScope, got %v", err)
	}
}

func wantNotFound(t *testing.T, err error) {
	t.Helper()
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("another organization's row: want not found, got %v", err)
	}
}

var page = store.Page{First: 100}

// scoped lists every tenant-scoped store method with its guard test: an
// empty scope is ErrNoScope, and organization A's scope never reaches
// organization B's rows.
var scoped = map[string]func(t *testing.T, s *store.Store, f *fixture){
	"Grants.Respond": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Grants.Respond(t.Context(), "", f.grantB.ID, store.GrantDeclined, f.now))
		wantNotFound(t, s.Grants.Respond(t.Context(), f.a.ID, f.grantB.ID, store.GrantDeclined, f.now))
	},
	"Grants.ListIncoming": func(t *testing.T, s *store.Store, f *fixture) {
		_, _, err := s.Grants.ListIncoming(t.Context(), "", page)
		wantNoScope(t, err)
		rows, _, _ := s.Grants.ListIncoming(t.Context(), f.a.ID, page)
		for _, g := range rows {
			if g.GranteeOrganizationID != f.a.ID {
				t.Errorf("A's incoming grants hold one offered to %s", g.GranteeOrganizationID)
			}
		}
	},
	"Grants.CountIncoming": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Grants.CountIncoming(t.Context(), "")
		wantNoScope(t, err)
		if n, _ := s.Grants.CountIncoming(t.Context(), f.a.ID); n != 0 {
			t.Errorf("A counts %d incoming grants, want none", n)
		}
	},
	"Organizations.SetPrimaryDomain": func(t *testing.T, s *store.Store, f *fixture) {
		d := "primary-" + f.b.ID[24:] + ".example"
		wantNoScope(t, s.Organizations.SetPrimaryDomain(t.Context(), "", &d, ""))
		must(t, s.Organizations.SetPrimaryDomain(t.Context(), f.a.ID, &d, ""))
		if o, _ := s.Organizations.GetByID(t.Context(), f.b.ID); o.Domain != nil {
			t.Error("A's scope set B's primary domain")
		}
	},
	"Organizations.Lock": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Organizations.Lock(t.Context(), "")
		wantNoScope(t, err)
	},
	"Users.ReleaseEmail": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Users.ReleaseEmail(t.Context(), "", f.userB.ID, "x@released.invalid", f.now))
		wantNotFound(t, s.Users.ReleaseEmail(t.Context(), f.a.ID, f.userB.ID, "x@released.invalid", f.now))
	},
	"Users.MemberByEmail": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Users.MemberByEmail(t.Context(), "", f.userB.Email)
		wantNoScope(t, err)
		if in, _ := s.Users.MemberByEmail(t.Context(), f.a.ID, f.userB.Email); in {
			t.Error("A's scope found B's member")
		}
	},
	"Users.MarkEmailVerified": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Users.MarkEmailVerified(t.Context(), "", f.userB.ID, f.now)
		wantNoScope(t, err)
		_, _ = s.Users.MarkEmailVerified(t.Context(), f.a.ID, f.userB.ID, f.now)
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.EmailVerifiedAt != nil {
			t.Error("A's scope verified B's user")
		}
	},
	"Invitations.Create": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Invitations.Create(t.Context(), &store.Invitation{ID: ids.New(), Email: "x@x.test"}))
	},
	"Invitations.ListByOrganization": func(t *testing.T, s *store.Store, f *fixture) {
		inv := invitationOf(t, s, f.b, f.now)
		_, _, err := s.Invitations.ListByOrganization(t.Context(), "", nil, f.now, page)
		wantNoScope(t, err)
		rows, _, _ := s.Invitations.ListByOrganization(t.Context(), f.a.ID, nil, f.now, page)
		for _, r := range rows {
			if r.ID == inv.ID {
				t.Error("A lists B's invitation")
			}
		}
	},
	"Invitations.Count": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Invitations.Count(t.Context(), "", nil, f.now)
		wantNoScope(t, err)
	},
	"Invitations.CountPending": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Invitations.CountPending(t.Context(), "", f.now)
		wantNoScope(t, err)
	},
	"Invitations.PendingFor": func(t *testing.T, s *store.Store, f *fixture) {
		inv := invitationOf(t, s, f.b, f.now)
		_, err := s.Invitations.PendingFor(t.Context(), "", inv.Email, f.now)
		wantNoScope(t, err)
		if p, _ := s.Invitations.PendingFor(t.Context(), f.a.ID, inv.Email, f.now); p {
			t.Error("A's scope found B's invitation")
		}
	},
	"Invitations.SetStatus": func(t *testing.T, s *store.Store, f *fixture) {
		inv := invitationOf(t, s, f.b, f.now)
		wantNoScope(t, s.Invitations.SetStatus(t.Context(), "", inv.ID, store.InvitationRevoked, nil, f.now))
		wantNotFound(t, s.Invitations.SetStatus(t.Context(), f.a.ID, inv.ID, store.InvitationRevoked, nil, f.now))
	},
	"Verifications.Create": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Verifications.Create(t.Context(), &store.EmailVerification{ID: ids.New(), UserID: f.userB.ID}))
	},
	"Verifications.MarkUsed": func(t *testing.T, s *store.Store, f *fixture) {
		v := &store.EmailVerification{ID: ids.New(), OrganizationID: f.b.ID, UserID: f.userB.ID, Email: f.userB.Email,
			TokenHash: "h", ExpiresAt: f.now.Add(time.Hour), CreatedAt: f.now}
		must(t, s.Verifications.Create(t.Context(), v))
		wantNoScope(t, s.Verifications.MarkUsed(t.Context(), "", v.ID, f.now))
		wantNotFound(t, s.Verifications.MarkUsed(t.Context(), f.a.ID, v.ID, f.now))
	},
	"Verifications.LatestFor": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Verifications.LatestFor(t.Context(), "", f.userB.ID)
		wantNoScope(t, err)
		if at, _ := s.Verifications.LatestFor(t.Context(), f.a.ID, f.userB.ID); !at.IsZero() {
			t.Error("A's scope found B's verification")
		}
	},
	"Organizations.AddUsers": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Organizations.AddUsers(t.Context(), "", 1))
	},
	"Organizations.AddWorkspaces": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Organizations.AddWorkspaces(t.Context(), "", 1))
	},
	"Users.Create": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Users.Create(t.Context(), &store.User{ID: ids.New(), Email: "x@x.test"}))
	},
	"Users.ListByOrganization": func(t *testing.T, s *store.Store, f *fixture) {
		_, _, err := s.Users.ListByOrganization(t.Context(), "", page)
		wantNoScope(t, err)
		rows, _, err := s.Users.ListByOrganization(t.Context(), f.a.ID, page)
		must(t, err)
		for _, u := range rows {
			if u.OrganizationID != f.a.ID {
				t.Errorf("A's listing holds %s of another organization", u.Email)
			}
		}
	},
	"Users.RecordLogin": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Users.RecordLogin(t.Context(), "", f.userB.ID, f.now))
		must(t, s.Users.RecordLogin(t.Context(), f.a.ID, f.userB.ID, f.now))
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.LastLoginAt != nil {
			t.Error("A's scope changed B's user")
		}
	},
	"Users.RecordSSOLogin": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Users.RecordSSOLogin(t.Context(), "", f.userB.ID, "x", f.now))
		must(t, s.Users.RecordSSOLogin(t.Context(), f.a.ID, f.userB.ID, "renamed", f.now))
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.Name == "renamed" {
			t.Error("A's scope changed B's user")
		}
	},
	"Users.SetPlatformAdmin": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Users.SetPlatformAdmin(t.Context(), "", f.userB.ID, nil))
		must(t, s.Users.SetPlatformAdmin(t.Context(), f.a.ID, f.userB.ID, nil))
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.PlatformAdmin {
			t.Error("A's scope promoted B's user")
		}
	},
	"Workspaces.ListByOrganization": func(t *testing.T, s *store.Store, f *fixture) {
		_, _, err := s.Workspaces.ListByOrganization(t.Context(), "", page)
		wantNoScope(t, err)
		rows, _, _ := s.Workspaces.ListByOrganization(t.Context(), f.a.ID, page)
		if len(rows) != 1 || rows[0].ID != f.wsA.ID { // A has exactly its own one
			t.Errorf("A lists %d workspaces", len(rows))
		}
	},
	"Workspaces.Create": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Workspaces.Create(t.Context(), &store.Workspace{ID: ids.New(), Name: "x"}))
	},
	"Workspaces.Update": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Workspaces.Update(t.Context(), &store.Workspace{ID: f.wsB.ID}))
		forged := f.wsB
		forged.OrganizationID, forged.Name = f.a.ID, "pwned"
		wantNotFound(t, s.Workspaces.Update(t.Context(), &forged))
		if w, _ := s.Workspaces.GetByID(t.Context(), f.wsB.ID); w.Name == "pwned" {
			t.Error("A's scope renamed B's workspace")
		}
	},
	"Workspaces.Delete": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Workspaces.Delete(t.Context(), "", f.wsB.ID))
		wantNotFound(t, s.Workspaces.Delete(t.Context(), f.a.ID, f.wsB.ID))
	},
	"AuditEvents.ListByOrganization": func(t *testing.T, s *store.Store, f *fixture) {
		_, _, err := s.AuditEvents.ListByOrganization(t.Context(), "", store.AuditFilter{}, page)
		wantNoScope(t, err)
		rows, _, _ := s.AuditEvents.ListByOrganization(t.Context(), f.a.ID, store.AuditFilter{}, page)
		if len(rows) != 0 {
			t.Errorf("A lists %d events of B", len(rows))
		}
	},
	"APITokens.Create": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.APITokens.Create(t.Context(), &store.APIToken{ID: ids.New()}))
	},
	"APITokens.ListByOrganization": func(t *testing.T, s *store.Store, f *fixture) {
		_, _, err := s.APITokens.ListByOrganization(t.Context(), "", page)
		wantNoScope(t, err)
		rows, _, _ := s.APITokens.ListByOrganization(t.Context(), f.a.ID, page)
		if len(rows) != 0 {
			t.Errorf("A lists B's tokens")
		}
	},
	"APITokens.CountByOrganization": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.APITokens.CountByOrganization(t.Context(), "")
		wantNoScope(t, err)
	},
	"APITokens.Revoke": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.APITokens.Revoke(t.Context(), "", f.tokB.ID, f.now)
		wantNoScope(t, err)
		changed, err := s.APITokens.Revoke(t.Context(), f.a.ID, f.tokB.ID, f.now)
		if err != nil || changed {
			t.Errorf("A's scope revoked B's token (%v)", err)
		}
	},
	"APITokens.Touch": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.APITokens.Touch(t.Context(), "", f.tokB.ID, f.now))
		must(t, s.APITokens.Touch(t.Context(), f.a.ID, f.tokB.ID, f.now))
		if tok, _ := s.APITokens.GetByID(t.Context(), f.tokB.ID); tok.LastUsedAt != nil {
			t.Error("A's scope touched B's token")
		}
	},
	"Grants.Create": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Grants.Create(t.Context(), &store.WorkspaceGrant{ID: ids.New(), WorkspaceID: f.wsB.ID}))
	},
	"Grants.Find": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Grants.Find(t.Context(), "", f.wsB.ID, f.third.ID)
		wantNoScope(t, err)
		g, err := s.Grants.Find(t.Context(), f.a.ID, f.wsB.ID, f.third.ID)
		if err != nil || g != nil {
			t.Errorf("A's scope finds B's grant (%v)", err)
		}
	},
	"Grants.Delete": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Grants.Delete(t.Context(), "", f.grantB.ID))
		wantNotFound(t, s.Grants.Delete(t.Context(), f.a.ID, f.grantB.ID))
	},
	"Grants.ListByWorkspace": func(t *testing.T, s *store.Store, f *fixture) {
		_, _, err := s.Grants.ListByWorkspace(t.Context(), "", f.wsB.ID, page)
		wantNoScope(t, err)
		rows, _, _ := s.Grants.ListByWorkspace(t.Context(), f.a.ID, f.wsB.ID, page)
		if len(rows) != 0 {
			t.Error("A lists B's grants")
		}
	},
	"Grants.CountByWorkspace": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Grants.CountByWorkspace(t.Context(), "", f.wsB.ID)
		wantNoScope(t, err)
	},
	"Grants.LiveWorkspaceIDs": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Grants.LiveWorkspaceIDs(t.Context(), "", []string{f.wsB.ID}, f.now)
		wantNoScope(t, err)
		live, _ := s.Grants.LiveWorkspaceIDs(t.Context(), f.a.ID, []string{f.wsB.ID}, f.now)
		if live[f.wsB.ID] {
			t.Error("A holds no grant on B's workspace, yet it is live")
		}
		live, _ = s.Grants.LiveWorkspaceIDs(t.Context(), f.third.ID, []string{f.wsB.ID}, f.now.Add(2*time.Hour))
		if live[f.wsB.ID] {
			t.Error("an expired grant is live")
		}
	},
	"Grants.SharedWith": func(t *testing.T, s *store.Store, f *fixture) {
		_, _, err := s.Grants.SharedWith(t.Context(), "", page, f.now)
		wantNoScope(t, err)
		rows, _, _ := s.Grants.SharedWith(t.Context(), f.a.ID, page, f.now)
		if len(rows) != 0 {
			t.Error("A sees workspaces shared with another organization")
		}
	},
	"Grants.CountSharedWith": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Grants.CountSharedWith(t.Context(), "", f.now)
		wantNoScope(t, err)
	},
	"Domains.Create": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Domains.Create(t.Context(), &store.OrganizationDomain{ID: ids.New(), Domain: "x.example.com"}))
	},
	"Domains.Get": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Domains.Get(t.Context(), "", f.domB.Domain, false)
		wantNoScope(t, err)
		_, err = s.Domains.Get(t.Context(), f.a.ID, f.domB.Domain, true)
		wantNotFound(t, err)
	},
	"Domains.ListByOrganization": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Domains.ListByOrganization(t.Context(), "")
		wantNoScope(t, err)
		rows, err := s.Domains.ListByOrganization(t.Context(), f.a.ID)
		must(t, err)
		if len(rows) != 0 {
			t.Errorf("A lists %d domains of another organization", len(rows))
		}
	},
	"Domains.CountByOrganization": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Domains.CountByOrganization(t.Context(), "")
		wantNoScope(t, err)
		if n, _ := s.Domains.CountByOrganization(t.Context(), f.a.ID); n != 0 {
			t.Errorf("A counts %d domains of another organization", n)
		}
	},
	"Domains.Update": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Domains.Update(t.Context(), &store.OrganizationDomain{ID: f.domB.ID}))
		forged := f.domB
		forged.OrganizationID, forged.Enrollment, forged.UpdatedAt = f.a.ID, store.EnrollmentAutoJoin, f.now.Add(time.Second)
		wantNotFound(t, s.Domains.Update(t.Context(), &forged))
		if d, _ := s.Domains.Get(t.Context(), f.b.ID, f.domB.Domain, false); d == nil || d.Enrollment != store.EnrollmentInvitationOnly {
			t.Error("A's scope changed B's domain")
		}
	},
	"Users.RevokeSessions": func(t *testing.T, s *store.Store, f *fixture) {
		cutoff := f.now.Truncate(time.Second).Add(time.Second)
		wantNoScope(t, s.Users.RevokeSessions(t.Context(), "", f.userB.ID, cutoff, f.now))
		must(t, s.Users.RevokeSessions(t.Context(), f.a.ID, f.userB.ID, cutoff, f.now))
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.SessionsValidAfter != nil {
			t.Error("A's scope ended B's user's sessions")
		}
	},
	"Users.SetPassword": func(t *testing.T, s *store.Store, f *fixture) {
		cutoff := f.now.Truncate(time.Second).Add(time.Second)
		wantNoScope(t, s.Users.SetPassword(t.Context(), "", f.userB.ID, "h", cutoff, f.now))
		must(t, s.Users.SetPassword(t.Context(), f.a.ID, f.userB.ID, "pwned", cutoff, f.now))
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.PasswordHash != nil && *u.PasswordHash == "pwned" || u.SessionsValidAfter != nil {
			t.Error("A's scope changed B's user's password")
		}
	},
	"Sessions.Revoke": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Sessions.Revoke(t.Context(), &store.RevokedSession{JTI: ids.New(), UserID: f.userB.ID, ExpiresAt: f.now.Add(time.Hour), CreatedAt: f.now}))
	},
	"Domains.Delete": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Domains.Delete(t.Context(), "", f.domB.ID))
		wantNotFound(t, s.Domains.Delete(t.Context(), f.a.ID, f.domB.ID))
	},
	// Security policy and branding (internal/policy): one row per
	// organization, keyed by it.
	"Organizations.GetPolicy": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Organizations.GetPolicy(t.Context(), "", false)
		wantNoScope(t, err)
		ttl := 60
		must(t, s.Organizations.SavePolicy(t.Context(), &store.OrganizationPolicy{OrganizationID: f.b.ID, RequireSSO: true,
			AllowedIPRanges: store.IPRanges{"192.0.2.0/24"}, SessionTTLMinutes: &ttl, UpdatedAt: f.now}))
		p, err := s.Organizations.GetPolicy(t.Context(), f.a.ID, false)
		must(t, err)
		if p.OrganizationID != f.a.ID || p.RequireSSO || len(p.AllowedIPRanges) != 0 || p.SessionTTLMinutes != nil {
			t.Errorf("A's scope read %+v", p)
		}
	},
	"Organizations.SavePolicy": func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Organizations.SavePolicy(t.Context(), &store.OrganizationPolicy{UpdatedAt: f.now}))
	},
	"Organizations.SessionTTL": func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Organizations.SessionTTL(t.Context(), "")
		wantNoScope(t, err)
	},
	// Quotas (issue 11).
	"Organizations.AddUsage": func(t *testing.T, s *store.Store, f *fixture) {
		a0, _ := s.Organizations.GetByID(t.Context(), f.a.ID)
		b0, _ := s.Organizations.GetByID(t.Context(), f.b.ID)
		wantNoScope(t, s.Organizations.AddUsage(t.Context(), "", store.Usage{CPUCores: 1}))
		must(t, s.Organizations.AddUsage(t.Context(), f.a.ID, store.Usage{CPUCores: 3, MemoryMB: 5}))
		if o, _ := s.Organizations.GetByID(t.Context(), f.b.ID); o.Usage() != b0.Usage() {
			t.Error("A's scope changed B's usage")
		}
		if o, _ := s.Organizations.GetByID(t.Context(), f.a.ID); o.CPUCores != a0.CPUCores+3 || o.MemoryMB != a0.MemoryMB+5 {
			t.Errorf("A's usage: %d cores, %d MB; want %d, %d", o.CPUCores, o.MemoryMB, a0.CPUCores+3, a0.MemoryMB+5)
		}
	},
	"Organizations.SetQuota": func(t *testing.T, s *store.Store, f *fixture) {
		n := 7
		wantNoScope(t, s.Organizations.SetQuota(t.Context(), "", store.Quota{MaxUsers: &n}))
		must(t, s.Organizations.SetQuota(t.Context(), f.a.ID, store.Quota{MaxUsers: &n}))
		if o, _ := s.Organizations.GetByID(t.Context(), f.b.ID); o.MaxUsers != nil {
			t.Error("A's scope set B's quota")
		}
	},
}

// unscoped lists the methods that take no organization scope, each with the
// reason; callers authorize the rows they return.
var unscoped = map[string]string{
	"Domains.VerifiedByOrganizations": "dataloader of public facts (DNS-verified domains); the field showing them is authorized on its grant",
	"Organizations.GetDefault":        "the one reserved default organization, by kind",
	"Users.ListByIDs":                 "dataloader; every row is authorized field by field",
	"Invitations.GetForAcceptance":    "PUBLIC acceptInvitation: the token's secret, compared next, is the proof",
	"Verifications.GetForUse":         "PUBLIC verifyEmail: the token's secret, compared next, is the proof",
	"Organizations.GetByID":           "fetch, then authorize against the row's organization",
	"Organizations.ListByIDs":         "dataloader; every row is authorized field by field",
	"Organizations.GetByNameKey":      "registration looks up the organization by name",
	"Organizations.GetByExternal":     "SSO matches (issuer, external ID)",
	"Organizations.DomainTaken":       "domains are unique across organizations",
	"Organizations.SlugTaken":         "slugs are unique across organizations",
	"Organizations.Create":            "creates a tenant",
	"Organizations.ListAll":           "platform administrators only (checked by the resolver)",
	"Organizations.CountAll":          "platform administrators only (checked by the resolver)",
	"Organizations.Recount":           "bulk writers only (neosc seed), counts every organization",
	"Users.GetByID":                   "fetch, then authorize",
	"Users.GetByEmail":                "sign-in by email; emails are unique",
	"Users.EmailTaken":                "registration: emails are unique",
	"Users.GetBySSO":                  "SSO matches (issuer, sub)",
	"Users.GetActor":                  "authentication: the token names the user",
	"Workspaces.GetByID":              "fetch, then authorize",
	"Workspaces.GetByIDForUpdate":     "fetch (and lock), then authorize",
	"Workspaces.ListByIDs":            "dataloader; every row is authorized field by field",
	"Users.EmailTakenInScope":         "SSO: emails are unique per identity source",
	"AuditEvents.Insert":              "the event carries its organization (or none for a platform event)",
	"AuditEvents.GetByID":             "fetch, then authorize",
	"APITokens.GetByID":               "fetch, then authorize",
	"APITokens.GetActor":              "authentication: the token names itself",
	"Grants.GetByID":                  "fetch, then authorize",
	"Domains.GetVerified":             "a domain is verified by at most one organization: which one, asked when adding, verifying and registering",
	"Organizations.PublicBranding":    "PUBLIC organizationBranding: a sign-in page's branding by the organization's public slug (active tenants only)",
	// The mail outbox is platform-level: each replica's sender delivers every
	// organization's mail, and no API reads it. A mail names its organization
	// (or none, for a platform mail) only to record whose it is.
	"Outbox.Enqueue":    "the mail carries its organization (or none for a platform mail)",
	"Outbox.Claim":      "platform-level: the sender delivers every organization's mail",
	"Outbox.MarkSent":   "platform-level: by the ID of a mail the sender claimed",
	"Outbox.MarkFailed": "platform-level: by the ID of a mail the sender claimed",
	"Outbox.Release":    "platform-level: by the ID of a mail the sender claimed",
	// Ending sessions and signing tokens: the denylist's cleanup and the
	// service's signing keys belong to no organization.
	"Sessions.DeleteExpired":    "platform-level: deletes the denylist rows of every organization whose tokens have expired",
	"SigningKeys.ListLive":      "platform-level: the service's signing keys, shared by every replica",
	"SigningKeys.MaxGeneration": "platform-level: the service's signing keys",
	"SigningKeys.Create":        "platform-level: the service's signing keys",
	"SigningKeys.Retire":        "platform-level: the service's signing keys (neosc keys rotate)",
	"SigningKeys.KeepFor":       "platform-level: the key that signed an API token verifies until it expires",
	"SigningKeys.DeleteExpired": "platform-level: the service's signing keys",
	"APITokens.LatestExpiry":    "platform-level: how long a key file taken into the database must verify the API tokens it signed",
	// Rate limits belong to callers (addresses, tokens, users, organizations
	// as a whole), not to a tenant's data; no API reads them.
	"RateLimits.Charge":     "platform-level: a replica's spending, bucket by bucket",
	"RateLimits.Get":        "platform-level: a replica reads back the buckets it charged",
	"RateLimits.DeleteFull": "platform-level: deletes full buckets of every caller",
	"Logins.Lock":           "sign-in throttle, by account (hash of the email) and client",
	"Logins.Save":           "sign-in throttle, rows read by Lock",
	"Logins.DeleteExpired":  "platform-level: deletes expired rows of every account",
}

// invitationOf inserts a pending invitation into org.
func invitationOf(t *testing.T, s *store.Store, org store.Organization, now time.Time) *store.Invitation {
	t.Helper()
	inv := &store.Invitation{ID: ids.New(), OrganizationID: org.ID, Email: ids.New() + "@invited.test", Role: store.RoleMember,
		Status: store.InvitationPending, TokenHash: "h", ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	must(t, s.Invitations.Create(t.Context(), inv))
	return inv
}

// TestTenantScopedMethodsGuard runs every guard test, and fails with "never
// exercised" for any store method that is in neither list: a new method
// cannot land without deciding, and testing, its scope. An entry naming no
// method fails too, so a removed method leaves no stale entry behind.
func TestTenantScopedMethodsGuard(t *testing.T) {
	var methods []string
	st := reflect.TypeOf(store.Store{})
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		for m := 0; m < f.Type.NumMethod(); m++ {
			methods = append(methods, f.Name+"."+f.Type.Method(m).Name)
		}
	}
	sort.Strings(methods)
	if len(methods) < 40 {
		t.Fatalf("only %d store methods found; the enumeration is broken", len(methods))
	}
	for _, m := range methods {
		_, isScoped := scoped[m]
		_, isUnscoped := unscoped[m]
		if !isScoped && !isUnscoped {
			t.Errorf("never exercised: %s (add a guard test to scoped, or a reason to unscoped)", m)
		}
		if isScoped && isUnscoped {
			t.Errorf("%s is in both lists", m)
		}
	}
	for name := range scoped {
		if !contains(methods, name) {
			t.Errorf("scoped lists %s, which does not exist", name)
		}
	}
	for name := range unscoped {
		if !contains(methods, name) {
			t.Errorf("unscoped lists %s, which does not exist", name)
		}
	}
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		for _, name := range methods {
			test, ok := scoped[name]
			if !ok {
				continue
			}
			t.Run(name, func(t *testing.T) {
				test(t, store.New(d.DB), newFixture(t, d))
			})
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
