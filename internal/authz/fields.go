package authz

import (
	"context"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/store"
)

// PayloadActorCarrier is a result (the session payload of register or login)
// whose subtree is authorized as the user it signs in.
type PayloadActorCarrier interface {
	PayloadActor() *auth.Actor
}

// fieldRule is a field's access rule, read once from the schema.
type fieldRule struct {
	name     string // "Type.field"
	object   *ast.Definition
	rule     Access
	ruled    bool
	scopes   []store.APIScope
	scoped   bool
	abstract bool // returns an interface or union
	root     bool // a field of Query or Mutation
}

// needsOwner reports whether the rule is decided against an object's
// organization (MEMBER, PARTNER, ORG_ADMIN) rather than the caller alone.
func (fr *fieldRule) needsOwner() bool {
	return fr.rule == Member || fr.rule == Partner || fr.rule == OrgAdmin
}

// fieldKey names a field of an object type: looking a rule up allocates
// nothing (the middleware runs for every field of every row).
type fieldKey struct{ object, field string }

// field returns the rule of field name of the concrete object type; nil
// when the schema has no such field.
func (z *Authorizer) field(object, name string) *fieldRule {
	z.once.Do(func() {
		z.fields = map[fieldKey]*fieldRule{}
		for _, def := range z.Schema.Types {
			if def.Kind != ast.Object {
				continue
			}
			for _, f := range def.Fields {
				fr := &fieldRule{name: def.Name + "." + f.Name, object: def,
					root: def.Name == "Query" || def.Name == "Mutation"}
				fr.rule, fr.ruled = RuleOf(f, def)
				fr.scopes, fr.scoped = ScopeOf(f, def)
				if t := z.Schema.Types[f.Type.Name()]; t != nil {
					fr.abstract = t.Kind == ast.Interface || t.Kind == ast.Union
				}
				z.fields[fieldKey{def.Name, f.Name}] = fr
			}
		}
	})
	return z.fields[fieldKey{object, name}]
}

// Field is the gqlgen field middleware (server AroundFields): every field of
// every operation passes here. It finds the field's rule and decides:
//   - what needs no object first: PUBLIC, a caller at all, an API token's
//     @scope, the caller-only rules (AUTHENTICATED, PLATFORM_ADMIN);
//   - a field of an object: the rule against the object's organization;
//   - a root field whose rule needs an object (organization(id:),
//     node(id:), the mutations): the resolver names its object through
//     Fetch, Node or Own, which decide; one that decides nothing fails.
func (z *Authorizer) Field(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return nil, apperr.ErrForbidden
	}
	if strings.HasPrefix(fc.Field.Name, "__") || strings.HasPrefix(fc.Object, "__") {
		return introspection(ctx, fc, next)
	}
	fr := z.field(fc.Object, fc.Field.Name)
	if fr == nil || !fr.ruled {
		z.Log.ErrorContext(ctx, "field without @auth rule denied", "field", fc.Object+"."+fc.Field.Name)
		return nil, apperr.ErrForbidden
	}
	actor := effectiveActor(ctx, fc)
	if err := z.admit(ctx, fr, actor); err != nil {
		return nil, err
	}
	if !fr.needsOwner() {
		return next(ctx)
	}
	if fr.root {
		return z.rootField(ctx, fr, actor, next)
	}
	obj, ok := resultOf(fc.Parent).(Object)
	if !ok {
		z.Log.ErrorContext(ctx, "owner-scoped rule on a field whose object has no owner", "field", fr.name)
		return nil, apperr.ErrForbidden
	}
	if err := z.authorize(ctx, nil, actor, fr.rule, obj); err != nil {
		return nil, err
	}
	return next(ctx)
}

// admit applies what needs no object: PUBLIC passes; otherwise a caller is
// needed, an API token must hold one of the field's scopes (the scope
// stands in for the role a user would need), and a rule about the caller
// alone (AUTHENTICATED, PLATFORM_ADMIN) is decided here.
func (z *Authorizer) admit(ctx context.Context, fr *fieldRule, actor *auth.Actor) error {
	switch {
	case fr.rule == Public:
		return nil
	case actor == nil:
		return apperr.ErrUnauthenticated
	case actor.IsAPIToken() && !(fr.scoped && actor.HasAnyScope(fr.scopes)):
		return errScope(fr.name)
	case fr.needsOwner():
		return nil
	}
	return z.verdict(ctx, nil, actor, Decide(fr.rule, actor, Owner{}), nil)
}

// rootField runs a root field whose rule needs an object: its resolver
// must name the object through Fetch, Node or Own, which authorize it. A
// resolver that authorizes nothing is a bug, refused as such.
func (z *Authorizer) rootField(ctx context.Context, fr *fieldRule, actor *auth.Actor, next graphql.Resolver) (any, error) {
	ctx, decision := expectDecision(ctx)
	res, err := next(ctx)
	if err == nil && !decision.Load() {
		z.Log.ErrorContext(ctx, "root field resolved without an authorization decision", "field", fr.name)
		return nil, apperr.New(apperr.Internal, "%s made no authorization decision", fr.name)
	}
	if err != nil || isNil(res) || !fr.abstract || !actor.IsAPIToken() {
		return res, err
	}
	if err := z.scopeOfType(actor, res); err != nil {
		return nil, err
	}
	return res, nil
}

// scopeOfType checks an API token against the @scope of the type a field
// of an abstract type (node) resolved to; concrete types are checked field
// by field.
func (z *Authorizer) scopeOfType(actor *auth.Actor, res any) error {
	obj, ok := res.(Object)
	if !ok {
		return apperr.ErrForbidden
	}
	def := z.Schema.Types[string(obj.NodeType())]
	if scopes, declared := ScopeOf(nil, def); !declared || !actor.HasAnyScope(scopes) {
		return errScope(string(obj.NodeType()))
	}
	return nil
}

// introspection lets __schema and __type through per the server's
// introspection setting; the __* types' own fields carry no tenant data.
func introspection(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if fc.Field.Name != "__schema" && fc.Field.Name != "__type" || !graphql.HasOperationContext(ctx) ||
		!graphql.GetOperationContext(ctx).DisableIntrospection {
		return next(ctx)
	}
	if auth.ActorFrom(ctx) == nil {
		return nil, apperr.New(apperr.Unauthenticated, "introspection requires authentication")
	}
	return nil, apperr.New(apperr.Forbidden, "introspection is disabled on this server")
}

// RuleOf returns the rule of a field: its own @auth, else its type's. ok is
// false when there is none (the field is then denied).
func RuleOf(field *ast.FieldDefinition, object *ast.Definition) (Access, bool) {
	if field != nil {
		if a, ok := ruleIn(field.Directives); ok {
			return a, true
		}
	}
	if object != nil {
		return ruleIn(object.Directives)
	}
	return "", false
}

func ruleIn(list ast.DirectiveList) (Access, bool) {
	d := list.ForName("auth")
	if d == nil {
		return "", false
	}
	arg := d.Arguments.ForName("requires")
	if arg == nil || arg.Value == nil {
		return "", false
	}
	return Access(arg.Value.Raw), true
}

// ScopeOf returns the API token scopes a field accepts: its own @scope,
// else its type's. declared is false when neither has one (API tokens are
// then refused).
func ScopeOf(field *ast.FieldDefinition, object *ast.Definition) (scopes []store.APIScope, declared bool) {
	if field != nil {
		if s, ok := scopesIn(field.Directives); ok {
			return s, true
		}
	}
	if object != nil {
		return scopesIn(object.Directives)
	}
	return nil, false
}

func scopesIn(list ast.DirectiveList) ([]store.APIScope, bool) {
	d := list.ForName("scope")
	if d == nil {
		return nil, false
	}
	arg := d.Arguments.ForName("any")
	if arg == nil || arg.Value == nil {
		return nil, true
	}
	var out []store.APIScope
	for _, c := range arg.Value.Children {
		if c.Value != nil {
			out = append(out, store.APIScope(c.Value.Raw))
		}
	}
	return out, true
}

func errScope(what string) error {
	return apperr.New(apperr.Forbidden, "this API token's scopes do not reach %s", what)
}

// effectiveActor is the request's caller, or, inside the result of register
// or login (mutations only), the user that result signs in.
func effectiveActor(ctx context.Context, fc *graphql.FieldContext) *auth.Actor {
	// The operation's kind from the root field's type: walking the field
	// contexts is cheaper than looking the operation up in the context
	// chain, once per field of every row.
	return actorAt(ctx, fc.Parent)
}

// actorAt is effectiveActor for the fields of the object that from
// resolved to: from and the contexts above it are searched.
func actorAt(ctx context.Context, from *graphql.FieldContext) *auth.Actor {
	root := from
	for root != nil && root.Parent != nil {
		root = root.Parent
	}
	if root != nil && root.Object != "Query" {
		for p := from; p != nil; p = p.Parent {
			if c, ok := resultOf(p).(PayloadActorCarrier); ok && c.PayloadActor() != nil {
				return c.PayloadActor()
			}
		}
	}
	return auth.ActorFrom(ctx)
}

// resultOf returns the value a field context resolved to; for a list
// element's context, the element (gqlgen stores a pointer to it there).
func resultOf(fc *graphql.FieldContext) any {
	if fc == nil {
		return nil
	}
	if fc.Result != nil {
		if row, ok := listRow(fc.Result); ok {
			return row
		}
		v := reflect.ValueOf(fc.Result)
		for v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Pointer {
			v = v.Elem()
		}
		return v.Interface()
	}
	if fc.Index != nil {
		list := reflect.ValueOf(resultOf(fc.Parent))
		for list.Kind() == reflect.Pointer {
			list = list.Elem()
		}
		if (list.Kind() == reflect.Slice || list.Kind() == reflect.Array) && *fc.Index >= 0 && *fc.Index < list.Len() {
			return list.Index(*fc.Index).Interface()
		}
		return nil
	}
	return fc.Result
}

// listRow returns the row of a list element as gqlgen stores it (a pointer
// to the slice element) for the four row types of the lists, without
// reflection.
func listRow(result any) (any, bool) {
	switch r := result.(type) {
	case **store.User:
		if r != nil {
			return *r, true
		}
	case **store.Workspace:
		if r != nil {
			return *r, true
		}
	case **store.Organization:
		if r != nil {
			return *r, true
		}
	case **store.AuditEvent:
		if r != nil {
			return *r, true
		}
	}
	return nil, false
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return rv.IsNil()
	}
	return false
}
