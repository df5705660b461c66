package graph

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/graph/model"
	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/identity"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

func payload(s *identity.Session, err error) (*model.AuthPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{Token: s.Token, ExpiresAt: s.ExpiresAt, User: &s.Actor.User, Actor: s.Actor}, nil
}

// list is every list field: it checks first and after, then fetches one
// page of the listing.
func list[N model.Keyed](first *int, after *string, fetch func(store.Page) (store.Listing[N], error)) (model.Page[N], error) {
	page, err := store.NewPage(first, after)
	if err != nil {
		return model.Page[N]{}, err
	}
	l, err := fetch(page)
	return model.PageOf(l), err
}

// listRows is list over a store method that answers a page of rows and
// whether more follow; count answers totalCount.
func listRows[N model.Keyed](first *int, after *string, count func(context.Context) (int, error), fetch func(store.Page) ([]N, bool, error)) (model.Page[N], error) {
	return list(first, after, func(p store.Page) (store.Listing[N], error) {
		rows, hasNext, err := fetch(p)
		return store.Listing[N]{Rows: rows, HasNext: hasNext, Count: count}, err
	})
}

// node fetches the object behind a global ID (of type want, when given) and
// authorizes it under its type's rule; the concrete type T is what the
// field returns.
func node[T any](ctx context.Context, r *Resolver, id string, want ids.Type) (T, error) {
	var zero T
	obj, err := r.Authz.Node(ctx, r.Store, id, want)
	if err != nil {
		return zero, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, apperr.ErrNotFound
	}
	return t, nil
}

// countOf is a totalCount that is already known.
func countOf(n int) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { return n, nil }
}

func auditFilter(ctx context.Context, f *model.AuditEventFilter) (store.AuditFilter, error) {
	out := store.AuditFilter{OmitMetadata: !selectsNodeField(ctx, "metadata"),
		OmitRequest: !selectsNodeField(ctx, "ipAddress", "userAgent", "requestId")}
	if f == nil {
		return out, nil
	}
	if len(f.Actions) > 50 {
		return out, apperr.Invalid("filter.actions", "at most 50 actions")
	}
	out.Actions = f.Actions
	if f.ActorID != nil {
		id, ok := ids.Decode(ids.User, *f.ActorID)
		if !ok {
			return out, apperr.Invalid("filter.actorId", "actorId is not a user ID")
		}
		out.ActorID = id
	}
	if f.Outcome != nil {
		out.Outcome = *f.Outcome
	}
	out.Since, out.Until = f.Since, f.Until
	return out, auditSearch(f, &out)
}

// selectsNodeField reports whether the connection field being resolved
// selects a field of its nodes named one of names, as `nodes { name }` or
// `edges { node { name } }`, fragments included (whatever their type
// condition: when in doubt, it is selected).
func selectsNodeField(ctx context.Context, names ...string) bool {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return true
	}
	oc := graphql.GetOperationContext(ctx)
	has := func(sel ast.SelectionSet) bool {
		for _, f := range graphql.CollectFields(oc, sel, nil) {
			if slices.Contains(names, f.Name) {
				return true
			}
		}
		return false
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "nodes":
			if has(f.Selections) {
				return true
			}
		case "edges":
			for _, e := range graphql.CollectFields(oc, f.Selections, nil) {
				if e.Name == "node" && has(e.Selections) {
					return true
				}
			}
		}
	}
	return false
}

// auditSearch decodes the filter's search conditions (issue 11): target
// type, target ID (a global ID of any type, which also fixes the type) and
// the actor's email.
func auditSearch(f *model.AuditEventFilter, out *store.AuditFilter) error {
	if f.TargetType != nil {
		if *f.TargetType == "" || len(*f.TargetType) > 32 {
			return apperr.Invalid("filter.targetType", "targetType must be a type name such as Workspace")
		}
		out.TargetType = *f.TargetType
	}
	if f.TargetID != nil {
		t, id, ok := ids.Parse(*f.TargetID)
		if !ok {
			return apperr.Invalid("filter.targetId", "targetId is not an ID of this API")
		}
		if out.TargetType != "" && out.TargetType != string(t) {
			return apperr.Invalid("filter.targetId", "targetId is not of type targetType")
		}
		out.TargetType, out.TargetID = string(t), id
	}
	if f.ActorEmail != nil {
		e := strings.TrimSpace(*f.ActorEmail)
		if e == "" || len(e) > 254 {
			return apperr.Invalid("filter.actorEmail", "actorEmail must be an email address")
		}
		if !strings.HasPrefix(e, "api-token:") { // user addresses are recorded lower-cased
			e = strings.ToLower(e)
		}
		out.ActorEmail = e
	}
	return nil
}
