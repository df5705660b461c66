package authz_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

const testSchema = `
directive @auth(requires: Access!) on FIELD_DEFINITION | OBJECT
enum Access { PUBLIC AUTHENTICATED MEMBER PARTNER ORG_ADMIN PLATFORM_ADMIN }
directive @scope(any: [ApiScope!]!) on FIELD_DEFINITION | OBJECT
enum ApiScope { READ_ORGANIZATION READ_AUDIT }
type Query { open: String @auth(requires: PUBLIC)  unruled: String  thing: Thing @auth(requires: MEMBER) }
type Thing @auth(requires: MEMBER) @scope(any: [READ_ORGANIZATION]) { name: String  secret: String @auth(requires: ORG_ADMIN) @scope(any: [READ_AUDIT]) }
type Loose @auth(requires: MEMBER) { name: String }
type Bare { name: String }
`

func fieldCtx(t *testing.T, schema *ast.Schema, typ, field string, parent any) context.Context {
	t.Helper()
	def := schema.Types[typ]
	f := def.Fields.ForName(field)
	parentFC := &graphql.FieldContext{Result: parent}
	fc := &graphql.FieldContext{
		Object: typ,
		Field:  graphql.CollectedField{Field: &ast.Field{Name: field, Definition: f, ObjectDefinition: def}},
	}
	ctx := graphql.WithFieldContext(context.Background(), parentFC)
	return graphql.WithFieldContext(ctx, fc)
}

func TestRulesField(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	var denied []string
	rules := &authz.Authorizer{
		Schema: schema,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Denied: func(_ context.Context, _ *auth.Actor, obj authz.Object, _ string) error {
			denied = append(denied, obj.OwnerOrganizationID())
			return nil
		},
	}
	acme := &store.Organization{ID: ids.New()}
	globex := &store.Organization{ID: ids.New()}
	member := &auth.Actor{User: store.User{ID: ids.New(), OrganizationID: acme.ID, Role: store.RoleMember}, Organization: *acme}
	admin := &auth.Actor{User: store.User{ID: ids.New(), OrganizationID: acme.ID, Role: store.RoleAdmin}, Organization: *acme}
	operator := &auth.Actor{User: store.User{ID: ids.New(), OrganizationID: globex.ID, PlatformAdmin: true}, Organization: *globex}
	readToken := &auth.Actor{Organization: *acme, APIToken: &store.APIToken{ID: ids.New(), OrganizationID: acme.ID,
		Scopes: store.ScopeList{store.ScopeReadOrganization}}}
	auditToken := &auth.Actor{Organization: *acme, APIToken: &store.APIToken{ID: ids.New(), OrganizationID: acme.ID,
		Scopes: store.ScopeList{store.ScopeReadAudit}}}

	cases := []struct {
		name       string
		typ, field string
		parent     any
		actor      *auth.Actor
		want       apperr.Code // "" = allowed
	}{
		{"public field, anonymous", "Query", "open", nil, nil, ""},
		{"field without any rule is denied", "Query", "unruled", nil, admin, apperr.Forbidden},
		{"type without any rule is denied", "Bare", "name", acme, admin, apperr.Forbidden},
		{"type rule, member of the owner", "Thing", "name", acme, member, ""},
		{"type rule, anonymous", "Thing", "name", acme, nil, apperr.Unauthenticated},
		{"type rule, other organization", "Thing", "name", globex, member, apperr.NotFound},
		{"field rule beats type rule, member", "Thing", "secret", acme, member, apperr.Forbidden},
		{"field rule, admin", "Thing", "secret", acme, admin, ""},
		{"field rule, other organization's admin", "Thing", "secret", globex, admin, apperr.NotFound},
		{"platform admin passes every rule", "Thing", "secret", acme, operator, ""},
		{"owner rule on an object without owner", "Thing", "name", "not owned", admin, apperr.Forbidden},
		{"API token with the type's scope", "Thing", "name", acme, readToken, ""},
		{"API token without the type's scope", "Thing", "name", acme, auditToken, apperr.Forbidden},
		{"API token: field scope beats type scope", "Thing", "secret", acme, auditToken, ""},
		{"API token: field scope not held", "Thing", "secret", acme, readToken, apperr.Forbidden},
		{"API token: the scope stands in for ORG_ADMIN, in its own organization only", "Thing", "secret", globex, auditToken, apperr.NotFound},
		{"API token on a field without @scope", "Loose", "name", acme, readToken, apperr.Forbidden},
		{"API token on a public field", "Query", "open", nil, readToken, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := fieldCtx(t, schema, tc.typ, tc.field, tc.parent)
			if tc.actor != nil {
				ctx = auth.WithActor(ctx, tc.actor)
			}
			called := false
			_, err := rules.Field(ctx, func(context.Context) (any, error) { called = true; return "ok", nil })
			if tc.want == "" {
				if err != nil || !called {
					t.Fatalf("want allowed, got err %v (resolver called: %v)", err, called)
				}
				return
			}
			if got := apperr.CodeOf(err); got != tc.want {
				t.Fatalf("want %s, got %v", tc.want, err)
			}
			if called {
				t.Fatal("the resolver ran although the field was refused")
			}
		})
	}
	if len(denied) != 3 || denied[0] != globex.ID || denied[2] != globex.ID {
		t.Errorf("access.denied recorded for %v, want three times for the other organization", denied)
	}
}
