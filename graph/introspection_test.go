package graph_test

import (
	"strings"
	"testing"

	gql "github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

const introspectFields = `{ __schema { types { name kind fields { name description } inputFields { name description } } } }`

// TestIntrospectionStatesEachFieldsAccessRule asks the real HTTP handler,
// as a registered user, for every field's description, and checks each
// against the @auth/@scope directives of schema.graphqls as written: the
// served description is the written one followed by a paragraph naming
// the field's rule and the API token scopes that reach it.
func TestIntrospectionStatesEachFieldsAccessRule(t *testing.T) {
	env := apitest.New(t, testdb.New(t, db.SQLite))
	acc := env.Register("alice@example.com", "Access Docs Inc")
	r := env.Do(acc.Token, introspectFields, nil).OK(t)

	src := sourceSchema(t)
	served := map[string]string{} // "Type.field" -> description
	for _, typ := range r.Get("data.__schema.types").Array() {
		for _, list := range []string{"fields", "inputFields"} {
			for _, f := range typ.Get(list).Array() {
				served[typ.Get("name").String()+"."+f.Get("name").String()] = f.Get("description").String()
			}
		}
	}

	checked := 0
	for _, def := range userTypes(src) {
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			path := def.Name + "." + f.Name
			desc, ok := served[path]
			if !ok {
				t.Errorf("%s is not served by introspection", path)
				continue
			}
			if def.Kind == gql.InputObject {
				if desc != f.Description {
					t.Errorf("%s: input field served as %q, written as %q", path, desc, f.Description)
				}
				continue
			}
			written, note, found := strings.Cut(desc, "\n\nAccess: ")
			if !found || strings.TrimSpace(written) != strings.TrimSpace(f.Description) {
				t.Errorf("%s: served description is not the written one plus an access paragraph:\n%s", path, desc)
				continue
			}
			checked++
			if def.Kind == gql.Interface {
				continue // the implementing type's field states the rule
			}
			rule, ruled := authz.RuleOf(f, def)
			if !ruled {
				t.Errorf("%s has no @auth rule", path)
				continue
			}
			if !strings.HasPrefix(note, string(rule)+" ") {
				t.Errorf("%s is ruled %s but its description says: Access: %s", path, rule, note)
			}
			checkTokenNote(t, path, rule, note, def, f)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d fields checked; the walk is broken", checked)
	}

	// The rules the issue names, as a client reads them.
	for path, want := range map[string]string{
		"Mutation.createWorkspace": "Access: ORG_ADMIN", "Query.me": "Access: AUTHENTICATED",
		"Mutation.login": "Access: PUBLIC", "Organization.auditEvents": "Access: ORG_ADMIN",
	} {
		if !strings.Contains(served[path], want) {
			t.Errorf("%s description lacks %q:\n%s", path, want, served[path])
		}
	}
	if !strings.Contains(served["Organization.auditEvents"], "READ_AUDIT") {
		t.Errorf("Organization.auditEvents does not name its API token scope READ_AUDIT")
	}
}

// checkTokenNote: a PUBLIC field says nothing of API tokens (anyone may
// call it); any other names each scope of its @scope, or says tokens are
// refused when it has none.
func checkTokenNote(t *testing.T, path string, rule authz.Access, note string, def *gql.Definition, f *gql.FieldDefinition) {
	t.Helper()
	scopes, declared := authz.ScopeOf(f, def)
	switch {
	case rule == authz.Public:
		if strings.Contains(note, "API tokens") {
			t.Errorf("%s is PUBLIC but its access paragraph speaks of API tokens: %s", path, note)
		}
	case !declared || len(scopes) == 0:
		if !strings.Contains(note, "API tokens: refused.") {
			t.Errorf("%s is out of reach of API tokens but its description says: %s", path, note)
		}
	default:
		for _, s := range scopes {
			if !strings.Contains(note, string(s)) {
				t.Errorf("%s accepts API token scope %s but its description says: %s", path, s, note)
			}
		}
	}
}
