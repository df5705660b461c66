package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

const createToken = `mutation($in: CreateApiTokenInput!) { createApiToken(input: $in) {
	token apiToken { id name scopes expiresAt createdAt lastUsedAt revokedAt } } }`

// newToken creates an API token in acc's organization with scopes.
func newToken(t *testing.T, env *apitest.Env, acc apitest.Account, name string, scopes ...string) (secret, id string) {
	t.Helper()
	r := env.Do(acc.Token, createToken, map[string]any{"in": map[string]any{"name": name, "scopes": scopes}}).OK(t)
	return r.Get("data.createApiToken.token").String(), r.Get("data.createApiToken.apiToken.id").String()
}

func TestAPITokenLifecycle(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env

		t.Run("happy path, create shows the secret once and stores only the ID", func(t *testing.T) {
			exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
			r := env.Do(w.acmeAdmin.Token, createToken, map[string]any{"in": map[string]any{
				"name": "billing sync", "scopes": []string{"READ_WORKSPACES", "READ_WORKSPACES", "READ_AUDIT"}, "expiresAt": exp.Format(time.RFC3339),
			}}).OK(t)
			tok := r.Get("data.createApiToken")
			secret := tok.Get("token").String()
			if strings.Count(secret, ".") != 2 {
				t.Fatalf("token is not a JWT: %q", secret)
			}
			if got := tok.Get("apiToken.scopes").String(); got != `["READ_WORKSPACES","READ_AUDIT"]` {
				t.Errorf("scopes %s, want deduplicated", got)
			}
			if got, _ := time.Parse(time.RFC3339, tok.Get("apiToken.expiresAt").String()); !got.Equal(exp) {
				t.Errorf("expiresAt %s, want %s", got, exp)
			}
			// Nothing stored can be used as the token.
			sig := secret[strings.LastIndex(secret, ".")+1:]
			for _, table := range []string{"api_tokens", "audit_events"} {
				var rows []map[string]any
				env.DB.Raw("SELECT * FROM " + table).Scan(&rows)
				for _, row := range rows {
					for _, v := range row {
						if s, ok := v.(string); ok && (strings.Contains(s, sig) || strings.Contains(s, secret)) {
							t.Errorf("%s stores the token", table)
						}
					}
				}
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'api_token.created' AND target_id = ?", rawID(t, tok.Get("apiToken.id").String())); n != 1 {
				t.Errorf("api_token.created events = %d", n)
			}
			// The listing shows it, without any secret.
			l := env.Do(w.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { apiTokens { totalCount nodes { id name lastUsedAt } } } }`,
				map[string]any{"id": w.acmeAdmin.OrgID}).OK(t)
			if l.Get("data.organization.apiTokens.totalCount").Int() != 1 || l.Get("data.organization.apiTokens.nodes.0.name").String() != "billing sync" {
				t.Errorf("listing: %s", l.Body)
			}
			// Using it records lastUsedAt.
			env.Do(secret, `query($id: ID!) { workspace(id: $id) { name } }`, map[string]any{"id": w.acmeWS}).OK(t)
			l = env.Do(w.acmeAdmin.Token, `query($id: ID!) { node(id: $id) { ... on ApiToken { lastUsedAt } } }`,
				map[string]any{"id": tok.Get("apiToken.id").String()}).OK(t)
			if l.Get("data.node.lastUsedAt").String() == "" {
				t.Errorf("lastUsedAt not recorded: %s", l.Body)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			for name, in := range map[string]map[string]any{
				"no scopes":        {"name": "x", "scopes": []string{}},
				"unknown scope":    {"name": "x", "scopes": []string{"ROOT"}},
				"empty name":       {"name": " ", "scopes": []string{"READ_AUDIT"}},
				"expired already":  {"name": "x", "scopes": []string{"READ_AUDIT"}, "expiresAt": time.Now().Add(-time.Hour).Format(time.RFC3339)},
				"more than a year": {"name": "x", "scopes": []string{"READ_AUDIT"}, "expiresAt": time.Now().Add(400 * 24 * time.Hour).Format(time.RFC3339)},
			} {
				t.Run(name, func(t *testing.T) {
					env.Do(w.acmeAdmin.Token, createToken, map[string]any{"in": in}).Want(t, "BAD_USER_INPUT")
				})
			}
		})

		t.Run("same organization, member: FORBIDDEN", func(t *testing.T) {
			env.Do(w.acmeMember.Token, createToken, map[string]any{"in": map[string]any{"name": "x", "scopes": []string{"READ_AUDIT"}}}).Want(t, "FORBIDDEN")
			env.Do(w.acmeMember.Token, `query($id: ID!) { organization(id: $id) { apiTokens { nodes { id } } } }`,
				map[string]any{"id": w.acmeAdmin.OrgID}).Want(t, "FORBIDDEN")
		})

		t.Run("revocation counts on the next request", func(t *testing.T) {
			secret, id := newToken(t, env, w.acmeAdmin, "short-lived", "READ_WORKSPACES")
			q := `query($id: ID!) { workspace(id: $id) { name } }`
			env.Do(secret, q, map[string]any{"id": w.acmeWS}).OK(t)
			r := env.Do(w.acmeAdmin.Token, `mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`, map[string]any{"id": id}).OK(t)
			if r.Get("data.revokeApiToken.revokedAt").String() == "" {
				t.Errorf("revokedAt not set: %s", r.Body)
			}
			res := env.Do(secret, q, map[string]any{"id": w.acmeWS}).Want(t, "UNAUTHENTICATED")
			if res.Status != http.StatusUnauthorized {
				t.Errorf("status %d", res.Status)
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'api_token.revoked' AND target_id = ?", rawID(t, id)); n != 1 {
				t.Errorf("api_token.revoked events = %d", n)
			}
			// Revoking again changes nothing and records nothing.
			env.Do(w.acmeAdmin.Token, `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, map[string]any{"id": id}).OK(t)
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'api_token.revoked' AND target_id = ?", rawID(t, id)); n != 1 {
				t.Errorf("api_token.revoked events after a second revoke = %d", n)
			}
		})

		t.Run("an expired token stops working", func(t *testing.T) {
			secret, id := newToken(t, env, w.acmeAdmin, "expiring", "READ_WORKSPACES")
			env.Exec("UPDATE api_tokens SET expires_at = ? WHERE id = ?", time.Now().Add(-time.Second).UTC(), rawID(t, id))
			env.Do(secret, `query($id: ID!) { workspace(id: $id) { name } }`, map[string]any{"id": w.acmeWS}).Want(t, "UNAUTHENTICATED")
		})

		t.Run("no access, other organization: revoke", func(t *testing.T) {
			secret, id := newToken(t, env, w.globexAdmin, "globex-partner", "READ_WORKSPACES")
			w.crossTenant(t, w.acmeAdmin, func(id string) *apitest.Response {
				return env.Do(w.acmeAdmin.Token, `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, map[string]any{"id": id})
			}, id, w.globexAdmin.OrgID, ids.APIToken)
			env.Do(secret, `query($id: ID!) { workspace(id: $id) { name } }`, map[string]any{"id": w.globexWS}).OK(t)
		})
		t.Run("no access, other organization: token listing and node", func(t *testing.T) {
			_, id := newToken(t, env, w.globexAdmin, "globex-2", "READ_AUDIT")
			env.Do(w.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { apiTokens { nodes { id } } } }`,
				map[string]any{"id": w.globexAdmin.OrgID}).Want(t, "NOT_FOUND")
			w.crossTenant(t, w.acmeAdmin, func(id string) *apitest.Response {
				return env.Do(w.acmeAdmin.Token, `query($id: ID!) { node(id: $id) { id ... on ApiToken { name } } }`, map[string]any{"id": id})
			}, id, w.globexAdmin.OrgID, ids.APIToken)
		})
	})
}

// TestAPITokenScopes checks each scope's boundary: what it allows, and that
// everything else is refused, in its own organization and in another.
func TestAPITokenScopes(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env
		acme := map[string]any{"id": w.acmeAdmin.OrgID}
		ws := map[string]any{"id": w.acmeWS}

		type call struct {
			name  string
			query string
			vars  map[string]any
		}
		readOrg := call{"read organization", `query($id: ID!) { organization(id: $id) { id name slug userCount workspaceCount users { totalCount nodes { email role } } } }`, acme}
		listOrgs := call{"list organizations", `{ organizations { totalCount nodes { id name userCount } } }`, nil}
		readWS := call{"read a workspace", `query($id: ID!) { workspace(id: $id) { id name cpuCores status } }`, ws}
		listWS := call{"list workspaces", `query($id: ID!) { organization(id: $id) { id name workspaces { totalCount nodes { id name } pageInfo { hasNextPage } } } }`, acme}
		createWSCall := call{"create a workspace", createWS, map[string]any{"in": apitest.WorkspaceInput("by-token-" + ids.New()[:8])}}
		updateWSCall := call{"update a workspace", updateWS, map[string]any{"id": w.acmeWS, "in": map[string]any{"description": "token was here " + ids.New()[:4]}}}
		readAudit := call{"read the audit trail", `query($id: ID!) { organization(id: $id) { auditEvents(first: 5) { nodes { action actorEmail } pageInfo { hasNextPage } } } }`, acme}
		me := call{"me", meQuery, nil}
		mintToken := call{"create another token", createToken, map[string]any{"in": map[string]any{"name": "child", "scopes": []string{"READ_AUDIT"}}}}
		listTokens := call{"list tokens", `query($id: ID!) { organization(id: $id) { apiTokens { nodes { id } } } }`, acme}
		all := []call{readOrg, listOrgs, readWS, listWS, createWSCall, updateWSCall, readAudit, me, mintToken, listTokens}

		for _, tc := range []struct {
			scope   string
			allowed []call
		}{
			{"READ_ORGANIZATION", []call{readOrg, listOrgs}},
			{"READ_WORKSPACES", []call{readWS, listWS}},
			{"WRITE_WORKSPACES", []call{readWS, listWS, createWSCall, updateWSCall}},
			{"READ_AUDIT", []call{readAudit}},
		} {
			t.Run(tc.scope, func(t *testing.T) {
				secret, _ := newToken(t, env, w.acmeAdmin, "scope "+tc.scope, tc.scope)
				allowed := map[string]bool{}
				for _, c := range tc.allowed {
					allowed[c.name] = true
				}
				for _, c := range all {
					r := env.Do(secret, c.query, c.vars)
					if allowed[c.name] {
						if r.Code() != "" {
							t.Errorf("allowed: %s refused: %s", c.name, r.Body)
						}
					} else if r.Code() != "FORBIDDEN" {
						t.Errorf("not in scope: %s answered %q, want FORBIDDEN: %s", c.name, r.Code(), r.Body)
					}
				}
				// Whatever the scope, another organization is out of reach.
				for _, q := range []string{
					`query($id: ID!) { organization(id: $id) { id name } }`,
				} {
					env.Do(secret, q, map[string]any{"id": w.globexAdmin.OrgID}).Want(t, "NOT_FOUND")
				}
				if tc.scope == "READ_WORKSPACES" || tc.scope == "WRITE_WORKSPACES" {
					env.Do(secret, readWS.query, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
					if tc.scope == "WRITE_WORKSPACES" {
						before := workspaceRow(t, env, w.globexWS)
						env.Do(secret, updateWS, map[string]any{"id": w.globexWS, "in": map[string]any{"name": "pwned"}}).Want(t, "NOT_FOUND")
						env.Do(secret, deleteWS, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
						if workspaceRow(t, env, w.globexWS) != before {
							t.Error("a token changed another organization's workspace")
						}
					}
				}
				r := env.Do(secret, listOrgs.query, nil)
				if r.Code() == "" && r.Get("data.organizations.totalCount").Int() != 1 {
					t.Errorf("a token lists other organizations: %s", r.Body)
				}
			})
		}

		t.Run("a token's changes are audited as the token", func(t *testing.T) {
			secret, id := newToken(t, env, w.acmeAdmin, "deployer", "WRITE_WORKSPACES")
			r := env.Do(secret, createWS, map[string]any{"in": apitest.WorkspaceInput("deployed")}).OK(t)
			var ev struct {
				ActorEmail string
				ActorID    *string
				Metadata   string
			}
			env.DB.Raw("SELECT actor_email, actor_id, metadata FROM audit_events WHERE action = 'workspace.created' AND target_id = ?",
				rawID(t, r.Get("data.createWorkspace.id").String())).Scan(&ev)
			if ev.ActorEmail != "api-token:deployer" || ev.ActorID != nil || !strings.Contains(ev.Metadata, id) {
				t.Errorf("event actor %+v", ev)
			}
		})
		t.Run("platform administration is never reachable by a token", func(t *testing.T) {
			env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", "admin@acme.test")
			defer env.Exec("UPDATE users SET platform_admin = FALSE WHERE email = ?", "admin@acme.test")
			secret, _ := newToken(t, env, w.acmeAdmin, "from an operator", "READ_ORGANIZATION")
			r := env.Do(secret, listOrgs.query, nil).OK(t)
			if r.Get("data.organizations.totalCount").Int() != 1 {
				t.Errorf("a platform admin's token sees every organization: %s", r.Body)
			}
		})
	})
}
