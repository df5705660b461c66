package server_test

import (
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

func TestPagination(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		org := seed(t, d, 3, 45).org
		operator := env.Register("operator@example.com", "")
		env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", "operator@example.com")
		orgID := ids.Encode(ids.Organization, org.ID)

		for _, list := range []struct{ name, query, conn string }{
			{"workspaces", `query($first: Int, $after: String) { organization(id: "` + orgID + `") { workspaces(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`, "data.organization.workspaces"},
			{"users", `query($first: Int, $after: String) { organization(id: "` + orgID + `") { users(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`, "data.organization.users"},
			{"auditEvents", `query($first: Int, $after: String) { organization(id: "` + orgID + `") { auditEvents(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`, "data.organization.auditEvents"},
			{"organizations", `query($first: Int, $after: String) { organizations(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, "data.organizations"},
		} {
			t.Run("walks every row exactly once: "+list.name, func(t *testing.T) {
				seen := map[string]bool{}
				var after any
				pages := 0
				for {
					r := env.Do(operator.Token, list.query, map[string]any{"first": 7, "after": after}).OK(t)
					edges := r.Get(list.conn + ".edges").Array()
					for _, e := range edges {
						id := e.Get("node.id").String()
						if seen[id] {
							t.Fatalf("%s seen twice", id)
						}
						seen[id] = true
					}
					pages++
					if len(edges) > 0 && r.Get(list.conn+".pageInfo.endCursor").String() != edges[len(edges)-1].Get("cursor").String() {
						t.Errorf("endCursor is not the last edge's cursor")
					}
					if !r.Get(list.conn + ".pageInfo.hasNextPage").Bool() {
						break
					}
					after = r.Get(list.conn + ".pageInfo.endCursor").String()
					if pages > 20 {
						t.Fatal("pagination does not end")
					}
				}
				if list.name != "organizations" && list.name != "users" && len(seen) != 45 {
					t.Errorf("saw %d rows, want 45", len(seen))
				}
			})
		}

		t.Run("first defaults to 20", func(t *testing.T) {
			r := env.Do(operator.Token, `query { organization(id: "`+orgID+`") { workspaces { nodes { id } pageInfo { hasNextPage } } } }`, nil).OK(t)
			if r.Get("data.organization.workspaces.nodes.#").Int() != 20 || !r.Get("data.organization.workspaces.pageInfo.hasNextPage").Bool() {
				t.Errorf("default page: %s", r.Body)
			}
		})
		for _, bad := range []map[string]any{{"first": 0}, {"first": 101}, {"first": -5}, {"after": "garbage"}, {"after": ids.Encode(ids.User, ids.New())}} {
			t.Run(apitest.Sprintf("bad arguments %v", bad), func(t *testing.T) {
				r := env.Do(operator.Token, `query($first: Int, $after: String) { organizations(first: $first, after: $after) { nodes { id } } }`, bad)
				r.Want(t, "BAD_USER_INPUT")
				if r.Get("errors.0.extensions.field").String() == "" {
					t.Errorf("no field named: %s", r.Body)
				}
			})
		}
	})
}

func TestAuditEventFilter(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env
		env.Do("", `mutation { login(input: {email: "member@acme.test", password: "nope-nope"}) { token } }`, nil).Want(t, "UNAUTHENTICATED")
		q := `query($id: ID!, $f: AuditEventFilter) { organization(id: $id) { auditEvents(filter: $f, first: 100) { nodes { action outcome actorId createdAt ipAddress userAgent requestId } } } }`
		get := func(f map[string]any) []string {
			t.Helper()
			r := env.Do(w.acmeAdmin.Token, q, map[string]any{"id": w.acmeAdmin.OrgID, "f": f}).OK(t)
			var out []string
			for _, n := range r.Get("data.organization.auditEvents.nodes").Array() {
				out = append(out, n.Get("action").String())
			}
			return out
		}
		all := get(nil)
		if len(all) < 5 {
			t.Fatalf("events: %v", all)
		}
		if all[0] != "user.login_failed" {
			t.Errorf("newest first: got %v", all)
		}
		if got := get(map[string]any{"actions": []string{"workspace.created"}}); len(got) != 1 {
			t.Errorf("actions filter: %v", got)
		}
		if got := get(map[string]any{"outcome": "FAILURE"}); len(got) != 1 || got[0] != "user.login_failed" {
			t.Errorf("outcome filter: %v", got)
		}
		if got := get(map[string]any{"actorId": w.acmeMember.UserID}); len(got) == 0 {
			t.Errorf("actor filter found nothing")
		} else {
			for _, a := range got {
				if a != "user.registered" && a != "user.login_failed" && a != "invitation.accepted" {
					t.Errorf("actor filter let %s through", a)
				}
			}
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		if got := get(map[string]any{"since": future}); len(got) != 0 {
			t.Errorf("since the future: %v", got)
		}
		if got := get(map[string]any{"since": past, "until": future}); len(got) != len(all) {
			t.Errorf("since/until window: %d of %d", len(got), len(all))
		}
		if got := get(map[string]any{"until": past}); len(got) != 0 {
			t.Errorf("until the past: %v", got)
		}
		env.Do(w.acmeAdmin.Token, q, map[string]any{"id": w.acmeAdmin.OrgID, "f": map[string]any{"since": "yesterday"}}).Want(t, "BAD_USER_INPUT")
		env.Do(w.acmeAdmin.Token, q, map[string]any{"id": w.acmeAdmin.OrgID, "f": map[string]any{"actorId": w.acmeAdmin.OrgID}}).Want(t, "BAD_USER_INPUT")
		r := env.Do(w.acmeAdmin.Token, q, map[string]any{"id": w.acmeAdmin.OrgID, "f": map[string]any{"actions": []string{"workspace.created"}}}).OK(t)
		n := r.Get("data.organization.auditEvents.nodes.0")
		if n.Get("ipAddress").String() == "" || n.Get("userAgent").String() == "" || n.Get("requestId").String() == "" {
			t.Errorf("request details missing: %s", n.Raw)
		}
		t.Run("members may not read the trail", func(t *testing.T) {
			env.Do(w.acmeMember.Token, q, map[string]any{"id": w.acmeAdmin.OrgID}).Want(t, "FORBIDDEN")
		})
		t.Run("no access, other organization's trail", func(t *testing.T) {
			env.Do(w.globexAdmin.Token, q, map[string]any{"id": w.acmeAdmin.OrgID}).Want(t, "NOT_FOUND")
		})
	})
}
