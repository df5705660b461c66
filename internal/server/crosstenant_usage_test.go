package server_test

import (
	"testing"

	"github.com/neosc/neosc/internal/ids"
)

// Cross-tenant cases of issue 11 (usage report, audit search), kept in a
// file of their own so that parallel additions merge cleanly.
func init() {
	deniedCases = append(deniedCases,
		deniedCase{name: "organization(id:) usageReport", query: `query($id: ID!) { organization(id: $id) {
			usageReport(since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z") {
				since until workspaceHours cpuCoreHours memoryGbHours storageGbHours peakUsers activeUsers } } }`, vars: idVar,
			target: func(ts *tenants) (string, string, ids.Type) {
				return ts.globexAdmin.OrgID, ts.globexAdmin.OrgID, ids.Organization
			}},
	)
	isolatedCases = append(isolatedCases,
		isolatedCase{"root auditEvents: platform administrators only", `query($f: AuditEventFilter) { auditEvents(first: 5, filter: $f) { ` + pageFields + ` edges { cursor node { ` + eventFields + ` } } nodes { id } } }`,
			func(t *testing.T, ts *tenants, q string) {
				r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"f": map[string]any{"actorEmail": "admin@globex.test"}}).Want(t, "FORBIDDEN")
				noForeign(t, r, ts)
			}},
		isolatedCase{"audit filter naming another organization's target and actor email", `query($id: ID!, $f: AuditEventFilter) { organization(id: $id) { auditEvents(first: 100, filter: $f) { nodes { organizationId action } } } }`,
			func(t *testing.T, ts *tenants, q string) {
				for _, f := range []map[string]any{{"targetId": ts.globexWS}, {"actorEmail": "admin@globex.test"}, {"targetType": "Workspace", "targetId": ts.globexWS}} {
					r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"id": ts.acmeAdmin.OrgID, "f": f}).OK(t)
					// Acme's own trail holds its access.denied events naming
					// Globex's workspace (the caller's copy); nothing else.
					for _, n := range r.Get("data.organization.auditEvents.nodes").Array() {
						if n.Get("organizationId").String() != ts.acmeAdmin.OrgID || n.Get("action").String() != "access.denied" {
							t.Errorf("filter %v: %s", f, n.Raw)
						}
					}
				}
			}},
	)
}
