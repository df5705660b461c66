package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

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
	// API tokens and audit events, 50 of each) costs about 10,300, and a
	// platform administrator's overview of 100 organizations with their
	// workspaces 4,201; a query of 25,000 is charged 250 points of
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
	// MaxSchemaIntrospections and MaxTypeIntrospections bound how often an
	// operation may ask for __schema and __type (aliases and fragments
	// counted): introspection is exempt from depth and complexity, so
	// without them 70 aliases of __schema answered 4 MB for one point of
	// the rate-limit budget.
	MaxSchemaIntrospections = 1
	MaxTypeIntrospections   = 10
)

// introspectionField reports whether a field is __schema or __type: its
// depth and complexity are the schema's, not the caller's choice of work.
func introspectionField(f *ast.Field) bool { return f.Name == "__schema" || f.Name == "__type" }

// coster computes an operation's complexity: every field costs 1 plus its
// selections; a paginated field (a *Connection with a first argument) costs
// 1 plus its nodes and edges times the page size asked for (the default
// page size when first is omitted: what it will really return), plus its
// other fields (pageInfo, totalCount) once. Introspection costs nothing.
// The arithmetic saturates at ComplexityCeiling. It reads the schema from
// the validated document only, so it does not depend on generated code.
type coster struct{ vars map[string]any }

func (c coster) selections(set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !introspectionField(s) {
				total = saturatedAdd(total, c.field(s))
			}
		case *ast.InlineFragment:
			total = saturatedAdd(total, c.selections(s.SelectionSet))
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total = saturatedAdd(total, c.selections(s.Definition.SelectionSet))
			}
		}
	}
	return total
}

func (c coster) field(f *ast.Field) int {
	if d := f.Definition; d != nil && d.Arguments.ForName("first") != nil && strings.HasSuffix(d.Type.Name(), "Connection") {
		return saturatedAdd(1, c.connection(f.SelectionSet, pageSize(f.ArgumentMap(c.vars)["first"])))
	}
	return saturatedAdd(1, c.selections(f.SelectionSet))
}

// connection prices a connection's selections for a page of n.
func (c coster) connection(set ast.SelectionSet, n int) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			cost := c.field(s)
			if s.Name == "nodes" || s.Name == "edges" {
				cost = saturatedMul(cost, n)
			}
			total = saturatedAdd(total, cost)
		case *ast.InlineFragment:
			total = saturatedAdd(total, c.connection(s.SelectionSet, n))
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total = saturatedAdd(total, c.connection(s.Definition.SelectionSet, n))
			}
		}
	}
	return total
}

// pageSize is the page a first argument asks for: the default page size
// when it is omitted (or not a positive number), at most one more than the
// largest (beyond it the field is refused anyway).
func pageSize(first any) int {
	var n int64
	switch v := first.(type) {
	case int64:
		n = v
	case int:
		n = int64(v)
	case float64:
		n = int64(min(v, store.MaxPageSize+1))
	case json.Number:
		n, _ = v.Int64()
	}
	if n <= 0 {
		return store.DefaultPageSize
	}
	return int(min(n, store.MaxPageSize+1))
}

func saturatedAdd(a, b int) int { return min(a+b, ComplexityCeiling) } // both ≤ the ceiling: no overflow

func saturatedMul(a, n int) int {
	if n > 0 && a >= ComplexityCeiling/n {
		return ComplexityCeiling
	}
	return a * n
}

// complexityLimit computes an operation's complexity (coster), records it
// for the answer's extensions.cost and for the rate-limit budget (as
// gqlgen's ComplexityLimit extension does, under its name), and refuses an
// operation over MaxComplexity with an error that says its cost and the
// limit.
type complexityLimit struct{}

var (
	_ graphql.HandlerExtension        = complexityLimit{}
	_ graphql.OperationContextMutator = complexityLimit{}
)

func (complexityLimit) ExtensionName() string                   { return "ComplexityLimit" }
func (complexityLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (complexityLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	n := coster{vars: rc.Variables}.selections(rc.Operation.SelectionSet)
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
	case w.schemas > MaxSchemaIntrospections || w.types > MaxTypeIntrospections:
		return limitError(fmt.Sprintf("an operation may select __schema at most %d time(s) and __type at most %d times", MaxSchemaIntrospections, MaxTypeIntrospections))
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
	schemas  int // __schema selections
	types    int // __type selections
}

func (w *walker) selections(set ast.SelectionSet, depth int) {
	for _, sel := range set {
		if w.fields > MaxFields || w.maxDepth > MaxDepth {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if introspectionField(s) {
				// Introspection's depth is the schema's, not the caller's
				// choice of work: its fields count, its depth does not,
				// and how often it is asked for is bounded.
				if s.Name == "__schema" {
					w.schemas++
				} else {
					w.types++
				}
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
