package store_test

// Guard entries of the organization and platform administration methods
// (administration.go), kept apart from guard_test.go so that its lists
// merge mechanically.

import (
	"testing"

	"github.com/neosc/neosc/internal/store"
)

func init() {
	scoped["Users.CountActiveAdmins"] = func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Users.CountActiveAdmins(t.Context(), "")
		wantNoScope(t, err)
	}
	scoped["Users.SetRole"] = func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Users.SetRole(t.Context(), "", f.userB.ID, store.RoleAdmin, f.now))
		wantNotFound(t, s.Users.SetRole(t.Context(), f.a.ID, f.userB.ID, "PWNED", f.now))
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.Role == "PWNED" {
			t.Error("A's scope changed B's user's role")
		}
	}
	scoped["Users.SetStatus"] = func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Users.SetStatus(t.Context(), "", f.userB.ID, store.UserDeactivated, f.now))
		wantNotFound(t, s.Users.SetStatus(t.Context(), f.a.ID, f.userB.ID, store.UserDeactivated, f.now))
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.Status == store.UserDeactivated {
			t.Error("A's scope deactivated B's user")
		}
	}
	scoped["Users.SetName"] = func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Users.SetName(t.Context(), "", f.userB.ID, "pwned", f.now))
		wantNotFound(t, s.Users.SetName(t.Context(), f.a.ID, f.userB.ID, "pwned", f.now))
		if u, _ := s.Users.GetByID(t.Context(), f.userB.ID); u.Name == "pwned" {
			t.Error("A's scope renamed B's user")
		}
	}
	scoped["Organizations.Rename"] = func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Organizations.Rename(t.Context(), "", "x", "x", f.now))
	}
	scoped["Organizations.SetStatus"] = func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Organizations.SetStatus(t.Context(), "", store.OrganizationSuspended, f.now))
	}
	scoped["Organizations.Purge"] = func(t *testing.T, s *store.Store, f *fixture) {
		_, err := s.Organizations.Purge(t.Context(), "")
		wantNoScope(t, err)
		deleted, err := s.Organizations.Purge(t.Context(), f.a.ID)
		must(t, err)
		if deleted["users"] != 1 || deleted["workspaces"] != 1 || deleted["organizations"] != 1 {
			t.Errorf("purge of A deleted %v", deleted)
		}
		for _, id := range []string{f.userB.ID} {
			if _, err := s.Users.GetByID(t.Context(), id); err != nil {
				t.Errorf("purge of A removed B's user: %v", err)
			}
		}
		if _, err := store.Lookup[store.Workspace](t.Context(), s, f.wsB.ID, false); err != nil {
			t.Errorf("purge of A removed B's workspace: %v", err)
		}
		if _, err := store.Lookup[store.APIToken](t.Context(), s, f.tokB.ID, false); err != nil {
			t.Errorf("purge of A removed B's token: %v", err)
		}
		if _, err := store.Lookup[store.WorkspaceGrant](t.Context(), s, f.grantB.ID, false); err != nil {
			t.Errorf("purge of A removed B's grant: %v", err)
		}
		if _, err := store.Lookup[store.AuditEvent](t.Context(), s, f.evB.ID, false); err != nil {
			t.Errorf("purge of A removed B's audit event: %v", err)
		}
	}
	unscoped["Organizations.Search"] = "platform administrators only (checked by internal/organizations): searches every organization"
	unscoped["Organizations.SearchCount"] = "platform administrators only (checked by internal/organizations): counts a search"
}
