package authz

import (
	"context"

	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/loaders"
	"github.com/neosc/neosc/internal/store"
)

// Object is a row owned by one organization and named by a global ID: what
// the rules are decided on and what an access.denied event names.
type Object interface {
	// NodeType is the row's global-ID type (and GraphQL type); it must not
	// read the receiver, so that it answers on a nil pointer.
	NodeType() ids.Type
	// RowID is the row's primary key.
	RowID() string
	// OwnerOrganizationID is the organization owning the row.
	OwnerOrganizationID() string
}

// Addressed is an object that concerns a second organization besides its
// owner: a workspace grant concerns its grantee. Reached from the
// addressee's side (FetchAddressed, Addressee), its rules are decided
// against the addressee's organization instead of the owner's.
type Addressed interface {
	Object
	AddresseeOrganizationID() string
}

// Kind is one node type: how a row of it is loaded by ID, and how a caller
// of another organization may reach it.
type Kind struct {
	// Load fetches a row by primary key, unscoped (Fetch authorizes it
	// next); with lock the row stays locked until the transaction ends.
	// A missing row answers apperr.ErrNotFound.
	Load func(ctx context.Context, s *store.Store, id string, lock bool) (Object, error)
	// Reach, when set, reports whether the caller's organization holds a
	// live partner grant on obj, a row of another organization.
	Reach func(ctx context.Context, obj Object) (bool, error)
}

// Registry maps every global-ID type to its Kind. It is the one list of
// node types: node(id:), Fetch and the audit of denials all read it, and a
// type that is not in it does not exist for the API.
type Registry map[ids.Type]Kind

// NewRegistry returns the service's node types.
func NewRegistry() Registry {
	return Registry{
		ids.Organization:   {Load: lookup[store.Organization]},
		ids.User:           {Load: lookup[store.User]},
		ids.Workspace:      {Load: lookup[store.Workspace], Reach: liveGrant},
		ids.AuditEvent:     {Load: lookup[store.AuditEvent]},
		ids.APIToken:       {Load: lookup[store.APIToken]},
		ids.WorkspaceGrant: {Load: lookup[store.WorkspaceGrant]},
		ids.Invitation:     {Load: lookup[store.Invitation]},
	}
}

// lookup is a Kind.Load over the store's primary-key lookup of model T.
func lookup[T any, PT interface {
	*T
	Object
}](ctx context.Context, s *store.Store, id string, lock bool) (Object, error) {
	row, err := store.Lookup[T](ctx, s, id, lock)
	if err != nil {
		return nil, err
	}
	return PT(row), nil
}

// liveGrant: a workspace is reached by the organizations holding a live
// grant on it (batched per request, expiry checked at request time).
func liveGrant(ctx context.Context, obj Object) (bool, error) {
	return loaders.LiveGrant(ctx, obj.RowID())
}
