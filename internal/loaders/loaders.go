// Package loaders holds the per-request dataloaders. They are created by
// HTTP middleware for each request (never shared between callers), batch for
// at most a millisecond, and map rows by key so order cannot go wrong.
// Loaded rows are still authorized field by field by the @auth rules.
package loaders

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/store"
)

// Wait is how long a loader collects keys before it queries.
const Wait = time.Millisecond

// Loaders are one request's dataloaders.
type Loaders struct {
	Organizations *dataloadgen.Loader[string, *store.Organization]
	Workspaces    *dataloadgen.Loader[string, *store.Workspace]
	Users         *dataloadgen.Loader[string, *store.User]
	// VerifiedDomains lists, by organization ID, the domains it verified.
	VerifiedDomains *dataloadgen.Loader[string, []string]
	// LiveGrants tells, by workspace ID, whether the caller's organization
	// holds a live grant on it (nil for anonymous requests).
	LiveGrants *dataloadgen.Loader[string, bool]
}

// byID is a mapped loader over a fetch by IDs.
func byID[T interface {
	*store.Organization | *store.Workspace | *store.User
}](fetch func(context.Context, []string) ([]T, error), id func(T) string) *dataloadgen.Loader[string, T] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, keys []string) (map[string]T, error) {
		rows, err := fetch(ctx, keys)
		if err != nil {
			return nil, err
		}
		out := make(map[string]T, len(rows))
		for _, row := range rows {
			out[id(row)] = row
		}
		return out, nil
	}, dataloadgen.WithWait(Wait))
}

// New returns fresh loaders over s for a caller of organization orgID ("" if
// anonymous).
func New(s *store.Store, orgID string) *Loaders {
	l := &Loaders{
		Organizations: byID(s.Organizations.ListByIDs, func(o *store.Organization) string { return o.ID }),
		Workspaces:    byID(s.Workspaces.ListByIDs, func(w *store.Workspace) string { return w.ID }),
		Users:         byID(s.Users.ListByIDs, func(u *store.User) string { return u.ID }),
		VerifiedDomains: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []string) (map[string][]string, error) {
			return s.Domains.VerifiedByOrganizations(ctx, keys)
		}, dataloadgen.WithWait(Wait)),
	}
	if orgID != "" {
		l.LiveGrants = dataloadgen.NewLoader(func(ctx context.Context, keys []string) ([]bool, []error) {
			live, err := s.Grants.LiveWorkspaceIDs(ctx, orgID, keys, time.Now())
			out := make([]bool, len(keys))
			errs := make([]error, len(keys))
			for i, k := range keys {
				out[i], errs[i] = live[k], err
			}
			return out, errs
		}, dataloadgen.WithWait(Wait))
	}
	return l
}

// PrimeOrganizations loads, in one statement, the organizations a page of
// rows is about to ask for (orgID of each row), so that resolving them
// cannot split into several batches when the page resolves slower than the
// batch window.
func PrimeOrganizations[T any](ctx context.Context, s *store.Store, rows []T, orgID func(T) string) error {
	l := For(ctx)
	if l == nil || len(rows) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var keys []string
	for _, row := range rows {
		if id := orgID(row); !seen[id] {
			seen[id] = true
			keys = append(keys, id)
		}
	}
	orgs, err := s.Organizations.ListByIDs(ctx, keys)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		l.Organizations.Prime(o.ID, o)
	}
	return nil
}

// PrimeOrganization stores an already loaded organization in the request's
// loader: the rows of its lists then resolve their organization without a
// batch window.
func PrimeOrganization(ctx context.Context, o *store.Organization) {
	if l := For(ctx); l != nil {
		l.Organizations.Prime(o.ID, o)
	}
}

// PrimeWorkspace stores an already loaded workspace in the request's loader.
func PrimeWorkspace(ctx context.Context, w *store.Workspace) {
	if l := For(ctx); l != nil {
		l.Workspaces.Prime(w.ID, w)
	}
}

// Workspace loads one workspace by ID (authorized afterwards, field by
// field); a missing one is NOT_FOUND.
func Workspace(ctx context.Context, id string) (*store.Workspace, error) {
	return load(ctx, id, func(l *Loaders) *dataloadgen.Loader[string, *store.Workspace] { return l.Workspaces })
}

// LiveGrant reports whether the caller's organization holds a live grant on
// the workspace; expiry is checked against the clock of this request.
func LiveGrant(ctx context.Context, workspaceID string) (bool, error) {
	l := For(ctx)
	if l == nil || l.LiveGrants == nil {
		return false, nil
	}
	return l.LiveGrants.Load(ctx, workspaceID)
}

// inQuery reports whether ctx is in a query operation (not a mutation).
func inQuery(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	op := graphql.GetOperationContext(ctx).Operation
	return op != nil && op.Operation == ast.Query
}

type key struct{}

// Middleware puts fresh loaders into each request. They are not primed with
// the caller's organization: a mutation's answer must show counters as
// they are after the change.
func Middleware(s *store.Store, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org := "" // grants reach members only: none for anonymous or PENDING callers
		if a := auth.ActorFrom(r.Context()); a != nil && a.IsMember(a.OrganizationID()) {
			org = a.OrganizationID()
		}
		l := New(s, org)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, l)))
	})
}

// For returns the request's loaders.
func For(ctx context.Context) *Loaders {
	l, _ := ctx.Value(key{}).(*Loaders)
	return l
}

// User loads one user by ID (authorized afterwards, field by field); a
// missing one is NOT_FOUND.
func User(ctx context.Context, id string) (*store.User, error) {
	return load(ctx, id, func(l *Loaders) *dataloadgen.Loader[string, *store.User] { return l.Users })
}

// VerifiedDomains lists the domains organization orgID verified by DNS
// (none: an empty list).
func VerifiedDomains(ctx context.Context, orgID string) ([]string, error) {
	l := For(ctx)
	if l == nil {
		return nil, apperr.New(apperr.Internal, "loaders missing from request context")
	}
	d, err := l.VerifiedDomains.Load(ctx, orgID)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return []string{}, nil
	}
	return d, err
}

// Organization loads one organization by ID; a missing one is NOT_FOUND.
// In a query, the caller's own organization is the row the authenticator
// read for this request (as `me` is the caller's row): no batch window, no
// statement. A mutation loads it, so that its answer shows the counters as
// they are after the change.
func Organization(ctx context.Context, id string) (*store.Organization, error) {
	if a := auth.ActorFrom(ctx); a != nil && a.Organization.ID == id && inQuery(ctx) {
		o := a.Organization
		return &o, nil
	}
	return load(ctx, id, func(l *Loaders) *dataloadgen.Loader[string, *store.Organization] { return l.Organizations })
}

func load[T any](ctx context.Context, id string, pick func(*Loaders) *dataloadgen.Loader[string, T]) (T, error) {
	var zero T
	l := For(ctx)
	if l == nil {
		return zero, apperr.New(apperr.Internal, "loaders missing from request context")
	}
	v, err := pick(l).Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return zero, apperr.ErrNotFound
	}
	return v, err
}
