package identity

import (
	"context"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/store"
)

// The organization's security policy (internal/policy) as sign-in applies
// it: requireSso refuses every password path into the organization
// (platform administrators excepted), sessionTtlMinutes caps new session
// tokens.

// reasonSSORequired is the audit reason of a password sign-in refused by
// requireSso.
const reasonSSORequired = "organization requires single sign-on"

// errSSORequired answers a password path refused by requireSso.
var errSSORequired = apperr.New(apperr.Forbidden,
	"this organization requires single sign-on: sign in with its identity provider")

// passwordsAllowed refuses a password sign-in, registration or invitation
// acceptance into organization orgID when its policy requires SSO; u is the
// user signing in (nil for a new account), exempt when a platform
// administrator.
func passwordsAllowed(ctx context.Context, tx *store.Store, u *store.User, orgID string) error {
	if u != nil && u.PlatformAdmin {
		return nil
	}
	p, err := tx.Organizations.GetPolicy(ctx, orgID, false)
	if err != nil {
		return err
	}
	if p.RequireSSO {
		return errSSORequired
	}
	return nil
}

// sessionCap is organization orgID's cap on a new session token's lifetime
// (0: none, the server's NEOSC_TOKEN_TTL).
func sessionCap(ctx context.Context, tx *store.Store, orgID string) (time.Duration, error) {
	m, err := tx.Organizations.SessionTTL(ctx, orgID)
	if err != nil || m == nil {
		return 0, err
	}
	return time.Duration(*m) * time.Minute, nil
}
