package store_test

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// sessionCounters reads the named session status counters through q (a
// pool of one connection).
func sessionCounters(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, names ...string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, n := range names {
		var name string
		var v int64
		if err := q.QueryRowContext(context.Background(), "SHOW SESSION STATUS LIKE '"+n+"'").Scan(&name, &v); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out[n] = v
	}
	return out
}

// TestOneRoundTripPerStatement: on MySQL the driver interpolates the
// parameters (interpolateParams, forced by db.ParseMySQLURL), so a store
// call with parameters prepares nothing (no COM_STMT_PREPARE, EXECUTE,
// CLOSE: one round trip per statement instead of three), and what goes
// through the interpolation reads back exactly: JSON metadata with quotes,
// backslashes and non-ASCII text, and times to the microsecond in UTC.
// The control, a pool without interpolation, shows the counter moving.
func TestOneRoundTripPerStatement(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		if e != db.MySQL {
			continue
		}
		u := testdb.URL(t, e)
		ctx := context.Background()
		// One pool of one connection: the session counters are the store's.
		pool, err := db.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		m, err := db.NewMigrator(pool, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		pool.SQL().SetMaxOpenConns(1)
		pool.SQL().SetMaxIdleConns(1)
		org := gen.Organization(t, pool, store.Organization{})
		s := store.New(pool.DB)
		counters := []string{"Com_stmt_prepare", "Com_stmt_execute", "Com_stmt_close"}

		before := sessionCounters(t, pool.SQL(), counters...)
		at := time.Date(2026, 11, 26, 23, 59, 58, 123456000, time.UTC)
		orgID := org.ID
		ev := &store.AuditEvent{ID: ids.New(), OrganizationID: &orgID, Action: "user.login", Outcome: store.OutcomeSuccess,
			Metadata:  store.JSON{"quote": `it's a "test" \ back\\slash`, "text": "Grüße, 東京 🙂", "n": float64(42)},
			CreatedAt: at}
		if err := s.AuditEvents.Insert(ctx, ev); err != nil {
			t.Fatal(err)
		}
		got, err := s.AuditEvents.GetByID(ctx, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Users.ListByOrganization(ctx, org.ID, store.Page{First: 10, After: store.Cursor(ids.New())}); err != nil {
			t.Fatal(err)
		}
		after := sessionCounters(t, pool.SQL(), counters...)
		for _, c := range counters {
			if after[c] != before[c] {
				t.Errorf("%s went from %d to %d: statements are prepared, not interpolated", c, before[c], after[c])
			}
		}
		if !reflect.DeepEqual(got.Metadata, ev.Metadata) {
			t.Errorf("metadata read back %#v, want %#v", got.Metadata, ev.Metadata)
		}
		if !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("created_at read back %v, want %v UTC", got.CreatedAt, at)
		}
		var n int64
		if err := pool.Raw("SELECT COUNT(*) FROM audit_events WHERE created_at = ?", at).Scan(&n).Error; err != nil || n != 1 {
			t.Errorf("a time parameter matches %d rows (%v), want 1", n, err)
		}

		// Control: without interpolation the same counter moves.
		mc, err := db.ParseMySQLURL(u)
		if err != nil {
			t.Fatal(err)
		}
		mc.InterpolateParams = false
		raw, err := sql.Open("mysql", mc.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		raw.SetMaxOpenConns(1)
		before = sessionCounters(t, raw, counters...)
		var one int
		if err := raw.QueryRowContext(ctx, "SELECT ?", 1).Scan(&one); err != nil {
			t.Fatal(err)
		}
		after = sessionCounters(t, raw, counters...)
		if after["Com_stmt_prepare"] != before["Com_stmt_prepare"]+1 {
			t.Fatalf("control: Com_stmt_prepare %d -> %d, want one prepare", before["Com_stmt_prepare"], after["Com_stmt_prepare"])
		}
	}
}
