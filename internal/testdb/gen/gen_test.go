package gen_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// TestGenerators checks that empty seeds make complete rows that coexist in
// one database, read back as returned, and keep the counters exact.
func TestGenerators(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		s := store.New(d.DB)
		ctx := t.Context()
		for range 2 { // twice: defaults never collide
			o := gen.Organization(t, d, store.Organization{})
			u := gen.User(t, d, store.User{OrganizationID: o.ID})
			w := gen.Workspace(t, d, store.Workspace{OrganizationID: o.ID})
			k := gen.APIToken(t, d, store.APIToken{OrganizationID: o.ID})
			g := gen.Grant(t, d, store.WorkspaceGrant{WorkspaceID: w.ID})
			e := gen.AuditEvent(t, d, store.AuditEvent{OrganizationID: &o.ID})

			readBack(t, u, func() (any, error) { return s.Users.GetByID(ctx, u.ID) })
			readBack(t, w, func() (any, error) { return s.Workspaces.GetByID(ctx, w.ID) })
			readBack(t, k, func() (any, error) { return s.APITokens.GetByID(ctx, k.ID) })
			readBack(t, g, func() (any, error) { return s.Grants.GetByID(ctx, g.ID) })
			readBack(t, e, func() (any, error) { return s.AuditEvents.GetByID(ctx, e.ID) })
			od := gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: o.ID})
			verifiedAt := time.Now()
			vd := gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: o.ID, VerifiedAt: &verifiedAt})
			readBack(t, od, func() (any, error) { return s.Domains.Get(ctx, o.ID, od.Domain, false) })
			readBack(t, vd, func() (any, error) { return s.Domains.Get(ctx, o.ID, vd.Domain, false) })
			if od.Verified() || !vd.Verified() || *vd.VerifiedDomain != vd.Domain || od.VerificationToken == vd.VerificationToken {
				t.Errorf("domains: %+v %+v", od, vd)
			}
			got, err := s.Organizations.GetByID(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.UserCount != 1 || got.WorkspaceCount != 1 {
				t.Errorf("organization counts %d users and %d workspaces, want 1 and 1", got.UserCount, got.WorkspaceCount)
			}
			if o.Status != store.OrganizationActive || u.Status != store.UserActive || u.Role != store.RoleMember ||
				w.Status != store.WorkspaceAvailable || !k.Usable(time.Now()) || !g.Live(time.Now()) {
				t.Errorf("defaults are not active and usable: %+v %+v %+v %+v %+v", o, u, w, k, g)
			}
			if g.OrganizationID != o.ID || g.GranteeOrganizationID == o.ID {
				t.Errorf("grant of %s's workspace is owned by %s, granted to %s", o.ID, g.OrganizationID, g.GranteeOrganizationID)
			}
		}

		// Owners left empty are generated, and counted.
		u := gen.User(t, d, store.User{})
		w := gen.Workspace(t, d, store.Workspace{})
		for _, id := range []string{u.OrganizationID, w.OrganizationID, gen.APIToken(t, d, store.APIToken{}).OrganizationID,
			gen.Grant(t, d, store.WorkspaceGrant{}).GranteeOrganizationID, *gen.AuditEvent(t, d, store.AuditEvent{}).OrganizationID} {
			if _, err := s.Organizations.GetByID(ctx, id); err != nil {
				t.Errorf("generated owner %q: %v", id, err)
			}
		}
		var wrong int64
		if err := d.Raw(`SELECT COUNT(*) FROM organizations o WHERE
			user_count <> (SELECT COUNT(*) FROM users u WHERE u.organization_id = o.id) OR
			workspace_count <> (SELECT COUNT(*) FROM workspaces w WHERE w.organization_id = o.id)`).Scan(&wrong).Error; err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Errorf("%d organizations' counters differ from COUNT(*)", wrong)
		}
	})
}

// readBack fails unless the row fetch returns equals want.
func readBack(t *testing.T, want any, fetch func() (any, error)) {
	t.Helper()
	got, err := fetch()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, want)
	}
}
