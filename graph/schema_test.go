package graph_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/internal/authz"
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
			rule, ok := authz.RuleOf(f, def)
			if !ok {
				t.Errorf("%s.%s has no @auth rule (on the field or on %s)", name, f.Name, name)
				continue
			}
			switch rule {
			case authz.Public, authz.Authenticated, authz.Member, authz.Partner, authz.OrgAdmin, authz.PlatformAdmin:
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
	want := map[string]authz.Access{
		"Query.me": authz.Authenticated, "Query.organizations": authz.Authenticated, "Query.organization": authz.Member,
		"Query.workspace": authz.Partner, "Query.node": authz.Member, "Query.sharedWorkspaces": authz.Authenticated,
		"Mutation.grantWorkspaceAccess": authz.OrgAdmin, "Mutation.revokeWorkspaceAccess": authz.OrgAdmin, "Workspace.grants": authz.OrgAdmin,
		"WorkspaceGrant.expiresAt": authz.OrgAdmin, "Mutation.createApiToken": authz.OrgAdmin, "Mutation.revokeApiToken": authz.OrgAdmin,
		"Organization.apiTokens": authz.OrgAdmin, "Mutation.ssoLogin": authz.Public,
		"Mutation.register": authz.Public, "Mutation.login": authz.Public, "Mutation.createWorkspace": authz.OrgAdmin,
		"Mutation.updateWorkspace": authz.OrgAdmin, "Mutation.deleteWorkspace": authz.OrgAdmin,
		"Organization.auditEvents": authz.OrgAdmin, "Organization.name": authz.Partner, "Organization.slug": authz.Member, "User.email": authz.Member,
		"Workspace.name": authz.Partner, "AuditEvent.metadata": authz.OrgAdmin,
		"Organization.domains": authz.Member, "OrganizationDomain.domain": authz.Member, "OrganizationDomain.verificationRecord": authz.OrgAdmin,
		"Mutation.addOrganizationDomain": authz.OrgAdmin, "Mutation.verifyOrganizationDomain": authz.OrgAdmin,
		"Mutation.setDomainEnrollment": authz.OrgAdmin, "Mutation.removeOrganizationDomain": authz.OrgAdmin,
	}
	for path, rule := range want {
		typ, field, _ := strings.Cut(path, ".")
		def := schema.Types[typ]
		if def == nil || def.Fields.ForName(field) == nil {
			t.Errorf("%s missing from the schema", path)
			continue
		}
		if got, _ := authz.RuleOf(def.Fields.ForName(field), def); got != rule {
			t.Errorf("%s rule = %s, want %s", path, got, rule)
		}
	}
}
