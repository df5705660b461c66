// Package organizations answers which organizations a caller sees.
//
// Rules:
//   - A platform administrator sees every organization; anyone else sees
//     exactly their own (an API token: the organization it acts in).
//   - The caller's own organization comes from the caller as loaded for this
//     request, never from input.
package organizations

import (
	"context"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/store"
)

// Service lists and administers organizations (admin.go, members.go).
type Service struct {
	Store *store.Store
	// Authz authorizes every administration mutation (the one path).
	Authz *authz.Authorizer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// DefaultQuota is the quota of organizations createOrganization makes
	// without one (NEOSC_DEFAULT_QUOTA).
	DefaultQuota store.Quota
}

// Visible lists one page of the organizations the caller may see, oldest
// first.
func (s *Service) Visible(ctx context.Context, page store.Page) (store.Listing[*store.Organization], error) {
	actor := auth.ActorFrom(ctx)
	if actor == nil {
		return store.Listing[*store.Organization]{}, apperr.ErrUnauthenticated
	}
	if actor.IsPlatformAdmin() {
		rows, hasNext, err := s.Store.Organizations.ListAll(ctx, page)
		return store.Listing[*store.Organization]{Rows: rows, HasNext: hasNext, Count: s.Store.Organizations.CountAll}, err
	}
	own := actor.Organization
	out := store.Listing[*store.Organization]{Count: func(context.Context) (int, error) { return 1, nil }}
	if cur, ok := store.CursorID(page.After); !ok || cur < own.ID {
		out.Rows = []*store.Organization{&own}
	}
	return out, nil
}
