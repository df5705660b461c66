package server_test

import (
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// TestAuditMetadataReadOnlyWhenSelected: a page of audit events that does
// not select metadata reads no metadata column (issue 12: parsing it was
// 12 % of such a page's CPU), and every way of selecting it — nodes, edges,
// a named or an inline fragment — still answers it.
func TestAuditMetadataReadOnlyWhenSelected(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("meta@acme.test", "Acme")
		env.CreateWorkspace(admin, "ws-meta")
		vars := map[string]any{"id": admin.OrgID}
		const filter = `auditEvents(first: 10, filter: {actions: ["workspace.created"]})`
		want := ""
		for name, sel := range map[string]string{
			"nodes":           `nodes { metadata }`,
			"edges":           `edges { node { metadata } }`,
			"named fragment":  `nodes { ...M }`,
			"inline fragment": `edges { node { ... on AuditEvent { metadata } } }`,
		} {
			q := `query($id: ID!) { organization(id: $id) { ` + filter + ` { ` + sel + ` } } }`
			if name == "named fragment" {
				q += ` fragment M on AuditEvent { metadata }`
			}
			r := env.Do(admin.Token, q, vars).OK(t)
			got := r.Get("data.organization.auditEvents.nodes.0.metadata").Raw
			if got == "" {
				got = r.Get("data.organization.auditEvents.edges.0.node.metadata").Raw
			}
			if got == "" || got == "{}" {
				t.Fatalf("%s: metadata %q: %s", name, got, r.Body)
			}
			if want == "" {
				want = got
			} else if got != want {
				t.Errorf("%s: metadata %s, want %s", name, got, want)
			}
		}
		env.Counter.Reset()
		env.Do(admin.Token, `query($id: ID!) { organization(id: $id) { `+filter+` { nodes { id action } } } }`, vars).OK(t)
		if sql := env.Counter.SQL(); !containsAuditSelectWithout(sql, "metadata") {
			t.Errorf("a page without metadata read it:\n%s", sql)
		}
	})
}

// containsAuditSelectWithout reports whether sql has a SELECT from
// audit_events that does not name column.
func containsAuditSelectWithout(sql, column string) bool {
	for _, stmt := range strings.Split(sql, "\n") {
		if strings.Contains(stmt, "audit_events") && strings.HasPrefix(strings.TrimSpace(stmt), "SELECT") {
			return !strings.Contains(stmt, column)
		}
	}
	return false
}
