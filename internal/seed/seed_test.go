package seed_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/seed"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// tiny is a data set small enough for a test, with the shape of the large
// one: a big organization holding half the users.
func tiny() seed.Options {
	return seed.Options{Organizations: 5, Users: 60, BigOrgUsers: 30, Workspaces: 20, BigOrgWorkspaces: 8, AuditEvents: 500, Seed: 42}
}

func run(t *testing.T, d *db.DB, o seed.Options) *seed.Result {
	t.Helper()
	var progress strings.Builder
	res, err := seed.Run(context.Background(), d, o, &progress)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if !strings.Contains(progress.String(), "audit_events") {
		t.Errorf("progress does not report the audit events:\n%s", progress.String())
	}
	return res
}

func TestSeed(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			o := tiny()
			d := testdb.New(t, e)
			indexes := indexNames(t, d)
			res := run(t, d, o)
			if after := indexNames(t, d); !slices.Equal(after, indexes) {
				t.Errorf("indexes before the seed:\n%v\nafter:\n%v", indexes, after)
			}
			checkCounts(t, d, o, res)
			checkCounters(t, d)
			checkOrder(t, d, res)

			// Same options into a fresh database: the same rows and IDs.
			d2 := testdb.New(t, e)
			res2 := run(t, d2, o)
			if a, b := digest(t, d, res.PlatformOrgID), digest(t, d2, res2.PlatformOrgID); a != b {
				t.Errorf("two runs with seed %d differ: digest %s and %s", o.Seed, a, b)
			}
			if res.BigOrgID != res2.BigOrgID || res.BigOrgAdminID != res2.BigOrgAdminID || res.PlatformAdminID != res2.PlatformAdminID {
				t.Errorf("two runs give different IDs: %+v and %+v", res, res2)
			}
			// Another seed: other IDs.
			o3 := o
			o3.Seed++
			if res3 := run(t, testdb.New(t, e), o3); res3.BigOrgID == res.BigOrgID {
				t.Errorf("seeds %d and %d gave the same big organization ID %s", o.Seed, o3.Seed, res.BigOrgID)
			}

			// A second run into the same database refuses, and writes nothing.
			before := count(t, d, "SELECT COUNT(*) FROM users")
			if _, err := seed.Run(context.Background(), d, o, nil); err == nil || !strings.Contains(err.Error(), "fresh database") {
				t.Errorf("second seed into the same database: %v, want a refusal naming a fresh database", err)
			}
			if after := count(t, d, "SELECT COUNT(*) FROM users"); after != before {
				t.Errorf("the refused seed wrote users: %d then %d", before, after)
			}

			checkAPI(t, d, o, res)
		})
	}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// checkCounts: the rows Run reports are in the tables, in the shape asked.
func checkCounts(t *testing.T, d *db.DB, o seed.Options, res *seed.Result) {
	t.Helper()
	want := map[string]int64{
		"organizations": int64(o.Organizations), "users": int64(o.Users) + 1, "workspaces": int64(o.Workspaces),
		"workspace_usage": int64(o.Workspaces), "organization_user_events": int64(o.Organizations) + 1,
		"audit_events": int64(o.AuditEvents) + 1,
	}
	for table, n := range want {
		if res.Counts[table] != n {
			t.Errorf("Counts[%s] = %d, want %d", table, res.Counts[table], n)
		}
	}
	if n := count(t, d, "SELECT COUNT(*) FROM organizations WHERE kind = 'TENANT'"); n != int64(o.Organizations) {
		t.Errorf("%d tenant organizations, want %d", n, o.Organizations)
	}
	for q, n := range map[string]int64{
		"SELECT COUNT(*) FROM users WHERE organization_id = ?":                                int64(o.BigOrgUsers),
		"SELECT COUNT(*) FROM workspaces WHERE organization_id = ?":                           int64(o.BigOrgWorkspaces),
		"SELECT COUNT(*) FROM audit_events WHERE organization_id = ?":                         int64(o.AuditEvents / 2),
		"SELECT COUNT(*) FROM users WHERE organization_id = ? AND role = 'ADMIN'":             1,
		"SELECT COUNT(*) FROM users WHERE organization_id = ? AND status <> 'ACTIVE'":         0,
		"SELECT COUNT(*) FROM users WHERE organization_id = ? AND email_verified_at IS NULL":  0,
		"SELECT COUNT(*) FROM audit_events WHERE organization_id = ? AND actor_email IS NULL": 0,
	} {
		if got := count(t, d, q, res.BigOrgID); got != n {
			t.Errorf("%s: %d, want %d", q, got, n)
		}
	}
	// Every organization has exactly one ADMIN, its first user.
	if n := count(t, d, `SELECT COUNT(*) FROM organizations o WHERE o.kind = 'TENANT' AND 1 <> (SELECT COUNT(*) FROM users u
		WHERE u.organization_id = o.id AND u.role = 'ADMIN' AND u.id = (SELECT MIN(id) FROM users f WHERE f.organization_id = o.id))`); n != 0 {
		t.Errorf("%d organizations whose first user is not their only ADMIN", n)
	}
	// S3's filter matches about a third of the big organization's events.
	n := count(t, d, "SELECT COUNT(*) FROM audit_events WHERE organization_id = ? AND action IN ('workspace.created', 'user.login')", res.BigOrgID)
	if n < int64(o.AuditEvents/2)/5 || n > int64(o.AuditEvents/2)/2 {
		t.Errorf("%d of the big organization's %d events are workspace.created or user.login, want about a third", n, o.AuditEvents/2)
	}
	if n := count(t, d, "SELECT COUNT(*) FROM users WHERE platform_admin = ? AND id = ? AND organization_id = ?", true, res.PlatformAdminID, res.PlatformOrgID); n != 1 {
		t.Errorf("the platform administrator %s is not a platform_admin of the default organization %s", res.PlatformAdminID, res.PlatformOrgID)
	}
}

// checkCounters: every organization's denormalised counters equal the
// COUNT/SUM over its rows, and the usage tables agree with them.
func checkCounters(t *testing.T, d *db.DB) {
	t.Helper()
	for what, q := range map[string]string{
		"user_count":      "user_count <> (SELECT COUNT(*) FROM users u WHERE u.organization_id = o.id)",
		"workspace_count": "workspace_count <> (SELECT COUNT(*) FROM workspaces w WHERE w.organization_id = o.id)",
		"cpu_cores":       "cpu_cores <> (SELECT COALESCE(SUM(cpu_cores), 0) FROM workspaces w WHERE w.organization_id = o.id)",
		"memory_mb":       "memory_mb <> (SELECT COALESCE(SUM(memory_mb), 0) FROM workspaces w WHERE w.organization_id = o.id)",
		"storage_gb":      "storage_gb <> (SELECT COALESCE(SUM(storage_gb), 0) FROM workspaces w WHERE w.organization_id = o.id)",
		"user events":     "user_count <> (SELECT COALESCE(SUM(delta), 0) FROM organization_user_events e WHERE e.organization_id = o.id)",
		"open usage":      "workspace_count <> (SELECT COUNT(*) FROM workspace_usage u WHERE u.organization_id = o.id AND u.ended_at > ?)",
		"usage cpu":       "cpu_cores <> (SELECT COALESCE(SUM(cpu_cores), 0) FROM workspace_usage u WHERE u.organization_id = o.id)",
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, "9000-01-01")
		}
		if n := count(t, d, "SELECT COUNT(*) FROM organizations o WHERE "+q, args...); n != 0 {
			t.Errorf("%s: %d organizations whose counter disagrees with their rows", what, n)
		}
	}
	if got, want := count(t, d, store.CountOrganizationsSQL), count(t, d, "SELECT COUNT(*) FROM organizations"); got != want {
		t.Errorf("organization_counts sums to %d, %d organizations", got, want)
	}
	if n := count(t, d, "SELECT COUNT(*) FROM organizations WHERE max_users IS NOT NULL OR max_workspaces IS NOT NULL OR max_cpu_cores IS NOT NULL"); n != 0 {
		t.Errorf("%d organizations with a quota, want none (unlimited)", n)
	}
}

// checkOrder: IDs sort in creation order, for users and audit events.
func checkOrder(t *testing.T, d *db.DB, res *seed.Result) {
	t.Helper()
	for _, table := range []string{"users", "audit_events"} {
		byID := column(t, d, "SELECT id FROM "+table+" WHERE organization_id = ? ORDER BY id", res.BigOrgID)
		byTime := column(t, d, "SELECT id FROM "+table+" WHERE organization_id = ? ORDER BY created_at", res.BigOrgID)
		if !slices.Equal(byID, byTime) {
			t.Errorf("%s: the order by id is not the order of creation", table)
		}
	}
	emails := column(t, d, "SELECT email FROM users WHERE organization_id = ? ORDER BY id", res.BigOrgID)
	if emails[0] != res.BigOrgAdminEmail || !slices.IsSorted(emails) {
		t.Errorf("the big organization's users by id: %v, want %s first and the emails in creation order", emails, res.BigOrgAdminEmail)
	}
}

func column(t *testing.T, d *db.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := d.SQL().Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// indexNames lists every index of the database (the seed drops some for
// the load and must put them all back).
func indexNames(t *testing.T, d *db.DB) []string {
	t.Helper()
	q := "SELECT tbl_name || '.' || name || ' ' || COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' ORDER BY 1"
	if d.Engine == db.MySQL {
		q = `SELECT CONCAT(TABLE_NAME, '.', INDEX_NAME, ' ', NON_UNIQUE, ' ', GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)) AS ix
			FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE ORDER BY ix`
	}
	list := column(t, d, q)
	if len(list) < 10 {
		t.Fatalf("only %d indexes: %v", len(list), list)
	}
	return list
}

// digest hashes the seeded rows (password hashes aside: salted), with the
// default organization's ID, made by the migrations, replaced by a name.
// Its rows are read as strings: times in the engine's own format.
func digest(t *testing.T, d *db.DB, defaultOrg string) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		"SELECT id, name, name_key, slug, user_count, workspace_count, cpu_cores, memory_mb, storage_gb, created_at FROM organizations WHERE kind = 'TENANT' ORDER BY id",
		"SELECT id, organization_id, email, name, role, platform_admin, status, created_at FROM users ORDER BY id",
		"SELECT id, organization_id, name, type, connection_type, status, cpu_cores, memory_mb, storage_gb, created_at FROM workspaces ORDER BY id",
		"SELECT id, organization_id, workspace_id, status, cpu_cores, started_at, ended_at FROM workspace_usage ORDER BY id",
		"SELECT id, organization_id, delta, created_at FROM organization_user_events ORDER BY id",
		"SELECT id, organization_id, action, outcome, actor_id, actor_email, target_type, target_id, metadata, ip_address, created_at FROM audit_events" +
			" WHERE action <> 'organization.created' ORDER BY id", // not the migrations' events
	} {
		rows, err := d.SQL().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				s := v.String
				if s == defaultOrg {
					s = "DEFAULT"
				}
				fmt.Fprintf(h, "%q,", s)
			}
			h.Write([]byte("\n"))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkAPI signs in as the seeded administrators through the real HTTP
// handler and reads what the benchmark scenarios read.
func checkAPI(t *testing.T, d *db.DB, o seed.Options, res *seed.Result) {
	t.Helper()
	env := apitest.New(t, d)
	const login = `mutation($in: LoginInput!) { login(input: $in) { token } }`
	signIn := func(email string) string {
		r := env.Do("", login, map[string]any{"in": map[string]any{"email": email, "password": res.Password}}).OK(t)
		return r.Get("data.login.token").String()
	}
	admin := signIn(res.BigOrgAdminEmail)
	org := ids.Encode(ids.Organization, res.BigOrgID)
	r := env.Do(admin, `query($id: ID!) { organization(id: $id) { users(first: 50) { totalCount pageInfo { hasNextPage }
		nodes { id email role status } } } }`, map[string]any{"id": org}).OK(t)
	if n := r.Get("data.organization.users.totalCount").Int(); n != int64(o.BigOrgUsers) {
		t.Errorf("the big organization's admin sees %d users, want %d", n, o.BigOrgUsers)
	}
	if first := r.Get("data.organization.users.nodes.0"); first.Get("email").String() != res.BigOrgAdminEmail || first.Get("role").String() != "ADMIN" {
		t.Errorf("first user of the big organization: %s, want its ADMIN %s", first.Raw, res.BigOrgAdminEmail)
	}
	r = env.Do(admin, `query($id: ID!) { organization(id: $id) { auditEvents(first: 100, filter: {actions: ["workspace.created", "user.login"]}) {
		nodes { action actorEmail targetType } } } }`, map[string]any{"id": org}).OK(t)
	events := r.Get("data.organization.auditEvents.nodes").Array()
	if len(events) == 0 {
		t.Errorf("S3's filter finds no events of the big organization")
	}
	for _, e := range events {
		if a := e.Get("action").String(); (a != "workspace.created" && a != "user.login") || e.Get("actorEmail").String() == "" {
			t.Errorf("S3 event %s: want workspace.created or user.login with an actor", e.Raw)
		}
	}

	platform := signIn(res.PlatformAdminEmail)
	r = env.Do(platform, `{ organizations(first: 50) { totalCount nodes { id name userCount workspaceCount } } }`, nil).OK(t)
	// Every seeded organization and the default one, the platform
	// administrator's.
	if n := r.Get("data.organizations.totalCount").Int(); n != int64(o.Organizations)+1 {
		t.Errorf("the platform administrator sees %d organizations, want %d", n, o.Organizations+1)
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []seed.Options{seed.Large(), seed.Small(), tiny(),
		{Organizations: 1, Users: 1, BigOrgUsers: 1}} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	for _, c := range []struct {
		edit func(*seed.Options)
		want string
	}{
		{func(o *seed.Options) { o.Organizations = 0 }, "organizations must be at least 1"},
		{func(o *seed.Options) { o.BigOrgUsers = 0 }, "big-org-users must be at least 1"},
		{func(o *seed.Options) { o.BigOrgUsers = o.Users + 1 }, "must not exceed users"},
		{func(o *seed.Options) { o.Users = o.BigOrgUsers + 2 }, "at least one user"},
		{func(o *seed.Options) { o.BigOrgWorkspaces = o.Workspaces + 1 }, "must not exceed workspaces"},
		{func(o *seed.Options) { o.AuditEvents = -1 }, "audit-events must be between"},
	} {
		o := tiny()
		c.edit(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", o, err, c.want)
		}
	}
	if l, s := seed.Large(), seed.Small(); l.Users != 100000 || l.BigOrgUsers != 50000 || l.AuditEvents != 1000000 ||
		s.Organizations != 100 || s.Users != 10000 || s.BigOrgUsers != 5000 || s.Workspaces != 2000 || s.BigOrgWorkspaces != 500 || s.AuditEvents != 100000 {
		t.Errorf("Large %+v, Small %+v: not issue 12's data sets", l, s)
	}
}
