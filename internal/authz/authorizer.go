package authz

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// DenialRecorder writes an access.denied event for caller actor's attempt
// on obj, an object of another organization, into both organizations'
// trails, in a transaction of its own.
type DenialRecorder func(ctx context.Context, actor *auth.Actor, obj Object, reason string) error

// Authorizer is the one authorization path: the GraphQL field middleware
// (Field) and the fetch-then-authorize step of services and resolvers
// (Fetch, Node, Own) decide with the same rule table and answer another
// organization's object the same way: NOT_FOUND, recorded by Denied.
type Authorizer struct {
	Schema   *ast.Schema
	Registry Registry
	Denied   DenialRecorder
	Log      *slog.Logger

	once   sync.Once
	fields map[fieldKey]*fieldRule // every field of every object type
}

// New returns the authorizer of schema over the service's node types,
// recording denials into st's audit trails.
func New(schema *ast.Schema, st *store.Store, log *slog.Logger) *Authorizer {
	return &Authorizer{
		Schema:   schema,
		Registry: NewRegistry(),
		Log:      log,
		Denied: func(ctx context.Context, actor *auth.Actor, obj Object, reason string) error {
			return audit.RecordDenied(ctx, st, actor, obj.NodeType(), obj.RowID(), obj.OwnerOrganizationID(), reason)
		},
	}
}

// Fetch loads the object named by globalID, which must be of T's type,
// through s (the pool, or the caller's transaction), and authorizes the
// caller on it under rule. It answers the row; NOT_FOUND for a malformed or
// unknown ID, one of another type, or an object of another organization (the
// last one recorded as access.denied once s's transaction has ended, so the
// record survives the caller's rollback); FORBIDDEN for an object of the
// caller's own organization that their role does not reach.
func Fetch[T Object](ctx context.Context, z *Authorizer, s *store.Store, globalID string, rule Access) (T, error) {
	return fetchAs[T](ctx, z, s, globalID, rule, false, noMark)
}

// FetchForUpdate is Fetch that also locks the row until s's transaction
// ends, for a change computed from what was read.
func FetchForUpdate[T Object](ctx context.Context, z *Authorizer, s *store.Store, globalID string, rule Access) (T, error) {
	return fetchAs[T](ctx, z, s, globalID, rule, true, noMark)
}

// FetchAddressed is FetchForUpdate from the addressee's side: the object
// named by globalID is loaded, locked, and authorized under rule against its
// addressee's organization (a grantee's admin accepting a grant); anyone
// else gets NOT_FOUND, audited.
func FetchAddressed[T Addressed](ctx context.Context, z *Authorizer, s *store.Store, globalID string, rule Access) (T, error) {
	return fetchAs[T](ctx, z, s, globalID, rule, true, func(ctx context.Context, obj Object) { setMark(ctx, obj, addressedMark) })
}

func noMark(context.Context, Object) {}

func fetchAs[T Object](ctx context.Context, z *Authorizer, s *store.Store, globalID string, rule Access, lock bool, side func(context.Context, Object)) (T, error) {
	var zero T
	obj, err := z.fetch(ctx, s, zero.NodeType(), globalID, func(ids.Type) Access { return rule }, lock, side)
	if err != nil {
		return zero, err
	}
	return obj.(T), nil
}

// Node loads any node by global ID (of type want, when given) and
// authorizes it under the @auth rule of its GraphQL type: node(id:) and the
// root fields that name an object by ID.
func (z *Authorizer) Node(ctx context.Context, s *store.Store, globalID string, want ids.Type) (Object, error) {
	return z.fetch(ctx, s, want, globalID, z.typeRule, false, noMark)
}

// Own authorizes the caller under rule in their own organization, for a
// change that names no existing object (a create); it answers the caller.
func (z *Authorizer) Own(ctx context.Context, rule Access) (*auth.Actor, error) {
	decided(ctx)
	actor := auth.ActorFrom(ctx)
	var org string
	if actor != nil {
		org = actor.OrganizationID()
	}
	if err := z.verdict(ctx, nil, actor, Decide(rule, actor, Owner{OrganizationID: org}), nil); err != nil {
		return nil, err
	}
	return actor, nil
}

// Loaded authorizes the caller under rule on obj, a row already in hand
// (the parent object of a field whose resolver reads more of it): the same
// decision, answer and denial record as Fetch, without loading obj again.
// Inside the answer of register or login the caller is the user it signs
// in, as for the fields around it.
func (z *Authorizer) Loaded(ctx context.Context, obj Object, rule Access) error {
	decided(ctx)
	return z.authorize(ctx, nil, caller(ctx), rule, obj)
}

// caller is who a field is resolved for: the request's caller or, inside
// the answer of register or login, the user it signs in.
func caller(ctx context.Context) *auth.Actor {
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		return effectiveActor(ctx, fc)
	}
	return auth.ActorFrom(ctx)
}

// fetch loads the object, lets side mark it (the addressee's side of an
// Addressed object), then authorizes it.
func (z *Authorizer) fetch(ctx context.Context, s *store.Store, want ids.Type, globalID string, ruleOf func(ids.Type) Access, lock bool, side func(context.Context, Object)) (Object, error) {
	decided(ctx)
	actor := auth.ActorFrom(ctx)
	typ, id, ok := ids.Parse(globalID)
	kind, known := z.Registry[typ]
	if !ok || !known || (want != "" && typ != want) {
		return nil, apperr.ErrNotFound
	}
	obj, err := kind.Load(ctx, s, id, lock)
	if err != nil {
		return nil, err
	}
	side(ctx, obj)
	if err := z.authorize(ctx, s, actor, ruleOf(typ), obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// authorize decides rule for actor on obj and turns the verdict into the
// answer; s is the store (or transaction) obj was read through.
func (z *Authorizer) authorize(ctx context.Context, s *store.Store, actor *auth.Actor, rule Access, obj Object) error {
	owner, err := z.owner(ctx, actor, rule, obj)
	if err != nil {
		return err
	}
	return z.verdict(ctx, s, actor, Decide(rule, actor, owner), obj)
}

// owner is obj's Owner as the rule sees it. Whether the caller reaches it
// through a grant is asked only where it can change the verdict: a PARTNER
// rule, decided for a caller of another organization.
func (z *Authorizer) owner(ctx context.Context, actor *auth.Actor, rule Access, obj Object) (Owner, error) {
	o := Owner{OrganizationID: obj.OwnerOrganizationID()}
	if a, ok := obj.(Addressed); ok && marked(ctx, obj, addressedMark) {
		o.OrganizationID = a.AddresseeOrganizationID()
	}
	o.Self = actor != nil && actor.UserID() != "" && obj.NodeType() == ids.User && obj.RowID() == actor.UserID()
	if rule != Partner || actor == nil || actor.IsMember(o.OrganizationID) || actor.IsPlatformAdmin() {
		return o, nil
	}
	o.Reached = marked(ctx, obj, reachedMark)
	var err error
	if reach := z.Registry[obj.NodeType()].Reach; reach != nil && !o.Reached {
		o.Granted, err = reach(ctx, obj)
	}
	return o, err
}

// verdict is the one place a verdict becomes an answer, and the one place a
// cross-organization attempt is recorded: after s's transaction has ended
// (at once outside a transaction).
func (z *Authorizer) verdict(ctx context.Context, s *store.Store, actor *auth.Actor, v Verdict, obj Object) error {
	switch v {
	case Allow:
		return nil
	case Anon:
		return apperr.ErrUnauthenticated
	case Hide:
		if obj != nil {
			s.AfterTx(func() { z.recordDenied(ctx, actor, obj) })
			return apperr.ErrNotFound
		}
	}
	return apperr.ErrForbidden
}

func (z *Authorizer) recordDenied(ctx context.Context, actor *auth.Actor, obj Object) {
	if !firstDenial(ctx, obj) {
		return
	}
	if z.Denied == nil {
		z.Log.ErrorContext(ctx, "access.denied not recorded: no recorder", "type", obj.NodeType())
		return
	}
	reason := string(obj.NodeType()) + " belongs to another organization"
	if err := z.Denied(ctx, actor, obj, reason); err != nil {
		z.Log.ErrorContext(ctx, "record access.denied", "err", err)
	}
}

// ReachedFrom returns organization o as the value of a field of from, a row
// the caller has been authorized on. A caller who sees from under PARTNER
// without belonging to o's organization (a partner reading the owner of a
// shared workspace, an owner's admin reading a grant's partner) gets a copy
// of o marked as reached through that relationship: its PARTNER fields (id
// and name) answer, everything else stays NOT_FOUND.
func (z *Authorizer) ReachedFrom(ctx context.Context, from Object, o *store.Organization) (*store.Organization, error) {
	actor := caller(ctx)
	if actor == nil || actor.IsMember(o.ID) || actor.IsPlatformAdmin() {
		return o, nil
	}
	owner, err := z.owner(ctx, actor, Partner, from)
	if err != nil || Decide(Partner, actor, owner) != Allow {
		return o, err
	}
	if _, ok := ctx.Value(requestKey{}).(*request); !ok {
		return o, nil
	}
	c := *o
	setMark(ctx, &c, reachedMark)
	return &c, nil
}

// typeRule is the @auth rule of a node type (FORBIDDEN for none).
func (z *Authorizer) typeRule(t ids.Type) Access {
	def := z.Schema.Types[string(t)]
	if def == nil {
		return PlatformAdmin
	}
	if rule, ok := ruleIn(def.Directives); ok {
		return rule
	}
	return PlatformAdmin
}

// request is one request's authorization state: which values carry a mark
// (reached through a partner relationship by ReachedFrom, or seen from the
// addressee's side of an Addressed object) and the objects whose denial is
// already recorded (one access.denied per object per request, however many
// fields or aliases reach it).
type request struct {
	mu     sync.Mutex
	marks  map[mark]map[Object]bool
	denied map[string]bool
	plans  map[planKey]*rowPlan // RowAllowed's, per selection and caller
}

type mark uint8

const (
	reachedMark mark = iota
	addressedMark
)

type requestKey struct{}

// WithRequest returns ctx with fresh per-request authorization state; the
// server gives every request one.
func WithRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestKey{}, &request{}) // maps made on first use: most requests mark nothing
}

// setMark marks obj (this very value) for the rest of the request; outside
// a request nothing is remembered.
func setMark(ctx context.Context, obj Object, m mark) {
	r, ok := ctx.Value(requestKey{}).(*request)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.marks == nil {
		r.marks = map[mark]map[Object]bool{}
	}
	if r.marks[m] == nil {
		r.marks[m] = map[Object]bool{}
	}
	r.marks[m][obj] = true
}

// marked reports whether obj (this very value) carries mark m.
func marked(ctx context.Context, obj Object, m mark) bool {
	r, ok := ctx.Value(requestKey{}).(*request)
	if !ok {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.marks[m][obj]
}

// Addressee marks obj, a row loaded for its addressee (the incoming grants
// of the caller's organization), so that its rules are decided against the
// addressee's organization for the rest of the request.
func Addressee(ctx context.Context, obj Addressed) { setMark(ctx, obj, addressedMark) }

// firstDenial reports whether this request has not yet recorded a denial
// for obj, and remembers that it now has.
func firstDenial(ctx context.Context, obj Object) bool {
	r, ok := ctx.Value(requestKey{}).(*request)
	if !ok {
		return true
	}
	key := string(obj.NodeType()) + ":" + obj.RowID()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.denied == nil {
		r.denied = map[string]bool{}
	}
	first := !r.denied[key]
	r.denied[key] = true
	return first
}

type decisionKey struct{}

// expectDecision returns ctx in which Fetch, Node and Own report that they
// ran, and the flag they set.
func expectDecision(ctx context.Context) (context.Context, *atomic.Bool) {
	d := new(atomic.Bool)
	return context.WithValue(ctx, decisionKey{}, d), d
}

func decided(ctx context.Context) {
	if d, ok := ctx.Value(decisionKey{}).(*atomic.Bool); ok {
		d.Store(true)
	}
}
