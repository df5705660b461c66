package identity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// Lifetimes and bounds of mailed tokens.
const (
	VerificationLifetime = 24 * time.Hour
	// ResendInterval is how long a user waits between two verification
	// mails.
	ResendInterval = time.Minute
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// link is an absolute link to path on the public URL with the token as a
// query parameter.
func (s *Service) link(path, token string) string {
	return strings.TrimRight(s.PublicURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// sendVerification creates a verification for u's address and queues its
// mail, in tx.
func (s *Service) sendVerification(ctx context.Context, tx *store.Store, u *store.User) error {
	now := s.now()
	v := &store.EmailVerification{ID: ids.New(), OrganizationID: u.OrganizationID, UserID: u.ID, Email: u.Email,
		ExpiresAt: now.Add(VerificationLifetime), CreatedAt: now}
	token, hash := auth.NewOneTime(v.ID)
	v.TokenHash = hash
	if err := tx.Verifications.Create(ctx, v); err != nil {
		return err
	}
	if s.Mail == nil {
		return nil
	}
	return s.Mail(ctx, tx, u.OrganizationID, Mail{To: u.Email, Subject: "Verify your email address for NeoSC",
		Text: fmt.Sprintf("Hello %s,\n\nconfirm that %s is your address by opening this link within 24 hours:\n\n%s\n\n"+
			"If you did not sign up for NeoSC, ignore this mail.\n", u.Name, u.Email, s.link("/verify-email", token))})
}

var errBadVerification = apperr.Invalid("token", "this verification link is invalid or was already used; request a new one")

// VerifyEmail spends a verification token: the address is verified, a
// PENDING account becomes ACTIVE, and the user is signed in. The token is
// single-use and expires after 24 hours.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*Session, error) {
	id, secret, ok := auth.ParseOneTime(token)
	if !ok {
		return nil, errBadVerification
	}
	var session *Session
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		v, err := tx.Verifications.GetForUse(ctx, id)
		if errors.Is(err, apperr.ErrNotFound) || (err == nil && (!auth.OneTimeMatches(secret, v.TokenHash) || v.UsedAt != nil)) {
			return errBadVerification
		}
		if err != nil {
			return err
		}
		now := s.now()
		if !now.Before(v.ExpiresAt) {
			return apperr.Invalid("token", "this verification link has expired; request a new one")
		}
		if err := tx.Verifications.MarkUsed(ctx, v.OrganizationID, v.ID, now); err != nil {
			return err
		}
		row, err := tx.Users.GetActor(ctx, v.UserID, "")
		if err != nil {
			return err
		}
		if row.User.Email != v.Email || row.User.Status == store.UserDeactivated {
			return errBadVerification
		}
		if err := s.stillAdmitted(ctx, tx, &row.User); err != nil {
			return err
		}
		activated, err := tx.Users.MarkEmailVerified(ctx, v.OrganizationID, v.UserID, now)
		if err != nil {
			return err
		}
		u := row.User
		u.EmailVerifiedAt = &now
		if activated {
			u.Status = store.UserActive
		}
		if err := audit.Record(ctx, tx, audit.Event{
			Action: audit.UserEmailVerified, OrganizationID: u.OrganizationID, Actor: audit.UserActor(&u),
			TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID,
			Metadata: map[string]any{"email": u.Email, "activated": activated},
		}); err != nil {
			return err
		}
		session, err = s.sign(ctx, tx, &u, &row.Organization)
		return err
	})
	if err != nil {
		return nil, err
	}
	return session, nil
}

// ResendVerification queues a new verification mail for the caller; it
// answers false when the address is already verified. One mail a minute at
// most (RATE_LIMITED otherwise).
func (s *Service) ResendVerification(ctx context.Context) (bool, error) {
	actor := auth.ActorFrom(ctx)
	if actor == nil || actor.IsAPIToken() {
		return false, apperr.ErrForbidden
	}
	u := actor.User
	if u.EmailVerified() {
		return false, nil
	}
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		last, err := tx.Verifications.LatestFor(ctx, u.OrganizationID, u.ID)
		if err != nil {
			return err
		}
		if wait := last.Add(ResendInterval).Sub(s.now()); wait > 0 {
			return apperr.TooMany(wait, "a verification mail was sent less than a minute ago; try again in %d s", int(wait.Seconds())+1)
		}
		return s.sendVerification(ctx, tx, &u)
	})
	return err == nil, err
}

// stillAdmitted refuses to activate a PENDING user whose organization no
// longer admits their email domain automatically (the domain was removed or
// set back to INVITATION_ONLY since they registered).
func (s *Service) stillAdmitted(ctx context.Context, tx *store.Store, u *store.User) error {
	if u.Status != store.UserPending {
		return nil
	}
	_, domain, err := NormalizeEmail(u.Email)
	if err != nil {
		return err
	}
	if ok, err := s.autoJoins(ctx, tx, u.OrganizationID, domain); err != nil || !ok {
		return cmp.Or(err, error(errAdmitsByInvitation))
	}
	return nil
}
