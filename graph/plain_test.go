package graph_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

// TestPlainRowsAnswerAsFieldByField runs queries over every list and
// object type, as callers of every kind (admin, member, partner, platform
// administrator, API tokens of narrow scopes, anonymous), once with the
// plain marshallers (one authorization decision per row, internal/gqlseq)
// and once field by field through the @auth middleware alone, and wants the
// same data and the same errors (message, path, code) from both. Selections
// a caller may read only in part (a member reading ORG_ADMIN fields, a
// partner reading an owner's MEMBER fields) must fall back to the field by
// field path, which answers each refused field.
func TestPlainRowsAnswerAsFieldByField(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@acme.test", "Acme")
		member := env.Invite(admin, "member@acme.test", "MEMBER")
		partner := env.Register("admin@globex.test", "Globex")
		ws := env.CreateWorkspace(admin, "acme-dev")
		env.CreateWorkspace(admin, "acme-build")
		env.CreateWorkspace(partner, "globex-dev")
		g := env.Do(admin.Token, `mutation($in: GrantWorkspaceAccessInput!) { grantWorkspaceAccess(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"workspaceId": ws, "granteeOrganizationId": partner.OrgID}}).OK(t)
		env.Do(partner.Token, `mutation($id: ID!) { acceptWorkspaceGrant(id: $id) { id } }`,
			map[string]any{"id": g.Get("data.grantWorkspaceAccess.id").String()}).OK(t)
		env.Do(admin.Token, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"email": "pending@acme.test", "role": "MEMBER"}}).OK(t)
		token := func(scopes ...string) string {
			r := env.Do(admin.Token, `mutation($in: CreateApiTokenInput!) { createApiToken(input: $in) { token } }`,
				map[string]any{"in": map[string]any{"name": "t" + ids.New()[24:], "scopes": scopes}}).OK(t)
			return r.Get("data.createApiToken.token").String()
		}
		operator := env.Register("operator@example.com", "")
		env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", "operator@example.com")
		callers := map[string]string{
			"admin": admin.Token, "member": member.Token, "partner": partner.Token, "operator": operator.Token,
			"workspaces token": token("READ_WORKSPACES"), "audit token": token("READ_AUDIT"),
			"organization token": token("READ_ORGANIZATION"), "anonymous": "",
		}
		org := map[string]any{"id": admin.OrgID}
		queries := []struct {
			name, query string
			vars        map[string]any
		}{
			{"me", `{ me { __typename id email name role status createdAt lastLoginAt } }`, nil},
			{"users", `query($id: ID!) { organization(id: $id) { id name userCount workspaceCount
				users(first: 10) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
				edges { cursor node { ...U } } nodes { __typename id email name role status createdAt x: email } } } }
				fragment U on User { id email role }`, org},
			{"workspaces", `query($id: ID!) { organization(id: $id) { workspaces(first: 10) {
				nodes { id name type status cpuCores memoryMb storageGb createdAt } } } }`, org},
			{"workspaces with a resolver", `query($id: ID!) { organization(id: $id) { workspaces(first: 10) {
				nodes { id name organization { id name } } } } }`, org},
			{"audit", `query($id: ID!) { organization(id: $id) { auditEvents(first: 50) {
				edges { cursor node { id action outcome organizationId actorId actorEmail actorOrganizationId targetType targetId
				targetOrganizationId ipAddress userAgent requestId createdAt } } } } }`, org},
			{"audit with metadata", `query($id: ID!) { organization(id: $id) { auditEvents(first: 5) { nodes { id action metadata } } } }`, org},
			{"admin lists", `query($id: ID!) { organization(id: $id) { apiTokens(first: 10) { nodes { id name scopes createdAt expiresAt revokedAt } }
				invitations(first: 10) { nodes { id email role status createdAt expiresAt } }
				incomingGrants(first: 10) { nodes { id status createdAt expiresAt } }
				workspaces(first: 10) { nodes { grants(first: 10) { edges { cursor node { id status createdAt expiresAt } } } } } } }`, org},
			{"incoming grants", `query($id: ID!) { organization(id: $id) { incomingGrants(first: 10) { nodes { id status createdAt } } } }`,
				map[string]any{"id": partner.OrgID}},
			{"shared workspaces", `{ sharedWorkspaces(first: 10) { nodes { id name status organization { id name } } } }`, nil},
			{"shared workspaces, the owner's member fields", `{ sharedWorkspaces(first: 10) { nodes { id name organization { id name userCount } } } }`, nil},
			{"workspace by id", `query($id: ID!) { workspace(id: $id) { id name cpuCores organization { id name } } }`, map[string]any{"id": ws}},
			{"organizations", `{ organizations(first: 10) { totalCount nodes { id name domain status userCount workspaceCount createdAt } } }`, nil},
		}
		for _, q := range queries {
			for who, tok := range callers {
				before := graph.SetPlainRows(false)
				slow := env.Do(tok, q.query, q.vars)
				if graph.SetPlainRows(true) != before {
					t.Fatalf("%s as %s: plain marshallers ran while off", q.name, who)
				}
				fast := env.Do(tok, q.query, q.vars)
				if who == "admin" && (fast.Code() == "BAD_USER_INPUT" || fast.Code() == "GRAPHQL_VALIDATION_FAILED") {
					t.Fatalf("%s: the query is not valid: %s", q.name, fast.Body)
				}
				if fast.Status != slow.Status || fast.Get("data").Raw != slow.Get("data").Raw || errorsOf(t, fast) != errorsOf(t, slow) {
					t.Errorf("%s as %s:\nplain:          %s\nfield by field: %s", q.name, who, fast.Body, slow.Body)
				}
			}
		}
		if n := graph.SetPlainRows(true); n < 100 {
			t.Errorf("the plain marshallers rendered %d objects: the comparison compared too little", n)
		}
	})
}

// errorsOf is the errors of r without what differs between two requests,
// in a stable order.
func errorsOf(t *testing.T, r *apitest.Response) string {
	var errs []struct {
		Message    string `json:"message"`
		Path       []any  `json:"path"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	}
	if raw := r.Get("errors").Raw; raw != "" {
		if err := json.Unmarshal([]byte(raw), &errs); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]string, len(errs))
	for i, e := range errs {
		b, _ := json.Marshal(e)
		out[i] = string(b)
	}
	slices.Sort(out) // sibling fields resolve concurrently: their errors come in any order
	return strings.Join(out, "\n")
}
