package auth

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// Access is a rule of the @auth directive.
type Access string

// The rules, weakest first.
const (
	Public        Access = "PUBLIC"
	Authenticated Access = "AUTHENTICATED"
	Member        Access = "MEMBER"
	Partner       Access = "PARTNER"
	OrgAdmin      Access = "ORG_ADMIN"
	PlatformAdmin Access = "PLATFORM_ADMIN"
)

// Owned is a row that belongs to one organization.
type Owned interface {
	OwnerOrganizationID() string
}

// Target is an owned row that can be named in an access.denied event.
type Target interface {
	Owned
	GlobalID() string
}

// PayloadActorCarrier is a result (the session payload of register or login)
// whose subtree is authorized as the user it signs in.
type PayloadActorCarrier interface {
	PayloadActor() *Actor
}

// DenialRecorder records an access.denied event for a cross-organization
// attempt on target.
type DenialRecorder func(ctx context.Context, actor *Actor, targetType ids.Type, targetID, targetOrgID, reason string) error

// Rules enforces the schema's @auth rules for every field.
type Rules struct {
	Schema *ast.Schema
	Denied DenialRecorder
	Log    *slog.Logger
	// Grants reports whether the caller's organization holds a live grant
	// on a workspace (per-request, batched); nil means no grants exist.
	Grants func(ctx context.Context, workspaceID string) (bool, error)
	// Owner returns the organization owning an object named by a mutation
	// argument (NOT_FOUND when none), to answer a too-small role on another
	// organization's object as NOT_FOUND. Nil: always FORBIDDEN.
	Owner func(ctx context.Context, typ ids.Type, id string) (string, error)

	once  sync.Once
	index map[string]*fieldRule // "Type.field" of every object field
}

// fieldRule is a field's access rule, read once from the schema rather than
// from its directives on every resolution.
type fieldRule struct {
	object   *ast.Definition
	field    *ast.FieldDefinition
	rule     Access
	ruled    bool
	scopes   []store.APIScope
	scoped   bool
	abstract bool // returns an interface or union
}

// lookup returns the rule of field name on the concrete object type; nil
// when the schema has no such field.
func (r *Rules) lookup(object, name string) *fieldRule {
	r.once.Do(func() {
		r.index = map[string]*fieldRule{}
		for _, def := range r.Schema.Types {
			if def.Kind != ast.Object {
				continue
			}
			for _, f := range def.Fields {
				fr := &fieldRule{object: def, field: f}
				fr.rule, fr.ruled = RuleOf(f, def)
				fr.scopes, fr.scoped = ScopeOf(f, def)
				if t := r.Schema.Types[f.Type.Name()]; t != nil {
					fr.abstract = t.Kind == ast.Interface || t.Kind == ast.Union
				}
				r.index[def.Name+"."+f.Name] = fr
			}
		}
	})
	return r.index[object+"."+name]
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

// Field is the gqlgen field middleware (server AroundFields).
func (r *Rules) Field(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return nil, apperr.ErrForbidden
	}
	// Introspection (__schema, __type and the __* types' fields) carries no
	// tenant data; it is governed by the server's introspection setting.
	if strings.HasPrefix(fc.Field.Name, "__") || strings.HasPrefix(fc.Object, "__") {
		if rc := graphql.GetOperationContext(ctx); rc != nil && rc.DisableIntrospection &&
			(fc.Field.Name == "__schema" || fc.Field.Name == "__type") {
			if ActorFrom(ctx) == nil {
				return nil, apperr.New(apperr.Unauthenticated, "introspection requires authentication")
			}
			return nil, apperr.New(apperr.Forbidden, "introspection is disabled on this server")
		}
		return next(ctx)
	}
	// The concrete object type: a field selected through an interface (node
	// { id }) is checked under the rule of the type it resolved to.
	fr := r.lookup(fc.Object, fc.Field.Name)
	if fr == nil || !fr.ruled {
		r.Log.ErrorContext(ctx, "field without @auth rule denied", "field", fieldName(fc))
		return nil, apperr.ErrForbidden
	}
	object, rule := fr.object, fr.rule

	actor := effectiveActor(ctx, fc)
	if rule == Public {
		return next(ctx)
	}
	if actor == nil {
		return nil, apperr.ErrUnauthenticated
	}
	// An API token reaches only fields whose @scope it holds; the scope
	// stands in for the role a user would need.
	if actor.IsAPIToken() {
		if !fr.scoped || !actor.HasAnyScope(fr.scopes) {
			return nil, errScope(fieldName(fc))
		}
	}
	if actor.IsPlatformAdmin() || rule == Authenticated {
		return next(ctx)
	}
	if rule == PlatformAdmin {
		return nil, apperr.ErrForbidden
	}

	root := object.Name == "Query" || object.Name == "Mutation"
	if !root {
		// A field of an object: authorize against the object's organization
		// before resolving anything.
		owned, ok := resultOf(fc.Parent).(Owned)
		if !ok {
			r.Log.ErrorContext(ctx, "owner-scoped rule on a field whose object has no owner", "field", fieldName(fc))
			return nil, apperr.ErrForbidden
		}
		if err := r.check(ctx, actor, rule, owned); err != nil {
			return nil, err
		}
		return next(ctx)
	}

	if object.Name == "Mutation" {
		// Mutations act in the caller's own organization; the service layer
		// fetches any target by ID and answers another organization's as
		// NOT_FOUND. Here only the role is checked.
		if rule == OrgAdmin && !actor.IsOrgAdmin(actor.OrganizationID()) && !actor.IsAPIToken() {
			return nil, r.roleRefusal(ctx, fc, actor)
		}
		return next(ctx)
	}

	// A root query field with a target (organization(id:), workspace(id:),
	// node(id:)): fetch, then authorize against the fetched row, with the
	// rule of its type when it has one (node answers under its type's rule).
	res, err := next(ctx)
	if err != nil || isNil(res) {
		return res, err
	}
	owned, ok := res.(Owned)
	if !ok {
		r.Log.ErrorContext(ctx, "root field result has no owner", "field", fieldName(fc))
		return nil, apperr.ErrForbidden
	}
	def := r.typeOf(res)
	if def != nil {
		if typeRule, ok := ruleIn(def.Directives); ok {
			rule = typeRule
		}
		// A field of an abstract type (node) answers under the scope of the
		// type it resolved to; concrete ones are checked field by field.
		if actor.IsAPIToken() && fr.abstract {
			if scopes, declared := scopesIn(def.Directives); !declared || !actor.HasAnyScope(scopes) {
				return nil, errScope(def.Name)
			}
		}
	}
	if err := r.check(ctx, actor, rule, owned); err != nil {
		return nil, err
	}
	return res, nil
}

// check authorizes actor on a row: another organization's row is NOT_FOUND
// (and audited), the right organization with too small a role FORBIDDEN.
func (r *Rules) check(ctx context.Context, actor *Actor, rule Access, owned Owned) error {
	org := owned.OwnerOrganizationID()
	if actor.IsPlatformAdmin() {
		return nil
	}
	switch rule {
	case Public, Authenticated:
		return nil
	case Member, Partner:
		if actor.IsMember(org) {
			return nil
		}
		if rule == Partner {
			ok, err := r.partner(ctx, actor, owned)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
		}
	case OrgAdmin:
		if actor.IsOrgAdmin(org) || (actor.IsAPIToken() && actor.IsMember(org)) {
			return nil
		}
		if actor.IsMember(org) {
			return apperr.ErrForbidden
		}
	case PlatformAdmin:
		return apperr.ErrForbidden
	default:
		return apperr.ErrForbidden
	}
	r.recordDenied(ctx, actor, owned, "object belongs to another organization")
	return apperr.ErrNotFound
}

// roleRefusal answers a caller whose role is too small for a mutation. When
// the mutation names objects by ID, an object that is not the caller's
// organization's (another organization's, or none at all) answers NOT_FOUND,
// the foreign one audited, exactly as for an admin; FORBIDDEN is for objects
// of the caller's own organization and for mutations without a target.
func (r *Rules) roleRefusal(ctx context.Context, fc *graphql.FieldContext, actor *Actor) error {
	if r.Owner == nil {
		return apperr.ErrForbidden
	}
	var refs []string
	collectIDs(fc.Args, &refs)
	for _, ref := range refs {
		typ, id, ok := ids.Parse(ref)
		if !ok {
			return apperr.ErrNotFound
		}
		org, err := r.Owner(ctx, typ, id)
		if err != nil {
			if apperr.CodeOf(err) == apperr.NotFound {
				return apperr.ErrNotFound
			}
			return err
		}
		if org != actor.OrganizationID() {
			r.recordDenied(ctx, actor, ownedRef{typ: typ, id: id, org: org}, "mutation on another organization's object")
			return apperr.ErrNotFound
		}
	}
	return apperr.ErrForbidden
}

// collectIDs gathers the arguments that name a target object: "id" and
// "...Id" values, in input objects too, except organization IDs (a grant's
// partner is named, not targeted).
func collectIDs(v any, out *[]string) {
	add := func(name, val string) {
		if name != "id" && !strings.HasSuffix(name, "Id") {
			return
		}
		if typ, _, ok := ids.Parse(val); !ok || typ != ids.Organization {
			*out = append(*out, val)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok {
				add(k, s)
				continue
			}
			collectIDs(val, out)
		}
	default:
		rv := reflect.ValueOf(v)
		for rv.Kind() == reflect.Pointer && !rv.IsNil() {
			rv = rv.Elem()
		}
		if rv.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < rv.NumField(); i++ {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			if fv := rv.Field(i); fv.Kind() == reflect.String {
				add(name, fv.String())
			}
		}
	}
}

// ownedRef names an object by type, ID and owner, for a denial record.
type ownedRef struct {
	typ     ids.Type
	id, org string
}

func (o ownedRef) OwnerOrganizationID() string { return o.org }
func (o ownedRef) GlobalID() string            { return ids.Encode(o.typ, o.id) }

// partner reports whether a caller of another organization may reach owned
// through a grant: a workspace it holds a live grant on, or the id and name
// of that workspace's owner when reached from the workspace (or, for the
// owner's admins, a grantee reached from their own grant).
func (r *Rules) partner(ctx context.Context, actor *Actor, owned Owned) (bool, error) {
	if r.Grants == nil {
		return false, nil
	}
	switch o := owned.(type) {
	case *store.Workspace:
		return r.Grants(ctx, o.ID)
	case *store.Organization:
		for p := graphql.GetFieldContext(ctx).Parent; p != nil; p = p.Parent {
			switch a := resultOf(p).(type) {
			case *store.Organization:
				if a.ID != o.ID {
					return false, nil
				}
				continue // the organization field itself
			case *store.Workspace:
				if a.OrganizationID != o.ID {
					return false, nil
				}
				return r.Grants(ctx, a.ID)
			case *store.WorkspaceGrant:
				return a.OrganizationID == actor.OrganizationID() && a.GranteeOrganizationID == o.ID, nil
			case nil:
				continue // a list's element context, or a root
			default:
				return false, nil
			}
		}
	}
	return false, nil
}

func (r *Rules) recordDenied(ctx context.Context, actor *Actor, owned Owned, reason string) {
	var (
		typ ids.Type
		id  string
	)
	if t, ok := owned.(Target); ok {
		typ, id, _ = ids.Parse(t.GlobalID())
	}
	if err := r.Denied(ctx, actor, typ, id, owned.OwnerOrganizationID(), reason); err != nil {
		r.Log.ErrorContext(ctx, "record access.denied", "err", err)
	}
}

// typeOf returns the GraphQL object type of a node value.
func (r *Rules) typeOf(v any) *ast.Definition {
	t, ok := v.(Target)
	if !ok {
		return nil
	}
	typ, _, ok := ids.Parse(t.GlobalID())
	if !ok {
		return nil
	}
	return r.Schema.Types[string(typ)]
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
// or login, the user that result signs in.
func effectiveActor(ctx context.Context, fc *graphql.FieldContext) *Actor {
	for p := fc.Parent; p != nil; p = p.Parent {
		if c, ok := resultOf(p).(PayloadActorCarrier); ok {
			if a := c.PayloadActor(); a != nil {
				return a
			}
		}
	}
	return ActorFrom(ctx)
}

// resultOf returns the value a field context resolved to; for a list
// element's context, the element (gqlgen stores a pointer to it there).
func resultOf(fc *graphql.FieldContext) any {
	if fc == nil {
		return nil
	}
	if fc.Result != nil {
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

func fieldName(fc *graphql.FieldContext) string { return fc.Object + "." + fc.Field.Name }
