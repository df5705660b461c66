package store_test

import (
	"testing"
	"time"

	"github.com/neosc/neosc/internal/store"
)

// Guard entries of issue 11 (usage for billing, audit search and export),
// kept in a file of their own so that parallel additions merge cleanly.
func init() {
	unscoped["AuditEvents.ListAll"] = "Query.auditEvents: platform administrators only (@auth PLATFORM_ADMIN)"
	unscoped["AuditEvents.Each"] = "GET /audit/export: one organization's window, or (empty scope) every event for a platform administrator, decided through internal/authz first"

	// usageOfB gives B's workspace an open usage row, which A's scope must
	// neither read nor end.
	usageOfB := func(t *testing.T, s *store.Store, f *fixture) {
		t.Helper()
		if err := s.Usage.StartWorkspace(t.Context(), &f.wsB, f.now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	window := func(f *fixture) (time.Time, time.Time) { return f.now.Add(-2 * time.Hour), f.now.Add(time.Hour) }
	scoped["Usage.StartWorkspace"] = func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Usage.StartWorkspace(t.Context(), &store.Workspace{ID: f.wsB.ID}, f.now))
	}
	scoped["Usage.EndWorkspace"] = func(t *testing.T, s *store.Store, f *fixture) {
		usageOfB(t, s, f)
		wantNoScope(t, s.Usage.EndWorkspace(t.Context(), "", f.wsB.ID, f.now))
		if err := s.Usage.EndWorkspace(t.Context(), f.a.ID, f.wsB.ID, f.now); err != nil {
			t.Fatal(err)
		}
		since, until := window(f)
		open := 0
		_ = s.Usage.EachWorkspaceUsage(t.Context(), f.b.ID, since, until, func(u *store.WorkspaceUsage) error {
			if u.EndedAt.Equal(store.OpenEnd) {
				open++
			}
			return nil
		})
		if open == 0 {
			t.Error("A's scope ended B's usage row")
		}
	}
	scoped["Usage.EndOrganization"] = func(t *testing.T, s *store.Store, f *fixture) {
		usageOfB(t, s, f)
		wantNoScope(t, s.Usage.EndOrganization(t.Context(), "", f.now))
		if err := s.Usage.EndOrganization(t.Context(), f.a.ID, f.now); err != nil {
			t.Fatal(err)
		}
		since, until := window(f)
		open := 0
		_ = s.Usage.EachWorkspaceUsage(t.Context(), f.b.ID, since, until, func(u *store.WorkspaceUsage) error {
			if u.EndedAt.Equal(store.OpenEnd) {
				open++
			}
			return nil
		})
		if open == 0 {
			t.Error("A's scope ended B's usage rows")
		}
	}
	scoped["Usage.EachWorkspaceUsage"] = func(t *testing.T, s *store.Store, f *fixture) {
		usageOfB(t, s, f)
		since, until := window(f)
		wantNoScope(t, s.Usage.EachWorkspaceUsage(t.Context(), "", since, until, func(*store.WorkspaceUsage) error { return nil }))
		_ = s.Usage.EachWorkspaceUsage(t.Context(), f.a.ID, since, until, func(u *store.WorkspaceUsage) error {
			if u.WorkspaceID == f.wsB.ID {
				t.Error("A reads B's usage")
			}
			return nil
		})
	}
	scoped["Usage.RecordUsers"] = func(t *testing.T, s *store.Store, f *fixture) {
		wantNoScope(t, s.Usage.RecordUsers(t.Context(), "", 1, f.now))
	}
	scoped["Usage.PeakUsers"] = func(t *testing.T, s *store.Store, f *fixture) {
		since, until := window(f)
		_, err := s.Usage.PeakUsers(t.Context(), "", since, until)
		wantNoScope(t, err)
		if err := s.Usage.RecordUsers(t.Context(), f.b.ID, 5, f.now); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.Usage.PeakUsers(t.Context(), f.third.ID, since, until); n != 0 {
			t.Errorf("another organization's scope counts B's users: %d", n)
		}
	}
	scoped["Usage.ActiveUsers"] = func(t *testing.T, s *store.Store, f *fixture) {
		since, until := window(f)
		_, err := s.Usage.ActiveUsers(t.Context(), "", since, until)
		wantNoScope(t, err)
	}
}
