package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

const (
	scaleEvents = 200_000
	scaleBatch  = 1000
	// exportHeapBound is how much the heap in use may grow during the
	// export of scaleEvents events (~170 MB of NDJSON): rows are written as
	// they are read, so it stays far below the size of the export.
	exportHeapBound = 48 << 20
)

// insertEvents inserts n audit events (actors a0..a9, targets t0..t99 of
// type Workspace), created one millisecond apart from base, with batched
// multi-row INSERTs; event i belongs to organization orgOf(i). It answers
// the IDs, oldest first.
func insertEvents(t *testing.T, d *db.DB, orgOf func(i int) string, base time.Time, n int) []string {
	t.Helper()
	meta := `{"reason":"` + strings.Repeat("x", 400) + `"}`
	targets := make([]string, 100)
	for i := range targets {
		targets[i] = ids.New()
	}
	out := make([]string, 0, n)
	// Straight to database/sql in one transaction: no ORM callbacks or
	// statement logging of 9,000 arguments a statement.
	tx, err := d.SQL().BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	// Values are literals (IDs, generated addresses and a constant
	// document: nothing to escape): binding 9 arguments a row costs more
	// than the inserts themselves on the pure-Go SQLite driver.
	timeFormat := "2006-01-02 15:04:05.000000"
	if d.Engine == db.SQLite {
		timeFormat = "2006-01-02 15:04:05.000000-07:00" // as the driver writes times
	}
	for start := 0; start < n; start += scaleBatch {
		var sb strings.Builder
		sb.WriteString("INSERT INTO audit_events (id, organization_id, action, outcome, actor_email, target_type, target_id, metadata, created_at) VALUES ")
		for i := start; i < min(start+scaleBatch, n); i++ {
			if i > start {
				sb.WriteString(",")
			}
			id := ids.New()
			out = append(out, id)
			fmt.Fprintf(&sb, "('%s','%s','workspace.updated','SUCCESS','a%d@scale.test','Workspace','%s','%s','%s')",
				id, orgOf(i), i%10, targets[i%100], meta, base.Add(time.Duration(i)*time.Millisecond).Format(timeFormat))
		}
		if _, err := tx.ExecContext(t.Context(), sb.String()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuditExportConstantMemory exports 200,000 events through GET
// /audit/export while sampling the heap: the heap in use grows by less
// than exportHeapBound although the export is ~170 MB. Then EXPLAIN shows
// the statements of deep pages and of the export read an index range in
// order (no sort, no scan of the trail).
func TestAuditExportConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 200,000 events")
	}
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@scale.test", "Scale Co")
		orgID := rawOrg(t, admin.OrgID)
		// A sparse organization: one event in 1001, spread over the whole
		// trail. Its deep pages are where reading the trail in id order and
		// filtering would not be flat: they must read its own index.
		small := rawOrg(t, env.Register("admin@small-scale.test", "Small Scale Co").OrgID)
		orgOf := func(i int) string {
			if i%1001 == 1000 {
				return small
			}
			return orgID
		}
		base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		began := time.Now()
		eventIDs := insertEvents(t, d, orgOf, base, scaleEvents+scaleEvents/1000) // scaleEvents of Scale Co
		t.Logf("inserted %d events in %s", scaleEvents, time.Since(began).Round(time.Millisecond))
		began = time.Now()

		q := url.Values{"organization": {admin.OrgID}, "since": {rfc(base)}, "until": {rfc(base.Add(24 * time.Hour))}, "format": {"ndjson"}}
		req, err := http.NewRequest(http.MethodGet, env.Server.URL+"/audit/export?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+admin.Token)

		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		baseline, allocBefore := ms.HeapInuse, ms.TotalAlloc
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}
		}()
		res, err := env.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		lines := &lineCounter{}
		size, err := io.Copy(lines, res.Body)
		_ = res.Body.Close()
		close(stop)
		wg.Wait()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("export: %d %v", res.StatusCode, err)
		}
		runtime.ReadMemStats(&ms)
		growth := int64(peak.Load()) - int64(baseline)
		t.Logf("exported %d events in %s, %d MB; heap in use %d MB at start, peak growth %d MB; allocated %d MB in all",
			lines.n, time.Since(began).Round(time.Millisecond), size>>20, baseline>>20, growth>>20, (ms.TotalAlloc-allocBefore)>>20)
		if lines.n != scaleEvents {
			t.Errorf("exported %d events, want %d", lines.n, scaleEvents)
		}
		if size < 3*exportHeapBound {
			t.Fatalf("the export (%d bytes) is too small to tell streaming from buffering", size)
		}
		if growth > exportHeapBound {
			t.Errorf("heap in use grew by %d MB during the export (bound %d MB): rows are not streamed", growth>>20, exportHeapBound>>20)
		}

		var smallIDs []string
		for i, id := range eventIDs {
			if orgOf(i) == small {
				smallIDs = append(smallIDs, id)
			}
		}
		explainDeepPages(t, d, small, smallIDs[len(smallIDs)/2], eventIDs[len(eventIDs)/2], base)
	})
}

// lineCounter counts the newlines written to it.
type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += strings.Count(string(p), "\n")
	return len(p), nil
}

// explainDeepPages captures the statements the store runs for a page deep
// in the trail (the cursor at the middle of the sparse organization's
// events, respectively of the whole trail) and for the exports, and checks
// each reads the expected index in order.
func explainDeepPages(t *testing.T, d *db.DB, orgID, cursorID, rootCursorID string, base time.Time) {
	t.Helper()
	var mu sync.Mutex
	var captured []capturedSQL
	capture := func(tx *gorm.DB) {
		if tx.Statement == nil || !strings.Contains(tx.Statement.SQL.String(), "audit_events") {
			return
		}
		mu.Lock()
		captured = append(captured, capturedSQL{tx.Statement.SQL.String(), append([]any(nil), tx.Statement.Vars...)})
		mu.Unlock()
	}
	name := "test:explain:" + ids.New()[:8]
	if err := d.Callback().Query().After("gorm:query").Register(name, capture); err != nil {
		t.Fatal(err)
	}
	if err := d.Callback().Row().After("gorm:row").Register(name, capture); err != nil {
		t.Fatal(err)
	}
	st := store.New(d.DB)
	page := store.Page{First: 20, After: store.Cursor(cursorID)}
	rootPage := store.Page{First: 20, After: store.Cursor(rootCursorID)}
	ctx := context.Background()
	cases := []struct {
		name  string
		run   func() error
		index string // MariaDB: the key EXPLAIN must show
	}{
		{"organization, deep page", func() error {
			_, _, err := st.AuditEvents.ListByOrganization(ctx, orgID, store.AuditFilter{}, page)
			return err
		}, "audit_events_organization"},
		{"organization + actorEmail, deep page", func() error {
			_, _, err := st.AuditEvents.ListByOrganization(ctx, orgID, store.AuditFilter{ActorEmail: "a3@scale.test"}, page)
			return err
		}, "audit_events_organization_actor_email"},
		{"root, deep page", func() error {
			_, _, err := st.AuditEvents.ListAll(ctx, store.AuditFilter{}, rootPage)
			return err
		}, "PRIMARY"},
		{"root + actorEmail, deep page", func() error {
			_, _, err := st.AuditEvents.ListAll(ctx, store.AuditFilter{ActorEmail: "a3@scale.test"}, rootPage)
			return err
		}, "audit_events_actor_email"},
		{"export window of an organization", func() error {
			return st.AuditEvents.Each(ctx, store.ExportWindow{OrganizationID: orgID, Since: base, Until: base.Add(24 * time.Hour)},
				func(*store.AuditEvent) error { return nil })
		}, "audit_events_organization_time"},
		{"export window of everything", func() error {
			return st.AuditEvents.Each(ctx, store.ExportWindow{Since: base.Add(time.Hour), Until: base.Add(time.Hour + time.Second)},
				func(*store.AuditEvent) error { return nil })
		}, "audit_events_time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			captured = nil
			mu.Unlock()
			if err := c.run(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			stmts := captured
			mu.Unlock()
			if len(stmts) != 1 {
				t.Fatalf("captured %d statements", len(stmts))
			}
			plan := explain(t, d, stmts[0])
			t.Logf("%s\n  %s", stmts[0].sql, plan)
			if strings.Contains(plan, "filesort") || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("the rows are sorted, not read in index order: %s", plan)
			}
			if d.Engine == db.MySQL && !strings.Contains(plan, "key="+c.index+" ") {
				t.Errorf("want index %s: %s", c.index, plan)
			}
			if d.Engine == db.SQLite && !strings.Contains(plan, "USING") {
				t.Errorf("no index used: %s", plan)
			}
		})
	}
}

type capturedSQL struct {
	sql  string
	vars []any
}

// explain runs EXPLAIN (MariaDB) or EXPLAIN QUERY PLAN (SQLite) on s and
// answers the plan as one line.
func explain(t *testing.T, d *db.DB, s capturedSQL) string {
	t.Helper()
	prefix := "EXPLAIN "
	if d.Engine == db.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := d.Raw(prefix+s.sql, s.vars...).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts = append(parts, fmt.Sprintf("%s=%v", c, v))
		}
		out = append(out, strings.Join(parts, " ")+" ")
	}
	return strings.Join(out, " | ")
}
