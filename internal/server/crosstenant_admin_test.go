package server_test

// Cross-tenant entries of organization and platform administration (issue
// 11, points 1 and 2), appended to the suite's lists so that
// crosstenant_test.go merges mechanically.

import (
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/ids"
)

const (
	updateOrgQ     = `mutation($id: ID!, $in: UpdateOrganizationInput!) { updateOrganization(id: $id, input: $in) { ` + orgScalars + ` } }`
	setRoleQ       = `mutation($id: ID!, $role: OrgRole!) { setUserRole(userId: $id, role: $role) { ` + userFields + ` } }`
	deactivateQ    = `mutation($id: ID!) { deactivateUser(userId: $id) { ` + userFields + ` } }`
	reactivateQ    = `mutation($id: ID!) { reactivateUser(userId: $id) { ` + userFields + ` } }`
	setOrgStatusQ  = `mutation($id: ID!, $s: OrganizationStatus!, $r: String) { setOrganizationStatus(id: $id, status: $s, reason: $r) { ` + orgScalars + ` } }`
	deleteOrgQ     = `mutation($id: ID!) { deleteOrganization(id: $id) }`
	createOrgQ     = `mutation($in: CreateOrganizationInput!) { createOrganization(input: $in) { ` + orgScalars + ` } }`
	updateMeQ      = `mutation($in: UpdateMeInput!) { updateMe(input: $in) { ` + userFields + ` } }`
	searchOrgsQ    = `query($f: OrganizationFilter) { organizations(first: 10, filter: $f) { totalCount ` + pageFields + ` nodes { ` + orgScalars + ` } } }`
	globexUserCase = "of another organization's user"
)

func globexOrg(ts *tenants) (string, string, ids.Type) {
	return ts.globexAdmin.OrgID, ts.globexAdmin.OrgID, ids.Organization
}

func globexUser(ts *tenants) (string, string, ids.Type) {
	return ts.globexAdmin.UserID, ts.globexAdmin.OrgID, ids.User
}

func acmeMemberActor(ts *tenants) apitest.Account { return ts.acmeMember }

func init() {
	renameVars := func(id string) map[string]any { return map[string]any{"id": id, "in": map[string]any{"name": "Pwned"}} }
	roleVars := func(id string) map[string]any { return map[string]any{"id": id, "role": "MEMBER"} }
	deniedCases = append(deniedCases,
		deniedCase{name: "updateOrganization of another organization", query: updateOrgQ, vars: renameVars, target: globexOrg},
		deniedCase{name: "updateOrganization by a member", query: updateOrgQ, vars: renameVars, target: globexOrg, actor: acmeMemberActor},
		deniedCase{name: "setUserRole " + globexUserCase, query: setRoleQ, vars: roleVars, target: globexUser},
		deniedCase{name: "setUserRole by a member", query: setRoleQ, vars: roleVars, target: globexUser, actor: acmeMemberActor},
		deniedCase{name: "deactivateUser " + globexUserCase, query: deactivateQ, vars: idVar, target: globexUser},
		deniedCase{name: "deactivateUser by a member", query: deactivateQ, vars: idVar, target: globexUser, actor: acmeMemberActor},
		deniedCase{name: "reactivateUser " + globexUserCase, query: reactivateQ, vars: idVar, target: globexUser},
		// inviteUser(input: {organizationId}): only a platform administrator
		// may name another organization.
		deniedCase{name: "inviteUser into another organization", query: inviteIntoQ,
			vars: func(id string) map[string]any { return inviteInto("intruder@example.net", "ADMIN", id) }, target: globexOrg},
	)
	isolatedCases = append(isolatedCases,
		isolatedCase{"setOrganizationStatus is FORBIDDEN to a tenant admin, for any ID", setOrgStatusQ, func(t *testing.T, ts *tenants, q string) {
			before := targetSnapshot(t, ts.env, ts.globexAdmin.OrgID, ids.Organization)
			for _, id := range []string{ts.globexAdmin.OrgID, ts.acmeAdmin.OrgID, missing(ids.Organization)} {
				r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"id": id, "s": "SUSPENDED", "r": "x"}).Want(t, "FORBIDDEN")
				noForeign(t, r, ts)
			}
			if after := targetSnapshot(t, ts.env, ts.globexAdmin.OrgID, ids.Organization); after != before {
				t.Errorf("Globex changed:\n%s\n%s", before, after)
			}
		}},
		isolatedCase{"deleteOrganization is FORBIDDEN to a tenant admin, for any ID", deleteOrgQ, func(t *testing.T, ts *tenants, q string) {
			for _, id := range []string{ts.globexAdmin.OrgID, ts.acmeAdmin.OrgID, missing(ids.Organization)} {
				r := ts.env.Do(ts.acmeAdmin.Token, q, idVar(id)).Want(t, "FORBIDDEN")
				noForeign(t, r, ts)
			}
			targetSnapshot(t, ts.env, ts.globexAdmin.OrgID, ids.Organization) // still there
		}},
		isolatedCase{"createOrganization is FORBIDDEN to a tenant admin", createOrgQ, func(t *testing.T, ts *tenants, q string) {
			n := ts.env.Count("SELECT COUNT(*) FROM organizations")
			ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"in": map[string]any{"name": "Rogue"}}).Want(t, "FORBIDDEN")
			if ts.env.Count("SELECT COUNT(*) FROM organizations") != n {
				t.Error("an organization was created")
			}
		}},
		isolatedCase{"updateMe changes the caller only", updateMeQ, func(t *testing.T, ts *tenants, q string) {
			before := targetSnapshot(t, ts.env, ts.globexAdmin.UserID, ids.User)
			r := ts.env.Do(ts.acmeMember.Token, q, map[string]any{"in": map[string]any{"name": "Acme Member"}}).OK(t)
			noForeign(t, r, ts)
			if r.Get("data.updateMe.id").String() != ts.acmeMember.UserID {
				t.Errorf("updated %s", r.Body)
			}
			if after := targetSnapshot(t, ts.env, ts.globexAdmin.UserID, ids.User); after != before {
				t.Errorf("Globex's admin changed:\n%s\n%s", before, after)
			}
		}},
		isolatedCase{"organizations(filter:) searches the caller's own organization only", searchOrgsQ, func(t *testing.T, ts *tenants, q string) {
			r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"f": map[string]any{"search": "glob"}}).OK(t)
			if r.Get("data.organizations.totalCount").Int() != 0 || r.Get("data.organizations.nodes.#").Int() != 0 {
				t.Errorf("found another organization: %s", r.Body)
			}
			noForeign(t, r, ts)
			r = ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"f": map[string]any{"search": "acm", "status": "ACTIVE"}}).OK(t)
			if r.Get("data.organizations.nodes.#").Int() != 1 || r.Get("data.organizations.nodes.0.id").String() != ts.acmeAdmin.OrgID {
				t.Errorf("own organization not found by prefix: %s", r.Body)
			}
		}},
	)
}
