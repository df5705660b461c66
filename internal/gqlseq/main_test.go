package main

import (
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
