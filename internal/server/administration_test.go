package server_test

// Organization administration (roles, offboarding, renames, updateMe) and
// platform administration (create, suspend, delete, search), through the
// real handler on SQLite and, with NEOSC_TEST_MYSQL_DSN, MariaDB.

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

// events counts org's audit events of action targeting target (a global ID).
func events(t *testing.T, env *apitest.Env, org, action, target string) int {
	t.Helper()
	return env.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ? AND action = ? AND target_id = ?",
		rawID(t, org), action, rawID(t, target))
}

// platformAdmin registers an operator in the default organization and
// makes them a platform administrator (as `neosc create-admin` would).
func platformAdmin(t *testing.T, env *apitest.Env) apitest.Account {
	t.Helper()
	email := "operator-" + ids.New()[24:] + "@example.com"
	a := env.Register(email, "")
	env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", email)
	return a
}

const meStatusQ = `{ me { id status role } }`

func TestRolesAndOffboarding(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env
		orgUsers := func() int64 {
			return env.Do(w.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { userCount } }`, idVar(w.acmeAdmin.OrgID)).OK(t).
				Get("data.organization.userCount").Int()
		}

		t.Run("the last active admin can be neither demoted nor deactivated", func(t *testing.T) {
			env.Do(w.acmeAdmin.Token, setRoleQ, map[string]any{"id": w.acmeAdmin.UserID, "role": "MEMBER"}).Want(t, "CONFLICT")
			env.Do(w.acmeAdmin.Token, deactivateQ, idVar(w.acmeAdmin.UserID)).Want(t, "CONFLICT")
			env.Do(w.acmeAdmin.Token, meStatusQ, nil).OK(t)
			if n := events(t, env, w.acmeAdmin.OrgID, "user.role_changed", w.acmeAdmin.UserID); n != 0 {
				t.Errorf("%d role changes recorded for a refused demotion", n)
			}
		})

		t.Run("a member may not change roles", func(t *testing.T) {
			env.Do(w.acmeMember.Token, setRoleQ, map[string]any{"id": w.acmeMember.UserID, "role": "ADMIN"}).Want(t, "FORBIDDEN")
			env.Do(w.acmeMember.Token, deactivateQ, idVar(w.acmeAdmin.UserID)).Want(t, "FORBIDDEN")
		})

		t.Run("promote, demote, audited with before and after", func(t *testing.T) {
			r := env.Do(w.acmeAdmin.Token, setRoleQ, map[string]any{"id": w.acmeMember.UserID, "role": "ADMIN"}).OK(t)
			if r.Get("data.setUserRole.role").String() != "ADMIN" {
				t.Fatalf("promote: %s", r.Body)
			}
			env.Do(w.acmeAdmin.Token, setRoleQ, map[string]any{"id": w.acmeAdmin.UserID, "role": "MEMBER"}).OK(t) // two admins: allowed
			env.Do(w.acmeMember.Token, setRoleQ, map[string]any{"id": w.acmeAdmin.UserID, "role": "ADMIN"}).OK(t)
			env.Do(w.acmeAdmin.Token, setRoleQ, map[string]any{"id": w.acmeMember.UserID, "role": "MEMBER"}).OK(t)
			var meta string
			env.DB.Raw(`SELECT metadata FROM audit_events WHERE action = 'user.role_changed' AND target_id = ? ORDER BY created_at, id LIMIT 1`,
				rawID(t, w.acmeMember.UserID)).Scan(&meta)
			if !strings.Contains(meta, `"from":"MEMBER"`) || !strings.Contains(meta, `"to":"ADMIN"`) {
				t.Errorf("role_changed metadata: %s", meta)
			}
			if n := events(t, env, w.acmeAdmin.OrgID, "user.role_changed", w.acmeMember.UserID); n != 2 {
				t.Errorf("%d role changes of the member recorded, want 2", n)
			}
		})

		t.Run("deactivation stops sessions and the user's API tokens; reactivation restores the tokens, not the sessions", func(t *testing.T) {
			email := "leaver-" + ids.New()[24:] + "@acme.test"
			leaver := env.Invite(w.acmeAdmin, email, "ADMIN")
			secret, _ := newToken(t, env, leaver, "leaver's integration", "READ_ORGANIZATION")
			adminSecret, _ := newToken(t, env, w.acmeAdmin, "admin's integration", "READ_ORGANIZATION")
			orgQ := `query($id: ID!) { organization(id: $id) { id } }`
			env.Do(secret, orgQ, idVar(w.acmeAdmin.OrgID)).OK(t)
			count := orgUsers()

			r := env.Do(w.acmeAdmin.Token, deactivateQ, idVar(leaver.UserID)).OK(t)
			if r.Get("data.deactivateUser.status").String() != "DEACTIVATED" {
				t.Fatalf("deactivate: %s", r.Body)
			}
			env.Do(leaver.Token, meStatusQ, nil).Want(t, "UNAUTHENTICATED")
			env.Do(secret, orgQ, idVar(w.acmeAdmin.OrgID)).Want(t, "UNAUTHENTICATED")
			env.Do(adminSecret, orgQ, idVar(w.acmeAdmin.OrgID)).OK(t) // another creator's token goes on
			env.Do("", `mutation($in: LoginInput!) { login(input: $in) { token } }`,
				map[string]any{"in": map[string]any{"email": email, "password": "password-" + email}}).Want(t, "UNAUTHENTICATED")
			if n := events(t, env, w.acmeAdmin.OrgID, "user.deactivated", leaver.UserID); n != 1 {
				t.Errorf("%d user.deactivated events", n)
			}
			if got := orgUsers(); got != count {
				t.Errorf("userCount %d after deactivation, want %d (accounts of every status)", got, count)
			}
			env.Do(w.acmeAdmin.Token, deactivateQ, idVar(leaver.UserID)).OK(t) // again: nothing more
			if n := events(t, env, w.acmeAdmin.OrgID, "user.deactivated", leaver.UserID); n != 1 {
				t.Errorf("%d user.deactivated events after a repeat", n)
			}

			r = env.Do(w.acmeAdmin.Token, reactivateQ, idVar(leaver.UserID)).OK(t)
			if r.Get("data.reactivateUser.status").String() != "ACTIVE" {
				t.Fatalf("reactivate: %s", r.Body)
			}
			env.Do(secret, orgQ, idVar(w.acmeAdmin.OrgID)).OK(t)
			env.Do(leaver.Token, meStatusQ, nil).Want(t, "UNAUTHENTICATED") // sessions stay ended
			tok := signIn(t, env, email, "password-"+email)
			env.Do(tok, meStatusQ, nil).OK(t)
			if n := events(t, env, w.acmeAdmin.OrgID, "user.reactivated", leaver.UserID); n != 1 {
				t.Errorf("%d user.reactivated events", n)
			}
			if got := orgUsers(); got != count {
				t.Errorf("userCount %d after reactivation, want %d", got, count)
			}
		})

		t.Run("a deactivated admin does not count as an admin", func(t *testing.T) {
			email := "second-" + ids.New()[24:] + "@acme.test"
			second := env.Invite(w.acmeAdmin, email, "ADMIN")
			env.Do(w.acmeAdmin.Token, deactivateQ, idVar(second.UserID)).OK(t)
			// Acme's admin is the only ACTIVE one (the leaver above is ADMIN
			// and active again: demote them first).
			r := env.Do(w.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { users(first: 100) { nodes { id role status } } } }`, idVar(w.acmeAdmin.OrgID)).OK(t)
			for _, u := range r.Get("data.organization.users.nodes").Array() {
				if u.Get("role").String() == "ADMIN" && u.Get("status").String() == "ACTIVE" && u.Get("id").String() != w.acmeAdmin.UserID {
					env.Do(w.acmeAdmin.Token, setRoleQ, map[string]any{"id": u.Get("id").String(), "role": "MEMBER"}).OK(t)
				}
			}
			env.Do(w.acmeAdmin.Token, setRoleQ, map[string]any{"id": w.acmeAdmin.UserID, "role": "MEMBER"}).Want(t, "CONFLICT")
			env.Do(w.acmeAdmin.Token, reactivateQ, idVar(second.UserID)).OK(t)
			env.Do(w.acmeAdmin.Token, setRoleQ, map[string]any{"id": second.UserID, "role": "MEMBER"}).OK(t)
		})
	})
}

// TestLastAdminUnderConcurrency: two admins demote (or deactivate) each
// other at the same moment, again and again; every round leaves exactly one
// active admin, the other change answering CONFLICT.
func TestLastAdminUnderConcurrency(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		tag := ids.New()[24:]
		a := env.Register("a@race-"+tag+".test", "Race "+tag)
		activeAdmins := func() int {
			return env.Count("SELECT COUNT(*) FROM users WHERE organization_id = ? AND role = 'ADMIN' AND status = 'ACTIVE'", rawID(t, a.OrgID))
		}
		for round := 0; round < 8; round++ {
			email := fmt.Sprintf("b%d@race-%s.test", round, tag)
			b := env.Invite(a, email, "ADMIN")
			deactivate := round%2 == 1
			var wg sync.WaitGroup
			codes := make([]string, 2)
			start := make(chan struct{})
			for i, pair := range [][2]apitest.Account{{a, b}, {b, a}} {
				wg.Add(1)
				go func(i int, actor, target apitest.Account) {
					defer wg.Done()
					<-start
					var r *apitest.Response
					if deactivate {
						r = env.Do(actor.Token, deactivateQ, idVar(target.UserID))
					} else {
						r = env.Do(actor.Token, setRoleQ, map[string]any{"id": target.UserID, "role": "MEMBER"})
					}
					codes[i] = r.Code()
				}(i, pair[0], pair[1])
			}
			close(start)
			wg.Wait()
			if n := activeAdmins(); n != 1 {
				t.Fatalf("round %d (deactivate %v): %d active admins, codes %q", round, deactivate, n, codes)
			}
			ok, conflict := 0, 0
			for _, c := range codes {
				switch c {
				case "":
					ok++
				case "CONFLICT", "UNAUTHENTICATED", "FORBIDDEN":
					// The loser either counted one admin (CONFLICT) or, having
					// lost its own rights first, was refused at the door.
					conflict++
				}
			}
			if ok != 1 || conflict != 1 {
				t.Fatalf("round %d: codes %q, want one success and one refusal", round, codes)
			}
			// The survivor continues as a.
			if env.Count("SELECT COUNT(*) FROM users WHERE id = ? AND role = 'ADMIN' AND status = 'ACTIVE'", rawID(t, a.UserID)) == 0 {
				a = b
			}
		}
	})
}

func TestUpdateOrganizationAndMe(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env
		rename := func(acc apitest.Account, name string) *apitest.Response {
			return env.Do(acc.Token, updateOrgQ, map[string]any{"id": acc.OrgID, "in": map[string]any{"name": name}})
		}
		t.Run("rename, cleaned and audited with before and after", func(t *testing.T) {
			r := rename(w.acmeAdmin, "  Acme   Industries ").OK(t)
			if r.Get("data.updateOrganization.name").String() != "Acme Industries" {
				t.Fatalf("rename: %s", r.Body)
			}
			var meta string
			env.DB.Raw(`SELECT metadata FROM audit_events WHERE action = 'organization.updated' AND target_id = ?`, rawID(t, w.acmeAdmin.OrgID)).Scan(&meta)
			if !strings.Contains(meta, `"changes":{"name":{"from":"Acme","to":"Acme Industries"}}`) {
				t.Errorf("organization.updated metadata: %s", meta)
			}
			// The new name is what registration now finds.
			if n := env.Count("SELECT COUNT(*) FROM organizations WHERE name_lower = 'acme industries'"); n != 1 {
				t.Errorf("name_lower not kept: %d", n)
			}
		})
		t.Run("a name that is or looks like another organization's is CONFLICT", func(t *testing.T) {
			r := rename(w.acmeAdmin, "GLOBEX").Want(t, "CONFLICT")
			if f := r.Get("errors.0.extensions.field").String(); f != "name" {
				t.Errorf("field %q", f)
			}
			rename(w.acmeAdmin, "G1obex").Want(t, "CONFLICT") // a confusable skeleton
		})
		t.Run("bad names are BAD_USER_INPUT naming the field; nothing written", func(t *testing.T) {
			before := targetSnapshot(t, env, w.acmeAdmin.OrgID, ids.Organization)
			for _, bad := range []string{"", "   ", strings.Repeat("x", 101), "a\u202eb"} {
				r := rename(w.acmeAdmin, bad).Want(t, "BAD_USER_INPUT")
				if f := r.Get("errors.0.extensions.field").String(); f != "name" {
					t.Errorf("%q: field %q", bad, f)
				}
			}
			if after := targetSnapshot(t, env, w.acmeAdmin.OrgID, ids.Organization); after != before {
				t.Error("a refused rename changed the organization")
			}
		})
		t.Run("a member cannot rename", func(t *testing.T) {
			env.Do(w.acmeMember.Token, updateOrgQ, map[string]any{"id": w.acmeAdmin.OrgID, "in": map[string]any{"name": "Mine"}}).Want(t, "FORBIDDEN")
		})
		t.Run("updateMe", func(t *testing.T) {
			r := env.Do(w.acmeMember.Token, updateMeQ, map[string]any{"in": map[string]any{"name": "  Jo   Member "}}).OK(t)
			if r.Get("data.updateMe.name").String() != "Jo Member" {
				t.Fatalf("updateMe: %s", r.Body)
			}
			if n := events(t, env, w.acmeAdmin.OrgID, "user.updated", w.acmeMember.UserID); n != 1 {
				t.Errorf("%d user.updated events", n)
			}
			r = env.Do(w.acmeMember.Token, updateMeQ, map[string]any{"in": map[string]any{"name": ""}}).Want(t, "BAD_USER_INPUT")
			if f := r.Get("errors.0.extensions.field").String(); f != "name" {
				t.Errorf("field %q", f)
			}
			secret, _ := newToken(t, env, w.acmeAdmin, "bot", "READ_ORGANIZATION")
			env.Do(secret, updateMeQ, map[string]any{"in": map[string]any{"name": "Bot"}}).Want(t, "FORBIDDEN")
		})
	})
}

func TestSuspendAndDelete(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env
		op := platformAdmin(t, env)
		setStatus := func(org, status string) *apitest.Response {
			return env.Do(op.Token, setOrgStatusQ, map[string]any{"id": org, "s": status, "r": "unpaid invoice"})
		}
		orgQ := `query($id: ID!) { organization(id: $id) { id name } }`

		t.Run("createOrganization", func(t *testing.T) {
			r := env.Do(op.Token, createOrgQ, map[string]any{"in": map[string]any{"name": "  Umbrella  Corp ", "domain": "Umbrella.COM"}}).OK(t)
			o := r.Get("data.createOrganization")
			if o.Get("name").String() != "Umbrella Corp" || o.Get("slug").String() != "umbrella-corp" || o.Get("domain").String() != "umbrella.com" ||
				o.Get("status").String() != "ACTIVE" || o.Get("userCount").Int() != 0 {
				t.Fatalf("created %s", r.Body)
			}
			if n := events(t, env, o.Get("id").String(), "organization.created", o.Get("id").String()); n != 1 {
				t.Errorf("%d organization.created events", n)
			}
			env.Do(op.Token, createOrgQ, map[string]any{"in": map[string]any{"name": "UMBRELLA CORP"}}).Want(t, "CONFLICT")
			env.Do(op.Token, createOrgQ, map[string]any{"in": map[string]any{"name": "Other", "domain": "umbrella.com"}}).Want(t, "CONFLICT")
			r = env.Do(op.Token, createOrgQ, map[string]any{"in": map[string]any{"name": ""}}).Want(t, "BAD_USER_INPUT")
			if f := r.Get("errors.0.extensions.field").String(); f != "name" {
				t.Errorf("field %q", f)
			}
			r = env.Do(op.Token, createOrgQ, map[string]any{"in": map[string]any{"name": "Mailer", "domain": "gmail.com"}}).Want(t, "BAD_USER_INPUT")
			if f := r.Get("errors.0.extensions.field").String(); f != "domain" {
				t.Errorf("field %q", f)
			}
		})

		t.Run("reserved organizations can be neither suspended nor deleted", func(t *testing.T) {
			r := env.Do(op.Token, `{ me { organization { id } } }`, nil).OK(t)
			def := r.Get("data.me.organization.id").String()
			setStatus(def, "SUSPENDED").Want(t, "FORBIDDEN")
			env.Do(op.Token, deleteOrgQ, idVar(def)).Want(t, "FORBIDDEN")
		})

		secret, _ := newToken(t, env, w.acmeAdmin, "acme bot", "READ_ORGANIZATION")
		globexGrantToAcme := grant(t, env, w.globexAdmin, w.globexWS, w.acmeAdmin)
		acmeGrantToGlobex := grant(t, env, w.acmeAdmin, w.acmeWS, w.globexAdmin)

		t.Run("suspension refuses sessions and API tokens, keeps everything, reactivation restores it", func(t *testing.T) {
			env.Do(op.Token, deleteOrgQ, idVar(w.acmeAdmin.OrgID)).Want(t, "CONFLICT") // active
			r := setStatus(w.acmeAdmin.OrgID, "SUSPENDED").OK(t)
			if r.Get("data.setOrganizationStatus.status").String() != "SUSPENDED" {
				t.Fatalf("suspend: %s", r.Body)
			}
			env.Do(w.acmeAdmin.Token, meStatusQ, nil).Want(t, "ORGANIZATION_SUSPENDED")
			env.Do(w.acmeMember.Token, meStatusQ, nil).Want(t, "ORGANIZATION_SUSPENDED")
			env.Do(secret, orgQ, idVar(w.acmeAdmin.OrgID)).Want(t, "ORGANIZATION_SUSPENDED")
			env.Do("", `mutation($in: LoginInput!) { login(input: $in) { token } }`,
				map[string]any{"in": map[string]any{"email": w.acmeAdmin.Email, "password": "password-" + w.acmeAdmin.Email}}).Want(t, "ORGANIZATION_SUSPENDED")
			env.Do(w.globexAdmin.Token, meStatusQ, nil).OK(t)
			env.Do(op.Token, orgQ, idVar(w.acmeAdmin.OrgID)).OK(t) // platform administrators exempt
			var meta string
			env.DB.Raw(`SELECT metadata FROM audit_events WHERE action = 'organization.status_changed' AND target_id = ?`, rawID(t, w.acmeAdmin.OrgID)).Scan(&meta)
			if !strings.Contains(meta, "unpaid invoice") || !strings.Contains(meta, `"changes":{"status":{"from":"ACTIVE","to":"SUSPENDED"}}`) {
				t.Errorf("status_changed metadata: %s", meta)
			}

			setStatus(w.acmeAdmin.OrgID, "ACTIVE").OK(t)
			env.Do(w.acmeAdmin.Token, meStatusQ, nil).OK(t)
			env.Do(w.acmeMember.Token, meStatusQ, nil).OK(t)
			env.Do(secret, orgQ, idVar(w.acmeAdmin.OrgID)).OK(t)
			env.Do(w.acmeAdmin.Token, `query($id: ID!) { workspace(id: $id) { id } }`, idVar(w.globexWS)).OK(t) // the grant too
		})

		t.Run("deleteOrganization removes everything in one transaction and keeps the trail", func(t *testing.T) {
			acme := rawID(t, w.acmeAdmin.OrgID)
			trail := env.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ?", acme)
			env.Do(w.acmeAdmin.Token, inviteQ, inviteVars("pending-"+ids.New()[24:]+"@acme.test")).OK(t)
			setStatus(w.acmeAdmin.OrgID, "SUSPENDED").OK(t)
			r := env.Do(op.Token, deleteOrgQ, idVar(w.acmeAdmin.OrgID)).OK(t)
			if r.Get("data.deleteOrganization").String() != w.acmeAdmin.OrgID {
				t.Fatalf("delete: %s", r.Body)
			}
			for _, q := range []string{
				"SELECT COUNT(*) FROM organizations WHERE id = ?",
				"SELECT COUNT(*) FROM users WHERE organization_id = ?",
				"SELECT COUNT(*) FROM workspaces WHERE organization_id = ?",
				"SELECT COUNT(*) FROM api_tokens WHERE organization_id = ?",
				"SELECT COUNT(*) FROM invitations WHERE organization_id = ?",
				"SELECT COUNT(*) FROM organization_domains WHERE organization_id = ?",
				"SELECT COUNT(*) FROM mail_outbox WHERE organization_id = ?",
				"SELECT COUNT(*) FROM email_verifications WHERE organization_id = ?",
				"SELECT COUNT(*) FROM workspace_grants WHERE organization_id = ? OR grantee_organization_id = ?",
				"SELECT COUNT(*) FROM rate_limits WHERE subject = ?",
			} {
				args := []any{acme}
				if strings.Count(q, "?") == 2 {
					args = append(args, acme)
				}
				if n := env.Count(q, args...); n != 0 {
					t.Errorf("%s: %d rows left", q, n)
				}
			}
			for _, g := range []string{globexGrantToAcme, acmeGrantToGlobex} {
				if n := env.Count("SELECT COUNT(*) FROM workspace_grants WHERE id = ?", rawID(t, g)); n != 0 {
					t.Errorf("grant %s left", g)
				}
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ?", acme); n < trail+1 {
				t.Errorf("trail has %d events, had %d before", n, trail)
			}
			var meta string
			env.DB.Raw(`SELECT metadata FROM audit_events WHERE action = 'organization.deleted' AND target_id = ?`, acme).Scan(&meta)
			if !strings.Contains(meta, `"name":"Acme"`) || !strings.Contains(meta, `"slug":"acme"`) {
				t.Errorf("organization.deleted metadata: %s", meta)
			}
			env.Do(w.acmeAdmin.Token, meStatusQ, nil).Want(t, "UNAUTHENTICATED")
			env.Do(secret, orgQ, idVar(w.acmeAdmin.OrgID)).Want(t, "UNAUTHENTICATED")
			env.Do(w.globexAdmin.Token, `query($id: ID!) { workspace(id: $id) { id } }`, idVar(w.globexWS)).OK(t)
			env.Do(op.Token, deleteOrgQ, idVar(w.acmeAdmin.OrgID)).Want(t, "NOT_FOUND")
			// The name is free again.
			env.Register("admin@acme.test", "Acme")
		})
	})
}

func TestOrganizationSearch(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		op := platformAdmin(t, env)
		for _, n := range []struct{ name, domain string }{
			{"Zeta Alpha", "alpha-zeta.com"}, {"Zeta Beta", ""}, {"Zebra Works", "zebra.com"}, {"Omega", "zz-omega.com"},
		} {
			in := map[string]any{"name": n.name}
			if n.domain != "" {
				in["domain"] = n.domain
			}
			env.Do(op.Token, createOrgQ, map[string]any{"in": in}).OK(t)
		}
		names := func(f map[string]any, first int, after string) ([]string, string, int64) {
			vars := map[string]any{"f": f, "first": first}
			if after != "" {
				vars["after"] = after
			}
			r := env.Do(op.Token, `query($f: OrganizationFilter, $first: Int, $after: String) { organizations(first: $first, after: $after, filter: $f) {
				totalCount pageInfo { endCursor } nodes { name } } }`, vars).OK(t)
			var out []string
			for _, n := range r.Get("data.organizations.nodes").Array() {
				out = append(out, n.Get("name").String())
			}
			return out, r.Get("data.organizations.pageInfo.endCursor").String(), r.Get("data.organizations.totalCount").Int()
		}
		same := func(got []string, want ...string) bool { return strings.Join(got, ",") == strings.Join(want, ",") }
		if got, _, n := names(map[string]any{"search": "ZETA "}, 10, ""); !same(got, "Zeta Alpha", "Zeta Beta") || n != 2 {
			t.Errorf("name prefix: %v %d", got, n)
		}
		if got, _, _ := names(map[string]any{"search": "zebra-w"}, 10, ""); !same(got, "Zebra Works") {
			t.Errorf("slug prefix: %v", got)
		}
		if got, _, _ := names(map[string]any{"search": "zz-om"}, 10, ""); !same(got, "Omega") {
			t.Errorf("domain prefix: %v", got)
		}
		if got, _, _ := names(map[string]any{"search": "lpha"}, 10, ""); len(got) != 0 {
			t.Errorf("an infix matched: %v", got)
		}
		// Keyset paging through the matches.
		p1, cur, _ := names(map[string]any{"search": "ze"}, 2, "")
		p2, _, _ := names(map[string]any{"search": "ze"}, 2, cur)
		if len(p1) != 2 || len(p2) != 1 || strings.Contains(strings.Join(p1, ","), p2[0]) {
			t.Errorf("pages %v then %v", p1, p2)
		}
		r := env.Do(op.Token, `{ organizations(first: 100, filter: {search: "omega"}) { nodes { id } } }`, nil).OK(t)
		omega := r.Get("data.organizations.nodes.0.id").String()
		env.Do(op.Token, setOrgStatusQ, map[string]any{"id": omega, "s": "SUSPENDED"}).OK(t)
		if got, _, _ := names(map[string]any{"status": "SUSPENDED"}, 10, ""); !same(got, "Omega") {
			t.Errorf("status filter: %v", got)
		}
		if got, _, _ := names(map[string]any{"search": "z", "status": "ACTIVE"}, 10, ""); !same(got, "Zeta Alpha", "Zeta Beta", "Zebra Works") {
			t.Errorf("search and status: %v", got)
		}
		env.Do(op.Token, searchOrgsQ, map[string]any{"f": map[string]any{"search": strings.Repeat("x", 254)}}).Want(t, "BAD_USER_INPUT")

		if d.Engine == db.MySQL {
			t.Run("EXPLAIN: the search is index ranges, not a scan", func(t *testing.T) {
				// Enough rows that a scan would not be chosen for free.
				for i := 0; i < 300; i++ {
					env.Exec(`INSERT INTO organizations (id, name, name_key, name_lower, slug, status, user_count, workspace_count, kind, created_at, updated_at)
						VALUES (?, ?, ?, ?, ?, 'ACTIVE', 0, 0, 'TENANT', NOW(6), NOW(6))`,
						ids.New(), fmt.Sprintf("Filler %d", i), fmt.Sprintf("filler-%d", i), fmt.Sprintf("filler %d", i), fmt.Sprintf("filler-%d", i))
				}
				env.Exec("ANALYZE TABLE organizations")
				var rows []map[string]any
				s, e := "zeta", "zeta\U0010FFFF"
				if err := env.DB.Raw(`EXPLAIN SELECT * FROM organizations WHERE ((name_lower >= ? AND name_lower < ?) OR (slug >= ? AND slug < ?) OR (domain >= ? AND domain < ?))
					ORDER BY id LIMIT 21`, s, e, s, e, s, e).Scan(&rows).Error; err != nil {
					t.Fatal(err)
				}
				if len(rows) != 1 {
					t.Fatalf("plan %v", rows)
				}
				typ := fmt.Sprint(rows[0]["type"])
				key := fmt.Sprint(rows[0]["key"])
				if typ == "ALL" || !strings.Contains(key, "organizations_name_lower") {
					t.Errorf("plan type %s key %s: %v", typ, key, rows[0])
				}
			})
		}
	})
}

// TestCreateOrganizationQuota: createOrganization takes a quota; without
// one the organization starts with NEOSC_DEFAULT_QUOTA, as registration's
// do; a negative limit is BAD_USER_INPUT naming it, and nothing is created.
func TestCreateOrganizationQuota(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d, apitest.WithDefaultQuota("workspaces=3,cpuCores=8"))
		op := platformAdmin(t, env)
		const q = `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) {
			id quota { maxUsers maxWorkspaces maxCpuCores maxMemoryMb maxStorageGb } } }`
		r := env.Do(op.Token, q, map[string]any{"in": map[string]any{"name": "Default Quota Co"}}).OK(t)
		if got := r.Get("data.createOrganization.quota").Raw; got != `{"maxUsers":null,"maxWorkspaces":3,"maxCpuCores":8,"maxMemoryMb":null,"maxStorageGb":null}` {
			t.Errorf("without a quota: %s", got)
		}
		r = env.Do(op.Token, q, map[string]any{"in": map[string]any{"name": "Own Quota Co", "quota": map[string]any{"maxUsers": 5, "maxStorageGb": 100}}}).OK(t)
		if got := r.Get("data.createOrganization.quota").Raw; got != `{"maxUsers":5,"maxWorkspaces":null,"maxCpuCores":null,"maxMemoryMb":null,"maxStorageGb":100}` {
			t.Errorf("with a quota: %s", got)
		}
		r = env.Do(op.Token, q, map[string]any{"in": map[string]any{"name": "Negative Co", "quota": map[string]any{"maxUsers": -1}}}).Want(t, "BAD_USER_INPUT")
		if f := r.Get("errors.0.extensions.field").String(); f != "maxUsers" {
			t.Errorf("field %q", f)
		}
		if n := env.Count("SELECT COUNT(*) FROM organizations WHERE name = ?", "Negative Co"); n != 0 {
			t.Errorf("a refused createOrganization left %d organizations", n)
		}
	})
}
