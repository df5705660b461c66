package organizations

// Organization administration of users (ORG_ADMIN): roles, deactivation
// and reactivation; and updateMe, a user's own name.
//
// Rules:
//   - Every change authorizes through internal/authz (another
//     organization's user is NOT_FOUND, audited as access.denied), then
//     locks the organization row first, then the user row (the lock order),
//     and writes its audit event in the same transaction.
//   - The last ACTIVE ADMIN of an organization can be neither demoted nor
//     deactivated (CONFLICT). Active admins are counted after the
//     organization row is locked, with a locking read (MariaDB reads the
//     latest rows, not the transaction's snapshot), so two admins demoting
//     or deactivating each other at once leave one admin: the second change
//     waits for the first and then counts one admin.
//   - Deactivation ends the user's session tokens (their cutoff moves to
//     now: reactivation does not bring them back, the user signs in again)
//   - and stops the API tokens they created from the next request, for as
//     long as they are deactivated (internal/auth reads the creator's
//     status with every token): reactivation restores those tokens;
//     revokeApiToken ends one for good.
//   - userCount counts accounts of every status (it is not a licence seat
//     count): deactivation and reactivation leave it unchanged.

import (
	"context"
	"strings"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/names"
	"github.com/neosc/neosc/internal/store"
)

// UpdateMeInput is the caller's new name.
type UpdateMeInput struct {
	Name *string
}

var errLastAdmin = apperr.New(apperr.Conflict, "this is the organization's last active ADMIN: make another user ADMIN first")

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// lockedMember authorizes the caller (ORG_ADMIN) on user userID, then locks
// the user's organization row and the user row, in that order, and answers
// both as locked (read afresh).
func (s *Service) lockedMember(ctx context.Context, tx *store.Store, userID string) (*store.User, *store.Organization, error) {
	u, err := authz.Fetch[*store.User](ctx, s.Authz, tx, userID, authz.OrgAdmin)
	if err != nil {
		return nil, nil, err
	}
	org, err := tx.Organizations.Lock(ctx, u.OrganizationID)
	if err != nil {
		return nil, nil, err
	}
	row, err := store.Lookup[store.User](ctx, tx, u.ID, true)
	if err != nil {
		return nil, nil, err
	}
	if row.OrganizationID != org.ID {
		return nil, nil, apperr.ErrNotFound
	}
	return row, org, nil
}

// keepsAnAdmin refuses a change that takes u, an ACTIVE ADMIN, out of the
// active admins of org when u is the last one.
func keepsAnAdmin(ctx context.Context, tx *store.Store, u *store.User) error {
	if u.Role != store.RoleAdmin || u.Status != store.UserActive {
		return nil
	}
	n, err := tx.Users.CountActiveAdmins(ctx, u.OrganizationID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return errLastAdmin
	}
	return nil
}

// SetUserRole makes user userID of the caller's organization a MEMBER or an
// ADMIN (ORG_ADMIN), recorded as user.role_changed. Setting the role a
// user already has changes nothing and records nothing.
func (s *Service) SetUserRole(ctx context.Context, userID string, role store.OrgRole) (*store.User, error) {
	if role != store.RoleAdmin && role != store.RoleMember {
		return nil, apperr.Invalid("role", "role must be MEMBER or ADMIN")
	}
	var out *store.User
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		u, _, err := s.lockedMember(ctx, tx, userID)
		if err != nil {
			return err
		}
		out = u
		if u.Role == role {
			return nil
		}
		if role == store.RoleMember {
			if err := keepsAnAdmin(ctx, tx, u); err != nil {
				return err
			}
		}
		now := s.now()
		if err := tx.Users.SetRole(ctx, u.OrganizationID, u.ID, role, now); err != nil {
			return err
		}
		before := *u
		u.Role, u.UpdatedAt = role, now
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.UserRoleChanged, OrganizationID: u.OrganizationID, Actor: audit.ActorOf(auth.ActorFrom(ctx)),
			TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID,
			Metadata: map[string]any{"changes": audit.Diff(&before, u), "email": u.Email,
				"from": string(before.Role), "to": string(role)},
		})
	})
	return out, err
}

// DeactivateUser deactivates user userID of the caller's organization
// (ORG_ADMIN): their session tokens end, the API tokens they created stop
// while they are deactivated, nothing is deleted. Recorded as
// user.deactivated. A deactivated user answers as they are.
func (s *Service) DeactivateUser(ctx context.Context, userID string) (*store.User, error) {
	var out *store.User
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		u, _, err := s.lockedMember(ctx, tx, userID)
		if err != nil {
			return err
		}
		out = u
		if u.Status == store.UserDeactivated {
			return nil
		}
		if err := keepsAnAdmin(ctx, tx, u); err != nil {
			return err
		}
		now := s.now()
		cutoff := auth.SessionsCutoff(now)
		if u.SessionsValidAfter != nil && u.SessionsValidAfter.After(cutoff) {
			cutoff = u.SessionsValidAfter.UTC()
		}
		if err := tx.Users.SetStatus(ctx, u.OrganizationID, u.ID, store.UserDeactivated, now); err != nil {
			return err
		}
		if err := tx.Users.RevokeSessions(ctx, u.OrganizationID, u.ID, cutoff, now); err != nil {
			return err
		}
		before := *u
		u.Status, u.SessionsValidAfter, u.UpdatedAt = store.UserDeactivated, &cutoff, now
		meta := map[string]any{"changes": audit.Diff(&before, u)}
		meta["email"], meta["sessions"], meta["validAfter"] = u.Email, "all", cutoff.Format(time.RFC3339)
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.UserDeactivated, OrganizationID: u.OrganizationID, Actor: audit.ActorOf(auth.ActorFrom(ctx)),
			TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID, Metadata: meta,
		})
	})
	return out, err
}

// ReactivateUser makes a deactivated user of the caller's organization
// ACTIVE again (ORG_ADMIN), recorded as user.reactivated: they sign in
// again (their old sessions stay ended) and the API tokens they created
// work again. An account whose address was released to someone else
// cannot be reactivated (CONFLICT); an active user answers as they are.
func (s *Service) ReactivateUser(ctx context.Context, userID string) (*store.User, error) {
	var out *store.User
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		u, org, err := s.lockedMember(ctx, tx, userID)
		if err != nil {
			return err
		}
		out = u
		if u.Status != store.UserDeactivated {
			return nil
		}
		// An unverified account whose address someone else proved meanwhile
		// (identity's ReleaseEmail) holds a stand-in address: it stays
		// deactivated.
		if !u.EmailVerified() && strings.HasSuffix(u.Email, "@neosc.invalid") {
			return apperr.New(apperr.Conflict, "this account's address was released to another account; invite the person again")
		}
		// No quota check: userCount (and maxUsers) counts accounts of every
		// status, so a deactivated user kept their seat.
		_ = org
		now := s.now()
		if err := tx.Users.SetStatus(ctx, u.OrganizationID, u.ID, store.UserActive, now); err != nil {
			return err
		}
		before := *u
		u.Status, u.UpdatedAt = store.UserActive, now
		meta := map[string]any{"changes": audit.Diff(&before, u)}
		meta["email"] = u.Email
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.UserReactivated, OrganizationID: u.OrganizationID, Actor: audit.ActorOf(auth.ActorFrom(ctx)),
			TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID, Metadata: meta,
		})
	})
	return out, err
}

// UpdateMe changes the caller's own display name (cleaned like at
// registration: names.Display, 1 to 200 characters), recorded as
// user.updated (metadata changes.name). API tokens are refused.
func (s *Service) UpdateMe(ctx context.Context, in UpdateMeInput) (*store.User, error) {
	actor, err := s.Authz.Own(ctx, authz.Authenticated)
	if err != nil {
		return nil, err
	}
	if actor.IsAPIToken() {
		return nil, apperr.ErrForbidden
	}
	var name string
	if in.Name != nil {
		if name, err = names.Display("name", *in.Name, 200); err != nil {
			return nil, err
		}
	}
	var out *store.User
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		u, err := authz.FetchForUpdate[*store.User](ctx, s.Authz, tx, actor.User.GlobalID(), authz.Authenticated)
		if err != nil {
			return err
		}
		out = u
		if in.Name == nil || name == u.Name {
			return nil
		}
		now := s.now()
		if err := tx.Users.SetName(ctx, u.OrganizationID, u.ID, name, now); err != nil {
			return err
		}
		before := *u
		u.Name, u.UpdatedAt = name, now
		meta := map[string]any{"changes": audit.Diff(&before, u)}
		meta["via"] = "updateMe"
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.UserUpdated, OrganizationID: u.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID, Metadata: meta,
		})
	})
	return out, err
}
