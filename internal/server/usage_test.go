package server_test

import (
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

// fakeClock is a settable clock for the usage records.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

const usageReportQuery = `query($id: ID!, $since: Time!, $until: Time!) { organization(id: $id) {
  usageReport(since: $since, until: $until) { since until workspaceHours cpuCoreHours memoryGbHours storageGbHours peakUsers activeUsers } } }`

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// usageExport GETs /usage/export with a Bearer token.
func usageGet(t *testing.T, env *apitest.Env, token, path string, q url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, env.Server.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestUsageReportExactHours: known start/stop sequences under an injected
// clock give exact hours, for the whole history, for a window that clips
// intervals at both edges (a workspace deleted inside it), and for a window
// reaching past now (open intervals end at now); the CSV export answers the
// same numbers per workspace.
func TestUsageReportExactHours(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		base := time.Now().UTC().Truncate(time.Hour).Add(-48 * time.Hour)
		clock := &fakeClock{now: base}
		env := apitest.New(t, d, apitest.WithClock(clock.Now))
		admin := env.Register("admin@usage.test", "Usage Co")
		at := func(h float64) { clock.Set(base.Add(time.Duration(h * float64(time.Hour)))) }
		update := func(id string, in map[string]any) {
			env.Do(admin.Token, `mutation($id: ID!, $in: UpdateWorkspaceInput!) { updateWorkspace(id: $id, input: $in) { id } }`,
				map[string]any{"id": id, "in": in}).OK(t)
		}
		at(0)
		ws1 := env.CreateWorkspace(admin, "one") // 2 cores, 4096 MB, 20 GB, AVAILABLE
		at(1)
		update(ws1, map[string]any{"status": "RUNNING"})
		at(2)
		ws2 := env.CreateWorkspace(admin, "two")
		at(2.5)
		update(ws2, map[string]any{"status": "RUNNING"})
		at(3)
		update(ws1, map[string]any{"cpuCores": 4})
		at(3.25)
		update(ws1, map[string]any{"description": "not billed: no new interval"})
		at(4)
		update(ws1, map[string]any{"status": "STOPPED"})
		at(5)
		env.Do(admin.Token, `mutation($id: ID!) { deleteWorkspace(id: $id) }`, map[string]any{"id": ws2}).OK(t)
		at(10)

		report := func(since, until float64) *apitest.Response {
			return env.Do(admin.Token, usageReportQuery, map[string]any{"id": admin.OrgID,
				"since": rfc(base.Add(time.Duration(since * float64(time.Hour)))),
				"until": rfc(base.Add(time.Duration(until * float64(time.Hour))))}).OK(t)
		}
		want := func(r *apitest.Response, wh, cpu, mem, storage float64) {
			t.Helper()
			got := []float64{}
			for _, f := range []string{"workspaceHours", "cpuCoreHours", "memoryGbHours", "storageGbHours"} {
				got = append(got, r.Get("data.organization.usageReport."+f).Float())
			}
			if exp := []float64{wh, cpu, mem, storage}; !equalFloats(got, exp) {
				t.Errorf("workspace, cpu, memory, storage hours = %v, want %v", got, exp)
			}
		}
		// ws1 runs 1h-4h (2 cores until 3h, then 4), exists 0h-now; ws2
		// runs 2.5h-5h, exists 2h-5h. Memory 4 GiB, storage 20 GB each.
		want(report(0, 10), 5.5, 13, 22, 260)
		want(report(-100, 100), 5.5, 13, 22, 260) // nothing before the first record, nothing after now
		want(report(3.5, 4.5), 1.5, 4, 6, 40)     // clipped at both edges
		want(report(4.5, 6), 0.5, 1, 2, 40)       // ws2 deleted mid-window
		want(report(9, 20), 0, 0, 0, 20)          // open interval counted up to now only
		r := report(0, 10)
		if r.Get("data.organization.usageReport.since").String() != rfc(base) {
			t.Errorf("since = %s", r.Get("data.organization.usageReport.since"))
		}

		// The same numbers per workspace, as CSV.
		res, body := usageGet(t, env, admin.Token, "/usage/export", url.Values{"organization": {admin.OrgID},
			"since": {rfc(base)}, "until": {rfc(base.Add(10 * time.Hour))}})
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || strings.Join(rows[0], ",") != "organization_id,workspace_id,workspace_name,since,until,workspace_hours,cpu_core_hours,memory_gb_hours,storage_gb_hours" {
			t.Fatalf("export rows: %q", rows)
		}
		lines := map[string]string{}
		for _, row := range rows[1:] {
			if row[0] != admin.OrgID || row[3] != rfc(base) || row[4] != rfc(base.Add(10*time.Hour)) {
				t.Errorf("row %q: organization or window", row)
			}
			lines[row[1]] = strings.Join(append([]string{row[2]}, row[5:]...), ",")
		}
		if lines[ws1] != "one,3,8,12,200" || lines[ws2] != "two,2.5,5,10,60" {
			t.Errorf("per-workspace lines = %v", lines)
		}
	})
}

func equalFloats(a, b []float64) bool {
	for i := range a {
		if d := a[i] - b[i]; d > 1e-9 || d < -1e-9 {
			return false
		}
	}
	return len(a) == len(b)
}

// TestUsageReportUsers: peakUsers is the highest user count during the
// window (from the history of the count), activeUsers the distinct users
// who signed in during it.
func TestUsageReportUsers(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		start := time.Now().UTC().Add(-time.Minute)
		admin := env.Register("admin@users.test", "Users Co")
		env.Invite(admin, "member@users.test", "MEMBER")
		env.Invite(admin, "other@users.test", "MEMBER")
		for range 2 {
			env.Do("", `mutation { login(input: {email: "member@users.test", password: "password-member@users.test"}) { token } }`, nil).OK(t)
		}
		env.Do("", `mutation { login(input: {email: "member@users.test", password: "wrong-password"}) { token } }`, nil)
		before := env.Do(admin.Token, usageReportQuery, map[string]any{"id": admin.OrgID,
			"since": rfc(start.Add(-time.Hour)), "until": rfc(start)}).OK(t)
		r := env.Do(admin.Token, usageReportQuery, map[string]any{"id": admin.OrgID,
			"since": rfc(start), "until": rfc(time.Now().Add(time.Minute))}).OK(t)
		if got := r.Get("data.organization.usageReport.peakUsers").Int(); got != 3 {
			t.Errorf("peakUsers = %d, want 3", got)
		}
		if got := r.Get("data.organization.usageReport.activeUsers").Int(); got != 1 {
			t.Errorf("activeUsers = %d, want 1 (one user signed in twice; a failed sign-in does not count)", got)
		}
		if p, a := before.Get("data.organization.usageReport.peakUsers").Int(), before.Get("data.organization.usageReport.activeUsers").Int(); p != 0 || a != 0 {
			t.Errorf("before the organization existed: peakUsers %d activeUsers %d, want 0 0", p, a)
		}
	})
}

// TestUsageReportRules: bad windows are BAD_USER_INPUT naming until; a
// member is FORBIDDEN; the export answers like the API: no token 401, a
// foreign organization 404 exactly like a random one (and audited), a
// member 403, a platform administrator 200.
func TestUsageReportRules(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@rules.test", "Rules Co")
		member := env.Invite(admin, "member@rules.test", "MEMBER")
		other := env.Register("admin@other.test", "Other Co")
		now := time.Now().UTC()
		for _, c := range []struct{ since, until time.Time }{{now, now}, {now, now.Add(-time.Hour)}, {now.Add(-367 * 24 * time.Hour), now}} {
			r := env.Do(admin.Token, usageReportQuery, map[string]any{"id": admin.OrgID, "since": rfc(c.since), "until": rfc(c.until)}).Want(t, "BAD_USER_INPUT")
			if r.Get("errors.0.extensions.field").String() != "until" {
				t.Errorf("field = %s", r.Get("errors.0.extensions.field"))
			}
		}
		vars := map[string]any{"id": admin.OrgID, "since": rfc(now.Add(-time.Hour)), "until": rfc(now)}
		env.Do(member.Token, usageReportQuery, vars).Want(t, "FORBIDDEN")
		env.Do(other.Token, usageReportQuery, vars).Want(t, "NOT_FOUND")

		q := func(org string) url.Values {
			return url.Values{"organization": {org}, "since": {rfc(now.Add(-time.Hour))}, "until": {rfc(now)}}
		}
		if res, _ := usageGet(t, env, "", "/usage/export", q(admin.OrgID)); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("no token: %d", res.StatusCode)
		}
		if res, _ := usageGet(t, env, member.Token, "/usage/export", q(admin.OrgID)); res.StatusCode != http.StatusForbidden {
			t.Errorf("member: %d", res.StatusCode)
		}
		denied := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied'")
		res, foreign := usageGet(t, env, other.Token, "/usage/export", q(admin.OrgID))
		res2, random := usageGet(t, env, other.Token, "/usage/export", q(ids.Encode(ids.Organization, ids.New())))
		if res.StatusCode != http.StatusNotFound || res2.StatusCode != http.StatusNotFound ||
			stripRequestID(foreign) != stripRequestID(random) {
			t.Errorf("foreign %d %s, random %d %s", res.StatusCode, foreign, res2.StatusCode, random)
		}
		if got := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied'"); got <= denied {
			t.Errorf("the foreign export was not audited as access.denied")
		}
		bad := q(admin.OrgID)
		bad.Set("since", "yesterday")
		if res, body := usageGet(t, env, admin.Token, "/usage/export", bad); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "since") {
			t.Errorf("bad since: %d %s", res.StatusCode, body)
		}
		env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", "admin@other.test")
		if res, body := usageGet(t, env, other.Token, "/usage/export", q(admin.OrgID)); res.StatusCode != http.StatusOK {
			t.Errorf("platform admin: %d %s", res.StatusCode, body)
		}
	})
}

// stripRequestID drops the per-request ID from an error body.
func stripRequestID(body string) string {
	if i := strings.Index(body, `"requestId":"`); i >= 0 {
		if j := strings.Index(body[i+13:], `"`); j >= 0 {
			return body[:i] + body[i+13+j:]
		}
	}
	return body
}
