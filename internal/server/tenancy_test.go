package server_test

import (
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

// world is two organizations with an admin and a member each, and a
// workspace in each.
type world struct {
	env                   *apitest.Env
	acmeAdmin, acmeMember apitest.Account
	globexAdmin           apitest.Account
	acmeWS, globexWS      string
}

// newWorld starts the service on d and builds the world there: Acme
// (admin@acme.test, member@acme.test) and Globex (admin@globex.test).
func newWorld(t *testing.T, d *db.DB) *world {
	t.Helper()
	return buildWorld(t, apitest.New(t, d), "Acme", "Globex")
}

// newWorldIn builds another world on env's service, next to any others: its
// organizations (Acme-<tag>, Globex-<tag>) and accounts (admin@acme-<tag>.test,
// ...) are its own, so a test that builds one depends on no other.
func newWorldIn(t *testing.T, env *apitest.Env) *world {
	t.Helper()
	tag := ids.New()[24:] // the UUID's random part
	return buildWorld(t, env, "Acme-"+tag, "Globex-"+tag)
}

// buildWorld registers the accounts and creates the workspaces through the
// API; each organization's email domain is its lower-cased name + ".test".
func buildWorld(t *testing.T, env *apitest.Env, acme, globex string) *world {
	t.Helper()
	acmeDomain, globexDomain := strings.ToLower(acme)+".test", strings.ToLower(globex)+".test"
	w := &world{env: env}
	w.acmeAdmin = env.Register("admin@"+acmeDomain, acme)
	w.acmeMember = env.Invite(w.acmeAdmin, "member@"+acmeDomain, "MEMBER")
	w.globexAdmin = env.Register("admin@"+globexDomain, globex)
	w.acmeWS = env.CreateWorkspace(w.acmeAdmin, "acme-dev")
	w.globexWS = env.CreateWorkspace(w.globexAdmin, "globex-dev")
	return w
}

func rawID(t *testing.T, global string) string {
	t.Helper()
	_, id, ok := ids.Parse(global)
	if !ok {
		t.Fatalf("not a global ID: %q", global)
	}
	return id
}

// missing returns a well-formed ID of type typ that names nothing.
func missing(typ ids.Type) string { return ids.Encode(typ, ids.New()) }

// deniedEvents counts access.denied events naming target in the trail of org.
func (w *world) deniedEvents(t *testing.T, org, target string) int {
	return w.env.Count(`SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied' AND outcome = 'DENIED'
		AND organization_id = ? AND target_id = ?`, rawID(t, org), rawID(t, target))
}

// crossTenant runs do against a target of another organization and against
// a missing ID, and checks that both answer the same NOT_FOUND, and that the
// attempt was recorded once in each organization's trail, naming both.
func (w *world) crossTenant(t *testing.T, actor apitest.Account, do func(id string) *apitest.Response, targetID, targetOrg string, typ ids.Type) *apitest.Response {
	t.Helper()
	beforeTarget := w.deniedEvents(t, targetOrg, targetID)
	beforeActor := w.deniedEvents(t, actor.OrgID, targetID)
	got := do(targetID)
	forMissing := do(missing(typ))
	got.Want(t, "NOT_FOUND")
	forMissing.Want(t, "NOT_FOUND")
	if got.Message() != forMissing.Message() {
		t.Errorf("message %q differs from the missing-ID message %q", got.Message(), forMissing.Message())
	}
	if got.Status != forMissing.Status {
		t.Errorf("status %d differs from the missing-ID status %d", got.Status, forMissing.Status)
	}
	if n := w.deniedEvents(t, targetOrg, targetID) - beforeTarget; n != 1 {
		t.Errorf("new access.denied in the target's trail = %d, want 1", n)
	}
	if n := w.deniedEvents(t, actor.OrgID, targetID) - beforeActor; n != 1 {
		t.Errorf("new access.denied in the actor's trail = %d, want 1", n)
	}
	if n := w.env.Count(`SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied' AND target_id = ? AND organization_id = ?
		AND actor_organization_id = ? AND target_organization_id = ? AND actor_id = ?`,
		rawID(t, targetID), rawID(t, targetOrg), rawID(t, actor.OrgID), rawID(t, targetOrg), rawID(t, actor.UserID)); n < 1 {
		t.Errorf("access.denied events in the target's trail naming both organizations and the actor = %d, want at least 1", n)
	}
	// The caller's copy never names the target's organization (issue 9: an
	// oracle of whose an ID is).
	if n := w.env.Count(`SELECT COUNT(*) FROM audit_events WHERE action = 'access.denied' AND target_id = ? AND organization_id = ?
		AND target_organization_id IS NOT NULL`, rawID(t, targetID), rawID(t, actor.OrgID)); n != 0 {
		t.Errorf("%d access.denied events in the caller's trail name the target's organization", n)
	}
	return got
}

func TestQueriesAcrossOrganizations(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env

		t.Run("happy path, organization", func(t *testing.T) {
			r := env.Do(w.acmeMember.Token, `query($id: ID!) { organization(id: $id) { id name userCount workspaceCount } }`,
				map[string]any{"id": w.acmeAdmin.OrgID}).OK(t)
			if r.Get("data.organization.userCount").Int() != 2 || r.Get("data.organization.workspaceCount").Int() != 1 {
				t.Errorf("counts: %s", r.Body)
			}
		})
		t.Run("no access, other organization: organization", func(t *testing.T) {
			got := w.crossTenant(t, w.acmeAdmin, func(id string) *apitest.Response {
				return env.Do(w.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { id name } }`, map[string]any{"id": id})
			}, w.globexAdmin.OrgID, w.globexAdmin.OrgID, ids.Organization)
			if got.Get("data.organization").Type != 0 && got.Get("data.organization.name").Exists() {
				t.Errorf("data leaked: %s", got.Body)
			}
		})

		t.Run("happy path, workspace", func(t *testing.T) {
			r := env.Do(w.acmeMember.Token, `query($id: ID!) { workspace(id: $id) { id name organization { id } } }`,
				map[string]any{"id": w.acmeWS}).OK(t)
			if r.Get("data.workspace.organization.id").String() != w.acmeAdmin.OrgID {
				t.Errorf("workspace organization: %s", r.Body)
			}
		})
		t.Run("no access, other organization: workspace", func(t *testing.T) {
			w.crossTenant(t, w.acmeMember, func(id string) *apitest.Response {
				return env.Do(w.acmeMember.Token, `query($id: ID!) { workspace(id: $id) { id name } }`, map[string]any{"id": id})
			}, w.globexWS, w.globexAdmin.OrgID, ids.Workspace)
		})
		t.Run("an ID of another type is not found", func(t *testing.T) {
			env.Do(w.acmeAdmin.Token, `query($id: ID!) { workspace(id: $id) { id } }`,
				map[string]any{"id": w.acmeAdmin.OrgID}).Want(t, "NOT_FOUND")
			env.Do(w.acmeAdmin.Token, `query($id: ID!) { workspace(id: $id) { id } }`,
				map[string]any{"id": "not-an-id"}).Want(t, "NOT_FOUND")
		})

		t.Run("happy path, node of every type", func(t *testing.T) {
			var eventID string
			r := env.Do(w.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { auditEvents(first: 1) { nodes { id } } } }`,
				map[string]any{"id": w.acmeAdmin.OrgID}).OK(t)
			eventID = r.Get("data.organization.auditEvents.nodes.0.id").String()
			for typ, id := range map[string]string{
				"Organization": w.acmeAdmin.OrgID, "User": w.acmeMember.UserID, "Workspace": w.acmeWS, "AuditEvent": eventID,
			} {
				r := env.Do(w.acmeAdmin.Token, `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": id}).OK(t)
				if r.Get("data.node.__typename").String() != typ || r.Get("data.node.id").String() != id {
					t.Errorf("node(%s): %s", typ, r.Body)
				}
			}
		})
		t.Run("no access, other organization: node of every type", func(t *testing.T) {
			r := env.Do(w.globexAdmin.Token, `query($id: ID!) { organization(id: $id) { auditEvents(first: 1) { nodes { id } } } }`,
				map[string]any{"id": w.globexAdmin.OrgID}).OK(t)
			globexEvent := r.Get("data.organization.auditEvents.nodes.0.id").String()
			q := `query($id: ID!) { node(id: $id) { id ... on Workspace { name } ... on User { email } } }`
			for typ, id := range map[ids.Type]string{
				ids.Organization: w.globexAdmin.OrgID, ids.User: w.globexAdmin.UserID, ids.Workspace: w.globexWS, ids.AuditEvent: globexEvent,
			} {
				t.Run(string(typ), func(t *testing.T) {
					w.crossTenant(t, w.acmeAdmin, func(id string) *apitest.Response {
						return env.Do(w.acmeAdmin.Token, q, map[string]any{"id": id})
					}, id, w.globexAdmin.OrgID, typ)
				})
			}
		})
		t.Run("same organization, member reading an audit event by node: FORBIDDEN", func(t *testing.T) {
			r := env.Do(w.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { auditEvents(first: 1) { nodes { id } } } }`,
				map[string]any{"id": w.acmeAdmin.OrgID}).OK(t)
			env.Do(w.acmeMember.Token, `query($id: ID!) { node(id: $id) { id } }`,
				map[string]any{"id": r.Get("data.organization.auditEvents.nodes.0.id").String()}).Want(t, "FORBIDDEN")
		})

		t.Run("organizations lists only the caller's own", func(t *testing.T) {
			r := env.Do(w.acmeMember.Token, `{ organizations { totalCount nodes { id } edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`, nil).OK(t)
			if r.Get("data.organizations.totalCount").Int() != 1 || r.Get("data.organizations.nodes.#").Int() != 1 ||
				r.Get("data.organizations.nodes.0.id").String() != w.acmeAdmin.OrgID {
				t.Errorf("want only Acme: %s", r.Body)
			}
			next := env.Do(w.acmeMember.Token, `query($after: String) { organizations(after: $after) { nodes { id } } }`,
				map[string]any{"after": r.Get("data.organizations.pageInfo.endCursor").String()}).OK(t)
			if next.Get("data.organizations.nodes.#").Int() != 0 {
				t.Errorf("second page must be empty: %s", next.Body)
			}
		})
		t.Run("platform administrators list every organization and read any", func(t *testing.T) {
			env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", "admin@globex.test")
			defer env.Exec("UPDATE users SET platform_admin = FALSE WHERE email = ?", "admin@globex.test")
			r := env.Do(w.globexAdmin.Token, `{ organizations { totalCount nodes { id name } } }`, nil).OK(t)
			// Acme, Globex and the default organization, which exists from
			// the migrations on.
			if r.Get("data.organizations.totalCount").Int() != 3 || r.Get("data.organizations.nodes.#").Int() != 3 {
				t.Errorf("want every organization: %s", r.Body)
			}
			env.Do(w.globexAdmin.Token, `query($id: ID!) { organization(id: $id) { name users { nodes { email } } } }`,
				map[string]any{"id": w.acmeAdmin.OrgID}).OK(t)
		})

		t.Run("me shows the caller in their own organization", func(t *testing.T) {
			r := env.Do(w.globexAdmin.Token, meQuery, nil).OK(t)
			if r.Get("data.me.organization.id").String() != w.globexAdmin.OrgID || r.Get("data.me.email").String() != "admin@globex.test" {
				t.Errorf("me: %s", r.Body)
			}
		})

		t.Run("the target organization's admins see the denial in their trail", func(t *testing.T) {
			r := env.Do(w.globexAdmin.Token, `query($id: ID!) { organization(id: $id) {
				auditEvents(filter: {actions: ["access.denied"]}) { nodes { action outcome organizationId actorOrganizationId targetOrganizationId actorEmail } } } }`,
				map[string]any{"id": w.globexAdmin.OrgID}).OK(t)
			nodes := r.Get("data.organization.auditEvents.nodes").Array()
			if len(nodes) == 0 {
				t.Fatalf("no access.denied visible to Globex: %s", r.Body)
			}
			for _, n := range nodes {
				if n.Get("outcome").String() != "DENIED" || n.Get("organizationId").String() != w.globexAdmin.OrgID ||
					n.Get("actorOrganizationId").String() != w.acmeAdmin.OrgID || n.Get("targetOrganizationId").String() != w.globexAdmin.OrgID ||
					!strings.HasSuffix(n.Get("actorEmail").String(), "@acme.test") {
					t.Errorf("event: %s", n.Raw)
				}
			}
		})
	})
}

func missingUser() string { return missing(ids.User) }
