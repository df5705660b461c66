package graph_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/internal/auth"
)

// TestEveryFieldHasAnAuthRule walks the parsed schema: every field of every
// object type must carry an @auth rule, on the field or on its type. Root
// types (Query, Mutation) have no type rule, so each root field needs its own.
func TestEveryFieldHasAnAuthRule(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	checked := 0
	for name, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(name, "__") || def.BuiltIn {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			checked++
			rule, ok := auth.RuleOf(f, def)
			if !ok {
				t.Errorf("%s.%s has no @auth rule (on the field or on %s)", name, f.Name, name)
				continue
			}
			switch rule {
			case auth.Public, auth.Authenticated, auth.Member, auth.Partner, auth.OrgAdmin, auth.PlatformAdmin:
			default:
				t.Errorf("%s.%s has unknown rule %q", name, f.Name, rule)
			}
			if (name == "Query" || name == "Mutation") && f.Directives.ForName("auth") == nil {
				t.Errorf("root field %s.%s must carry its own @auth rule", name, f.Name)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d fields checked; the walk is broken", checked)
	}
}

// TestRootFieldRules pins the contract's rules for root fields, so a rule
// cannot be weakened by accident.
func TestRootFieldRules(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	want := map[string]auth.Access{
		"Query.me": auth.Authenticated, "Query.organizations": auth.Authenticated, "Query.organization": auth.Member,
		"Query.workspace": auth.Partner, "Query.node": auth.Member, "Query.sharedWorkspaces": auth.Authenticated,
		"Mutation.grantWorkspaceAccess": auth.OrgAdmin, "Mutation.revokeWorkspaceAccess": auth.OrgAdmin, "Workspace.grants": auth.OrgAdmin,
		"WorkspaceGrant.expiresAt": auth.OrgAdmin, "Mutation.createApiToken": auth.OrgAdmin, "Mutation.revokeApiToken": auth.OrgAdmin,
		"Organization.apiTokens": auth.OrgAdmin, "Mutation.ssoLogin": auth.Public,
		"Mutation.register": auth.Public, "Mutation.login": auth.Public, "Mutation.createWorkspace": auth.OrgAdmin,
		"Mutation.updateWorkspace": auth.OrgAdmin, "Mutation.deleteWorkspace": auth.OrgAdmin,
		"Organization.auditEvents": auth.OrgAdmin, "Organization.name": auth.Partner, "Organization.slug": auth.Member, "User.email": auth.Member,
		"Workspace.name": auth.Partner, "AuditEvent.metadata": auth.OrgAdmin,
	}
	for path, rule := range want {
		typ, field, _ := strings.Cut(path, ".")
		def := schema.Types[typ]
		if def == nil || def.Fields.ForName(field) == nil {
			t.Errorf("%s missing from the schema", path)
			continue
		}
		if got, _ := auth.RuleOf(def.Fields.ForName(field), def); got != rule {
			t.Errorf("%s rule = %s, want %s", path, got, rule)
		}
	}
}
