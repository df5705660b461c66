package server

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/graph/model"
	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/store"
)

// Limits of one GraphQL operation. They are checked after parsing and
// validation and before anything is resolved.
const (
	// MaxComplexity bounds the estimated work: every field costs 1, a list
	// field costs its children times the page size asked for (default 20).
	MaxComplexity = 5000
	// MaxDepth bounds selection nesting.
	MaxDepth = 12
	// MaxFields bounds the field selections of an operation, fragments
	// expanded (1,000 aliases of one cheap field are refused).
	MaxFields = 500
)

// complexity prices list fields by their page size.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	list := func(child int, first *int) int {
		n := store.DefaultPageSize
		if first != nil && *first > 0 {
			n = min(*first, store.MaxPageSize+1) // beyond 100 it is refused anyway
		}
		// Saturate instead of overflowing: nested huge lists must not wrap
		// around to a small (or negative) cost.
		if child > MaxComplexity {
			return MaxComplexity + 1
		}
		return min(1+child*n, MaxComplexity+1)
	}
	pager := func(child int, first *int, _ *string) int { return list(child, first) }
	c.Query.Organizations = pager
	c.Query.SharedWorkspaces = pager
	c.Organization.Users = pager
	c.Organization.Workspaces = pager
	c.Organization.APITokens = pager
	c.Organization.AuditEvents = func(child int, first *int, _ *string, _ *model.AuditEventFilter) int { return list(child, first) }
	c.Workspace.Grants = pager
	return c
}

// shapeLimits refuses operations that are too deep or select too many
// fields, and decides whether introspection is allowed for this caller.
type shapeLimits struct {
	introspection string // "authenticated" (default), "public" or "off"
}

var (
	_ graphql.HandlerExtension        = shapeLimits{}
	_ graphql.OperationContextMutator = shapeLimits{}
)

func (shapeLimits) ExtensionName() string                   { return "ShapeLimits" }
func (shapeLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l shapeLimits) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	switch l.introspection {
	case "public":
		rc.DisableIntrospection = false
	case "off":
		rc.DisableIntrospection = true
	default:
		rc.DisableIntrospection = auth.ActorFrom(ctx) == nil
	}
	if rc.Operation == nil {
		return nil
	}
	w := walker{doc: rc.Doc}
	w.selections(rc.Operation.SelectionSet, 1)
	switch {
	case w.maxDepth > MaxDepth:
		return limitError(fmt.Sprintf("query depth %d exceeds the limit of %d", w.maxDepth, MaxDepth))
	case w.fields > MaxFields:
		return limitError(fmt.Sprintf("query selects more than %d fields", MaxFields))
	}
	return nil
}

func limitError(msg string) *gqlerror.Error {
	return gqlerror.WrapIfUnwrapped(apperr.New(apperr.ComplexityLimitExceeded, "%s", msg))
}

// walker measures a selection set with fragments expanded. Validation has
// already refused fragment cycles; the field budget also bounds the walk.
type walker struct {
	doc      *ast.QueryDocument
	maxDepth int
	fields   int
}

func (w *walker) selections(set ast.SelectionSet, depth int) {
	for _, sel := range set {
		if w.fields > MaxFields || w.maxDepth > MaxDepth {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if depth > w.maxDepth {
				w.maxDepth = depth
			}
			w.selections(s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			w.selections(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			if def := w.doc.Fragments.ForName(s.Name); def != nil {
				w.selections(def.SelectionSet, depth)
			}
		}
	}
}
