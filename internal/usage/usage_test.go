package usage_test

import (
	"context"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
	"github.com/neosc/neosc/internal/usage"
)

// TestMigrationOpensExistingWorkspaces: what exists when migration 00013
// runs is counted from then on: each workspace gets an open stretch and
// each organization an event of its user count, at the migration's time.
func TestMigrationOpensExistingWorkspaces(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m, err := db.NewMigrator(d, nil)
		if err != nil {
			t.Fatal(err)
		}
		org := gen.Organization(t, d, store.Organization{})
		gen.User(t, d, store.User{OrganizationID: org.ID})
		gen.User(t, d, store.User{OrganizationID: org.ID})
		ws := gen.Workspace(t, d, store.Workspace{OrganizationID: org.ID, Status: store.WorkspaceRunning, CPUCores: 3, MemoryMB: 2048, StorageGB: 10})
		// Back to before 00013 (its tables dropped, the rows above kept).
		for {
			res, err := m.Down(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Source.Version <= 13 {
				break
			}
		}
		before := time.Now().UTC().Add(-time.Second)
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		after := time.Now().UTC().Add(time.Second)

		var rows []store.WorkspaceUsage
		if err := d.Where("workspace_id = ?", ws.ID).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || !rows[0].EndedAt.Equal(store.OpenEnd) || rows[0].StartedAt.Before(before) || rows[0].StartedAt.After(after) ||
			rows[0].CPUCores != 3 || rows[0].Status != store.WorkspaceRunning || rows[0].OrganizationID != org.ID {
			t.Fatalf("opening rows: %+v (migrated between %s and %s)", rows, before, after)
		}
		var counted store.Organization
		if err := d.Where("id = ?", org.ID).Take(&counted).Error; err != nil {
			t.Fatal(err)
		}

		// Counted from the migration on, up to now.
		svc := &usage.Service{Store: store.New(d.DB), Now: func() time.Time { return rows[0].StartedAt.Add(2 * time.Hour) }}
		r, err := svc.Report(ctx, org.ID, before.Add(-time.Hour), rows[0].StartedAt.Add(10*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if r.WorkspaceHours != 2 || r.CPUCoreHours != 6 || r.MemoryGBHours != 4 || r.StorageGBHours != 20 || r.PeakUsers != counted.UserCount {
			t.Errorf("report after migration: %+v (user count %d)", r, counted.UserCount)
		}
	})
}
