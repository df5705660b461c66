package graph_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// An audit page reads the request's details (ipAddress, userAgent,
// requestId) and metadata only when it selects them
// (store.AuditFilter.OmitRequest, OmitMetadata): whatever subset a query
// selects, directly, through edges or a fragment, every field it selects
// answers what the page answers with all of them selected.
func TestAuditPageReadsWhatItSelects(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("admin@acme.test", "Acme")
		env.CreateWorkspace(admin, "acme-dev")
		env.Invite(admin, "member@acme.test", "MEMBER")
		vars := map[string]any{"id": admin.OrgID}
		page := func(sel string) []map[string]any {
			t.Helper()
			q := `query($id: ID!) { organization(id: $id) { auditEvents(first: 50) { ` + sel + ` } } }`
			if strings.Contains(sel, "...D") {
				q += ` fragment D on AuditEvent { userAgent }`
			}
			r := env.Do(admin.Token, q, vars).OK(t)
			var out []map[string]any
			for _, n := range r.Get("data.organization.auditEvents.nodes").Array() {
				out = append(out, n.Value().(map[string]any))
			}
			for _, e := range r.Get("data.organization.auditEvents.edges").Array() {
				out = append(out, e.Get("node").Value().(map[string]any))
			}
			return out
		}
		full := page(`nodes { id action ipAddress userAgent requestId metadata }`)
		if len(full) < 3 {
			t.Fatalf("%d events: too few to compare", len(full))
		}
		for _, f := range []string{"ipAddress", "userAgent", "requestId"} {
			if full[0][f] == nil {
				t.Fatalf("the newest event has no %s: the comparison would prove nothing (%v)", f, full[0])
			}
		}
		for _, tc := range []struct{ sel, field string }{
			{`nodes { id ipAddress }`, "ipAddress"},
			{`nodes { id userAgent }`, "userAgent"},
			{`nodes { id requestId }`, "requestId"},
			{`nodes { id metadata }`, "metadata"},
			{`nodes { id requestId metadata }`, "requestId"},
			{`edges { node { id ipAddress } }`, "ipAddress"},
			{`nodes { id ...D }`, "userAgent"},
			{`nodes { id ... on AuditEvent { requestId } }`, "requestId"},
			{`nodes { id action }`, "action"},
		} {
			got := page(tc.sel)
			if len(got) != len(full) {
				t.Fatalf("%s: %d events, the full page %d", tc.sel, len(got), len(full))
			}
			for i := range got {
				if got[i]["id"] != full[i]["id"] || !reflect.DeepEqual(got[i][tc.field], full[i][tc.field]) {
					t.Errorf("%s: event %d: %s = %v, with every field selected %v", tc.sel, i, tc.field, got[i][tc.field], full[i][tc.field])
				}
			}
		}
	})
}
