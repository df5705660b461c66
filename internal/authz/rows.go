package authz

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/neosc/neosc/internal/auth"
)

// rowPlan is what one selection of an object type's fields needs per row,
// decided once per request and caller: ok when every field exists, is
// ruled and passes what needs no object (Field's admit), and the distinct
// rules among them that are decided against each row's organization.
type rowPlan struct {
	ok    bool
	rules []Access
}

type planKey struct {
	fields *graphql.CollectedField // gqlgen collects a selection once per operation and hands out the same slice
	object string                  // its type (a slice is collected for one type; named all the same)
	actor  *auth.Actor
}

// RowAllowed reports whether the caller may read every one of fields (as
// collected for one selection of object type object) on obj, deciding what
// needs no object once per request and each owner rule once per row: the
// decision Field would take field by field, taken once per object. It
// records nothing and answers nothing: false sends the row down gqlgen's
// field-by-field path, where Field answers and records each refusal
// exactly; true lets the generated plain marshaller of the type render the
// row's fields without a middleware call each (graph/lists.go, issue 12).
func (z *Authorizer) RowAllowed(ctx context.Context, object string, fields []graphql.CollectedField, obj any) bool {
	if len(fields) == 0 {
		return false
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	actor := actorAt(ctx, fc)
	r, ok := ctx.Value(requestKey{}).(*request)
	if !ok {
		return false
	}
	plan := r.plan(planKey{&fields[0], object, actor}, func() *rowPlan { return z.planRow(ctx, object, fields, actor) })
	if !plan.ok {
		return false
	}
	if len(plan.rules) == 0 {
		return true
	}
	o, ok := obj.(Object)
	if !ok {
		return false
	}
	for _, rule := range plan.rules {
		owner, err := z.owner(ctx, actor, rule, o)
		if err != nil || Decide(rule, actor, owner) != Allow {
			return false
		}
	}
	return true
}

// planRow decides, for actor, what of fields needs no object.
func (z *Authorizer) planRow(ctx context.Context, object string, fields []graphql.CollectedField, actor *auth.Actor) *rowPlan {
	plan := &rowPlan{}
	for i := range fields {
		if fields[i].Name == "__typename" {
			continue
		}
		fr := z.field(object, fields[i].Name)
		if fr == nil || !fr.ruled || fr.root || z.admit(ctx, fr, actor) != nil {
			return plan
		}
		if fr.needsOwner() && !containsRule(plan.rules, fr.rule) {
			plan.rules = append(plan.rules, fr.rule)
		}
	}
	plan.ok = true
	return plan
}

func containsRule(rules []Access, rule Access) bool {
	for _, r := range rules {
		if r == rule {
			return true
		}
	}
	return false
}

// plan returns the plan stored under key, made by mk the first time.
func (r *request) plan(key planKey, mk func() *rowPlan) *rowPlan {
	r.mu.Lock()
	p, ok := r.plans[key]
	r.mu.Unlock()
	if ok {
		return p
	}
	p = mk()
	r.mu.Lock()
	if r.plans == nil {
		r.plans = map[planKey]*rowPlan{}
	}
	r.plans[key] = p
	r.mu.Unlock()
	return p
}
