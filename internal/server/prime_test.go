package server_test

import (
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// TestListRowsResolveTheirOrganizationWithoutABatch: the rows of an
// organization's users and workspaces resolve `organization` from the
// organization being listed (primed in the request's loader), not through
// a loader batch with its wait window and a statement of its own.
func TestListRowsResolveTheirOrganizationWithoutABatch(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("prime@acme.test", "Acme")
		env.CreateWorkspace(admin, "ws-prime")
		vars := map[string]any{"id": admin.OrgID}
		for _, list := range []string{"users", "workspaces"} {
			statements := func(sel string) int {
				env.Counter.Reset()
				r := env.Do(admin.Token, `query($id: ID!) { organization(id: $id) { `+list+`(first: 10) { nodes { `+sel+` } } } }`, vars).OK(t)
				if sel != "id" && r.Get("data.organization."+list+".nodes.0.organization.name").String() != "Acme" {
					t.Fatalf("%s: %s", list, r.Body)
				}
				return env.Counter.N()
			}
			if without, with := statements("id"), statements("id organization { name }"); with != without {
				t.Errorf("%s: %d statements with nodes { organization }, %d without:\n%s", list, with, without, env.Counter.SQL())
			}
		}
		// The caller's own organization, in a query: the row read with the
		// caller's.
		env.Counter.Reset()
		env.Do(admin.Token, `{ me { id } }`, nil).OK(t)
		without := env.Counter.N()
		env.Counter.Reset()
		if r := env.Do(admin.Token, `{ me { id organization { name userCount } } }`, nil).OK(t); r.Get("data.me.organization.userCount").Int() != 1 {
			t.Fatalf("me.organization: %s", r.Body)
		}
		if with := env.Counter.N(); with != without {
			t.Errorf("me { organization }: %d statements, %d without:\n%s", with, without, env.Counter.SQL())
		}
		// In a mutation's answer it is read again: the counters after the
		// change.
		r := env.Do(admin.Token, `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { organization { workspaceCount } } }`,
			map[string]any{"in": apitest.WorkspaceInput("ws-after")}).OK(t)
		if n := r.Get("data.createWorkspace.organization.workspaceCount").Int(); n != 2 {
			t.Errorf("workspaceCount in the mutation's answer %d, want 2: %s", n, r.Body)
		}
	})
}
