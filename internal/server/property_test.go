package server_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

// TestIsolationProperty runs random sequences of operations (workspaces
// created and deleted, grants created, expired and revoked) and random
// reads by random callers (admins, members and API tokens of three
// organizations), and checks every answer against a model: nothing of
// another organization is ever visible except a workspace through a live
// grant, and then only its owner's id and name.
func TestIsolationProperty(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		type org struct {
			id     string
			admin  apitest.Account
			member apitest.Account
			token  string
		}
		var orgs []org
		for _, name := range []string{"Alpha", "Beta", "Gamma"} {
			domain := strings.ToLower(name) + ".test"
			o := org{admin: env.Register("admin@"+domain, name)}
			o.member = env.Invite(o.admin, "member@"+domain, "MEMBER")
			o.id = o.admin.OrgID
			o.token, _ = newToken(t, env, o.admin, "prop", "READ_WORKSPACES")
			orgs = append(orgs, o)
		}

		rapid.Check(t, func(rt *rapid.T) {
			env.Exec("DELETE FROM workspace_grants")
			env.Exec("DELETE FROM workspaces")
			env.Exec("UPDATE organizations SET workspace_count = 0")
			owner := map[string]int{} // workspace → owning org index
			type grantKey struct {
				ws      string
				grantee int
			}
			grants := map[grantKey]string{} // live or expired grant → its ID
			live := map[grantKey]bool{}
			seq := 0

			workspaces := func() []string {
				var out []string
				for id := range owner {
					out = append(out, id)
				}
				sort.Strings(out)
				return out
			}
			caller := func(rt *rapid.T, o org) (string, string) {
				switch rapid.IntRange(0, 2).Draw(rt, "caller") {
				case 0:
					return o.admin.Token, "admin"
				case 1:
					return o.member.Token, "member"
				}
				return o.token, "token"
			}
			visible := func(ws string, to int) bool {
				i, ok := owner[ws]
				return ok && (i == to || live[grantKey{ws, to}])
			}

			rt.Repeat(map[string]func(*rapid.T){
				"create workspace": func(rt *rapid.T) {
					i := rapid.IntRange(0, 2).Draw(rt, "org")
					seq++
					id := env.CreateWorkspace(orgs[i].admin, fmt.Sprintf("ws-%d", seq))
					owner[id] = i
				},
				"delete workspace": func(rt *rapid.T) {
					all := workspaces()
					if len(all) == 0 {
						return // nothing to delete yet: this step does nothing
					}
					ws := rapid.SampledFrom(all).Draw(rt, "ws")
					env.Do(orgs[owner[ws]].admin.Token, deleteWS, map[string]any{"id": ws}).OK(rt)
					delete(owner, ws)
					for k := range grants {
						if k.ws == ws {
							delete(grants, k)
							delete(live, k)
						}
					}
				},
				"grant": func(rt *rapid.T) {
					all := workspaces()
					if len(all) == 0 {
						return // nothing to share yet: this step does nothing
					}
					ws := rapid.SampledFrom(all).Draw(rt, "ws")
					to := rapid.IntRange(0, 2).Draw(rt, "grantee")
					k := grantKey{ws, to}
					r := env.Do(orgs[owner[ws]].admin.Token, grantMutation, map[string]any{"in": map[string]any{"workspaceId": ws, "granteeOrganizationId": orgs[to].id}})
					if to == owner[ws] {
						r.Want(rt, "BAD_USER_INPUT") // never shared with its own organization
						return
					}
					if live[k] {
						r.Want(rt, "CONFLICT")
						return
					}
					r.OK(rt)
					id := r.Get("data.grantWorkspaceAccess.id").String()
					// The offer gives nothing until the partner's admin accepts it.
					env.Do(orgs[to].admin.Token, `mutation($id: ID!) { acceptWorkspaceGrant(id: $id) { status } }`, map[string]any{"id": id}).OK(rt)
					grants[k], live[k] = id, true
				},
				"expire": func(rt *rapid.T) {
					k, ok := pickGrant(rt, grants)
					if !ok {
						return // no grant yet: this step does nothing
					}
					env.Exec("UPDATE workspace_grants SET expires_at = ? WHERE id = ?", time.Now().Add(-time.Second).UTC(), rawIDFor(grants[k]))
					live[k] = false
				},
				"revoke": func(rt *rapid.T) {
					k, ok := pickGrant(rt, grants)
					if !ok {
						return // no grant yet: this step does nothing
					}
					env.Do(orgs[owner[k.ws]].admin.Token, `mutation($id: ID!) { revokeWorkspaceAccess(id: $id) }`, map[string]any{"id": grants[k]}).OK(rt)
					delete(grants, k)
					delete(live, k)
				},
				"read a workspace": func(rt *rapid.T) {
					i := rapid.IntRange(0, 2).Draw(rt, "reader")
					token, _ := caller(rt, orgs[i])
					ws := ids.Encode(ids.Workspace, ids.New())
					if all := workspaces(); len(all) > 0 && rapid.Bool().Draw(rt, "existing") {
						ws = rapid.SampledFrom(all).Draw(rt, "ws")
					}
					field := rapid.SampledFrom([]string{"workspace", "node"}).Draw(rt, "root")
					q := `query($id: ID!) { workspace(id: $id) { id name organization { id name } } }`
					if field == "node" {
						q = `query($id: ID!) { workspace: node(id: $id) { id ... on Workspace { name organization { id name } } } }`
					}
					r := env.Do(token, q, map[string]any{"id": ws})
					if visible(ws, i) {
						r.OK(rt)
						if got := r.Get("data.workspace.organization.id").String(); got != orgs[owner[ws]].id {
							rt.Fatalf("owner %s, want %s", got, orgs[owner[ws]].id)
						}
					} else {
						r.Want(rt, "NOT_FOUND")
						if r.Get("data.workspace.name").Exists() && r.Get("data.workspace.name").Type != 0 {
							rt.Fatalf("invisible workspace answered: %s", r.Body)
						}
					}
				},
				"reach beyond the owner's name": func(rt *rapid.T) {
					all := workspaces()
					if len(all) == 0 {
						return // nothing to reach yet: this step does nothing
					}
					ws := rapid.SampledFrom(all).Draw(rt, "ws")
					i := (owner[ws] + rapid.IntRange(1, 2).Draw(rt, "other")) % 3 // a reader of another organization
					r := env.Do(orgs[i].admin.Token, `query($id: ID!) { workspace(id: $id) { organization { slug userCount users { nodes { email } } } } }`, map[string]any{"id": ws})
					r.Want(rt, "NOT_FOUND")
					if strings.Contains(string(r.Body), "@") {
						rt.Fatalf("owner's users leaked: %s", r.Body)
					}
				},
				"list shared": func(rt *rapid.T) {
					i := rapid.IntRange(0, 2).Draw(rt, "reader")
					token, _ := caller(rt, orgs[i])
					r := env.Do(token, `{ sharedWorkspaces(first: 100) { totalCount nodes { id } } }`, nil).OK(rt)
					want := map[string]bool{}
					for k, ok := range live {
						if ok && k.grantee == i {
							want[k.ws] = true
						}
					}
					got := map[string]bool{}
					for _, n := range r.Get("data.sharedWorkspaces.nodes").Array() {
						got[n.Get("id").String()] = true
					}
					if len(got) != len(want) || r.Get("data.sharedWorkspaces.totalCount").Int() != int64(len(want)) {
						rt.Fatalf("shared with %d: got %v, want %v", i, got, want)
					}
					for id := range got {
						if !want[id] {
							rt.Fatalf("%s is not shared with %d", id, i)
						}
					}
				},
				"list own": func(rt *rapid.T) {
					i := rapid.IntRange(0, 2).Draw(rt, "reader")
					token, _ := caller(rt, orgs[i])
					r := env.Do(token, `query($id: ID!) { organization(id: $id) { workspaceCount workspaces(first: 100) { nodes { id } } } }`, map[string]any{"id": orgs[i].id}).OK(rt)
					n := 0
					for _, node := range r.Get("data.organization.workspaces.nodes").Array() {
						if owner[node.Get("id").String()] != i {
							rt.Fatalf("organization %d lists %s", i, node.Raw)
						}
						n++
					}
					mine := 0
					for _, o := range owner {
						if o == i {
							mine++
						}
					}
					if n != mine || r.Get("data.organization.workspaceCount").Int() != int64(mine) {
						rt.Fatalf("organization %d lists %d, count %d, owns %d", i, n, r.Get("data.organization.workspaceCount").Int(), mine)
					}
				},
				"read another organization": func(rt *rapid.T) {
					i := rapid.IntRange(0, 2).Draw(rt, "reader")
					j := (i + rapid.IntRange(1, 2).Draw(rt, "other")) % 3
					token, _ := caller(rt, orgs[i])
					env.Do(token, `query($id: ID!) { organization(id: $id) { id name } }`, map[string]any{"id": orgs[j].id}).Want(rt, "NOT_FOUND")
				},
			})
		})
	})
}

func pickGrant[K comparable](rt *rapid.T, m map[K]string) (K, bool) {
	var keys []K
	for k := range m {
		keys = append(keys, k)
	}
	var zero K
	if len(keys) == 0 {
		return zero, false
	}
	sort.Slice(keys, func(a, b int) bool { return fmt.Sprint(keys[a]) < fmt.Sprint(keys[b]) })
	return rapid.SampledFrom(keys).Draw(rt, "grant"), true
}

func rawIDFor(global string) string {
	_, id, _ := ids.Parse(global)
	return id
}
