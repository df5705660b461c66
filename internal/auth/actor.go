package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/store"
)

// Actor is the authenticated caller, loaded from the database for this
// request.
type Actor struct {
	User         store.User
	Organization store.Organization
}

// UserID is the caller's user ID (raw UUID).
func (a *Actor) UserID() string { return a.User.ID }

// OrganizationID is the caller's organization ID (raw UUID).
func (a *Actor) OrganizationID() string { return a.User.OrganizationID }

// IsPlatformAdmin reports whether the caller operates the deployment.
func (a *Actor) IsPlatformAdmin() bool { return a != nil && a.User.PlatformAdmin }

// IsOrgAdmin reports whether the caller is ADMIN of organization orgID.
func (a *Actor) IsOrgAdmin(orgID string) bool {
	return a != nil && orgID != "" && a.User.OrganizationID == orgID && a.User.Role == store.RoleAdmin
}

// IsMember reports whether the caller belongs to organization orgID.
func (a *Actor) IsMember(orgID string) bool {
	return a != nil && orgID != "" && a.User.OrganizationID == orgID
}

type actorKey struct{}

// WithActor returns ctx carrying the caller.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the caller, or nil for an anonymous request.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// Authenticator turns the Authorization header into an Actor.
type Authenticator struct {
	Tokens *Tokens
	Store  *store.Store
	Log    *slog.Logger
	// Reject writes the response for a refused request (code and message).
	Reject func(w http.ResponseWriter, r *http.Request, status int, err *apperr.Error)
}

// Middleware authenticates the request. Without an Authorization header the
// request goes on anonymous (PUBLIC fields only). With one, the token must
// verify (no SQL before that), and the user it names must exist, be active
// and still belong to the organization the token names; otherwise the
// request ends here with UNAUTHENTICATED (401). A suspended organization
// answers ORGANIZATION_SUSPENDED (403), except to platform administrators.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, raw, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			a.refuse(w, r, errors.New("authorization header is not a Bearer token"))
			return
		}
		claims, err := a.Tokens.Verify(strings.TrimSpace(raw))
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		row, err := a.Store.Users.GetActor(r.Context(), claims.UserID)
		if err != nil {
			if apperr.CodeOf(err) == apperr.NotFound {
				a.refuse(w, r, errors.New("token names an unknown user"))
				return
			}
			a.Log.ErrorContext(r.Context(), "load actor", "err", err)
			a.Reject(w, r, http.StatusServiceUnavailable, apperr.New(apperr.Internal, "internal error"))
			return
		}
		switch {
		case row.User.OrganizationID != claims.OrganizationID:
			a.refuse(w, r, errors.New("user no longer belongs to the token's organization"))
			return
		case row.User.Status != store.UserActive:
			a.refuse(w, r, errors.New("user is deactivated"))
			return
		case row.Organization.Status != store.OrganizationActive && !row.User.PlatformAdmin:
			a.Reject(w, r, http.StatusForbidden, apperr.New(apperr.OrganizationSuspended, "organization is suspended"))
			return
		}
		actor := &Actor{User: row.User, Organization: row.Organization}
		next.ServeHTTP(w, r.WithContext(WithActor(r.Context(), actor)))
	})
}

func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, reason error) {
	a.Log.InfoContext(r.Context(), "request refused: unauthenticated", "reason", reason.Error())
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	a.Reject(w, r, http.StatusUnauthorized, apperr.ErrUnauthenticated)
}
