package server

import (
	"context"
	"fmt"

	gqlcomplexity "github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/graph/model"
	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/store"
)

// Limits of one GraphQL operation. They are checked after parsing and
// validation and before anything is resolved. Introspection (__schema and
// __type) counts towards MaxFields and the parser's token limit only.
const (
	// MaxComplexity bounds the estimated work: every field costs 1, a list
	// field costs its children times the page size asked for (default 20).
	// The console's organization page (users, workspaces with their grants,
	// API tokens and audit events, 50 of each) costs about 10,000, and a
	// platform administrator's overview of 100 organizations with their
	// workspaces about 4,300; a query of 25,000 is charged 250 points of
	// the rate-limit budget (ratelimit.Points), 5 % of a caller's default
	// hour.
	MaxComplexity = 25000
	// ComplexityCeiling is where the complexity arithmetic saturates: far
	// above any limit, so that an error can say how much too expensive a
	// query is, and nested huge lists cannot overflow into a small cost.
	ComplexityCeiling = 1_000_000_000
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
		if child >= ComplexityCeiling/n {
			return ComplexityCeiling
		}
		return min(1+child*n, ComplexityCeiling)
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

// introspectionFields are the root fields complexity does not count.
var introspectionFields = map[string]struct{}{"Query.__schema": {}, "Query.__type": {}}

// complexityLimit computes an operation's complexity (introspection not
// counted), records it for the answer's extensions.cost and for the
// rate-limit budget (as gqlgen's ComplexityLimit extension does, under its
// name), and refuses an operation over MaxComplexity with an error that
// says its cost and the limit.
type complexityLimit struct{ es graphql.ExecutableSchema }

var (
	_ graphql.HandlerExtension        = &complexityLimit{}
	_ graphql.OperationContextMutator = &complexityLimit{}
)

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	n := min(gqlcomplexity.Calculate(ctx, c.es, rc.Operation, rc.Variables, gqlcomplexity.WithIgnoreFields(introspectionFields)), ComplexityCeiling)
	rc.Stats.SetExtension("ComplexityLimit", &extension.ComplexityStats{Complexity: n, ComplexityLimit: MaxComplexity})
	if m := costFrom(ctx); m != nil {
		m.requested = n
	}
	switch {
	case n >= ComplexityCeiling:
		return limitError(fmt.Sprintf("query complexity is over %d; the limit is %d", ComplexityCeiling, MaxComplexity))
	case n > MaxComplexity:
		return limitError(fmt.Sprintf("query complexity %d exceeds the limit of %d", n, MaxComplexity))
	}
	return nil
}

// cost is what one request's operation was priced at, for extensions.cost.
type cost struct{ requested int }

type costKey struct{}

// withCost gives the request a cost for complexityLimit to fill in.
func withCost(ctx context.Context) context.Context {
	return context.WithValue(ctx, costKey{}, &cost{})
}

func costFrom(ctx context.Context) *cost {
	c, _ := ctx.Value(costKey{}).(*cost)
	return c
}

// costOf is extensions.cost of an answer: the operation's complexity
// (0 when it was not priced: it did not parse, or was refused before) and
// the limit, as GitHub's rateLimit { cost } has it.
func costOf(requested int) map[string]any {
	return map[string]any{"requested": requested, "limit": MaxComplexity}
}

// addCost adds extensions.cost to an answer.
func addCost(ctx context.Context, resp *graphql.Response) {
	requested := 0
	if c := costFrom(ctx); c != nil {
		requested = c.requested
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	resp.Extensions["cost"] = costOf(requested)
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
			if s.Name == "__schema" || s.Name == "__type" {
				// Introspection's depth is the schema's, not the caller's
				// choice of work: its fields count, its depth does not.
				w.introspection(s.SelectionSet)
				continue
			}
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

// introspection counts the fields of an introspection selection, fragments
// expanded, without measuring its depth.
func (w *walker) introspection(set ast.SelectionSet) {
	for _, sel := range set {
		if w.fields > MaxFields {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			w.introspection(s.SelectionSet)
		case *ast.InlineFragment:
			w.introspection(s.SelectionSet)
		case *ast.FragmentSpread:
			if def := w.doc.Fragments.ForName(s.Name); def != nil {
				w.introspection(def.SelectionSet)
			}
		}
	}
}
