package auth

import "testing"

// TestOrganizationClaimShapes pins which organization a claim set yields, in
// particular for Keycloak's list and map: only the first alias in sorted order counts,
// with its id when it has one and the alias itself otherwise, and an empty map
// falls through to the next configured claim.
func TestOrganizationClaimShapes(t *testing.T) {
	o := &OIDC{OrgClaims: []string{"organization", "org_id"}}
	for _, c := range []struct {
		name        string
		claims      map[string]any
		id, orgName string
	}{
		{"string", map[string]any{"organization": "o1"}, "o1", ""},
		{"empty string falls through", map[string]any{"organization": "", "org_id": "o2"}, "o2", ""},
		{"list", map[string]any{"organization": []any{"acme", "beta"}}, "acme", "acme"},
		{"list in another order: still the first alias in sorted order", map[string]any{"organization": []any{"zeta", "beta", "acme"}}, "acme", "acme"},
		{"list: blanks and non-strings are skipped", map[string]any{"organization": []any{"", 7, "beta", " "}}, "beta", "beta"},
		{"list of nothing usable falls through", map[string]any{"organization": []any{"", nil}, "org_id": "o4"}, "o4", ""},
		{"map with ids", map[string]any{"organization": map[string]any{
			"zeta": map[string]any{"id": "z"}, "acme": map[string]any{"id": "a"}}}, "a", "acme"},
		{"map: first alias has no id", map[string]any{"organization": map[string]any{
			"beta": map[string]any{"id": "b"}, "acme": map[string]any{}}}, "acme", "acme"},
		{"map: first alias is not an object", map[string]any{"organization": map[string]any{
			"beta": map[string]any{"id": "b"}, "acme": true}}, "acme", "acme"},
		{"empty map falls through", map[string]any{"organization": map[string]any{}, "org_id": "o3"}, "o3", ""},
		{"none", map[string]any{}, "", ""},
	} {
		id, name := o.organization(c.claims)
		if id != c.id || name != c.orgName {
			t.Errorf("%s: organization() = (%q, %q), want (%q, %q)", c.name, id, name, c.id, c.orgName)
		}
	}
}
