package auth_test

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
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

const testSchema = `
directive @auth(requires: Access!) on FIELD_DEFINITION | OBJECT
enum Access { PUBLIC AUTHENTICATED MEMBER PARTNER ORG_ADMIN PLATFORM_ADMIN }
type Query { open: String @auth(requires: PUBLIC)  unruled: String  thing: Thing @auth(requires: MEMBER) }
type Thing @auth(requires: MEMBER) { name: String  secret: String @auth(requires: ORG_ADMIN) }
type Loose { name: String }
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
	rules := &auth.Rules{
		Schema: schema,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Denied: func(_ context.Context, _ *auth.Actor, _ ids.Type, id, org, _ string) error {
			denied = append(denied, org)
			return nil
		},
	}
	acme := &store.Organization{ID: ids.New()}
	globex := &store.Organization{ID: ids.New()}
	member := &auth.Actor{User: store.User{ID: ids.New(), OrganizationID: acme.ID, Role: store.RoleMember}}
	admin := &auth.Actor{User: store.User{ID: ids.New(), OrganizationID: acme.ID, Role: store.RoleAdmin}}
	operator := &auth.Actor{User: store.User{ID: ids.New(), OrganizationID: globex.ID, PlatformAdmin: true}}

	cases := []struct {
		name       string
		typ, field string
		parent     any
		actor      *auth.Actor
		want       apperr.Code // "" = allowed
	}{
		{"public field, anonymous", "Query", "open", nil, nil, ""},
		{"field without any rule is denied", "Query", "unruled", nil, admin, apperr.Forbidden},
		{"type without any rule is denied", "Loose", "name", acme, admin, apperr.Forbidden},
		{"type rule, member of the owner", "Thing", "name", acme, member, ""},
		{"type rule, anonymous", "Thing", "name", acme, nil, apperr.Unauthenticated},
		{"type rule, other organization", "Thing", "name", globex, member, apperr.NotFound},
		{"field rule beats type rule, member", "Thing", "secret", acme, member, apperr.Forbidden},
		{"field rule, admin", "Thing", "secret", acme, admin, ""},
		{"field rule, other organization's admin", "Thing", "secret", globex, admin, apperr.NotFound},
		{"platform admin passes every rule", "Thing", "secret", acme, operator, ""},
		{"owner rule on an object without owner", "Thing", "name", "not owned", admin, apperr.Forbidden},
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
	if len(denied) != 2 || denied[0] != globex.ID {
		t.Errorf("access.denied recorded for %v, want twice for the other organization", denied)
	}
}
