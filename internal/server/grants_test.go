package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

const grantMutation = `mutation($in: GrantWorkspaceAccessInput!) { grantWorkspaceAccess(input: $in) {
	id createdAt expiresAt workspace { id name } granteeOrganization { id name } } }`

// grant shares ws of owner's organization with grantee's organization.
// grant has owner offer workspace ws to grantee's organization and
// grantee (an ADMIN there) accept it; it returns the live grant's ID.
func grant(t *testing.T, env *apitest.Env, owner apitest.Account, ws string, grantee apitest.Account) string {
	t.Helper()
	r := env.Do(owner.Token, grantMutation, map[string]any{"in": map[string]any{"workspaceId": ws, "granteeOrganizationId": grantee.OrgID}}).OK(t)
	id := r.Get("data.grantWorkspaceAccess.id").String()
	env.Do(grantee.Token, acceptGrant, map[string]any{"id": id}).OK(t)
	return id
}

const acceptGrant = `mutation($id: ID!) { acceptWorkspaceGrant(id: $id) { id status } }`

func TestWorkspaceGrants(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env
		initech := env.Register("admin@initech.test", "Initech")
		readShared := `query($id: ID!) { workspace(id: $id) { id name cpuCores status organization { id name } } }`

		var grantID string
		t.Run("happy path, grant", func(t *testing.T) {
			exp := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
			r := env.Do(w.globexAdmin.Token, grantMutation, map[string]any{"in": map[string]any{
				"workspaceId": w.globexWS, "granteeOrganizationId": w.acmeAdmin.OrgID, "expiresAt": exp.Format(time.RFC3339),
			}}).OK(t)
			g := r.Get("data.grantWorkspaceAccess")
			grantID = g.Get("id").String()
			if g.Get("workspace.id").String() != w.globexWS || g.Get("granteeOrganization.id").String() != w.acmeAdmin.OrgID ||
				g.Get("granteeOrganization.name").String() != "Acme" {
				t.Errorf("grant: %s", r.Body)
			}
			for _, org := range []string{w.globexAdmin.OrgID, w.acmeAdmin.OrgID} {
				if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'workspace.grant_created' AND organization_id = ?", rawID(t, org)); n != 1 {
					t.Errorf("grant_created events in %s's trail = %d, want 1", org, n)
				}
			}
		})
		t.Run("unsolicited shares: the offer gives nothing until the partner's admin accepts it", func(t *testing.T) {
			env.Do(w.acmeMember.Token, readShared, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
			s := env.Do(w.acmeMember.Token, `{ sharedWorkspaces { totalCount } }`, nil).OK(t)
			if s.Get("data.sharedWorkspaces.totalCount").Int() != 0 {
				t.Errorf("a pending offer is listed as shared: %s", s.Body)
			}
			in := env.Do(w.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { incomingGrants { totalCount nodes { id status expiresAt organization { id name } } } } }`,
				map[string]any{"id": w.acmeAdmin.OrgID}).OK(t)
			if in.Get("data.organization.incomingGrants.nodes.0.status").String() != "PENDING" ||
				in.Get("data.organization.incomingGrants.nodes.0.organization.name").String() != "Globex" {
				t.Errorf("incoming offers: %s", in.Body)
			}
			env.Do(w.acmeMember.Token, acceptGrant, map[string]any{"id": grantID}).Want(t, "FORBIDDEN")
			env.Do(w.globexAdmin.Token, acceptGrant, map[string]any{"id": grantID}).Want(t, "NOT_FOUND") // the owner cannot accept its own offer
			r := env.Do(w.acmeAdmin.Token, acceptGrant, map[string]any{"id": grantID}).OK(t)
			if r.Get("data.acceptWorkspaceGrant.status").String() != "ACCEPTED" {
				t.Errorf("accept: %s", r.Body)
			}
			env.Do(w.acmeAdmin.Token, acceptGrant, map[string]any{"id": grantID}).Want(t, "CONFLICT")
			for _, org := range []string{w.globexAdmin.OrgID, w.acmeAdmin.OrgID} {
				if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'grant.accepted' AND organization_id = ?", rawID(t, org)); n != 1 {
					t.Errorf("grant.accepted events in %s's trail = %d, want 1", org, n)
				}
			}
		})
		t.Run("the grantee reads the workspace and only the owner's id and name", func(t *testing.T) {
			r := env.Do(w.acmeMember.Token, readShared, map[string]any{"id": w.globexWS}).OK(t)
			if r.Get("data.workspace.name").String() != "globex-dev" || r.Get("data.workspace.organization.name").String() != "Globex" {
				t.Errorf("shared read: %s", r.Body)
			}
			s := env.Do(w.acmeMember.Token, `{ sharedWorkspaces { totalCount nodes { id name organization { id name } } } }`, nil).OK(t)
			if s.Get("data.sharedWorkspaces.totalCount").Int() != 1 || s.Get("data.sharedWorkspaces.nodes.0.id").String() != w.globexWS {
				t.Errorf("sharedWorkspaces: %s", s.Body)
			}
			before := w.deniedEvents(t, w.globexAdmin.OrgID, w.globexAdmin.OrgID)
			for _, field := range []string{"slug", "userCount", "users { nodes { email } }", "workspaces { nodes { name } }", "auditEvents { nodes { action } }", "domain"} {
				r := env.Do(w.acmeMember.Token, `query($id: ID!) { workspace(id: $id) { id organization { id `+field+` } } }`, map[string]any{"id": w.globexWS})
				r.Want(t, "NOT_FOUND")
				if strings.Contains(strings.ToLower(string(r.Body)), "globex") || strings.Contains(string(r.Body), `"userCount":`) {
					t.Errorf("%s: owner data leaked: %s", field, r.Body)
				}
			}
			if n := w.deniedEvents(t, w.globexAdmin.OrgID, w.globexAdmin.OrgID) - before; n != 6 {
				t.Errorf("access.denied for the owner's fields = %d, want one per request (6)", n)
			}
		})
		t.Run("the grantee cannot change, delete, re-share or list grants of the workspace", func(t *testing.T) {
			before := workspaceRow(t, env, w.globexWS)
			env.Do(w.acmeAdmin.Token, updateWS, map[string]any{"id": w.globexWS, "in": map[string]any{"name": "mine now"}}).Want(t, "NOT_FOUND")
			env.Do(w.acmeAdmin.Token, deleteWS, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
			env.Do(w.acmeAdmin.Token, grantMutation, map[string]any{"in": map[string]any{"workspaceId": w.globexWS, "granteeOrganizationId": initech.OrgID}}).Want(t, "NOT_FOUND")
			env.Do(w.acmeAdmin.Token, `query($id: ID!) { workspace(id: $id) { name grants { nodes { id } } } }`, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
			env.Do(w.acmeAdmin.Token, `mutation($id: ID!) { revokeWorkspaceAccess(id: $id) }`, map[string]any{"id": grantID}).Want(t, "NOT_FOUND")
			if workspaceRow(t, env, w.globexWS) != before {
				t.Error("the grantee changed the workspace")
			}
		})
		t.Run("a third organization sees nothing", func(t *testing.T) {
			env.Do(initech.Token, readShared, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
			s := env.Do(initech.Token, `{ sharedWorkspaces { totalCount nodes { id } } }`, nil).OK(t)
			if s.Get("data.sharedWorkspaces.totalCount").Int() != 0 {
				t.Errorf("initech sees shared workspaces: %s", s.Body)
			}
		})
		t.Run("the owner's admins list grants, with the grantee's id and name only", func(t *testing.T) {
			r := env.Do(w.globexAdmin.Token, `query($id: ID!) { workspace(id: $id) { grants { totalCount nodes { id expiresAt granteeOrganization { id name } } } } }`,
				map[string]any{"id": w.globexWS}).OK(t)
			if r.Get("data.workspace.grants.totalCount").Int() != 1 || r.Get("data.workspace.grants.nodes.0.granteeOrganization.name").String() != "Acme" {
				t.Errorf("grants: %s", r.Body)
			}
			env.Do(w.globexAdmin.Token, `query($id: ID!) { workspace(id: $id) { grants { nodes { granteeOrganization { userCount } } } } }`,
				map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
		})
		t.Run("bad input and conflicts", func(t *testing.T) {
			in := func(ws, org string, exp any) map[string]any {
				m := map[string]any{"workspaceId": ws, "granteeOrganizationId": org}
				if exp != nil {
					m["expiresAt"] = exp
				}
				return map[string]any{"in": m}
			}
			env.Do(w.globexAdmin.Token, grantMutation, in(w.globexWS, w.acmeAdmin.OrgID, nil)).Want(t, "CONFLICT")
			env.Do(w.globexAdmin.Token, grantMutation, in(w.globexWS, w.globexAdmin.OrgID, nil)).Want(t, "BAD_USER_INPUT")
			env.Do(w.globexAdmin.Token, grantMutation, in(w.globexWS, w.acmeWS, nil)).Want(t, "BAD_USER_INPUT")
			env.Do(w.globexAdmin.Token, grantMutation, in(w.globexWS, missing(ids.Organization), nil)).Want(t, "NOT_FOUND")
			env.Do(w.globexAdmin.Token, grantMutation, in(w.globexWS, initech.OrgID, time.Now().Add(-time.Minute).Format(time.RFC3339))).Want(t, "BAD_USER_INPUT")
			env.Do(w.globexAdmin.Token, grantMutation, in(w.globexWS, initech.OrgID, time.Now().Add(400*24*time.Hour).Format(time.RFC3339))).Want(t, "BAD_USER_INPUT")
			env.Do(w.acmeMember.Token, grantMutation, in(w.acmeWS, initech.OrgID, nil)).Want(t, "FORBIDDEN")
		})
		t.Run("expiry is checked at request time", func(t *testing.T) {
			env.Exec("UPDATE workspace_grants SET expires_at = ? WHERE id = ?", time.Now().Add(-time.Second).UTC(), rawID(t, grantID))
			env.Do(w.acmeMember.Token, readShared, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
			s := env.Do(w.acmeMember.Token, `{ sharedWorkspaces { totalCount nodes { id } } }`, nil).OK(t)
			if s.Get("data.sharedWorkspaces.nodes.#").Int() != 0 || s.Get("data.sharedWorkspaces.totalCount").Int() != 0 {
				t.Errorf("expired grant still shares: %s", s.Body)
			}
			// An expired grant may be replaced by a new one.
			grantID = grant(t, env, w.globexAdmin, w.globexWS, w.acmeAdmin)
			env.Do(w.acmeMember.Token, readShared, map[string]any{"id": w.globexWS}).OK(t)
		})
		t.Run("revocation counts on the next request", func(t *testing.T) {
			r := env.Do(w.globexAdmin.Token, `mutation($id: ID!) { revokeWorkspaceAccess(id: $id) }`, map[string]any{"id": grantID}).OK(t)
			if r.Get("data.revokeWorkspaceAccess").String() != grantID {
				t.Errorf("revoke answered %s", r.Body)
			}
			env.Do(w.acmeMember.Token, readShared, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
			for _, org := range []string{w.globexAdmin.OrgID, w.acmeAdmin.OrgID} {
				if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'workspace.grant_revoked' AND organization_id = ?", rawID(t, org)); n != 1 {
					t.Errorf("grant_revoked events in %s's trail = %d", org, n)
				}
			}
		})
		t.Run("API tokens of the grantee reach the shared workspace within their scope", func(t *testing.T) {
			grant(t, env, w.globexAdmin, w.globexWS, w.acmeAdmin)
			secret, _ := newToken(t, env, w.acmeAdmin, "partner sync", "READ_WORKSPACES")
			env.Do(secret, readShared, map[string]any{"id": w.globexWS}).OK(t)
			audit, _ := newToken(t, env, w.acmeAdmin, "audit only", "READ_AUDIT")
			env.Do(audit, readShared, map[string]any{"id": w.globexWS}).Want(t, "FORBIDDEN")
		})
		t.Run("concurrent grants to one partner: one wins, the others are CONFLICT", func(t *testing.T) {
			ws := env.CreateWorkspace(w.globexAdmin, "contested")
			codes := make(chan string, 6)
			for i := 0; i < 6; i++ {
				go func() {
					codes <- env.Do(w.globexAdmin.Token, grantMutation, map[string]any{"in": map[string]any{"workspaceId": ws, "granteeOrganizationId": initech.OrgID}}).Code()
				}()
			}
			won := 0
			for i := 0; i < 6; i++ {
				switch c := <-codes; c {
				case "":
					won++
				case "CONFLICT":
				default:
					t.Errorf("concurrent grant answered %q", c)
				}
			}
			if won != 1 {
				t.Errorf("%d grants won, want 1", won)
			}
		})
		t.Run("deleting the workspace ends its grants", func(t *testing.T) {
			ws := env.CreateWorkspace(w.globexAdmin, "temporary")
			grant(t, env, w.globexAdmin, ws, initech)
			env.Do(w.globexAdmin.Token, deleteWS, map[string]any{"id": ws}).OK(t)
			if n := env.Count("SELECT COUNT(*) FROM workspace_grants WHERE workspace_id = ?", rawID(t, ws)); n != 0 {
				t.Errorf("%d grants outlived their workspace", n)
			}
		})
	})
}
