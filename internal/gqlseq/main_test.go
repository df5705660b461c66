package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// A miniature of gqlgen's output: an object type with a resolver field, its
// list marshaller, and a list of an interface (left alone).
const generated = `package graph

var userImplementors = []string{"User", "Node"}

func (ec *executionContext) _User(ctx context.Context, sel ast.SelectionSet, obj *store.User) graphql.Marshaler {
	for i, field := range fields {
		switch field.Name {
		case "id":
			out.Values[i] = ec._User_id(ctx, field, obj)
		case "organization":
			out.ResolveConcurrently(ec.OperationContext, &deferred, i,
				true, true,
				func(ctx context.Context) graphql.Marshaler {
					return ec._User_organization(ctx, field, obj)
				})
		}
	}
	return out
}

func (ec *executionContext) marshalNUser2ᚕᚖstoreᚐUserᚄ(ctx context.Context, sel ast.SelectionSet, v []*store.User) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNUser2ᚖstoreᚐUser(ctx, sel, v[i])
	})
	return ret
}

func (ec *executionContext) marshalNNode2ᚕgraphᚐNodeᚄ(ctx context.Context, sel ast.SelectionSet, v []Node) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNNode2graphᚐNode(ctx, sel, v[i])
	})
	return ret
}
`

func TestRewrite(t *testing.T) {
	gen, lists, err := rewrite([]byte(generated))
	if err != nil {
		t.Fatal(err)
	}
	g := string(gen)
	if !strings.Contains(g, "ret := marshalList(ctx, sel, userImplementors, concurrentUser, len(v), func(ctx context.Context, i int) graphql.Marshaler {") {
		t.Errorf("the User list does not call marshalList:\n%s", g)
	}
	if strings.Count(g, "graphql.MarshalSliceConcurrently(") != 1 || !strings.Contains(g, "marshalNNode2ᚕgraphᚐNodeᚄ(ctx context.Context, sel ast.SelectionSet, v []Node) graphql.Marshaler {\n\tret := graphql.MarshalSliceConcurrently(") {
		t.Errorf("the interface list was rewritten:\n%s", g)
	}
	l := string(lists)
	for _, want := range []string{`concurrentUser = map[string]bool{"organization": true}`, `var concurrentAnywhere = map[string]bool{"organization": true}`} {
		if !strings.Contains(l, want) {
			t.Errorf("lists_gen.go lacks %s:\n%s", want, l)
		}
	}
	if _, _, err := rewrite([]byte("package graph\n")); err == nil {
		t.Error("an input without list marshallers was accepted")
	}
}

// A miniature of an object type's field functions and marshallers: plain
// fields of every kind gqlgen generates, and fields that are not plain (a
// resolver, a non-null pointer whose nil adds an error, a JSON map).
var objectSrc = `package graph

var userImplementors = []string{"User", "Node"}

func (ec *executionContext) _User(ctx context.Context, sel ast.SelectionSet, obj *store.User) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, userImplementors)

	out := graphql.NewFieldSet(fields)
	for i, field := range fields {
		switch field.Name {
		case "id":
			out.Values[i] = ec._User_id(ctx, field, obj)
		case "email":
			out.Values[i] = ec._User_email(ctx, field, obj)
		case "role":
			out.Values[i] = ec._User_role(ctx, field, obj)
		case "avatar":
			out.Values[i] = ec._User_avatar(ctx, field, obj)
		case "organization":
			out.Values[i] = ec._User_organization(ctx, field, obj)
		}
	}
	return out
}
` + field("id", "obj.GlobalID()", "string", "marshalNID2string") +
	field("email", "obj.Email", "*string", "marshalOString2ᚖstring") +
	field("role", "obj.Role", "store.Role", "marshalNRole2storeᚐRole") +
	field("avatar", "obj.Avatar", "*string", "marshalNString2ᚖstring") +
	field("organization", "ec.Resolvers.User().Organization(ctx, obj)", "*store.Organization", "marshalNOrganization2ᚖstoreᚐOrganization") + `
func (ec *executionContext) marshalNID2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalID(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "ID!")
	}
	return res
}

func (ec *executionContext) marshalOString2ᚖstring(ctx context.Context, sel ast.SelectionSet, v *string) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	_ = sel
	_ = ctx
	res := graphql.MarshalString(*v)
	return res
}

func (ec *executionContext) marshalNRole2storeᚐRole(ctx context.Context, sel ast.SelectionSet, v store.Role) graphql.Marshaler {
	return v
}

func (ec *executionContext) marshalNString2ᚖstring(ctx context.Context, sel ast.SelectionSet, v *string) graphql.Marshaler {
	if v == nil {
		graphql.AddInvalidNullError(ctx, "String!")
		return graphql.Null
	}
	_ = sel
	res := graphql.MarshalString(*v)
	return res
}

func (ec *executionContext) marshalNOrganization2ᚖstoreᚐOrganization(ctx context.Context, sel ast.SelectionSet, v *store.Organization) graphql.Marshaler {
	return ec._Organization(ctx, sel, v)
}
`

// field is gqlgen's field function for field name of User.
func field(name, read, typ, marshaller string) string {
	return `
func (ec *executionContext) _User_` + name + `(ctx context.Context, field graphql.CollectedField, obj *store.User) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_User_` + name + `(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return ` + read + `, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v ` + typ + `) graphql.Marshaler {
			return ec.` + marshaller + `(ctx, selections, v)
		},
		true,
		true,
	)
}
`
}

func TestPlain(t *testing.T) {
	out := withPlain(objectSrc)
	if !strings.Contains(out, "fields := graphql.CollectFields(ec.OperationContext, sel, userImplementors)\n\tif m := ec.plainUser(ctx, fields, obj); m != nil {\n\t\treturn m\n\t}\n") {
		t.Errorf("_User does not try its plain marshaller first:\n%s", out)
	}
	i := strings.Index(out, "func (ec *executionContext) plainUser(ctx context.Context, fields []graphql.CollectedField, obj *store.User) graphql.Marshaler {")
	if i < 0 {
		t.Fatalf("no plain marshaller for User:\n%s", out)
	}
	plain := out[i:]
	for _, want := range []string{
		`case "__typename", "id", "email", "role":` + "\n",
		"m := graphql.MarshalID(obj.GlobalID())\nif m == graphql.Null {\nreturn nil\n}\nrow.Values[i] = m",
		"row.Values[i] = ec.marshalOString2ᚖstring(ctx, nil, obj.Email)",
		"row.Values[i] = obj.Role",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("the plain marshaller lacks %q:\n%s", want, plain)
		}
	}
	for _, not := range []string{`"avatar"`, `"organization"`, "Resolvers"} {
		if strings.Contains(plain, not) {
			t.Errorf("the plain marshaller renders %s, which is not plain:\n%s", not, plain)
		}
	}
}

// TestPlainInGraph checks go generate's output in graph/: the plain
// marshallers exist, each is tried first by its object function, and the
// fields that are not plain (a resolver, audit metadata) are left to gqlgen.
func TestPlainInGraph(t *testing.T) {
	b, err := os.ReadFile("../../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	defs := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (plain[A-Za-z0-9]+)\(`).FindAllStringSubmatch(src, -1)
	if len(defs) < 10 {
		t.Fatalf("%d plain marshallers in graph/generated.go: run go generate ./graph", len(defs))
	}
	for _, d := range defs {
		if !strings.Contains(src, "if m := ec."+d[1]+"(ctx, fields, obj); m != nil {") {
			t.Errorf("%s is never called", d[1])
		}
	}
	for typ, notPlain := range map[string]string{"AuditEvent": `"metadata"`, "User": `"organization"`, "Workspace": `"grants"`} {
		fn := funcBody(src, "plain"+typ)
		if fn == "" || strings.Contains(fn, notPlain) || !strings.Contains(fn, `"id"`) {
			t.Errorf("plain%s (%s must not be plain, id must):\n%s", typ, notPlain, fn)
		}
	}
}
