package identity

// Ending sessions. A service session token is a JWT that nothing stores, so
// it is ended in one of two ways, both read in the statement that loads the
// caller on every request (store.Users.GetActor):
//   - signOut puts the one calling token's jti on a denylist
//     (revoked_sessions) until the token's own expiry;
//   - signOutEverywhere, revokeSessions and changePassword move the user's
//     sessions_valid_after forward: every token issued (iat) before it is
//     refused, and sign-ins after it get tokens issued no earlier (sign).
// API tokens are not sessions: revokeApiToken ends them.

import (
	"context"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// ChangePasswordInput is the caller's current password and the new one.
type ChangePasswordInput struct {
	CurrentPassword string
	NewPassword     string
}

var (
	errNotASession = apperr.New(apperr.BadUserInput,
		"this token is not a session token of this service: sign out at the identity provider that issued it")
	errWrongCurrentPassword = &apperr.Error{Code: apperr.Unauthenticated, Field: "currentPassword",
		Message: "the current password is wrong"}
	errNoPassword = &apperr.Error{Code: apperr.BadUserInput, Field: "currentPassword",
		Message: "this account has no password: it signs in through its identity provider"}
	errPasswordRaced = apperr.New(apperr.Conflict, "the password was changed meanwhile; sign in again")
)

// sessionCaller is the user calling a session mutation (AUTHENTICATED; API
// tokens are refused).
func (s *Service) sessionCaller(ctx context.Context) (*auth.Actor, error) {
	actor, err := s.Authz.Own(ctx, authz.Authenticated)
	if err != nil {
		return nil, err
	}
	if actor.IsAPIToken() {
		return nil, apperr.ErrForbidden
	}
	return actor, nil
}

// SignOut ends the calling session token: from the next request on it is
// refused, until it expires. The user's other tokens go on working.
func (s *Service) SignOut(ctx context.Context) (bool, error) {
	actor, err := s.sessionCaller(ctx)
	if err != nil {
		return false, err
	}
	tok := actor.Session
	if tok == nil || tok.JTI == "" || len(tok.JTI) > 64 {
		return false, errNotASession
	}
	now := s.now()
	u := &actor.User
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.Sessions.Revoke(ctx, &store.RevokedSession{JTI: tok.JTI, OrganizationID: u.OrganizationID, UserID: u.ID,
			ExpiresAt: tok.ExpiresAt.UTC(), CreatedAt: now}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.UserSessionsRevoked, OrganizationID: u.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID,
			Metadata: map[string]any{"sessions": "current", "via": "signOut", "expiresAt": tok.ExpiresAt.UTC().Format(time.RFC3339)},
		})
	})
	if err != nil {
		return false, err
	}
	// The denylist holds only tokens that have not expired: each signOut
	// deletes the rows it no longer needs (one indexed range delete).
	if n, err := s.Store.Sessions.DeleteExpired(ctx, now); err != nil {
		s.Log.WarnContext(ctx, "delete expired signed-out sessions", "err", err)
	} else if n > 0 {
		s.Log.DebugContext(ctx, "expired signed-out sessions deleted", "rows", n)
	}
	return true, nil
}

// SignOutEverywhere ends every session token of the caller issued until
// now, the calling one included.
func (s *Service) SignOutEverywhere(ctx context.Context) (bool, error) {
	actor, err := s.sessionCaller(ctx)
	if err != nil {
		return false, err
	}
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		u := actor.User
		_, err := s.endSessions(ctx, tx, actor, &u, "signOutEverywhere")
		return err
	})
	return err == nil, err
}

// RevokeSessions ends every session token of the user named by userID, a
// user of the caller's organization (ORG_ADMIN); another organization's
// user is NOT_FOUND, audited as access.denied.
func (s *Service) RevokeSessions(ctx context.Context, userID string) (*store.User, error) {
	var out *store.User
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		u, err := authz.FetchForUpdate[*store.User](ctx, s.Authz, tx, userID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		out, err = s.endSessions(ctx, tx, auth.ActorFrom(ctx), u, "revokeSessions")
		return err
	})
	return out, err
}

// endSessions moves u's sessions cutoff to now (never back) and records
// user.sessions_revoked; it answers u as changed.
func (s *Service) endSessions(ctx context.Context, tx *store.Store, actor *auth.Actor, u *store.User, via string) (*store.User, error) {
	now := s.now()
	cutoff := laterCutoff(u, now)
	if err := tx.Users.RevokeSessions(ctx, u.OrganizationID, u.ID, cutoff, now); err != nil {
		return nil, err
	}
	u.SessionsValidAfter, u.UpdatedAt = &cutoff, now
	return u, audit.Record(ctx, tx, audit.Event{
		Action: audit.UserSessionsRevoked, OrganizationID: u.OrganizationID, Actor: audit.ActorOf(actor),
		TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID,
		Metadata: map[string]any{"sessions": "all", "via": via, "validAfter": cutoff.Format(time.RFC3339)},
	})
}

// laterCutoff is the cutoff that ends u's sessions issued up to now, or
// the one u already has if that is later.
func laterCutoff(u *store.User, now time.Time) time.Time {
	cutoff := auth.SessionsCutoff(now)
	if u.SessionsValidAfter != nil && u.SessionsValidAfter.After(cutoff) {
		return u.SessionsValidAfter.UTC()
	}
	return cutoff
}

// ChangePassword replaces the caller's password, given the current one. It
// ends every session token of the user issued until now (the calling one
// too) and answers a fresh session. A wrong current password changes
// nothing, is UNAUTHENTICATED on the currentPassword field, and is recorded
// as a failed user.password_changed.
func (s *Service) ChangePassword(ctx context.Context, in ChangePasswordInput) (*Session, error) {
	actor, err := s.sessionCaller(ctx)
	if err != nil {
		return nil, err
	}
	u := actor.User
	if u.PasswordHash == nil || *u.PasswordHash == "" {
		return nil, errNoPassword
	}
	ok, err := s.Passwords.Check(ctx, in.CurrentPassword, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.recordPasswordChangeFailed(ctx, actor)
		return nil, errWrongCurrentPassword
	}
	if err := auth.CheckPasswordPolicy(in.NewPassword); err != nil {
		if ae, ok := apperr.As(err); ok {
			return nil, &apperr.Error{Code: ae.Code, Field: "newPassword", Message: "new " + ae.Message}
		}
		return nil, err
	}
	if in.NewPassword == in.CurrentPassword {
		return nil, apperr.Invalid("newPassword", "the new password must differ from the current one")
	}
	hash, err := s.Passwords.Hash(ctx, in.NewPassword)
	if err != nil {
		return nil, err
	}
	var session *Session
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		row, err := authz.FetchForUpdate[*store.User](ctx, s.Authz, tx, u.GlobalID(), authz.Authenticated)
		if err != nil {
			return err
		}
		// The password checked above must still be the stored one: of two
		// changes at once, the second finds the first's hash and stops.
		if row.PasswordHash == nil || *row.PasswordHash != *u.PasswordHash {
			return errPasswordRaced
		}
		now := s.now()
		cutoff := laterCutoff(row, now)
		if err := tx.Users.SetPassword(ctx, row.OrganizationID, row.ID, hash, cutoff, now); err != nil {
			return err
		}
		before := *row
		row.PasswordHash, row.SessionsValidAfter, row.UpdatedAt = &hash, &cutoff, now
		meta := audit.Diff(&before, row)
		meta["sessions"], meta["via"], meta["validAfter"] = "all", "changePassword", cutoff.Format(time.RFC3339)
		if err := audit.Record(ctx, tx, audit.Event{
			Action: audit.UserPasswordChanged, OrganizationID: row.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.User, TargetID: row.ID, TargetOrgID: row.OrganizationID, Metadata: meta,
		}); err != nil {
			return err
		}
		session, err = s.sign(ctx, tx, row, &actor.Organization)
		return err
	})
	if err != nil {
		return nil, err
	}
	return session, nil
}

// recordPasswordChangeFailed records a refused changePassword, in a
// transaction of its own (the refusal changes nothing).
func (s *Service) recordPasswordChangeFailed(ctx context.Context, actor *auth.Actor) {
	u := &actor.User
	e := audit.Event{
		Action: audit.UserPasswordChanged, Outcome: store.OutcomeFailure, OrganizationID: u.OrganizationID,
		Actor: audit.ActorOf(actor), TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID,
		Metadata: map[string]any{"reason": "wrong current password", "via": "changePassword"},
	}
	if err := s.Store.Tx(ctx, func(tx *store.Store) error { return audit.Record(ctx, tx, e) }); err != nil {
		s.Log.ErrorContext(ctx, "record refused password change", "err", err)
	}
}
