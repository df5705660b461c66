package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalList renders a list of n objects of one type (implementors are
// what its fragments may name): in the request's goroutine, element after
// element, when the elements select none of the type's concurrent fields
// (resolvers, which may wait on a dataloader batch that the other elements
// must join), else as gqlgen does, an element per goroutine. gqlgen's
// generated list marshallers call it (internal/gqlseq rewrites them): a
// page of rows of plain fields then costs no goroutine per row. A panic in
// an element nulls that element, as gqlgen's own recovery does.
func marshalList(ctx context.Context, sel ast.SelectionSet, implementors []string, concurrent map[string]bool, n int,
	marshal func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if n > 1 && selectsAny(ctx, sel, implementors, concurrent) {
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, marshal)
	}
	ret := make(graphql.Array, n)
	for i := range n {
		ret[i] = marshalElement(ctx, i, marshal)
	}
	return ret
}

func marshalElement(ctx context.Context, i int, marshal func(ctx context.Context, i int) graphql.Marshaler) (ret graphql.Marshaler) {
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			ret = graphql.Null
		}
	}()
	return marshal(ctx, i)
}

// selectsAny reports whether sel selects one of the fields named in
// concurrent (fragments included), or, at any depth below, a field that
// some type resolves concurrently (concurrentAnywhere: by name, so a field
// of the same name elsewhere counts too, which is only slower).
func selectsAny(ctx context.Context, sel ast.SelectionSet, implementors []string, concurrent map[string]bool) bool {
	oc := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFields(oc, sel, implementors) {
		if concurrent[f.Name] || nestedConcurrent(oc, f.Selections) {
			return true
		}
	}
	return false
}

func nestedConcurrent(oc *graphql.OperationContext, sel ast.SelectionSet) bool {
	for _, f := range graphql.CollectFields(oc, sel, nil) {
		if concurrentAnywhere[f.Name] || nestedConcurrent(oc, f.Selections) {
			return true
		}
	}
	return false
}
