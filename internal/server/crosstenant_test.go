package server_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// Selections of every field of every type, for the cross-tenant suite.
const (
	userFields    = `id email name role platformAdmin status ssoIssuer createdAt lastLoginAt emailVerified organization { id name }`
	inviteFields  = `id email role status expiresAt createdAt invitedBy { id email }`
	wsFields      = `id name description type connectionType status imageUrl url cpuCores memoryMb storageGb createdAt updatedAt organization { id name }`
	eventFields   = `id action outcome organizationId actorId actorEmail actorOrganizationId targetType targetId targetOrganizationId metadata ipAddress userAgent requestId createdAt`
	tokenFields   = `id name scopes expiresAt createdAt lastUsedAt revokedAt`
	grantFields   = `id createdAt expiresAt status ownerVerifiedDomains workspace { id name } granteeOrganization { id name } organization { id name }`
	pageFields    = `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`
	orgScalars    = `id name slug domain status userCount workspaceCount createdAt externalId`
	orgEverything = orgScalars + `
		users(first: 5) { totalCount ` + pageFields + ` edges { cursor node { ` + userFields + ` } } nodes { id } }
		workspaces(first: 5) { totalCount ` + pageFields + ` edges { cursor node { ` + wsFields + `
			grants(first: 5) { totalCount ` + pageFields + ` edges { cursor node { ` + grantFields + ` } } nodes { id } } } } nodes { id } }
		auditEvents(first: 5) { ` + pageFields + ` edges { cursor node { ` + eventFields + ` } } nodes { id } }
		apiTokens(first: 5) { totalCount ` + pageFields + ` edges { cursor node { ` + tokenFields + ` } } nodes { id } }
		invitations(first: 5) { totalCount ` + pageFields + ` edges { cursor node { ` + inviteFields + ` } } nodes { id } }
		incomingGrants(first: 5) { totalCount ` + pageFields + ` edges { cursor node { ` + grantFields + ` } } nodes { id } }
		domains { ` + domainFields + ` }`
)

// tenants: Acme asks; Globex is the target; Initech shares a workspace
// with Acme (the sanctioned crossing, whose edges must stop at the owner's
// id and name).
type tenants struct {
	*world
	initech                               apitest.Account
	initechShared                         string
	globexEvent, globexToken, globexGrant string
	globexInvitation                      string
	globexDomain                          string // verified by Globex
}

func newTenants(t *testing.T, d *db.DB) *tenants {
	w := newWorld(t, d)
	ts := &tenants{world: w}
	ts.initech = w.env.Register("admin@initech.test", "Initech")
	ts.initechShared = w.env.CreateWorkspace(ts.initech, "initech-shared")
	grant(t, w.env, ts.initech, ts.initechShared, w.acmeAdmin)
	ts.globexGrant = grant(t, w.env, w.globexAdmin, w.globexWS, ts.initech)
	_, ts.globexToken = newToken(t, w.env, w.globexAdmin, "globex partner", "READ_AUDIT")
	ts.globexInvitation = w.env.Do(w.globexAdmin.Token, inviteQ, inviteVars("newhire@"+ids.New()[24:]+".test")).OK(t).Get("data.inviteUser.id").String()
	r := w.env.Do(w.globexAdmin.Token, `query($id: ID!) { organization(id: $id) { auditEvents(first: 1) { nodes { id } } } }`,
		map[string]any{"id": w.globexAdmin.OrgID}).OK(t)
	ts.globexEvent = r.Get("data.organization.auditEvents.nodes.0.id").String()
	// Verified by Globex; named so that noForeign does not flag Acme's own
	// input echoed back in an error message.
	verifiedAt := time.Now()
	ts.globexDomain = gen.OrganizationDomain(t, d, store.OrganizationDomain{OrganizationID: rawID(t, w.globexAdmin.OrgID),
		Domain: "gx-verified.example.com", VerifiedAt: &verifiedAt}).Domain
	return ts
}

// deniedCase answers NOT_FOUND exactly as for a missing ID, leaves the
// target unchanged and records one access.denied in both trails.
type deniedCase struct {
	name   string
	query  string
	vars   func(target string) map[string]any
	target func(ts *tenants) (id, org string, typ ids.Type)
	actor  func(ts *tenants) apitest.Account // default: Acme's admin
}

func idVar(target string) map[string]any { return map[string]any{"id": target} }

var deniedCases = []deniedCase{
	{name: "organization(id:) with every field below it", query: `query($id: ID!) { organization(id: $id) { ` + orgEverything + ` } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexAdmin.OrgID, ts.globexAdmin.OrgID, ids.Organization
		}},
	{name: "workspace(id:) with every field", query: `query($id: ID!) { workspace(id: $id) { ` + wsFields + ` grants { nodes { id } } } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace }},
	{name: "node(id:) Organization", query: `query($id: ID!) { node(id: $id) { id ... on Organization { ` + orgScalars + ` } } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexAdmin.OrgID, ts.globexAdmin.OrgID, ids.Organization
		}},
	{name: "node(id:) User", query: `query($id: ID!) { node(id: $id) { id ... on User { ` + userFields + ` } } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexAdmin.UserID, ts.globexAdmin.OrgID, ids.User
		}},
	{name: "node(id:) Workspace", query: `query($id: ID!) { node(id: $id) { id ... on Workspace { ` + wsFields + ` } } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace }},
	{name: "node(id:) AuditEvent", query: `query($id: ID!) { node(id: $id) { id ... on AuditEvent { ` + eventFields + ` } } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexEvent, ts.globexAdmin.OrgID, ids.AuditEvent
		}},
	{name: "node(id:) ApiToken", query: `query($id: ID!) { node(id: $id) { id ... on ApiToken { ` + tokenFields + ` } } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexToken, ts.globexAdmin.OrgID, ids.APIToken
		}},
	{name: "node(id:) WorkspaceGrant", query: `query($id: ID!) { node(id: $id) { id ... on WorkspaceGrant { ` + grantFields + ` } } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexGrant, ts.globexAdmin.OrgID, ids.WorkspaceGrant
		}},
	{name: "node(id:) Invitation", query: `query($id: ID!) { node(id: $id) { id ... on Invitation { ` + inviteFields + ` } } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexInvitation, ts.globexAdmin.OrgID, ids.Invitation
		}},
	{name: "aliases and fragments reach the same object twice: recorded once",
		query: `query($id: ID!) { a: workspace(id: $id) { ...W } b: node(id: $id) { ... on Workspace { ...W } } c: workspace(id: $id) { id } }
			fragment W on Workspace { id name organization { name } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace }},
	{name: "traversal: shared workspace → owner → users", query: `query($id: ID!) { workspace(id: $id) { id organization { id users { nodes { email } } } } }`,
		vars: func(string) map[string]any { return nil },
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.initech.OrgID, ts.initech.OrgID, ids.Organization
		}},
	{name: "traversal: shared workspace → owner → workspaces and trail", query: `query($id: ID!) { workspace(id: $id) { organization { slug workspaces { nodes { id } } auditEvents { nodes { id } } } } }`,
		vars: func(string) map[string]any { return nil },
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.initech.OrgID, ts.initech.OrgID, ids.Organization
		}},
	{name: "updateWorkspace", query: updateWS, vars: func(id string) map[string]any { return map[string]any{"id": id, "in": map[string]any{"name": "pwned"}} },
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace }},
	{name: "deleteWorkspace", query: deleteWS, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace }},
	{name: "updateWorkspace by a member (role too small, object foreign)", query: updateWS,
		vars:   func(id string) map[string]any { return map[string]any{"id": id, "in": map[string]any{"name": "pwned"}} },
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace },
		actor:  func(ts *tenants) apitest.Account { return ts.acmeMember }},
	{name: "grantWorkspaceAccess by a member on another organization's workspace", query: grantMutation,
		vars: func(id string) map[string]any {
			return map[string]any{"in": map[string]any{"workspaceId": id, "granteeOrganizationId": missing(ids.Organization)}}
		},
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace },
		actor:  func(ts *tenants) apitest.Account { return ts.acmeMember }},
	{name: "revokeApiToken", query: `mutation($id: ID!) { revokeApiToken(id: $id) { ` + tokenFields + ` } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexToken, ts.globexAdmin.OrgID, ids.APIToken
		}},
	{name: "grantWorkspaceAccess on another organization's workspace", query: grantMutation,
		vars: func(id string) map[string]any {
			return map[string]any{"in": map[string]any{"workspaceId": id, "granteeOrganizationId": missing(ids.Organization)}}
		},
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace }},
	{name: "revokeInvitation", query: `mutation($id: ID!) { revokeInvitation(id: $id) { ` + inviteFields + ` } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexInvitation, ts.globexAdmin.OrgID, ids.Invitation
		}},
	{name: "revokeInvitation by a member", query: `mutation($id: ID!) { revokeInvitation(id: $id) { id } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexInvitation, ts.globexAdmin.OrgID, ids.Invitation
		},
		actor: func(ts *tenants) apitest.Account { return ts.acmeMember }},
	{name: "acceptWorkspaceGrant of a grant offered to another organization", query: `mutation($id: ID!) { acceptWorkspaceGrant(id: $id) { ` + grantFields + ` } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexGrant, ts.globexAdmin.OrgID, ids.WorkspaceGrant
		}},
	{name: "declineWorkspaceGrant of a grant offered to another organization", query: `mutation($id: ID!) { declineWorkspaceGrant(id: $id) { id status } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexGrant, ts.globexAdmin.OrgID, ids.WorkspaceGrant
		}},
	{name: "revokeWorkspaceAccess", query: `mutation($id: ID!) { revokeWorkspaceAccess(id: $id) }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexGrant, ts.globexAdmin.OrgID, ids.WorkspaceGrant
		}},
	{name: "revokeSessions of another organization's user", query: `mutation($id: ID!) { revokeSessions(userId: $id) { ` + userFields + ` } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexAdmin.UserID, ts.globexAdmin.OrgID, ids.User
		}},
	{name: "revokeSessions by a member", query: `mutation($id: ID!) { revokeSessions(userId: $id) { id } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexAdmin.UserID, ts.globexAdmin.OrgID, ids.User
		},
		actor: func(ts *tenants) apitest.Account { return ts.acmeMember }},
	// Quotas (issue 11).
	{name: "organization(id:) quota and usage", query: `query($id: ID!) { organization(id: $id) { id ` + quotaFields + ` } }`, vars: idVar,
		target: func(ts *tenants) (string, string, ids.Type) {
			return ts.globexAdmin.OrgID, ts.globexAdmin.OrgID, ids.Organization
		}},
	{name: "updateWorkspace resizing (the quota path locks the organization only after authorizing)", query: updateWS,
		vars:   func(id string) map[string]any { return map[string]any{"id": id, "in": map[string]any{"cpuCores": 8}} },
		target: func(ts *tenants) (string, string, ids.Type) { return ts.globexWS, ts.globexAdmin.OrgID, ids.Workspace }},
}

// quotaFields selects every field of Organization.quota and .usage.
const quotaFields = `quota { maxUsers maxWorkspaces maxCpuCores maxMemoryMb maxStorageGb } usage { users workspaces cpuCores memoryMb storageGb }`

// isolatedCase has no foreign ID to refuse; its check shows that the
// answer holds nothing of another organization.
type isolatedCase struct {
	name  string
	query string
	check func(t *testing.T, ts *tenants, query string)
}

// domainUnchanged fails unless a query or mutation of Acme's about
// Globex's domain answers code and leaves Globex's row as it was.
func domainUnchanged(t *testing.T, ts *tenants, q string, vars map[string]any, code string) {
	t.Helper()
	row := func() string {
		var rows []map[string]any
		ts.env.DB.Raw("SELECT * FROM organization_domains WHERE domain = ? ORDER BY id", ts.globexDomain).Scan(&rows)
		return apitest.Sprintf("%v", rows)
	}
	before := row()
	r := ts.env.Do(ts.acmeAdmin.Token, q, vars).Want(t, code)
	noForeign(t, r, ts)
	if after := row(); after != before {
		t.Errorf("Globex's domain changed:\n%s\n%s", before, after)
	}
}

var isolatedCases = []isolatedCase{
	{"me", `{ me { ` + userFields + ` } }`, func(t *testing.T, ts *tenants, q string) {
		r := ts.env.Do(ts.acmeAdmin.Token, q, nil).OK(t)
		noForeign(t, r, ts)
	}},
	{"organizations", `{ organizations { totalCount ` + pageFields + ` edges { cursor node { ` + orgScalars + ` } } nodes { id } } }`, func(t *testing.T, ts *tenants, q string) {
		r := ts.env.Do(ts.acmeAdmin.Token, q, nil).OK(t)
		if r.Get("data.organizations.totalCount").Int() != 1 {
			t.Errorf("lists other organizations: %s", r.Body)
		}
		noForeign(t, r, ts)
	}},
	{"sharedWorkspaces", `{ sharedWorkspaces { totalCount ` + pageFields + ` edges { cursor node { ` + wsFields + ` } } nodes { id } } }`, func(t *testing.T, ts *tenants, q string) {
		r := ts.env.Do(ts.acmeAdmin.Token, q, nil).OK(t)
		if r.Get("data.sharedWorkspaces.totalCount").Int() != 1 || r.Get("data.sharedWorkspaces.nodes.0.id").String() != ts.initechShared {
			t.Errorf("shared: %s", r.Body)
		}
		noForeign(t, r, ts) // Globex shares with Initech, not with Acme
	}},
	{"audit filter naming another organization's user", `query($id: ID!, $actor: ID) { organization(id: $id) { auditEvents(filter: {actorId: $actor}) { nodes { ` + eventFields + ` } } } }`,
		func(t *testing.T, ts *tenants, q string) {
			r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"id": ts.acmeAdmin.OrgID, "actor": ts.globexAdmin.UserID}).OK(t)
			if n := r.Get("data.organization.auditEvents.nodes.#").Int(); n != 0 {
				t.Errorf("%d events of another organization's user", n)
			}
		}},
	{"register into another organization", `mutation($in: RegisterInput!) { register(input: $in) { token expiresAt user { ` + userFields + ` } } }`,
		func(t *testing.T, ts *tenants, q string) {
			ts.env.Do("", q, map[string]any{"in": map[string]any{"email": "spy@acme.test", "password": "long-enough", "name": "Spy", "organization": "Globex"}}).Want(t, "FORBIDDEN")
		}},
	{"login signs into the user's own organization only", `mutation($in: LoginInput!) { login(input: $in) { token expiresAt user { ` + userFields + ` } } }`,
		func(t *testing.T, ts *tenants, q string) {
			r := ts.env.Do("", q, map[string]any{"in": map[string]any{"email": "member@acme.test", "password": "password-member@acme.test"}}).OK(t)
			noForeign(t, r, ts)
			ts.env.Do(r.Get("data.login.token").String(), `query($id: ID!) { organization(id: $id) { id } }`,
				map[string]any{"id": ts.globexAdmin.OrgID}).Want(t, "NOT_FOUND")
		}},
	{"ssoLogin with another organization's service token", `mutation($t: String!) { ssoLogin(token: $t) { token expiresAt user { id } } }`,
		func(t *testing.T, ts *tenants, q string) {
			users := ts.env.Count("SELECT COUNT(*) FROM users")
			ts.env.Do("", q, map[string]any{"t": ts.globexAdmin.Token}).Want(t, "UNAUTHENTICATED")
			if ts.env.Count("SELECT COUNT(*) FROM users") != users {
				t.Error("ssoLogin created a user")
			}
		}},
	{"inviteUser invites into the caller's organization", `mutation($in: InviteUserInput!) { inviteUser(input: $in) { ` + inviteFields + ` } }`,
		func(t *testing.T, ts *tenants, q string) {
			email := "iso-" + ids.New()[24:] + "@x.test"
			ts.env.Do(ts.acmeAdmin.Token, q, inviteVars(email)).OK(t)
			if n := ts.env.Count("SELECT COUNT(*) FROM invitations WHERE email = ? AND organization_id = ?", email, rawID(t, ts.acmeAdmin.OrgID)); n != 1 {
				t.Errorf("invitation not in Acme: %d", n)
			}
			r := acceptAs(ts.env, ts.env.MailedToken(email), "Iso")
			r.OK(t)
			me := ts.env.Do(r.Get("data.acceptInvitation.token").String(), `{ me { organization { id } } }`, nil).OK(t)
			if me.Get("data.me.organization.id").String() != ts.acmeAdmin.OrgID {
				t.Errorf("acceptInvitation joined %s", me.Body)
			}
		}},
	{"acceptInvitation joins the inviting organization only", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token expiresAt user { ` + userFields + ` } } }`,
		func(t *testing.T, ts *tenants, q string) {
			email := "iso2-" + ids.New()[24:] + "@x.test"
			ts.env.Do(ts.globexAdmin.Token, inviteQ, inviteVars(email)).OK(t)
			r := ts.env.Do("", q, map[string]any{"in": map[string]any{"token": ts.env.MailedToken(email), "name": "G", "password": "long-enough"}}).OK(t)
			if r.Get("data.acceptInvitation.user.organization.id").String() != ts.globexAdmin.OrgID {
				t.Errorf("joined %s", r.Body)
			}
		}},
	{"verifyEmail signs in the token's user only", `mutation($t: String!) { verifyEmail(token: $t) { token expiresAt user { id emailVerified } } }`,
		func(t *testing.T, ts *tenants, q string) {
			r := ts.env.Do("", q, map[string]any{"t": ts.env.MailedToken("admin@globex.test")}).OK(t)
			if r.Get("data.verifyEmail.user.id").String() != ts.globexAdmin.UserID {
				t.Errorf("verified %s", r.Body)
			}
		}},
	{"resendVerificationEmail mails the caller only", `mutation { resendVerificationEmail }`,
		func(t *testing.T, ts *tenants, q string) {
			before := ts.env.Count("SELECT COUNT(*) FROM email_verifications WHERE user_id = ?", rawID(t, ts.globexAdmin.UserID))
			ts.env.Do(ts.acmeMember.Token, q, nil).OK(t) // invited: already verified, nothing sent
			if ts.env.Count("SELECT COUNT(*) FROM email_verifications WHERE user_id = ?", rawID(t, ts.globexAdmin.UserID)) != before {
				t.Error("another user's verification was touched")
			}
		}},
	{"createWorkspace lands in the caller's organization", `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { ` + wsFields + ` } }`,
		func(t *testing.T, ts *tenants, q string) {
			before := ts.env.Count("SELECT COUNT(*) FROM workspaces WHERE organization_id = ?", rawID(t, ts.globexAdmin.OrgID))
			r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"in": apitest.WorkspaceInput("iso-" + ids.New()[24:])}).OK(t)
			if r.Get("data.createWorkspace.organization.id").String() != ts.acmeAdmin.OrgID ||
				ts.env.Count("SELECT COUNT(*) FROM workspaces WHERE organization_id = ?", rawID(t, ts.globexAdmin.OrgID)) != before {
				t.Errorf("created elsewhere: %s", r.Body)
			}
		}},
	{"organization domains list the caller's organization's only", `query($id: ID!) { organization(id: $id) { domains { ` + domainFields + ` } } }`,
		func(t *testing.T, ts *tenants, q string) {
			r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"id": ts.acmeAdmin.OrgID}).OK(t)
			if strings.Contains(string(r.Body), ts.globexDomain) {
				t.Errorf("Acme lists Globex's domain: %s", r.Body)
			}
		}},
	{"addOrganizationDomain lands in the caller's organization; another's verified domain is a CONFLICT", addDomain,
		func(t *testing.T, ts *tenants, q string) {
			domainUnchanged(t, ts, q, dvar(ts.globexDomain), "CONFLICT")
			r := ts.env.Do(ts.acmeAdmin.Token, q, dvar("iso-"+ids.New()[24:]+".example.com")).OK(t)
			name := r.Get("data.addOrganizationDomain.domain").String()
			if ts.env.Count("SELECT COUNT(*) FROM organization_domains WHERE domain = ? AND organization_id = ?", name, rawID(t, ts.acmeAdmin.OrgID)) != 1 {
				t.Errorf("added elsewhere: %s", r.Body)
			}
		}},
	{"verifyOrganizationDomain names the caller's organization's domains only", verifyDomain,
		func(t *testing.T, ts *tenants, q string) {
			domainUnchanged(t, ts, q, dvar(ts.globexDomain), "NOT_FOUND")
		}},
	{"setDomainEnrollment names the caller's organization's domains only", setEnroll,
		func(t *testing.T, ts *tenants, q string) {
			domainUnchanged(t, ts, q, map[string]any{"d": ts.globexDomain, "e": "AUTO_JOIN"}, "NOT_FOUND")
		}},
	{"removeOrganizationDomain names the caller's organization's domains only", removeDomain,
		func(t *testing.T, ts *tenants, q string) {
			domainUnchanged(t, ts, q, dvar(ts.globexDomain), "NOT_FOUND")
		}},
	{"signOut ends the caller's token only", `mutation { signOut }`,
		func(t *testing.T, ts *tenants, q string) {
			tok := signIn(t, ts.env, "member@acme.test", "password-member@acme.test")
			r := ts.env.Do(tok, q, nil).OK(t)
			noForeign(t, r, ts)
			wantSignedOut(t, ts.env, tok, "the signed-out token")
			wantSignedIn(t, ts.env, ts.globexAdmin.Token, "Globex's admin")
			wantSignedIn(t, ts.env, ts.acmeMember.Token, "the member's other token")
		}},
	{"signOutEverywhere ends the caller's sessions only", `mutation { signOutEverywhere }`,
		func(t *testing.T, ts *tenants, q string) {
			u := ts.env.Register("leaver-"+ids.New()[24:]+"@acme.test", "")
			r := ts.env.Do(u.Token, q, nil).OK(t)
			noForeign(t, r, ts)
			wantSignedOut(t, ts.env, u.Token, "the caller's token")
			wantSignedIn(t, ts.env, ts.globexAdmin.Token, "Globex's admin")
			wantSignedIn(t, ts.env, ts.acmeAdmin.Token, "Acme's admin")
		}},
	{"changePassword changes the caller's password only", `mutation($in: ChangePasswordInput!) { changePassword(input: $in) { token expiresAt user { ` + userFields + ` } } }`,
		func(t *testing.T, ts *tenants, q string) {
			email := "changer-" + ids.New()[24:] + "@acme.test"
			u := ts.env.Register(email, "")
			r := ts.env.Do(u.Token, q, map[string]any{"in": map[string]any{"currentPassword": "password-" + email, "newPassword": "another long one"}}).OK(t)
			noForeign(t, r, ts)
			if r.Get("data.changePassword.user.id").String() != u.UserID {
				t.Errorf("changed %s", r.Body)
			}
			wantSignedIn(t, ts.env, ts.globexAdmin.Token, "Globex's admin")
			signIn(t, ts.env, "admin@globex.test", "password-admin@globex.test")
		}},
	{"createApiToken: the token reaches its own organization only", `mutation($in: CreateApiTokenInput!) { createApiToken(input: $in) { token apiToken { ` + tokenFields + ` } } }`,
		func(t *testing.T, ts *tenants, q string) {
			r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"in": map[string]any{"name": "iso", "scopes": []string{"READ_ORGANIZATION", "READ_WORKSPACES", "READ_AUDIT"}}}).OK(t)
			secret := r.Get("data.createApiToken.token").String()
			ts.env.Do(secret, `query($id: ID!) { organization(id: $id) { id } }`, map[string]any{"id": ts.globexAdmin.OrgID}).Want(t, "NOT_FOUND")
			ts.env.Do(secret, `query($id: ID!) { workspace(id: $id) { id } }`, map[string]any{"id": ts.globexWS}).Want(t, "NOT_FOUND")
		}},
	// Quotas (issue 11): setOrganizationQuota is PLATFORM_ADMIN, decided on
	// the caller alone: an organization's admin gets FORBIDDEN for another
	// organization, a missing one and their own alike (nothing tells them
	// apart), and nothing changes.
	{"setOrganizationQuota is refused to organization admins whatever the ID", `mutation($id: ID!, $in: QuotaInput!) { setOrganizationQuota(id: $id, input: $in) { id ` + quotaFields + ` } }`,
		func(t *testing.T, ts *tenants, q string) {
			before := targetSnapshot(t, ts.env, ts.globexAdmin.OrgID, ids.Organization)
			own := targetSnapshot(t, ts.env, ts.acmeAdmin.OrgID, ids.Organization)
			in := map[string]any{"maxWorkspaces": 0}
			for _, id := range []string{ts.globexAdmin.OrgID, missing(ids.Organization), ts.acmeAdmin.OrgID} {
				r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"id": id, "in": in}).Want(t, "FORBIDDEN")
				noForeign(t, r, ts)
			}
			if targetSnapshot(t, ts.env, ts.globexAdmin.OrgID, ids.Organization) != before || targetSnapshot(t, ts.env, ts.acmeAdmin.OrgID, ids.Organization) != own {
				t.Error("an organization admin changed a quota")
			}
		}},
}

// noForeign fails if the answer names Globex or its users.
func noForeign(t *testing.T, r *apitest.Response, ts *tenants) {
	t.Helper()
	body := strings.ToLower(string(r.Body))
	for _, s := range []string{"globex", strings.ToLower(ts.globexAdmin.OrgID), strings.ToLower(ts.globexWS), strings.ToLower(ts.globexAdmin.UserID)} {
		if strings.Contains(body, s) {
			t.Errorf("answer contains %q: %.400s", s, r.Body)
		}
	}
}

func TestCrossTenantSuite(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ts := newTenants(t, d)
		for _, c := range deniedCases {
			t.Run(c.name, func(t *testing.T) {
				id, org, typ := c.target(ts)
				actor := ts.acmeAdmin
				if c.actor != nil {
					actor = c.actor(ts)
				}
				snapshot := func() string { return targetSnapshot(t, ts.env, id, typ) }
				before := snapshot()
				vars := c.vars
				if strings.HasPrefix(c.name, "traversal") {
					// The edge starts from the shared workspace; the missing
					// counterpart starts from a workspace that does not exist.
					vars = func(target string) map[string]any {
						if target == id {
							return map[string]any{"id": ts.initechShared}
						}
						return map[string]any{"id": missing(ids.Workspace)}
					}
				}
				got := ts.crossTenant(t, actor, func(target string) *apitest.Response {
					return ts.env.Do(actor.Token, c.query, vars(target))
				}, id, org, typ)
				if after := snapshot(); after != before {
					t.Errorf("target changed:\nbefore %s\nafter  %s", before, after)
				}
				if strings.Contains(strings.ToLower(string(got.Body)), "globex.test") {
					t.Errorf("target data leaked: %.300s", got.Body)
				}
			})
		}
		for _, c := range isolatedCases {
			t.Run(c.name, func(t *testing.T) { c.check(t, ts, c.query) })
		}
		t.Run("the target's admins see each denial in their trail", func(t *testing.T) {
			r := ts.env.Do(ts.globexAdmin.Token, `query($id: ID!) { organization(id: $id) { auditEvents(first: 100, filter: {actions: ["access.denied"]}) { nodes { actorOrganizationId targetOrganizationId } } } }`,
				map[string]any{"id": ts.globexAdmin.OrgID}).OK(t)
			if n := len(r.Get("data.organization.auditEvents.nodes").Array()); n < 10 {
				t.Errorf("Globex sees %d denials", n)
			}
		})
	})
}

// targetSnapshot is the stored row behind a global ID, as text.
func targetSnapshot(t *testing.T, env *apitest.Env, global string, typ ids.Type) string {
	t.Helper()
	table := map[ids.Type]string{ids.Organization: "organizations", ids.User: "users", ids.Workspace: "workspaces",
		ids.AuditEvent: "audit_events", ids.APIToken: "api_tokens", ids.WorkspaceGrant: "workspace_grants", ids.Invitation: "invitations"}[typ]
	var rows []map[string]any
	env.DB.Raw("SELECT * FROM "+table+" WHERE id = ?", rawID(t, global)).Scan(&rows)
	if len(rows) != 1 {
		t.Fatalf("target %s %s is gone", typ, global)
	}
	keys := make([]string, 0, len(rows[0]))
	for k := range rows[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(apitest.Sprintf("%s=%v;", k, rows[0][k]))
	}
	return b.String()
}

// TestCrossTenantCoverage enumerates every field of every object type in
// the schema and fails with "never exercised: X" for any field that no
// cross-tenant case selects, so a new field cannot land untested.
func TestCrossTenantCoverage(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	covered := map[string]bool{}
	var queries []string
	for _, c := range deniedCases {
		queries = append(queries, c.query)
	}
	for _, c := range isolatedCases {
		queries = append(queries, c.query)
	}
	for _, q := range queries {
		doc, errs := gqlparser.LoadQueryWithRules(schema, q, nil) // nil: the default validation rules
		if errs != nil {
			t.Fatalf("case query does not validate: %v\n%s", errs, q)
		}
		for _, op := range doc.Operations {
			collect(doc, op.SelectionSet, covered)
		}
	}
	var missed []string
	for name, def := range schema.Types {
		if def.Kind != ast.Object || def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if !covered[name+"."+f.Name] {
				missed = append(missed, name+"."+f.Name)
			}
		}
	}
	sort.Strings(missed)
	for _, m := range missed {
		t.Errorf("never exercised: %s (no cross-tenant case selects it)", m)
	}
}

func collect(doc *ast.QueryDocument, set ast.SelectionSet, out map[string]bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.ObjectDefinition != nil {
				out[s.ObjectDefinition.Name+"."+s.Name] = true
			}
			collect(doc, s.SelectionSet, out)
		case *ast.InlineFragment:
			collect(doc, s.SelectionSet, out)
		case *ast.FragmentSpread:
			if def := doc.Fragments.ForName(s.Name); def != nil {
				collect(doc, def.SelectionSet, out)
			}
		}
	}
}
