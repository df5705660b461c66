package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// exactCounts fails unless every organization's counters, and the number
// of organizations (organization_counts), equal a fresh COUNT(*).
func exactCounts(t *testing.T, env *apitest.Env) {
	t.Helper()
	if got, want := env.Count(store.CountOrganizationsSQL), env.Count("SELECT COUNT(*) FROM organizations"); got != want {
		t.Errorf("organization_counts sums to %d, COUNT(*) of organizations %d", got, want)
	}
	var rows []struct {
		ID             string
		UserCount      int
		WorkspaceCount int
	}
	env.DB.Raw("SELECT id, user_count, workspace_count FROM organizations").Scan(&rows)
	for _, o := range rows {
		if n := env.Count("SELECT COUNT(*) FROM users WHERE organization_id = ?", o.ID); n != o.UserCount {
			t.Errorf("organization %s: userCount %d, COUNT(*) %d", o.ID, o.UserCount, n)
		}
		if n := env.Count("SELECT COUNT(*) FROM workspaces WHERE organization_id = ?", o.ID); n != o.WorkspaceCount {
			t.Errorf("organization %s: workspaceCount %d, COUNT(*) %d", o.ID, o.WorkspaceCount, n)
		}
	}
}

func TestCountsStayExactUnderConcurrency(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@count.test", "Counters")

		const n = 24
		var wg sync.WaitGroup
		created := make([]string, n)
		errs := make(chan string, 4*n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := env.Do(admin.Token, createWS, map[string]any{"in": apitest.WorkspaceInput(fmt.Sprintf("ws-%d", i))})
				if r.Code() != "" {
					errs <- string(r.Body)
					return
				}
				created[i] = r.Get("data.createWorkspace.id").String()
			}(i)
		}
		// Concurrent joins of the same organization: invitations accepted
		// at once.
		for i := 0; i < 8; i++ {
			email := fmt.Sprintf("user%d@count.test", i)
			env.Do(admin.Token, inviteQ, inviteVars(email)).OK(t)
			tok := env.MailedToken(email)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := acceptAs(env, tok, "U"); r.Code() != "" {
					errs <- string(r.Body)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("concurrent create failed: %s", e)
		}
		exactCounts(t, env)

		// Delete half concurrently, each one twice at the same time: exactly
		// one of each pair succeeds.
		var mu sync.Mutex
		succeeded := map[string]int{}
		for i := 0; i < n/2; i++ {
			for k := 0; k < 2; k++ {
				wg.Add(1)
				go func(id string) {
					defer wg.Done()
					r := env.Do(admin.Token, deleteWS, map[string]any{"id": id})
					if r.Code() == "" {
						mu.Lock()
						succeeded[id]++
						mu.Unlock()
					} else if r.Code() != "NOT_FOUND" {
						t.Errorf("delete: %s\n%s", r.Body, grepLog(env.Logs.String(), r.Get("errors.0.extensions.requestId").String()))
					}
				}(created[i])
			}
		}
		// and create more at the same time
		for i := n; i < n+6; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				env.Do(admin.Token, createWS, map[string]any{"in": apitest.WorkspaceInput(fmt.Sprintf("ws-%d", i))}).OK(t)
			}(i)
		}
		wg.Wait()
		for i := 0; i < n/2; i++ {
			if succeeded[created[i]] != 1 {
				t.Errorf("workspace %d deleted %d times", i, succeeded[created[i]])
			}
		}
		exactCounts(t, env)
		r := env.Do(admin.Token, `query($id: ID!) { organization(id: $id) { userCount workspaceCount users { totalCount } workspaces { totalCount } } }`,
			map[string]any{"id": admin.OrgID}).OK(t)
		if r.Get("data.organization.userCount").Int() != 9 || r.Get("data.organization.workspaceCount").Int() != n/2+6 ||
			r.Get("data.organization.users.totalCount").Int() != 9 || r.Get("data.organization.workspaces.totalCount").Int() != n/2+6 {
			t.Errorf("API counts: %s", r.Body)
		}
		if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'workspace.deleted'"); n != len(succeeded) {
			t.Errorf("workspace.deleted events = %d, want %d", n, len(succeeded))
		}
	})
}

// seeded is what seed inserted.
type seeded struct {
	org        *store.Organization   // the organization holding the rows
	others     []*store.Organization // the organizations without rows
	workspaces []*store.Workspace    // org's workspaces, oldest first
}

// seed inserts orgs organizations straight through the store (the API would
// hash a password per user, which only slows this test), the first with
// perOrg users, workspaces, audit events and API tokens.
func seed(t *testing.T, d *db.DB, orgs, perOrg int) seeded {
	t.Helper()
	s := seeded{org: gen.Organization(t, d, store.Organization{})}
	for i := 1; i < orgs; i++ {
		s.others = append(s.others, gen.Organization(t, d, store.Organization{}))
	}
	for k := 0; k < perOrg; k++ {
		gen.User(t, d, store.User{OrganizationID: s.org.ID})
		s.workspaces = append(s.workspaces, gen.Workspace(t, d, store.Workspace{OrganizationID: s.org.ID}))
		gen.AuditEvent(t, d, store.AuditEvent{OrganizationID: &s.org.ID, Action: "seed.event", Metadata: store.JSON{"k": k}})
		gen.APIToken(t, d, store.APIToken{OrganizationID: s.org.ID, Scopes: store.ScopeList{store.ScopeReadAudit}})
	}
	return s
}

// TestListsRunAConstantNumberOfStatements covers every list in the schema:
// the statements a page costs do not grow with its size (no N+1), and stay
// within the budget: one statement authenticates the caller, then at most
// two per list (the page, and totalCount or one batched organization load).
func TestListsRunAConstantNumberOfStatements(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		operator := env.Register("operator@example.com", "")
		env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", "operator@example.com")
		seeded := seed(t, d, 100, 100)
		orgID := ids.Encode(ids.Organization, seeded.org.ID)
		// Share every workspace of the seeded organization with the
		// operator's, and its first workspace with the 99 other seeded
		// organizations too: sharedWorkspaces and Workspace.grants get 100
		// rows each.
		operatorOrg := rawID(t, operator.OrgID)
		for _, w := range seeded.workspaces {
			gen.Grant(t, d, store.WorkspaceGrant{OrganizationID: seeded.org.ID, WorkspaceID: w.ID, GranteeOrganizationID: operatorOrg})
		}
		firstWS := seeded.workspaces[0]
		for _, o := range seeded.others {
			gen.Grant(t, d, store.WorkspaceGrant{OrganizationID: seeded.org.ID, WorkspaceID: firstWS.ID, GranteeOrganizationID: o.ID})
		}
		wsID := ids.Encode(ids.Workspace, firstWS.ID)

		lists := []struct {
			name   string
			query  string
			budget int // after the one authenticating statement
			path   string
		}{
			{"organizations with both counts", `query($n: Int) { organizations(first: $n) { totalCount edges { cursor node { id name userCount workspaceCount } } pageInfo { hasNextPage endCursor } } }`, 2, "data.organizations.edges.#"},
			{"organizations nodes", `query($n: Int) { organizations(first: $n) { nodes { id slug userCount workspaceCount createdAt } } }`, 1, "data.organizations.nodes.#"},
			{"users with their organization", `query($n: Int) { organization(id: "` + orgID + `") { users(first: $n) { totalCount nodes { id email organization { id name userCount } } } } }`, 3, "data.organization.users.nodes.#"},
			{"workspaces with their organization", `query($n: Int) { organization(id: "` + orgID + `") { workspaces(first: $n) { totalCount edges { node { id name organization { name workspaceCount } } } } } }`, 3, "data.organization.workspaces.edges.#"},
			{"workspaces shared with the caller", `query($n: Int) { sharedWorkspaces(first: $n) { totalCount nodes { id name organization { id name } } } }`, 3, "data.sharedWorkspaces.nodes.#"},
			{"a workspace's grants", `query($n: Int) { workspace(id: "` + wsID + `") { grants(first: $n) { totalCount nodes { id expiresAt granteeOrganization { id name } workspace { id } } } } }`, 4, "data.workspace.grants.nodes.#"},
			{"API tokens", `query($n: Int) { organization(id: "` + orgID + `") { apiTokens(first: $n) { totalCount edges { cursor node { id name scopes expiresAt } } } } }`, 3, "data.organization.apiTokens.edges.#"},
			{"audit events", `query($n: Int) { organization(id: "` + orgID + `") { auditEvents(first: $n) { edges { cursor node { id action metadata organizationId } } pageInfo { hasNextPage } } } }`, 2, "data.organization.auditEvents.edges.#"},
		}
		for _, l := range lists {
			t.Run(l.name, func(t *testing.T) {
				counts := map[int]int{}
				for _, size := range []int{1, 100} {
					env.Counter.Reset()
					r := env.Do(operator.Token, l.query, map[string]any{"n": size}).OK(t)
					if got := r.Get(l.path).Int(); got != int64(size) {
						t.Fatalf("page of %d has %d rows", size, got)
					}
					counts[size] = env.Counter.N()
				}
				if counts[100] != counts[1] {
					t.Errorf("100 rows cost %d statements, 1 row %d: N+1\n%s", counts[100], counts[1], env.Counter.SQL())
				}
				if counts[100] > 1+l.budget {
					t.Errorf("%d statements, budget 1+%d:\n%s", counts[100], l.budget, env.Counter.SQL())
				}
			})
		}
	})
}

func grepLog(logs, id string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if id != "" && strings.Contains(l, id) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestOrganizationCountStaysExact: the platform's organizations { totalCount }
// reads organization_counts (16 slots, not a COUNT(*) that grows with the
// platform); sign-ups at once, organizations created by a platform
// administrator and one deleted keep it equal to the rows.
func TestOrganizationCountStaysExact(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		op := platformAdmin(t, env)
		const n = 16
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env.Register(fmt.Sprintf("founder%d@orgcount.test", i), fmt.Sprintf("Org Count %d", i))
			}()
		}
		wg.Wait()
		var created []string
		for i := range 3 {
			r := env.Do(op.Token, createOrgQ, map[string]any{"in": map[string]any{"name": fmt.Sprintf("Operated %d", i)}}).OK(t)
			created = append(created, r.Get("data.createOrganization.id").String())
		}
		env.Do(op.Token, setOrgStatusQ, map[string]any{"id": created[0], "s": "SUSPENDED", "r": "closing"}).OK(t)
		env.Do(op.Token, deleteOrgQ, idVar(created[0])).OK(t)
		total := env.Do(op.Token, `{ organizations(first: 1) { totalCount } }`, nil).OK(t).Get("data.organizations.totalCount").Int()
		if want := env.Count("SELECT COUNT(*) FROM organizations"); int(total) != want {
			t.Errorf("organizations.totalCount %d, COUNT(*) %d", total, want)
		}
		exactCounts(t, env)
		// The counter is what totalCount reads: off by one, the answer is too.
		env.Exec("UPDATE organization_counts SET n = n + 1 WHERE slot = 3")
		if got := env.Do(op.Token, `{ organizations(first: 1) { totalCount } }`, nil).OK(t).Get("data.organizations.totalCount").Int(); got != total+1 {
			t.Errorf("totalCount %d after the counter moved, want %d: not read from organization_counts", got, total+1)
		}
		env.Exec("UPDATE organization_counts SET n = n - 1 WHERE slot = 3")
	})
}
