package server_test

import (
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/ids"
)

// Cross-tenant cases of security policies and branding (internal/policy),
// kept in their own file and appended to the suite's tables so that
// parallel additions merge without conflicts.

const policyFields = `securityPolicy { requireSso allowedIpRanges sessionTtlMinutes } branding { displayName logoUrl primaryColor }`

func init() {
	globexOrg := func(ts *tenants) (string, string, ids.Type) {
		return ts.globexAdmin.OrgID, ts.globexAdmin.OrgID, ids.Organization
	}
	policyVars := func(id string) map[string]any {
		return map[string]any{"id": id, "in": map[string]any{"requireSso": false, "allowedIpRanges": []string{"192.0.2.0/24"}, "sessionTtlMinutes": 5}}
	}
	brandingVars := func(id string) map[string]any {
		return map[string]any{"id": id, "in": map[string]any{"displayName": "pwned", "logoUrl": "https://evil.test/x.png"}}
	}
	member := func(ts *tenants) apitest.Account { return ts.acmeMember }
	deniedCases = append(deniedCases,
		deniedCase{name: "organization(id:) securityPolicy and branding", query: `query($id: ID!) { organization(id: $id) { id ` + policyFields + ` } }`,
			vars: idVar, target: globexOrg},
		deniedCase{name: "updateSecurityPolicy", query: `mutation($id: ID!, $in: SecurityPolicyInput!) { updateSecurityPolicy(id: $id, input: $in) { id ` + policyFields + ` } }`,
			vars: policyVars, target: globexOrg},
		deniedCase{name: "updateSecurityPolicy by a member", query: `mutation($id: ID!, $in: SecurityPolicyInput!) { updateSecurityPolicy(id: $id, input: $in) { id } }`,
			vars: policyVars, target: globexOrg, actor: member},
		deniedCase{name: "updateOrganizationBranding", query: `mutation($id: ID!, $in: BrandingInput!) { updateOrganizationBranding(id: $id, input: $in) { id ` + policyFields + ` } }`,
			vars: brandingVars, target: globexOrg},
		deniedCase{name: "updateOrganizationBranding by a member", query: `mutation($id: ID!, $in: BrandingInput!) { updateOrganizationBranding(id: $id, input: $in) { id } }`,
			vars: brandingVars, target: globexOrg, actor: member},
	)
	isolatedCases = append(isolatedCases,
		isolatedCase{"organizationBranding answers the three branding fields only, and nothing of policies",
			`query($s: String!) { organizationBranding(slug: $s) { displayName logoUrl primaryColor } }`,
			func(t *testing.T, ts *tenants, q string) {
				var slug string
				ts.env.DB.Raw("SELECT slug FROM organizations WHERE id = ?", rawID(t, ts.globexAdmin.OrgID)).Scan(&slug)
				r := ts.env.Do(ts.acmeAdmin.Token, q, map[string]any{"s": slug}).OK(t)
				if r.Get("data.organizationBranding").Raw != `{"displayName":null,"logoUrl":null,"primaryColor":null}` {
					t.Errorf("branding: %s", r.Body)
				}
				if n := ts.env.Count("SELECT COUNT(*) FROM organization_policies WHERE organization_id = ?", rawID(t, ts.globexAdmin.OrgID)); n != 0 {
					t.Errorf("Globex's policy row was written by Acme's attempts")
				}
			}},
	)
}
