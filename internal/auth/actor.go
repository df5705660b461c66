package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/store"
)

// Actor is the authenticated caller, loaded from the database for this
// request: a user, or a partner integration's API token (then User is
// zero and APIToken is set).
type Actor struct {
	User         store.User
	Organization store.Organization
	APIToken     *store.APIToken
	// Budget is the caller's rate-limit buckets as read with it
	// (internal/ratelimit decides the request's budget from it).
	Budget store.Budget
	// Session is the service session token the user called with; nil for
	// an API token and for an external (SSO) access token.
	Session *SessionToken
	// Policy is the organization's security policy as read with the
	// caller; nil when it was not (an external SSO access token).
	Policy *store.SecurityPolicy
}

// SessionToken is what signOut needs of the calling session token.
type SessionToken struct {
	JTI       string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// UserID is the caller's user ID (raw UUID); "" for an API token.
func (a *Actor) UserID() string { return a.User.ID }

// OrganizationID is the caller's organization ID (raw UUID).
func (a *Actor) OrganizationID() string { return a.Organization.ID }

// IsAPIToken reports whether the caller is a partner integration's token.
func (a *Actor) IsAPIToken() bool { return a != nil && a.APIToken != nil }

// HasAnyScope reports whether the caller's API token holds one of scopes.
func (a *Actor) HasAnyScope(scopes []store.APIScope) bool {
	if !a.IsAPIToken() {
		return false
	}
	for _, s := range scopes {
		if a.APIToken.Scopes.Has(s) {
			return true
		}
	}
	return false
}

// IsPlatformAdmin reports whether the caller operates the deployment.
func (a *Actor) IsPlatformAdmin() bool { return a != nil && a.APIToken == nil && a.User.PlatformAdmin }

// IsOrgAdmin reports whether the caller is a user who is ADMIN of
// organization orgID.
func (a *Actor) IsOrgAdmin(orgID string) bool {
	return a.IsMember(orgID) && a.APIToken == nil && a.User.Role == store.RoleAdmin
}

// IsMember reports whether the caller belongs to (or, for a token, acts in)
// organization orgID. A PENDING user (email not yet verified) belongs to no
// organization yet: they reach only their own account.
func (a *Actor) IsMember(orgID string) bool {
	return a != nil && orgID != "" && a.Organization.ID == orgID && a.User.Status != store.UserPending
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

// ExternalResolver maps a verified external identity to its user and
// organization, provisioning them on first sight.
type ExternalResolver interface {
	ResolveExternal(ctx context.Context, id *ExternalIdentity) (*Actor, error)
}

// Authenticator turns the Authorization header into an Actor.
type Authenticator struct {
	Tokens *Tokens
	Store  *store.Store
	Log    *slog.Logger
	// OIDC and External, when set, accept access tokens of the configured
	// OpenID Provider directly as Bearer tokens.
	OIDC     *OIDC
	External ExternalResolver
	// Reject writes the response for a refused request (code and message).
	Reject func(w http.ResponseWriter, r *http.Request, status int, err *apperr.Error)
	// Admit, when set, decides whether the authenticated caller may go on
	// (the organization's security policy, internal/policy); an error ends
	// the request with its code, before anything is parsed.
	Admit func(ctx context.Context, a *Actor) error

	refusals refusalLog
}

// admit runs Admit on actor and passes the request on, or refuses it.
func (a *Authenticator) admit(w http.ResponseWriter, r *http.Request, next http.Handler, actor *Actor) {
	if a.Admit != nil {
		if err := a.Admit(r.Context(), actor); err != nil {
			a.rejectErr(w, r, err)
			return
		}
	}
	next.ServeHTTP(w, r.WithContext(WithActor(r.Context(), actor)))
}

// Middleware authenticates the request. Without an Authorization header the
// request goes on anonymous (PUBLIC fields only). With one, the token must
// verify (no SQL before that), and the user it names must exist, be active
// and still belong to the organization the token names, and the session
// token must be neither signed out (the denylist) nor issued before the
// user's sessions were ended, all read in the one statement that loads the
// user and organization; otherwise the
// request ends here with UNAUTHENTICATED (401). A PENDING user is
// authenticated but a member of nothing (see IsMember). A suspended organization
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
		raw = strings.TrimSpace(raw)
		// A service token verified before is known without reading its
		// iss; any other token is the OpenID Provider's when its iss says
		// so, else verified as the service's.
		claims, ok := a.Tokens.cached(r.Context(), raw)
		if !ok && a.OIDC != nil && a.OIDC.Handles(UnverifiedIssuer(raw)) {
			a.external(w, r, next, raw)
			return
		}
		if !ok {
			var err error
			if claims, err = a.Tokens.verifyNew(r.Context(), raw); err != nil {
				a.refuse(w, r, err)
				return
			}
		}
		if claims.APITokenID != "" {
			a.apiToken(w, r, next, claims)
			return
		}
		row, err := a.Store.Users.GetActor(r.Context(), claims.UserID, claims.JTI)
		if err != nil {
			if apperr.CodeOf(err) == apperr.NotFound {
				a.refuse(w, r, errors.New("token names an unknown user"))
				return
			}
			a.rejectErr(w, r, err)
			return
		}
		switch {
		case row.User.OrganizationID != claims.OrganizationID:
			a.refuse(w, r, errors.New("user no longer belongs to the token's organization"))
			return
		case row.User.Status == store.UserDeactivated:
			a.refuse(w, r, errors.New("user is deactivated"))
			return
		case row.SignedOut:
			a.refuse(w, r, errors.New("session token signed out"))
			return
		case row.User.SessionsValidAfter != nil && claims.IssuedAt.Before(*row.User.SessionsValidAfter):
			a.refuse(w, r, errors.New("session token issued before the user's sessions were ended"))
			return
		case row.Organization.Status != store.OrganizationActive && !row.User.PlatformAdmin:
			a.Reject(w, r, http.StatusForbidden, apperr.New(apperr.OrganizationSuspended, "organization is suspended"))
			return
		}
		actor := &Actor{User: row.User, Organization: row.Organization,
			Session: &SessionToken{JTI: claims.JTI, IssuedAt: claims.IssuedAt, ExpiresAt: claims.ExpiresAt}, Budget: row.Budget,
			Policy: &row.Policy}
		a.admit(w, r, next, actor)
	})
}

// external authenticates an access token of the OpenID Provider: verified
// first (no SQL), then its user and organization are found (by issuer and
// subject, never by email) or provisioned.
func (a *Authenticator) external(w http.ResponseWriter, r *http.Request, next http.Handler, raw string) {
	id, err := a.OIDC.Verify(r.Context(), raw)
	if err != nil {
		a.refuse(w, r, err)
		return
	}
	actor, err := a.External.ResolveExternal(r.Context(), id)
	if err != nil {
		a.rejectErr(w, r, err)
		return
	}
	a.admit(w, r, next, actor)
}

// apiToken authenticates a partner API token: it must exist, belong to the
// organization the token names, be neither revoked nor expired, its creator
// must not be deactivated (UNAUTHENTICATED while they are), and its
// organization must be active (else ORGANIZATION_SUSPENDED). Revocation counts on the next request.
func (a *Authenticator) apiToken(w http.ResponseWriter, r *http.Request, next http.Handler, claims *Claims) {
	row, err := a.Store.APITokens.GetActor(r.Context(), claims.APITokenID)
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			a.refuse(w, r, errors.New("API token unknown"))
			return
		}
		a.rejectErr(w, r, err)
		return
	}
	now := time.Now()
	switch {
	case row.Token.OrganizationID != claims.OrganizationID:
		a.refuse(w, r, errors.New("API token names another organization"))
		return
	case !row.Token.Usable(now):
		a.refuse(w, r, errors.New("API token revoked or expired"))
		return
	case row.CreatorDeactivated:
		// Offboarding: the tokens a deactivated user created stop with
		// them, and work again if they are reactivated (revokeApiToken
		// ends one for good).
		a.refuse(w, r, errors.New("API token's creator is deactivated"))
		return
	case row.Organization.Status != store.OrganizationActive:
		a.Reject(w, r, http.StatusForbidden, apperr.New(apperr.OrganizationSuspended, "organization is suspended"))
		return
	}
	// lastUsedAt moves at most once a minute: the row just read says whether
	// this request needs to write at all.
	if last := row.Token.LastUsedAt; last == nil || now.Sub(*last) >= time.Minute {
		if err := a.Store.APITokens.Touch(r.Context(), row.Token.OrganizationID, row.Token.ID, now.UTC().Truncate(time.Microsecond)); err != nil {
			a.Log.WarnContext(r.Context(), "record API token use", "err", err)
		}
	}
	tok := row.Token
	actor := &Actor{Organization: row.Organization, APIToken: &tok, Budget: row.Budget, Policy: &row.Policy}
	a.admit(w, r, next, actor)
}

// rejectErr answers an error met while authenticating: its client code;
// UNAVAILABLE (503) when the database could not answer in time
// (store.Unavailable); else a masked INTERNAL_SERVER_ERROR (500). Causes
// are logged.
func (a *Authenticator) rejectErr(w http.ResponseWriter, r *http.Request, err error) {
	code := apperr.CodeOf(err)
	if code == apperr.Internal && store.Unavailable(r.Context(), err) {
		code = apperr.Unavailable
	}
	switch code {
	case apperr.Unauthenticated:
		a.refuse(w, r, err)
	case apperr.Unavailable:
		a.Log.WarnContext(r.Context(), "authenticate: database unavailable", "err", err)
		a.Reject(w, r, http.StatusServiceUnavailable, apperr.ErrUnavailable)
	case apperr.Internal:
		a.Log.ErrorContext(r.Context(), "authenticate", "err", err)
		a.Reject(w, r, http.StatusInternalServerError, apperr.New(apperr.Internal, "internal error"))
	default:
		ae, _ := apperr.As(err)
		a.Reject(w, r, http.StatusForbidden, ae)
	}
}

// refuse answers UNAUTHENTICATED (401). Nothing is written to the
// database, and the reason is logged at most once a second (refusalLog):
// a bad token costs its parse, one signature check and the answer.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, reason error) {
	if skipped, ok := a.refusals.due(time.Now()); ok {
		a.Log.InfoContext(r.Context(), "request refused: unauthenticated", "reason", reason.Error(), "refused_unlogged", skipped)
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	a.Reject(w, r, http.StatusUnauthorized, apperr.ErrUnauthenticated)
}

// refusalLogEvery is the least time between two log lines of refused
// requests.
const refusalLogEvery = time.Second

// refusalLog thins out the log of refused requests to one line per
// refusalLogEvery, which says how many refusals went unlogged since the one
// before: every request is in the access log with its status already, and
// a flood of bad tokens must not double the log's volume. Lock-free; the
// zero value is ready.
type refusalLog struct {
	next    atomic.Int64 // UnixNano before which refusals are only counted
	skipped atomic.Int64
}

// due reports whether the refusal at now is to be logged, and how many went
// unlogged before it.
func (l *refusalLog) due(now time.Time) (int64, bool) {
	n := l.next.Load()
	if now.UnixNano() < n || !l.next.CompareAndSwap(n, now.Add(refusalLogEvery).UnixNano()) {
		l.skipped.Add(1)
		return 0, false
	}
	return l.skipped.Swap(0), true
}
