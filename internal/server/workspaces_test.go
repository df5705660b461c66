package server_test

import (
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

const createWS = `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) {
	id name description type connectionType status imageUrl url cpuCores memoryMb storageGb
	organization { id workspaceCount } createdAt updatedAt } }`

const updateWS = `mutation($id: ID!, $in: UpdateWorkspaceInput!) { updateWorkspace(id: $id, input: $in) {
	id name description status cpuCores url updatedAt } }`

const deleteWS = `mutation($id: ID!) { deleteWorkspace(id: $id) }`

// TestWorkspaceMutations's subtests share one service, and each builds the
// world it needs with newWorldIn, so any one of them runs alone or in any
// order.
func TestWorkspaceMutations(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)

		t.Run("happy path, create", func(t *testing.T) {
			w := newWorldIn(t, env)
			in := apitest.WorkspaceInput("browser-1")
			in["type"], in["connectionType"], in["url"], in["description"] = "BROWSER", "BROWSER", "https://browser.acme.test", "kiosk"
			r := env.Do(w.acmeAdmin.Token, createWS, map[string]any{"in": in}).OK(t)
			ws := r.Get("data.createWorkspace")
			if ws.Get("status").String() != "AVAILABLE" || ws.Get("type").String() != "BROWSER" || ws.Get("description").String() != "kiosk" ||
				ws.Get("organization.id").String() != w.acmeAdmin.OrgID || ws.Get("organization.workspaceCount").Int() != 2 {
				t.Errorf("created: %s", r.Body)
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'workspace.created' AND target_id = ?", rawID(t, ws.Get("id").String())); n != 1 {
				t.Errorf("workspace.created events = %d, want 1", n)
			}
		})
		t.Run("other organization: create always lands in the caller's organization", func(t *testing.T) {
			w := newWorldIn(t, env)
			before := env.Count("SELECT workspace_count FROM organizations WHERE id = ?", rawID(t, w.globexAdmin.OrgID))
			r := env.Do(w.acmeAdmin.Token, createWS, map[string]any{"in": apitest.WorkspaceInput("mine")}).OK(t)
			if r.Get("data.createWorkspace.organization.id").String() != w.acmeAdmin.OrgID {
				t.Errorf("created in %s", r.Get("data.createWorkspace.organization.id"))
			}
			if after := env.Count("SELECT workspace_count FROM organizations WHERE id = ?", rawID(t, w.globexAdmin.OrgID)); after != before {
				t.Errorf("Globex's count changed from %d to %d", before, after)
			}
			in := apitest.WorkspaceInput("smuggled")
			in["organizationId"] = w.globexAdmin.OrgID
			env.Do(w.acmeAdmin.Token, createWS, map[string]any{"in": in}).Want(t, "BAD_USER_INPUT")
		})
		t.Run("same organization, member: FORBIDDEN", func(t *testing.T) {
			w := newWorldIn(t, env)
			env.Do(w.acmeMember.Token, createWS, map[string]any{"in": apitest.WorkspaceInput("nope")}).Want(t, "FORBIDDEN")
			env.Do(w.acmeMember.Token, updateWS, map[string]any{"id": w.acmeWS, "in": map[string]any{"name": "x"}}).Want(t, "FORBIDDEN")
			env.Do(w.acmeMember.Token, deleteWS, map[string]any{"id": w.acmeWS}).Want(t, "FORBIDDEN")
		})
		t.Run("anonymous: UNAUTHENTICATED", func(t *testing.T) {
			env.Do("", createWS, map[string]any{"in": apitest.WorkspaceInput("nope")}).Want(t, "UNAUTHENTICATED")
		})
		t.Run("bad input", func(t *testing.T) {
			w := newWorldIn(t, env)
			for name, change := range map[string]map[string]any{
				"empty name":        {"name": " "},
				"long name":         {"name": strings.Repeat("n", 101)},
				"zero cpu":          {"cpuCores": 0},
				"too much memory":   {"memoryMb": 1 << 30},
				"negative storage":  {"storageGb": -1},
				"bad type":          {"type": "MAINFRAME"},
				"javascript url":    {"url": "javascript:alert(1)"},
				"credentials url":   {"imageUrl": "https://u:p@img.test/x"},
				"long description":  {"description": strings.Repeat("d", 2001)},
				"int overflow":      {"cpuCores": 1 << 40},
				"string for an int": {"cpuCores": "two"},
			} {
				t.Run(name, func(t *testing.T) {
					in := apitest.WorkspaceInput("bad")
					for k, v := range change {
						in[k] = v
					}
					r := env.Do(w.acmeAdmin.Token, createWS, map[string]any{"in": in}).Want(t, "BAD_USER_INPUT")
					if strings.Contains(strings.ToLower(string(r.Body)), "sql") {
						t.Errorf("error mentions SQL: %s", r.Body)
					}
				})
			}
		})
		t.Run("conflict, duplicate name in the organization", func(t *testing.T) {
			w := newWorldIn(t, env)
			env.Do(w.acmeAdmin.Token, createWS, map[string]any{"in": apitest.WorkspaceInput("acme-dev")}).Want(t, "CONFLICT")
			// The same name in another organization is fine.
			env.Do(w.globexAdmin.Token, createWS, map[string]any{"in": apitest.WorkspaceInput("acme-dev")}).OK(t)
		})

		t.Run("happy path, update", func(t *testing.T) {
			w := newWorldIn(t, env)
			r := env.Do(w.acmeAdmin.Token, updateWS, map[string]any{"id": w.acmeWS, "in": map[string]any{
				"name": "acme-dev-renamed", "status": "RUNNING", "cpuCores": 4,
			}}).OK(t)
			ws := r.Get("data.updateWorkspace")
			if ws.Get("name").String() != "acme-dev-renamed" || ws.Get("status").String() != "RUNNING" || ws.Get("cpuCores").Int() != 4 {
				t.Errorf("updated: %s", r.Body)
			}
			var meta string
			env.DB.Raw("SELECT metadata FROM audit_events WHERE action = 'workspace.updated' AND target_id = ?", rawID(t, w.acmeWS)).Scan(&meta)
			if !strings.Contains(meta, `"cpuCores":{"from":2,"to":4}`) || strings.Contains(meta, "memoryMb") {
				t.Errorf("audit metadata should hold exactly the changed fields: %s", meta)
			}
			// Omitted fields are unchanged.
			r = env.Do(w.acmeAdmin.Token, `query($id: ID!) { workspace(id: $id) { memoryMb storageGb type } }`, map[string]any{"id": w.acmeWS}).OK(t)
			if r.Get("data.workspace.memoryMb").Int() != 4096 || r.Get("data.workspace.type").String() != "DEV" {
				t.Errorf("omitted fields changed: %s", r.Body)
			}
		})
		t.Run("no access, other organization: update", func(t *testing.T) {
			w := newWorldIn(t, env)
			before := workspaceRow(t, env, w.globexWS)
			w.crossTenant(t, w.acmeAdmin, func(id string) *apitest.Response {
				return env.Do(w.acmeAdmin.Token, updateWS, map[string]any{"id": id, "in": map[string]any{"name": "pwned"}})
			}, w.globexWS, w.globexAdmin.OrgID, ids.Workspace)
			if after := workspaceRow(t, env, w.globexWS); after != before {
				t.Errorf("target changed:\nbefore %s\nafter  %s", before, after)
			}
		})
		t.Run("no access, other organization: delete", func(t *testing.T) {
			w := newWorldIn(t, env)
			before := workspaceRow(t, env, w.globexWS)
			count := env.Count("SELECT workspace_count FROM organizations WHERE id = ?", rawID(t, w.globexAdmin.OrgID))
			w.crossTenant(t, w.acmeAdmin, func(id string) *apitest.Response {
				return env.Do(w.acmeAdmin.Token, deleteWS, map[string]any{"id": id})
			}, w.globexWS, w.globexAdmin.OrgID, ids.Workspace)
			if after := workspaceRow(t, env, w.globexWS); after != before {
				t.Errorf("target changed: %s", after)
			}
			if got := env.Count("SELECT workspace_count FROM organizations WHERE id = ?", rawID(t, w.globexAdmin.OrgID)); got != count {
				t.Errorf("Globex workspaceCount %d → %d", count, got)
			}
		})
		t.Run("happy path, delete", func(t *testing.T) {
			w := newWorldIn(t, env)
			id := env.CreateWorkspace(w.acmeAdmin, "short-lived")
			before := env.Count("SELECT workspace_count FROM organizations WHERE id = ?", rawID(t, w.acmeAdmin.OrgID))
			r := env.Do(w.acmeAdmin.Token, deleteWS, map[string]any{"id": id}).OK(t)
			if r.Get("data.deleteWorkspace").String() != id {
				t.Errorf("deleteWorkspace answered %s", r.Body)
			}
			if got := env.Count("SELECT workspace_count FROM organizations WHERE id = ?", rawID(t, w.acmeAdmin.OrgID)); got != before-1 {
				t.Errorf("workspaceCount %d → %d, want %d", before, got, before-1)
			}
			env.Do(w.acmeAdmin.Token, deleteWS, map[string]any{"id": id}).Want(t, "NOT_FOUND")
			env.Do(w.acmeAdmin.Token, `query($id: ID!) { workspace(id: $id) { id } }`, map[string]any{"id": id}).Want(t, "NOT_FOUND")
			var meta string
			env.DB.Raw("SELECT metadata FROM audit_events WHERE action = 'workspace.deleted' AND target_id = ?", rawID(t, id)).Scan(&meta)
			if !strings.Contains(meta, `"name":"short-lived"`) {
				t.Errorf("workspace.deleted should snapshot the workspace: %q", meta)
			}
		})
		t.Run("concurrent updates of different fields both persist", func(t *testing.T) {
			w := newWorldIn(t, env)
			for round := 0; round < 5; round++ {
				id := env.CreateWorkspace(w.acmeAdmin, apitest.Sprintf("race-%d", round))
				done := make(chan *apitest.Response, 2)
				go func() {
					done <- env.Do(w.acmeAdmin.Token, updateWS, map[string]any{"id": id, "in": map[string]any{"name": apitest.Sprintf("renamed-%d", round)}})
				}()
				go func() {
					done <- env.Do(w.acmeAdmin.Token, updateWS, map[string]any{"id": id, "in": map[string]any{"cpuCores": 7}})
				}()
				for i := 0; i < 2; i++ {
					(<-done).OK(t)
				}
				r := env.Do(w.acmeAdmin.Token, `query($id: ID!) { workspace(id: $id) { name cpuCores } }`, map[string]any{"id": id}).OK(t)
				if r.Get("data.workspace.name").String() != apitest.Sprintf("renamed-%d", round) || r.Get("data.workspace.cpuCores").Int() != 7 {
					t.Fatalf("round %d lost an update: %s", round, r.Body)
				}
			}
		})
		t.Run("platform administrators may change any organization's workspace", func(t *testing.T) {
			w := newWorldIn(t, env)
			env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", w.globexAdmin.Email)
			defer env.Exec("UPDATE users SET platform_admin = FALSE WHERE email = ?", w.globexAdmin.Email)
			env.Do(w.globexAdmin.Token, updateWS, map[string]any{"id": w.acmeWS, "in": map[string]any{"description": "by the operator"}}).OK(t)
		})
	})
}

// workspaceRow is the stored row as text, for unchanged-checks.
func workspaceRow(t *testing.T, env *apitest.Env, globalID string) string {
	t.Helper()
	var row struct {
		Name, Description, Status string
		CPUCores                  int
		UpdatedAt                 string
	}
	env.DB.Raw("SELECT name, description, status, cpu_cores, CAST(updated_at AS CHAR) AS updated_at FROM workspaces WHERE id = ?",
		rawID(t, globalID)).Scan(&row)
	if row.Name == "" {
		t.Fatalf("workspace %s is gone", globalID)
	}
	return apitest.Sprintf("%+v", row)
}
