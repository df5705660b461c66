package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// planData is a data set shaped like the bench's (issue 12), scaled down:
// one big organization holding most rows, the rest spread over the others,
// rows of all organizations interleaved in ID order.
type planData struct {
	big, grantee string
	workspace    string // a workspace of big shared with every other organization
	targetID     string // the target of a tenth of big's events
	actorEmail   string // the actor of a tenth of big's events
	orgs         []string
}

// planScale is the number of users of the big organization; the other
// tables are sized from it. MariaDB's plan for a deep cursor depends on
// the index statistics, so MySQL gets the 20,000; SQLite's planner
// does not look at the data (no ANALYZE), a tenth suffices.
func planScale(e db.Engine) int {
	if e == db.MySQL {
		return 20000
	}
	return 2000
}

func insertAll[T any](t *testing.T, g *gorm.DB, rows []T) {
	t.Helper()
	if err := g.CreateInBatches(rows, 500).Error; err != nil {
		t.Fatalf("insert %T: %v", rows, err)
	}
}

var auditActions = []string{"user.login", "workspace.created", "workspace.deleted", "user.created", "user.updated",
	"token.created", "access.denied", "invitation.created", "workspace.updated", "user.logout"}

func newPlanData(t *testing.T, d *db.DB) *planData {
	t.Helper()
	n := planScale(d.Engine)
	now := time.Now().UTC().Truncate(time.Microsecond)
	g := d.DB.Session(&gorm.Session{SkipHooks: false})
	pd := &planData{}
	orgs := make([]store.Organization, 300)
	for i := range orgs {
		id := ids.New()
		orgs[i] = store.Organization{ID: id, Name: "Plan " + id, NameKey: "plan " + id, Slug: "plan-" + id,
			Status: store.OrganizationActive, CreatedAt: now, UpdatedAt: now}
		pd.orgs = append(pd.orgs, id)
	}
	insertAll(t, g, orgs)
	pd.big, pd.grantee = pd.orgs[0], pd.orgs[1]
	// owner spreads rows: four in five to the big organization.
	owner := func(i int) string {
		if i%5 != 4 {
			return pd.big
		}
		return pd.orgs[1+i%(len(pd.orgs)-1)]
	}
	users := make([]store.User, n*5/4)
	for i := range users {
		id := ids.New()
		users[i] = store.User{ID: id, OrganizationID: owner(i), Email: "u-" + id + "@example.test", Name: "U",
			Role: store.RoleMember, Status: store.UserActive, CreatedAt: now, UpdatedAt: now}
	}
	insertAll(t, g, users)
	pd.actorEmail = users[0].Email
	wss := make([]store.Workspace, n/4)
	for i := range wss {
		id := ids.New()
		wss[i] = store.Workspace{ID: id, OrganizationID: owner(i), Name: "w-" + id, Type: store.WorkspaceDev,
			ConnectionType: store.ConnectionWeb, Status: store.WorkspaceAvailable, CPUCores: 1, MemoryMB: 1, StorageGB: 1,
			CreatedAt: now, UpdatedAt: now}
	}
	insertAll(t, g, wss)
	pd.workspace = wss[0].ID
	pd.targetID = wss[1].ID
	events := make([]store.AuditEvent, n*5/2)
	for i := range events {
		o := owner(i)
		e := store.AuditEvent{ID: ids.New(), OrganizationID: &o, Action: auditActions[i%len(auditActions)],
			Outcome: store.OutcomeSuccess, Metadata: store.JSON{}, CreatedAt: now}
		if i%10 == 1 {
			e.TargetID = &pd.targetID
		}
		if i%10 == 2 {
			e.ActorEmail = &pd.actorEmail
		}
		if i%50 == 3 {
			e.OrganizationID = nil // a platform event
		}
		events[i] = e
	}
	insertAll(t, g, events)
	toks := make([]store.APIToken, n/10)
	invs := make([]store.Invitation, n/10)
	for i := range toks {
		toks[i] = store.APIToken{ID: ids.New(), OrganizationID: owner(i), Name: "t", Scopes: store.ScopeList{store.ScopeReadOrganization},
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		status := store.InvitationPending
		if i%3 == 0 {
			status = store.InvitationAccepted
		}
		invs[i] = store.Invitation{ID: ids.New(), OrganizationID: owner(i), Email: fmt.Sprintf("i%d@example.test", i), Role: store.RoleMember,
			Status: status, TokenHash: ids.New(), ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	}
	insertAll(t, g, toks)
	insertAll(t, g, invs)
	// Grants: big's first workspace to every other organization, and each
	// of big's workspaces to the grantee (one grant per pair).
	var grants []store.WorkspaceGrant
	for _, o := range pd.orgs[1:] {
		grants = append(grants, store.WorkspaceGrant{ID: ids.New(), OrganizationID: pd.big, WorkspaceID: pd.workspace,
			GranteeOrganizationID: o, Status: store.GrantAccepted, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	for _, w := range wss[1:] {
		if w.OrganizationID == pd.big {
			grants = append(grants, store.WorkspaceGrant{ID: ids.New(), OrganizationID: pd.big, WorkspaceID: w.ID,
				GranteeOrganizationID: pd.grantee, Status: store.GrantAccepted, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		}
	}
	insertAll(t, g, grants)
	if d.Engine == db.MySQL {
		for _, table := range []string{"organizations", "users", "workspaces", "audit_events", "api_tokens", "invitations", "workspace_grants"} {
			if err := d.Exec("ANALYZE TABLE " + table).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	return pd
}

// planCase is one keyset list called with a deep cursor: 80 % into the
// list in its order (the bench's S2b).
type planCase struct {
	method string // Repository.Method, as keysetMethods finds it
	name   string // the case, when a method has several
	table  string // the table the page reads
	// lead is the column the index of the seek must start with: the
	// list's tenant scope; "id" for the platform-wide lists, which seek on
	// the PRIMARY key.
	lead string
	// list calls the method with cursor after.
	list func(ctx context.Context, s *store.Store, pd *planData, after string) error
	// ids is the list's IDs in its order (for the deep cursor).
	ids string
	// maxRead bounds the index entries the page may read on MySQL (the
	// handler counters): a seek reads about one page, a walk from the
	// organization's first entry reads thousands.
	maxRead int
}

func planCases() []planCase {
	firstN := func(n int) store.Page { return store.Page{First: n} }
	page := func(after string, n int) store.Page { p := firstN(n); p.After = after; return p }
	pending := store.InvitationPending
	return []planCase{
		{method: "Users.ListByOrganization", table: "users", lead: "organization_id", maxRead: 120,
			ids: "SELECT id FROM users WHERE organization_id = ? ORDER BY id",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Users.ListByOrganization(ctx, pd.big, page(after, 50))
				return err
			}},
		{method: "Workspaces.ListByOrganization", table: "workspaces", lead: "organization_id", maxRead: 120,
			ids: "SELECT id FROM workspaces WHERE organization_id = ? ORDER BY id",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Workspaces.ListByOrganization(ctx, pd.big, page(after, 50))
				return err
			}},
		{method: "APITokens.ListByOrganization", table: "api_tokens", lead: "organization_id", maxRead: 120,
			ids: "SELECT id FROM api_tokens WHERE organization_id = ? ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.APITokens.ListByOrganization(ctx, pd.big, page(after, 50))
				return err
			}},
		{method: "Invitations.ListByOrganization", name: "all", table: "invitations", lead: "organization_id", maxRead: 120,
			ids: "SELECT id FROM invitations WHERE organization_id = ? ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Invitations.ListByOrganization(ctx, pd.big, nil, time.Now(), page(after, 50))
				return err
			}},
		{method: "Invitations.ListByOrganization", name: "pending", table: "invitations", lead: "organization_id", maxRead: 120,
			ids: "SELECT id FROM invitations WHERE organization_id = ? AND status = 'PENDING' ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Invitations.ListByOrganization(ctx, pd.big, &pending, time.Now(), page(after, 50))
				return err
			}},
		{method: "AuditEvents.ListByOrganization", name: "all", table: "audit_events", lead: "organization_id", maxRead: 220,
			ids: "SELECT id FROM audit_events WHERE organization_id = ? ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.AuditEvents.ListByOrganization(ctx, pd.big, store.AuditFilter{}, page(after, 100))
				return err
			}},
		// S3: two actions of ten: the page reads the organization's entries
		// from the cursor down until it holds 101 rows of those actions.
		{method: "AuditEvents.ListByOrganization", name: "actions", table: "audit_events", lead: "organization_id", maxRead: 1000,
			ids: "SELECT id FROM audit_events WHERE organization_id = ? AND action IN ('workspace.created', 'user.login') ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.AuditEvents.ListByOrganization(ctx, pd.big, store.AuditFilter{Actions: []string{"workspace.created", "user.login"}}, page(after, 100))
				return err
			}},
		{method: "AuditEvents.ListByOrganization", name: "target", table: "audit_events", lead: "organization_id", maxRead: 220,
			ids: "SELECT id FROM audit_events WHERE organization_id = ? AND target_id = '@target' ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.AuditEvents.ListByOrganization(ctx, pd.big, store.AuditFilter{TargetID: pd.targetID}, page(after, 100))
				return err
			}},
		{method: "AuditEvents.ListByOrganization", name: "actor", table: "audit_events", lead: "organization_id", maxRead: 220,
			ids: "SELECT id FROM audit_events WHERE organization_id = ? AND actor_email = '@actor' ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.AuditEvents.ListByOrganization(ctx, pd.big, store.AuditFilter{ActorEmail: pd.actorEmail}, page(after, 100))
				return err
			}},
		// Platform-wide: no organization scope; the seek is on the PRIMARY key.
		{method: "AuditEvents.ListAll", name: "all", table: "audit_events", lead: "id", maxRead: 220,
			ids: "SELECT id FROM audit_events WHERE ? <> '' ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.AuditEvents.ListAll(ctx, store.AuditFilter{}, page(after, 100))
				return err
			}},
		{method: "AuditEvents.ListAll", name: "target", table: "audit_events", lead: "target_id", maxRead: 220,
			ids: "SELECT id FROM audit_events WHERE ? <> '' AND target_id = '@target' ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.AuditEvents.ListAll(ctx, store.AuditFilter{TargetID: pd.targetID}, page(after, 100))
				return err
			}},
		{method: "AuditEvents.ListAll", name: "actor", table: "audit_events", lead: "actor_email", maxRead: 220,
			ids: "SELECT id FROM audit_events WHERE ? <> '' AND actor_email = '@actor' ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.AuditEvents.ListAll(ctx, store.AuditFilter{ActorEmail: pd.actorEmail}, page(after, 100))
				return err
			}},
		{method: "Organizations.ListAll", table: "organizations", lead: "id", maxRead: 120,
			ids: "SELECT id FROM organizations WHERE ? <> '' ORDER BY id",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Organizations.ListAll(ctx, page(after, 50))
				return err
			}},
		{method: "Organizations.Search", table: "organizations", lead: "id", maxRead: 120,
			ids: "SELECT id FROM organizations WHERE ? <> '' AND status = 'ACTIVE' ORDER BY id",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Organizations.Search(ctx, store.OrganizationFilter{Status: store.OrganizationActive}, page(after, 50))
				return err
			}},
		// Grants: the owner's grants of one workspace, and the grants offered
		// to a grantee (scoped by grantee_organization_id).
		{method: "Grants.ListByWorkspace", table: "workspace_grants", lead: "organization_id", maxRead: 120,
			ids: "SELECT id FROM workspace_grants WHERE organization_id = ? AND workspace_id = '@workspace' ORDER BY id",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Grants.ListByWorkspace(ctx, pd.big, pd.workspace, page(after, 20))
				return err
			}},
		{method: "Grants.ListIncoming", table: "workspace_grants", lead: "grantee_organization_id", maxRead: 120,
			ids: "SELECT id FROM workspace_grants WHERE grantee_organization_id = '@grantee' AND ? <> '' ORDER BY id DESC",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Grants.ListIncoming(ctx, pd.grantee, page(after, 50))
				return err
			}},
		// The workspaces a grantee holds live grants on: a range on the
		// grants by grantee from the cursor, each workspace by primary key.
		{method: "Grants.SharedWith", table: "workspace_grants", lead: "grantee_organization_id", maxRead: 150,
			ids: "SELECT id FROM workspaces WHERE ? <> '' AND id IN (SELECT workspace_id FROM workspace_grants WHERE grantee_organization_id = '@grantee') ORDER BY id",
			list: func(ctx context.Context, s *store.Store, pd *planData, after string) error {
				_, _, err := s.Grants.SharedWith(ctx, pd.grantee, page(after, 50), time.Now())
				return err
			}},
	}
}

// keysetMethods finds every method of internal/store that pages with
// keyset: the lists TestKeysetPlans must cover.
func keysetMethods(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Recv == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				fun := call.Fun
				if ix, ok := fun.(*ast.IndexExpr); ok {
					fun = ix.X
				}
				if id, ok := fun.(*ast.Ident); ok && strings.HasPrefix(id.Name, "keyset") && id.Name != "keysetQuery" {
					found[recvName(fn)+"."+fn.Name.Name] = true
				}
				return true
			})
		}
	}
	var out []string
	for m := range found {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func recvName(fn *ast.FuncDecl) string {
	typ := fn.Recv.List[0].Type
	if st, ok := typ.(*ast.StarExpr); ok {
		typ = st.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name
	}
	return "?"
}

// TestKeysetPlans checks that every keyset list seeks: with a cursor deep
// into a large organization, the page query is an index range that starts
// at the cursor, on an index leading with the list's scope column
// (organization_id; grantee_organization_id for grants offered to a
// grantee; the PRIMARY key for the platform-wide lists), and reads about a
// page of index entries. On MariaDB it runs EXPLAIN on the exact statement
// the store issued (type must be range, the key's first column the scope)
// and counts the index entries read (Handler_read_next/prev and
// Handler_icp_attempts): before FORCE INDEX, users 16,000 deep planned as
// ref on organization_id and read 16,000 entries (issue 12). On SQLite it
// runs EXPLAIN QUERY PLAN: a SEARCH on such an index with the scope
// equality and the id bound, and no temporary B-tree for the ORDER BY.
// The cases are checked against the methods that call keyset, so a new
// list without a case fails.
func TestKeysetPlans(t *testing.T) {
	cases := planCases()
	var covered []string
	for _, c := range cases {
		if !slices.Contains(covered, c.method) {
			covered = append(covered, c.method)
		}
	}
	sort.Strings(covered)
	if want := keysetMethods(t); !slices.Equal(covered, want) {
		t.Fatalf("keyset lists in internal/store: %v\ncases of TestKeysetPlans: %v\nadd a case for every keyset list (and drop cases of removed lists)", want, covered)
	}
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		pd := newPlanData(t, d)
		capt := captureQueries(t, d)
		s := store.New(d.DB)
		ctx := context.Background()
		for _, c := range cases {
			name := c.method
			if c.name != "" {
				name += "/" + c.name
			}
			t.Run(name, func(t *testing.T) {
				idsQuery := strings.NewReplacer("'@workspace'", "'"+pd.workspace+"'", "'@grantee'", "'"+pd.grantee+"'",
					"'@target'", "'"+pd.targetID+"'", "'@actor'", "'"+pd.actorEmail+"'").Replace(c.ids)
				var all []string
				if err := d.Raw(idsQuery, pd.big).Scan(&all).Error; err != nil {
					t.Fatal(err)
				}
				if len(all) < 100 {
					t.Fatalf("only %d rows in the list: the data set is too small to tell a seek from a walk", len(all))
				}
				after := store.Cursor(all[len(all)*4/5])
				q := capt.one(t, func() error { return c.list(ctx, s, pd, after) })
				if d.Engine == db.MySQL {
					checkMySQLPlan(t, d, c, q)
				} else {
					checkSQLitePlan(t, d, c, q)
				}
			})
		}
	})
}

type capturedQuery struct {
	sql  string
	vars []any
}

type queryCapture struct {
	mu   sync.Mutex
	on   bool
	seen []capturedQuery
}

// captureQueries records the SELECTs GORM runs on d while one() is
// recording.
func captureQueries(t *testing.T, d *db.DB) *queryCapture {
	t.Helper()
	c := &queryCapture{}
	capture := func(tx *gorm.DB) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.on && !tx.DryRun && tx.Statement.SQL.Len() > 0 {
			c.seen = append(c.seen, capturedQuery{tx.Statement.SQL.String(), slices.Clone(tx.Statement.Vars)})
		}
	}
	// Query: Find; Row: the pages scanned with explicit columns (Rows).
	if err := d.Callback().Query().After("gorm:query").Register("plans_test:capture", capture); err != nil {
		t.Fatal(err)
	}
	if err := d.Callback().Row().After("gorm:row").Register("plans_test:capture", capture); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.Callback().Query().Remove("plans_test:capture")
		_ = d.Callback().Row().Remove("plans_test:capture")
	})
	return c
}

// one runs f and returns the one statement it issued.
func (c *queryCapture) one(t *testing.T, f func() error) capturedQuery {
	t.Helper()
	c.mu.Lock()
	c.on, c.seen = true, nil
	c.mu.Unlock()
	err := f()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	if err != nil {
		t.Fatal(err)
	}
	if len(c.seen) != 1 {
		t.Fatalf("want one statement, the list issued %d: %v", len(c.seen), c.seen)
	}
	return c.seen[0]
}

// rowsOf reads every row of a result as strings by column name.
func rowsOf(t *testing.T, query func() (*sql.Rows, error)) []map[string]string {
	t.Helper()
	rows, err := query()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, col := range cols {
			m[strings.ToLower(col)] = vals[i].String
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkMySQLPlan(t *testing.T, d *db.DB, c planCase, q capturedQuery) {
	t.Helper()
	ctx := context.Background()
	conn, err := d.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	plan := rowsOf(t, func() (*sql.Rows, error) { return conn.QueryContext(ctx, "EXPLAIN "+q.sql, q.vars...) })
	var row map[string]string
	for _, r := range plan {
		if r["table"] == c.table && row == nil {
			row = r
		}
	}
	if row == nil {
		t.Fatalf("%s\nplan without table %s: %v", q.sql, c.table, plan)
	}
	t.Logf("%s\nEXPLAIN: type=%s key=%s rows=%s extra=%q", q.sql, row["type"], row["key"], row["rows"], row["extra"])
	if row["type"] != "range" {
		t.Errorf("type=%s key=%s, want a range seek from the cursor (type=ref walks the organization from its first entry)", row["type"], row["key"])
	}
	if strings.Contains(row["extra"], "filesort") {
		t.Errorf("the page is sorted (%q): the index must give the order", row["extra"])
	}
	var first string
	err = conn.QueryRowContext(ctx, "SELECT column_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? AND seq_in_index = 1",
		c.table, row["key"]).Scan(&first)
	if err != nil {
		t.Fatalf("index %s of %s: %v", row["key"], c.table, err)
	}
	if first != c.lead {
		t.Errorf("key %s leads with %s, want %s", row["key"], first, c.lead)
	}
	// Index entries read by the page, from the session's handler counters.
	if _, err := conn.ExecContext(ctx, "FLUSH STATUS"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, q.sql, q.vars...)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	_ = rows.Close()
	read := 0
	for _, r := range rowsOf(t, func() (*sql.Rows, error) {
		return conn.QueryContext(ctx, "SHOW SESSION STATUS WHERE Variable_name IN ('Handler_read_next', 'Handler_read_prev', 'Handler_icp_attempts', 'Handler_read_rnd_next')")
	}) {
		var n int
		_, _ = fmt.Sscan(r["value"], &n)
		read += n
	}
	t.Logf("index entries read: %d", read)
	if read > c.maxRead {
		t.Errorf("the page read %d index entries, want at most %d: it does not seek from the cursor", read, c.maxRead)
	}
}

func checkSQLitePlan(t *testing.T, d *db.DB, c planCase, q capturedQuery) {
	t.Helper()
	plan := rowsOf(t, func() (*sql.Rows, error) {
		return d.SQL().QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q.sql, q.vars...)
	})
	var details []string
	for _, r := range plan {
		details = append(details, r["detail"])
	}
	t.Logf("%s\nEXPLAIN QUERY PLAN: %s", q.sql, strings.Join(details, " | "))
	var search string
	for _, det := range details {
		if strings.HasPrefix(det, "SEARCH "+c.table+" ") && search == "" {
			search = det
		}
		if strings.Contains(det, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("the page is sorted (%q): the index must give the order", det)
		}
	}
	// "SEARCH users USING INDEX users_organization (organization_id=? AND id>?)",
	// or COVERING INDEX; the PRIMARY key of a TEXT id is its autoindex.
	bound := "id>?"
	if strings.Contains(q.sql, "id < ?") || strings.Contains(q.sql, "id <") {
		bound = "id<?"
	}
	want := c.lead + "=? AND "
	if c.lead == "id" {
		want = "(" + bound + ")"
	}
	if search == "" || !strings.Contains(search, " INDEX ") || !strings.Contains(search, want) || !strings.Contains(search, bound+")") {
		t.Errorf("plan %q, want SEARCH %s USING INDEX ... (%s... %s)", details, c.table, strings.TrimSuffix(want, " AND "), bound)
	}
}
