package server_test

import (
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

// TestDeniedEventNamesNoForeignOrganization: after workspace(id: <foreign>)
// the caller's own trail gained an access.denied whose targetOrganizationId
// named the victim organization (a random ID added nothing): an oracle of
// whose an ID is. Now only the target's copy names it.
func TestDeniedEventNamesNoForeignOrganization(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		w.env.Do(w.acmeAdmin.Token, `query($id: ID!) { workspace(id: $id) { id } }`, map[string]any{"id": w.globexWS}).Want(t, "NOT_FOUND")
		const trail = `query($id: ID!) { organization(id: $id) { auditEvents(filter: {actions: ["access.denied"]}) { nodes { targetId targetOrganizationId } } } }`
		own := w.env.Do(w.acmeAdmin.Token, trail, map[string]any{"id": w.acmeAdmin.OrgID}).OK(t).Get("data.organization.auditEvents.nodes")
		if len(own.Array()) != 1 || own.Get("0.targetId").String() != w.globexWS || own.Get("0.targetOrganizationId").Type != 0 {
			t.Errorf("the caller's trail: %s", own.Raw)
		}
		if strings.Contains(own.Raw, w.globexAdmin.OrgID) {
			t.Error("the caller's trail names the victim organization")
		}
		theirs := w.env.Do(w.globexAdmin.Token, trail, map[string]any{"id": w.globexAdmin.OrgID}).OK(t).Get("data.organization.auditEvents.nodes")
		if theirs.Get("0.targetOrganizationId").String() != w.globexAdmin.OrgID {
			t.Errorf("the target's trail: %s", theirs.Raw)
		}
	})
}

// TestTokenScopeOracle: an API token's node(id:) answered FORBIDDEN for a
// foreign ApiToken or WorkspaceGrant but NOT_FOUND for a random ID. Now
// ownership is decided before scope: a foreign object is NOT_FOUND whatever
// the token's scopes, exactly like a random ID.
func TestTokenScopeOracle(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		secret, _ := newToken(t, w.env, w.acmeAdmin, "probe", "READ_WORKSPACES")
		_, foreignToken := newToken(t, w.env, w.globexAdmin, "victim", "READ_AUDIT")
		initech := w.env.Register("admin@initech.test", "Initech")
		foreignGrant := grant(t, w.env, w.globexAdmin, w.globexWS, initech)
		const q = `query($id: ID!) { node(id: $id) { id } }`
		for _, tc := range []struct {
			name    string
			foreign string
			typ     ids.Type
		}{{"ApiToken", foreignToken, ids.APIToken}, {"WorkspaceGrant", foreignGrant, ids.WorkspaceGrant}} {
			got := w.env.Do(secret, q, map[string]any{"id": tc.foreign}).Want(t, "NOT_FOUND")
			random := w.env.Do(secret, q, map[string]any{"id": missing(tc.typ)}).Want(t, "NOT_FOUND")
			if got.Message() != random.Message() || got.Status != random.Status {
				t.Errorf("%s: foreign %d %q, random %d %q", tc.name, got.Status, got.Message(), random.Status, random.Message())
			}
		}
	})
}

// TestNoSuggestions: 4 of 7 kinds of typo still answered "Did you mean …"
// to anonymous callers, mapping the schema for callers introspection is
// closed to. Now no answer suggests anything, to anyone.
func TestNoSuggestions(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		typos := map[string]string{
			"field":          `{ mee { id } }`,
			"argument":       `{ organizations(frist: 1) { totalCount } }`,
			"type":           `{ me { ... on Usr { id } } }`,
			"enum value":     `mutation { createWorkspace(input: {name: "x", type: DEVV, connectionType: WEB, cpuCores: 1, memoryMb: 512, storageGb: 1}) { id } }`,
			"input field":    `mutation { createWorkspace(input: {nam: "x", type: DEV, connectionType: WEB, cpuCores: 1, memoryMb: 512, storageGb: 1}) { id } }`,
			"directive":      `{ me @skp(if: true) { id } }`,
			"variable type":  `query($id: Ide!) { node(id: $id) { id } }`,
			"fragment field": `{ me { ...F } } fragment F on User { emial }`,
		}
		for name, q := range typos {
			for _, token := range []string{"", w.acmeAdmin.Token} {
				r := w.env.Do(token, q, nil)
				if r.Code() == "" {
					t.Errorf("%s: no error: %s", name, r.Body)
				}
				if strings.Contains(strings.ToLower(string(r.Body)), "did you mean") {
					t.Errorf("%s (token %v): %s", name, token != "", r.Body)
				}
			}
		}
	})
}

// TestErrorFlood: `{ me @x … ×5000 }` turned 15 KB into a 1.87 MB answer
// with 9,999 errors. Now an answer lists at most 20 errors and one that
// says how many more there were.
func TestErrorFlood(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		q := "{ me " + strings.Repeat("@x ", 5000) + "{ id } }"
		r := w.env.Do(w.acmeAdmin.Token, q, nil)
		errs := r.Get("errors").Array()
		if len(errs) != 21 || !strings.HasPrefix(errs[20].Get("message").String(), "too many errors: ") ||
			errs[20].Get("extensions.code").String() == "" || errs[20].Get("extensions.requestId").String() == "" {
			t.Fatalf("%d errors; the last: %s", len(errs), errs[len(errs)-1].Raw)
		}
		if len(r.Body) > 16<<10 {
			t.Errorf("a %d-byte document got a %d-byte answer", len(q), len(r.Body))
		}
	})
}
