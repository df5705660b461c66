package server_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

const rootAuditQuery = `query($first: Int, $after: String, $f: AuditEventFilter) { auditEvents(first: $first, after: $after, filter: $f) {
  pageInfo { hasNextPage endCursor } nodes { id action outcome organizationId actorEmail targetType targetId } } }`

// TestRootAuditEvents: Query.auditEvents is for platform administrators
// and lists every organization's events and the platform events of none
// (a failed sign-in for an unknown address); targetType, targetId and
// actorEmail filter it and Organization.auditEvents alike; paging walks
// the whole list once.
func TestRootAuditEvents(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		acme := env.Register("admin@acme-audit.test", "Acme Audit")
		globex := env.Register("admin@globex-audit.test", "Globex Audit")
		ws := env.CreateWorkspace(globex, "tracked")
		env.Do(globex.Token, `mutation($id: ID!) { updateWorkspace(id: $id, input: {description: "x"}) { id } }`, map[string]any{"id": ws}).OK(t)
		env.Do("", `mutation { login(input: {email: "nobody@unknown-audit.test", password: "whatever-123"}) { token } }`, nil).Want(t, "UNAUTHENTICATED")
		operator := env.Register("operator@ops-audit.test", "Ops Audit")
		env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", "operator@ops-audit.test")

		env.Do(acme.Token, rootAuditQuery, nil).Want(t, "FORBIDDEN")
		env.Do("", rootAuditQuery, nil).Want(t, "UNAUTHENTICATED")

		// Walk every page: each event once, newest first, both
		// organizations and the platform event included.
		var all []map[string]any
		seen := map[string]bool{}
		var after any
		for range 50 {
			r := env.Do(operator.Token, rootAuditQuery, map[string]any{"first": 3, "after": after}).OK(t)
			for _, n := range r.Get("data.auditEvents.nodes").Array() {
				id := n.Get("id").String()
				if seen[id] {
					t.Fatalf("event %s listed twice", id)
				}
				seen[id] = true
				all = append(all, n.Value().(map[string]any))
			}
			if !r.Get("data.auditEvents.pageInfo.hasNextPage").Bool() {
				break
			}
			after = r.Get("data.auditEvents.pageInfo.endCursor").String()
		}
		if want := env.Count("SELECT COUNT(*) FROM audit_events"); len(all) != want {
			t.Errorf("walked %d events, the trail has %d", len(all), want)
		}
		orgs := map[any]bool{}
		unknownFailed := false
		for _, e := range all {
			orgs[e["organizationId"]] = true
			if e["action"] == "user.login_failed" && e["actorEmail"] == "nobody@unknown-audit.test" {
				unknownFailed = true
			}
		}
		if !orgs[acme.OrgID] || !orgs[globex.OrgID] || !unknownFailed {
			t.Errorf("missing events: organizations %v, failed sign-in of an unknown address %v", orgs, unknownFailed)
		}
		if env.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id IS NULL") == 0 {
			t.Errorf("no platform event in the fixture")
		}

		// Search, root and organization alike.
		root := func(f map[string]any) []string {
			t.Helper()
			r := env.Do(operator.Token, rootAuditQuery, map[string]any{"first": 100, "f": f}).OK(t)
			var out []string
			for _, n := range r.Get("data.auditEvents.nodes").Array() {
				out = append(out, n.Get("action").String())
			}
			return out
		}
		org := func(tok, orgID string, f map[string]any) []string {
			t.Helper()
			r := env.Do(tok, `query($id: ID!, $f: AuditEventFilter) { organization(id: $id) { auditEvents(first: 100, filter: $f) { nodes { action } } } }`,
				map[string]any{"id": orgID, "f": f}).OK(t)
			var out []string
			for _, n := range r.Get("data.organization.auditEvents.nodes").Array() {
				out = append(out, n.Get("action").String())
			}
			return out
		}
		if got := root(map[string]any{"targetId": ws}); strings.Join(got, ",") != "workspace.updated,workspace.created" {
			t.Errorf("root targetId: %v", got)
		}
		if got := org(globex.Token, globex.OrgID, map[string]any{"targetType": "Workspace", "targetId": ws}); strings.Join(got, ",") != "workspace.updated,workspace.created" {
			t.Errorf("organization targetType+targetId: %v", got)
		}
		if got := org(globex.Token, globex.OrgID, map[string]any{"targetType": "Workspace"}); len(got) != 2 {
			t.Errorf("organization targetType: %v", got)
		}
		if got := root(map[string]any{"actorEmail": "NOBODY@unknown-audit.test"}); strings.Join(got, ",") != "user.login_failed" {
			t.Errorf("root actorEmail (any case): %v", got)
		}
		if got := org(globex.Token, globex.OrgID, map[string]any{"actorEmail": "admin@globex-audit.test", "actions": []string{"workspace.created"}}); len(got) != 1 {
			t.Errorf("organization actorEmail + actions: %v", got)
		}
		for _, c := range []struct {
			f     map[string]any
			field string
		}{
			{map[string]any{"targetId": "not-an-id"}, "filter.targetId"},
			{map[string]any{"targetType": "User", "targetId": ws}, "filter.targetId"},
			{map[string]any{"actorEmail": " "}, "filter.actorEmail"},
			{map[string]any{"targetType": ""}, "filter.targetType"},
		} {
			r := env.Do(operator.Token, rootAuditQuery, map[string]any{"f": c.f}).Want(t, "BAD_USER_INPUT")
			if r.Get("errors.0.extensions.field").String() != c.field {
				t.Errorf("%v: field %s, want %s", c.f, r.Get("errors.0.extensions.field"), c.field)
			}
		}
	})
}

// auditGet GETs /audit/export and reads the body.
func auditGet(t *testing.T, env *apitest.Env, token string, q url.Values) (*http.Response, string) {
	t.Helper()
	return usageGet(t, env, token, "/audit/export", q)
}

// TestAuditExport: NDJSON and CSV carry the window's events oldest first
// with the fields of the API; audit.exported is recorded (with the window
// and format) before the rows; the rules are the API's: no token 401, a
// member 403, a foreign organization 404 exactly like a random one (and
// audited), bad input 400 naming the parameter, and only a platform
// administrator may omit organization (every event, platform ones too).
func TestAuditExport(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		start := time.Now().UTC().Add(-time.Second)
		acme := env.Register("admin@acme-export.test", "Acme Export")
		member := env.Invite(acme, "member@acme-export.test", "MEMBER")
		globex := env.Register("admin@globex-export.test", "Globex Export")
		ws := env.CreateWorkspace(acme, "exported")
		env.Do("", `mutation { login(input: {email: "ghost@unknown-export.test", password: "whatever-123"}) { token } }`, nil).Want(t, "UNAUTHENTICATED")
		q := url.Values{"organization": {acme.OrgID}, "since": {rfc(start)}, "until": {rfc(time.Now().Add(time.Minute))}}

		want := env.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ?", rawOrg(t, acme.OrgID))
		res, body := auditGet(t, env, acme.Token, q)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("ndjson: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		// audit.exported is committed before streaming: it is in the export.
		if len(lines) != want+1 {
			t.Fatalf("ndjson: %d lines, the trail has %d events (+ audit.exported)", len(lines), want)
		}
		var prev string
		actions := map[string]int{}
		for _, l := range lines {
			var e map[string]any
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			if e["organizationId"] != acme.OrgID {
				t.Errorf("foreign event: %s", l)
			}
			if ts := e["createdAt"].(string); ts < prev {
				t.Errorf("not oldest first: %s after %s", ts, prev)
			} else {
				prev = ts
			}
			if e["action"] == "workspace.created" && e["targetId"] != ws {
				t.Errorf("targetId: %s", l)
			}
			actions[e["action"].(string)]++
		}
		if actions["audit.exported"] != 1 || actions["workspace.created"] != 1 {
			t.Errorf("actions: %v", actions)
		}
		var meta string
		if err := d.Raw("SELECT metadata FROM audit_events WHERE action = 'audit.exported' AND organization_id = ?", rawOrg(t, acme.OrgID)).Row().Scan(&meta); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(meta, `"format":"ndjson"`) || !strings.Contains(meta, `"since":"`+rfc(start)) {
			t.Errorf("audit.exported metadata: %s", meta)
		}

		q.Set("format", "csv")
		res, body = auditGet(t, env, acme.Token, q)
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || res.StatusCode != http.StatusOK || len(rows) != want+3 || rows[0][0] != "id" || rows[0][3] != "action" {
			t.Fatalf("csv: %d %v %d rows %q", res.StatusCode, err, len(rows), rows[:1])
		}

		// The rules of the API.
		q.Set("format", "ndjson")
		if res, _ := auditGet(t, env, "", q); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("no token: %d", res.StatusCode)
		}
		if res, _ := auditGet(t, env, member.Token, q); res.StatusCode != http.StatusForbidden {
			t.Errorf("member: %d", res.StatusCode)
		}
		denied := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied'")
		exported := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'audit.exported'")
		res, foreign := auditGet(t, env, globex.Token, q)
		rq := url.Values{"organization": {ids.Encode(ids.Organization, ids.New())}}
		res2, random := auditGet(t, env, globex.Token, rq)
		if res.StatusCode != http.StatusNotFound || res2.StatusCode != http.StatusNotFound || stripRequestID(foreign) != stripRequestID(random) {
			t.Errorf("foreign %d %s, random %d %s", res.StatusCode, foreign, res2.StatusCode, random)
		}
		if env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied'") <= denied {
			t.Errorf("the foreign export was not audited")
		}
		if env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'audit.exported'") != exported {
			t.Errorf("a refused export was recorded as audit.exported")
		}
		for _, c := range []struct{ key, value, field string }{{"format", "xml", "format"}, {"since", "monday", "since"}, {"until", rfc(start.Add(-time.Hour)), "until"}} {
			bad := url.Values{"organization": {acme.OrgID}}
			bad.Set(c.key, c.value)
			if c.key == "until" {
				bad.Set("since", rfc(start))
			}
			res, body := auditGet(t, env, acme.Token, bad)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "BAD_USER_INPUT") || !strings.Contains(body, c.field) {
				t.Errorf("%s=%s: %d %s", c.key, c.value, res.StatusCode, body)
			}
		}
		if res, _ := auditGet(t, env, acme.Token, url.Values{}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("an organization admin omitting organization: %d", res.StatusCode)
		}

		// API tokens: READ_AUDIT for the audit trail, READ_ORGANIZATION for
		// usage; never every organization.
		auditTok, _ := newToken(t, env, acme, "auditor", "READ_AUDIT")
		orgTok, _ := newToken(t, env, acme, "billing", "READ_ORGANIZATION")
		if res, body := auditGet(t, env, auditTok, q); res.StatusCode != http.StatusOK || !strings.Contains(body, "workspace.created") {
			t.Errorf("READ_AUDIT token: %d", res.StatusCode)
		}
		if res, _ := auditGet(t, env, orgTok, q); res.StatusCode != http.StatusForbidden {
			t.Errorf("token without READ_AUDIT: %d", res.StatusCode)
		}
		if res, _ := auditGet(t, env, auditTok, url.Values{}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("token omitting organization: %d", res.StatusCode)
		}
		uq := url.Values{"organization": {acme.OrgID}, "since": {rfc(start)}, "until": {rfc(time.Now())}}
		if res, _ := usageGet(t, env, orgTok, "/usage/export", uq); res.StatusCode != http.StatusOK {
			t.Errorf("READ_ORGANIZATION token, usage: %d", res.StatusCode)
		}
		if res, _ := usageGet(t, env, auditTok, "/usage/export", uq); res.StatusCode != http.StatusForbidden {
			t.Errorf("token without READ_ORGANIZATION, usage: %d", res.StatusCode)
		}

		// A platform administrator: any organization, or everything.
		env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", "admin@globex-export.test")
		if res, _ := auditGet(t, env, globex.Token, q); res.StatusCode != http.StatusOK {
			t.Errorf("platform admin, Acme's trail: %d", res.StatusCode)
		}
		res, body = auditGet(t, env, globex.Token, url.Values{})
		total := env.Count("SELECT COUNT(*) FROM audit_events")
		n, platform := 0, false
		sc := bufio.NewScanner(strings.NewReader(body))
		for sc.Scan() {
			n++
			if strings.Contains(sc.Text(), `"organizationId":null`) && strings.Contains(sc.Text(), "ghost@unknown-export.test") {
				platform = true
			}
		}
		if res.StatusCode != http.StatusOK || n != total || !platform {
			t.Errorf("everything: %d, %d lines of %d events, platform event %v", res.StatusCode, n, total, platform)
		}
	})
}

// rawOrg is the row ID behind an Organization global ID.
func rawOrg(t *testing.T, global string) string {
	t.Helper()
	id, ok := ids.Decode(ids.Organization, global)
	if !ok {
		t.Fatalf("not an organization ID: %s", global)
	}
	return id
}
