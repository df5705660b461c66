package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/oidctest"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// Quotas (issue 11): every path that adds users or workspace resources is
// checked against the organization's quota in its own transaction, refused
// with QUOTA_EXCEEDED, nothing written, and recorded as quota.exceeded.

const (
	setQuotaQ  = `mutation($id: ID!, $in: QuotaInput!) { setOrganizationQuota(id: $id, input: $in) { id ` + quotaFields + ` } }`
	orgQuotaQ  = `query($id: ID!) { organization(id: $id) { ` + quotaFields + ` userCount workspaceCount } }`
	quotaWSQ   = `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { id cpuCores } }`
	quotaUpdWS = `mutation($id: ID!, $in: UpdateWorkspaceInput!) { updateWorkspace(id: $id, input: $in) { id cpuCores memoryMb storageGb } }`
)

// operator makes a platform administrator (as `neosc create-admin` would:
// the flag set on an account of the default organization).
func operator(t *testing.T, env *apitest.Env) apitest.Account {
	t.Helper()
	email := fmt.Sprintf("operator-%d@ops.test", time.Now().UnixNano())
	acc := env.Register(email, "")
	env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", email)
	return acc
}

// setQuota sets org's quota as the platform administrator op.
func setQuota(t *testing.T, env *apitest.Env, op apitest.Account, orgID string, q map[string]any) *apitest.Response {
	t.Helper()
	return env.Do(op.Token, setQuotaQ, map[string]any{"id": orgID, "in": q}).OK(t)
}

// usage reads org's usage as admin; it also checks the counters against a
// fresh count of the rows.
func usage(t *testing.T, env *apitest.Env, admin apitest.Account) map[string]int64 {
	t.Helper()
	r := env.Do(admin.Token, orgQuotaQ, map[string]any{"id": admin.OrgID}).OK(t)
	out := map[string]int64{}
	for _, k := range []string{"users", "workspaces", "cpuCores", "memoryMb", "storageGb"} {
		out[k] = r.Get("data.organization.usage." + k).Int()
	}
	raw := rawID(t, admin.OrgID)
	want := map[string]int{
		"users":      env.Count("SELECT COUNT(*) FROM users WHERE organization_id = ?", raw),
		"workspaces": env.Count("SELECT COUNT(*) FROM workspaces WHERE organization_id = ?", raw),
		"cpuCores":   env.Count("SELECT COALESCE(SUM(cpu_cores), 0) FROM workspaces WHERE organization_id = ?", raw),
		"memoryMb":   env.Count("SELECT COALESCE(SUM(memory_mb), 0) FROM workspaces WHERE organization_id = ?", raw),
		"storageGb":  env.Count("SELECT COALESCE(SUM(storage_gb), 0) FROM workspaces WHERE organization_id = ?", raw),
	}
	for k, n := range want {
		if out[k] != int64(n) {
			t.Errorf("usage.%s = %d, the rows say %d", k, out[k], n)
		}
	}
	return out
}

// exceeded checks a QUOTA_EXCEEDED answer and the quota.exceeded event it
// left in the organization's trail (the newest one): dimension, limit and
// the amount requested.
func exceeded(t *testing.T, env *apitest.Env, r *apitest.Response, orgID, dim string, limit, requested int) {
	t.Helper()
	r.Want(t, "QUOTA_EXCEEDED")
	if !strings.Contains(r.Message(), dim) {
		t.Errorf("message %q does not name %s", r.Message(), dim)
	}
	var row struct {
		Outcome  string
		Metadata string
	}
	// The event is recorded after the refused transaction; it is there by
	// the time the answer is.
	env.DB.Raw("SELECT outcome, metadata FROM audit_events WHERE organization_id = ? AND action = 'quota.exceeded' ORDER BY created_at DESC, id DESC LIMIT 1",
		rawID(t, orgID)).Scan(&row)
	var meta map[string]any
	if err := json.Unmarshal([]byte(row.Metadata), &meta); err != nil {
		t.Fatalf("no quota.exceeded event (%v): %+v", err, row)
	}
	if row.Outcome != "DENIED" || meta["dimension"] != dim || meta["limit"] != float64(limit) || meta["requested"] != float64(requested) {
		t.Errorf("quota.exceeded = %s %s, want DENIED dimension %s limit %d requested %d", row.Outcome, row.Metadata, dim, limit, requested)
	}
}

func wsInput(name string, cpu, mem, disk int) map[string]any {
	in := apitest.WorkspaceInput(name)
	in["cpuCores"], in["memoryMb"], in["storageGb"] = cpu, mem, disk
	return map[string]any{"in": in}
}

func TestSetOrganizationQuota(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env
		op := operator(t, env)

		r := env.Do(w.acmeAdmin.Token, orgQuotaQ, map[string]any{"id": w.acmeAdmin.OrgID}).OK(t)
		if q := r.Get("data.organization.quota").Raw; q != `{"maxUsers":null,"maxWorkspaces":null,"maxCpuCores":null,"maxMemoryMb":null,"maxStorageGb":null}` {
			t.Errorf("a new organization's quota without NEOSC_DEFAULT_QUOTA: %s", q)
		}
		r = setQuota(t, env, op, w.acmeAdmin.OrgID, map[string]any{"maxUsers": 5, "maxWorkspaces": 3, "maxCpuCores": 16, "maxMemoryMb": 65536, "maxStorageGb": 0})
		if q := r.Get("data.setOrganizationQuota.quota").Raw; q != `{"maxUsers":5,"maxWorkspaces":3,"maxCpuCores":16,"maxMemoryMb":65536,"maxStorageGb":0}` {
			t.Errorf("set: %s", q)
		}
		// Members read their organization's quota and usage.
		r = env.Do(w.acmeMember.Token, orgQuotaQ, map[string]any{"id": w.acmeAdmin.OrgID}).OK(t)
		if r.Get("data.organization.quota.maxWorkspaces").Int() != 3 || r.Get("data.organization.usage.users").Int() != 2 ||
			r.Get("data.organization.usage.cpuCores").Int() != 2 {
			t.Errorf("member reads: %s", r.Body)
		}
		usage(t, env, w.acmeAdmin)

		t.Run("a negative limit is BAD_USER_INPUT naming the field; nothing changes", func(t *testing.T) {
			before := targetSnapshot(t, env, w.acmeAdmin.OrgID, ids.Organization)
			for _, f := range []string{"maxUsers", "maxWorkspaces", "maxCpuCores", "maxMemoryMb", "maxStorageGb"} {
				in := map[string]any{"maxWorkspaces": 9, "maxUsers": 9} // valid beside the bad one: nothing half written
				in[f] = -1
				r := env.Do(op.Token, setQuotaQ, map[string]any{"id": w.acmeAdmin.OrgID, "in": in}).Want(t, "BAD_USER_INPUT")
				if got := r.Get("errors.0.extensions.field").String(); got != f {
					t.Errorf("field %q, want %s", got, f)
				}
			}
			if targetSnapshot(t, env, w.acmeAdmin.OrgID, ids.Organization) != before {
				t.Error("a refused quota changed the organization")
			}
		})
		t.Run("audited with before and after", func(t *testing.T) {
			var meta string
			env.DB.Raw("SELECT metadata FROM audit_events WHERE organization_id = ? AND action = 'organization.quota_changed' ORDER BY created_at DESC LIMIT 1",
				rawID(t, w.acmeAdmin.OrgID)).Scan(&meta)
			var m map[string]map[string]any
			if err := json.Unmarshal([]byte(meta), &m); err != nil {
				t.Fatalf("organization.quota_changed: %v (%q)", err, meta)
			}
			if m["before"]["maxWorkspaces"] != nil || m["after"]["maxWorkspaces"] != float64(3) || m["after"]["maxStorageGb"] != float64(0) {
				t.Errorf("metadata %s", meta)
			}
		})
		t.Run("null is unlimited, and the whole quota is replaced", func(t *testing.T) {
			r := setQuota(t, env, op, w.acmeAdmin.OrgID, map[string]any{"maxWorkspaces": nil, "maxUsers": 7})
			if q := r.Get("data.setOrganizationQuota.quota").Raw; q != `{"maxUsers":7,"maxWorkspaces":null,"maxCpuCores":null,"maxMemoryMb":null,"maxStorageGb":null}` {
				t.Errorf("set: %s", q)
			}
		})
		t.Run("organization admins and members are FORBIDDEN, even on their own organization", func(t *testing.T) {
			for _, acc := range []apitest.Account{w.acmeAdmin, w.acmeMember} {
				env.Do(acc.Token, setQuotaQ, map[string]any{"id": w.acmeAdmin.OrgID, "in": map[string]any{"maxUsers": 1000}}).Want(t, "FORBIDDEN")
			}
			if n := env.Do(w.acmeAdmin.Token, orgQuotaQ, map[string]any{"id": w.acmeAdmin.OrgID}).OK(t).Get("data.organization.quota.maxUsers").Int(); n != 7 {
				t.Errorf("maxUsers = %d, want 7", n)
			}
		})
		t.Run("an unknown organization is NOT_FOUND for a platform administrator", func(t *testing.T) {
			env.Do(op.Token, setQuotaQ, map[string]any{"id": missing(ids.Organization), "in": map[string]any{}}).Want(t, "NOT_FOUND")
		})
	})
}

func TestQuotaWorkspaceDimensions(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d) // Acme: one workspace of 2 cores, 4096 MB, 20 GB
		env := w.env
		op := operator(t, env)
		org := w.acmeAdmin.OrgID

		t.Run("workspaces", func(t *testing.T) {
			setQuota(t, env, op, org, map[string]any{"maxWorkspaces": 2})
			env.Do(w.acmeAdmin.Token, quotaWSQ, wsInput("second", 1, 128, 1)).OK(t)
			r := env.Do(w.acmeAdmin.Token, quotaWSQ, wsInput("third", 1, 128, 1))
			exceeded(t, env, r, org, "workspaces", 2, 1)
			if u := usage(t, env, w.acmeAdmin); u["workspaces"] != 2 || u["cpuCores"] != 3 {
				t.Errorf("usage %v", u)
			}
		})
		for _, c := range []struct {
			dim, field string
			ok, over   map[string]int // a workspace that fills the quota exactly, then one more that does not fit
		}{
			{"cpuCores", "maxCpuCores", map[string]int{"cpuCores": 4, "memoryMb": 128, "storageGb": 1}, map[string]int{"cpuCores": 3, "memoryMb": 128, "storageGb": 1}},
			{"memoryMb", "maxMemoryMb", map[string]int{"cpuCores": 1, "memoryMb": 8192, "storageGb": 1}, map[string]int{"cpuCores": 1, "memoryMb": 4096, "storageGb": 1}},
			{"storageGb", "maxStorageGb", map[string]int{"cpuCores": 1, "memoryMb": 128, "storageGb": 40}, map[string]int{"cpuCores": 1, "memoryMb": 128, "storageGb": 30}},
		} {
			t.Run(c.dim, func(t *testing.T) {
				// The limit counts every workspace Acme holds: it is set so
				// that the first new workspace fills it exactly.
				limit := int(usage(t, env, w.acmeAdmin)[c.dim]) + c.ok[c.dim]
				setQuota(t, env, op, org, map[string]any{c.field: limit})
				requested := c.over[c.dim]
				fits := env.Do(w.acmeAdmin.Token, quotaWSQ, wsInput("fits-"+c.dim, c.ok["cpuCores"], c.ok["memoryMb"], c.ok["storageGb"])).OK(t).Get("data.createWorkspace.id").String()
				r := env.Do(w.acmeAdmin.Token, quotaWSQ, wsInput("over-"+c.dim, c.over["cpuCores"], c.over["memoryMb"], c.over["storageGb"]))
				exceeded(t, env, r, org, c.dim, limit, requested)
				if n := env.Count("SELECT COUNT(*) FROM workspaces WHERE name = ?", "over-"+c.dim); n != 0 {
					t.Errorf("the refused workspace was written")
				}
				// Raising an existing workspace past the limit is refused
				// the same way, and leaves it as it was.
				r = env.Do(w.acmeAdmin.Token, quotaUpdWS, map[string]any{"id": fits, "in": map[string]any{c.dim: c.ok[c.dim] + requested, "name": "renamed-" + c.dim}})
				exceeded(t, env, r, org, c.dim, limit, requested)
				if n := env.Count("SELECT COUNT(*) FROM workspaces WHERE name = ?", "renamed-"+c.dim); n != 0 {
					t.Errorf("the refused update was written")
				}
				after := usage(t, env, w.acmeAdmin)
				if after[c.dim] != int64(limit) {
					t.Errorf("usage.%s = %d, want the limit %d", c.dim, after[c.dim], limit)
				}
				// Shrinking always fits; the freed amount can be used again.
				shrink := map[string]any{"cpuCores": 1, "memoryMb": 128, "storageGb": 1}
				env.Do(w.acmeAdmin.Token, quotaUpdWS, map[string]any{"id": fits, "in": map[string]any{c.dim: shrink[c.dim]}}).OK(t)
				env.Do(w.acmeAdmin.Token, quotaWSQ, wsInput("now-fits-"+c.dim, c.over["cpuCores"], c.over["memoryMb"], c.over["storageGb"])).OK(t)
				usage(t, env, w.acmeAdmin)
				setQuota(t, env, op, org, map[string]any{})
			})
		}
		t.Run("lowering below the usage removes nothing and refuses more", func(t *testing.T) {
			u := usage(t, env, w.acmeAdmin)
			setQuota(t, env, op, org, map[string]any{"maxWorkspaces": 1, "maxCpuCores": 1})
			r := env.Do(w.acmeAdmin.Token, orgQuotaQ, map[string]any{"id": org}).OK(t)
			if r.Get("data.organization.usage.workspaces").Int() != u["workspaces"] || u["workspaces"] < 2 {
				t.Errorf("usage after lowering: %s", r.Body)
			}
			exceeded(t, env, env.Do(w.acmeAdmin.Token, quotaWSQ, wsInput("refused", 1, 128, 1)), org, "workspaces", 1, 1)
			// A change that adds nothing still works (a rename), and so do
			// deletions, which free their resources.
			env.Do(w.acmeAdmin.Token, quotaUpdWS, map[string]any{"id": w.acmeWS, "in": map[string]any{"name": "still-editable"}}).OK(t)
			env.Do(w.acmeAdmin.Token, `mutation($id: ID!) { deleteWorkspace(id: $id) }`, map[string]any{"id": w.acmeWS}).OK(t)
			after := usage(t, env, w.acmeAdmin)
			if after["workspaces"] != u["workspaces"]-1 || after["cpuCores"] != u["cpuCores"]-2 {
				t.Errorf("after a delete: %v, before %v", after, u)
			}
		})
		t.Run("another organization is not held to Acme's quota", func(t *testing.T) {
			env.Do(w.globexAdmin.Token, quotaWSQ, wsInput("globex-more", 8, 8192, 100)).OK(t)
		})
	})
}

func TestQuotaUsers(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := autoJoinWorld(t, d) // Acme: admin and member; acme.com AUTO_JOIN
		env := w.env
		op := operator(t, env)
		org := w.acmeAdmin.OrgID
		setQuota(t, env, op, org, map[string]any{"maxUsers": 3})

		t.Run("invitation acceptance", func(t *testing.T) {
			env.Invite(w.acmeAdmin, "third@acme.test", "MEMBER") // 3 of 3
			env.Do(w.acmeAdmin.Token, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"email": "fourth@acme.test", "role": "MEMBER"}}).OK(t)
			r := env.Do("", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token } }`,
				map[string]any{"in": map[string]any{"token": env.MailedToken("fourth@acme.test"), "name": "Fourth", "password": "correct horse battery"}})
			exceeded(t, env, r, org, "users", 3, 1)
			if n := env.Count("SELECT COUNT(*) FROM users WHERE email = 'fourth@acme.test'"); n != 0 {
				t.Error("the refused invitee's account was written")
			}
			if n := env.Count("SELECT COUNT(*) FROM invitations WHERE email = 'fourth@acme.test' AND status = 'PENDING'"); n != 1 {
				t.Error("the refused invitation was spent")
			}
			if u := usage(t, env, w.acmeAdmin); u["users"] != 3 {
				t.Errorf("users %d", u["users"])
			}
		})
		t.Run("registration into an existing organization (AUTO_JOIN)", func(t *testing.T) {
			r := env.Do("", registerQ, registerInput("joiner@acme.com", "Acme"))
			exceeded(t, env, r, org, "users", 3, 1)
			if n := env.Count("SELECT COUNT(*) FROM users WHERE email = 'joiner@acme.com'"); n != 0 {
				t.Error("the refused registrant was written")
			}
			// Room again: raising the quota lets the same registration in.
			setQuota(t, env, op, org, map[string]any{"maxUsers": 4})
			env.Do("", registerQ, registerInput("joiner@acme.com", "Acme")).OK(t)
			if u := usage(t, env, w.acmeAdmin); u["users"] != 4 {
				t.Errorf("users %d", u["users"])
			}
		})
		t.Run("pending users hold a seat: verifying the address adds none", func(t *testing.T) {
			// joiner@acme.com is PENDING and counted; at 4 of 4 its
			// verification still goes through.
			r := env.Do("", `mutation($t: String!) { verifyEmail(token: $t) { user { status } } }`, map[string]any{"t": env.MailedToken("joiner@acme.com")}).OK(t)
			if r.Get("data.verifyEmail.user.status").String() != "ACTIVE" {
				t.Errorf("verify: %s", r.Body)
			}
			if u := usage(t, env, w.acmeAdmin); u["users"] != 4 {
				t.Errorf("users %d", u["users"])
			}
		})
	})
}

func TestDefaultQuota(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		before := gen.Organization(t, d, store.Organization{}) // created before: no limits
		env := apitest.New(t, d, apitest.WithDefaultQuota("workspaces=1,cpuCores=3"))
		admin := env.Register("admin@defaults.test", "Defaults")
		r := env.Do(admin.Token, orgQuotaQ, map[string]any{"id": admin.OrgID}).OK(t)
		if q := r.Get("data.organization.quota").Raw; q != `{"maxUsers":null,"maxWorkspaces":1,"maxCpuCores":3,"maxMemoryMb":null,"maxStorageGb":null}` {
			t.Errorf("a registered organization's quota: %s", q)
		}
		env.Do(admin.Token, quotaWSQ, wsInput("one", 2, 128, 1)).OK(t)
		exceeded(t, env, env.Do(admin.Token, quotaWSQ, wsInput("two", 1, 128, 1)), admin.OrgID, "workspaces", 1, 1)
		var old store.Organization
		d.DB.Where("id = ?", before.ID).Take(&old)
		if old.MaxWorkspaces != nil || old.MaxCPUCores != nil {
			t.Errorf("an organization created before got the default: %+v", old.Quota)
		}

		t.Run("users=0 refuses even the founder, and nothing is written", func(t *testing.T) {
			env := apitest.New(t, d, apitest.WithDefaultQuota("users=0"))
			env.Do("", registerQ, registerInput("founder@nobody.test", "Nobody")).Want(t, "QUOTA_EXCEEDED")
			if n := env.Count("SELECT COUNT(*) FROM organizations WHERE name = 'Nobody'") + env.Count("SELECT COUNT(*) FROM users WHERE email = 'founder@nobody.test'"); n != 0 {
				t.Error("the refused registration wrote rows")
			}
			// The organization it would have founded does not exist: the
			// refusal is a platform event naming it.
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'quota.exceeded' AND organization_id IS NULL AND actor_email = 'founder@nobody.test'"); n != 1 {
				t.Errorf("%d platform quota.exceeded events for the founder, want 1", n)
			}
		})
		t.Run("SSO provisioning: the new organization gets the default, and its users are counted", func(t *testing.T) {
			op := oidctest.Start(t)
			env := apitest.New(t, d, apitest.WithOIDC(op.Issuer, op.ClientID(), strings.Split(config.DefaultOrgClaims, ",")),
				apitest.WithDefaultQuota("users=1"))
			first := env.Do(op.Token(t, zitadelUser("q1", "zorg-quota")), meQuery, nil).OK(t)
			orgID := first.Get("data.me.organization.id").String()
			r := env.Do(op.Token(t, zitadelUser("q2", "zorg-quota")), meQuery, nil)
			exceeded(t, env, r, orgID, "users", 1, 1)
			if n := env.Count("SELECT COUNT(*) FROM users WHERE sso_subject = 'q2'"); n != 0 {
				t.Error("the refused SSO user was written")
			}
		})
	})
}

// TestOrganizationsListShowsTheQuota: a tenant user's organizations list
// answers the quota and usage of their organization as organization(id)
// does. (The organization loaded with the caller once lacked the quota and
// resource columns, so the list said every limit was unlimited; the console
// found it.)
func TestOrganizationsListShowsTheQuota(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d, apitest.WithDefaultQuota("workspaces=4,cpuCores=16,users=9"))
		admin := env.Register("ada@listquota.test", "List Quota")
		env.CreateWorkspace(admin, "one")
		const fields = `id quota { maxUsers maxWorkspaces maxCpuCores maxMemoryMb maxStorageGb } usage { users workspaces cpuCores memoryMb storageGb }`
		list := env.Do(admin.Token, `{ organizations(first: 10) { nodes { `+fields+` } } }`, nil).OK(t).Get("data.organizations.nodes.0")
		one := env.Do(admin.Token, `query($id: ID!) { organization(id: $id) { `+fields+` } }`, map[string]any{"id": list.Get("id").String()}).OK(t).
			Get("data.organization")
		if list.Raw != one.Raw {
			t.Errorf("organizations lists %s\norganization(id) answers %s", list.Raw, one.Raw)
		}
		if list.Get("quota.maxWorkspaces").Int() != 4 || list.Get("usage.workspaces").Int() != 1 || list.Get("usage.cpuCores").Int() == 0 {
			t.Errorf("the list's quota and usage: %s", list.Raw)
		}
	})
}
