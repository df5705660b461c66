package identity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// Invitation bounds.
const (
	// InvitationLifetime is how long an invitation's mailed token works.
	InvitationLifetime = 24 * time.Hour
	// DefaultMaxPendingInvitations bounds an organization's unexpired
	// pending invitations (Service.MaxPendingInvitations overrides it).
	DefaultMaxPendingInvitations = 1000
)

// InviteInput is an admin's invitation of one address.
type InviteInput struct {
	Email string
	Role  store.OrgRole
	// OrganizationID (a global ID, optional) names the organization to
	// invite into; empty means the caller's own. Another organization is
	// reached only by a platform administrator (its first admin).
	OrganizationID *string
}

// AcceptInvitationInput is what the invitee sends with the mailed token.
type AcceptInvitationInput struct {
	Token    string
	Name     string
	Password string
}

// Invite invites an address into the caller's organization (or the one
// in.OrganizationID names) with a role and mails it a single-use link (24
// hours). An address with a pending invitation, or already a member, is a
// CONFLICT; past the limit of pending invitations, QUOTA_EXCEEDED.
func (s *Service) Invite(ctx context.Context, in InviteInput) (*store.Invitation, error) {
	actor, err := s.Authz.Own(ctx, authz.OrgAdmin)
	if err != nil {
		return nil, err
	}
	email, _, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = store.RoleMember
	}
	now := s.now()
	inv := &store.Invitation{ID: ids.New(), Email: email, Role: in.Role,
		Status: store.InvitationPending, ExpiresAt: now.Add(InvitationLifetime), CreatedAt: now, UpdatedAt: now}
	if uid := actor.UserID(); uid != "" {
		inv.InvitedByID = &uid
	}
	token, hash := auth.NewOneTime(inv.ID)
	inv.TokenHash = hash
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		// The organization row first: the lock that serializes the
		// pending count with concurrent invitations.
		org, err := s.lockInvitingOrg(ctx, tx, actor, in.OrganizationID)
		if err != nil {
			return err
		}
		inv.OrganizationID = org.ID
		if err := invitable(org); err != nil {
			return err
		}
		if err := s.checkInvitable(ctx, tx, inv, now); err != nil {
			return err
		}
		if err := tx.Invitations.Create(ctx, inv); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			Action: audit.InvitationCreated, OrganizationID: inv.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.Invitation, TargetID: inv.ID, TargetOrgID: inv.OrganizationID,
			Metadata: map[string]any{"email": email, "role": string(inv.Role), "expiresAt": inv.ExpiresAt.Format(time.RFC3339)},
		}); err != nil {
			return err
		}
		if s.Mail == nil {
			return nil
		}
		return s.Mail(ctx, tx, inv.OrganizationID, Mail{To: email, Subject: "You are invited to " + org.Name + " on NeoSC",
			Text: fmt.Sprintf("%s invites you to join %s on NeoSC as %s.\n\nAccept within 24 hours by opening this link:\n\n%s\n\n"+
				"If you did not expect this invitation, ignore this mail.\n",
				inviterName(actor), org.Name, inv.Role, s.link("/accept-invitation", token))})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// lockInvitingOrg locks the organization an invitation goes into: the
// caller's own, or the one named by globalID, authorized as ORG_ADMIN of it
// (which a platform administrator passes for any organization; another
// organization's admin gets NOT_FOUND, audited as access.denied, exactly as
// for an ID that names nothing).
func (s *Service) lockInvitingOrg(ctx context.Context, tx *store.Store, actor *auth.Actor, globalID *string) (*store.Organization, error) {
	if globalID == nil {
		return tx.Organizations.Lock(ctx, actor.OrganizationID())
	}
	return authz.FetchForUpdate[*store.Organization](ctx, s.Authz, tx, *globalID, authz.OrgAdmin)
}

func inviterName(a *auth.Actor) string {
	if a.IsAPIToken() {
		return "An administrator"
	}
	return a.User.Name
}

// checkInvitable refuses an invitation that would duplicate a pending one,
// invite a member, or pass the organization's limit.
func (s *Service) checkInvitable(ctx context.Context, tx *store.Store, inv *store.Invitation, now time.Time) error {
	if pending, err := tx.Invitations.PendingFor(ctx, inv.OrganizationID, inv.Email, now); err != nil {
		return err
	} else if pending {
		return &apperr.Error{Code: apperr.Conflict, Field: "email", Message: "this address already has a pending invitation; revoke it to send a new one"}
	}
	if member, err := tx.Users.MemberByEmail(ctx, inv.OrganizationID, inv.Email); err != nil {
		return err
	} else if member {
		return &apperr.Error{Code: apperr.Conflict, Field: "email", Message: "this address already belongs to a member of the organization"}
	}
	limit := s.MaxPendingInvitations
	if limit <= 0 {
		limit = DefaultMaxPendingInvitations
	}
	n, err := tx.Invitations.CountPending(ctx, inv.OrganizationID, now)
	if err != nil {
		return err
	}
	if n >= limit {
		return apperr.New(apperr.QuotaExceeded, "the organization has %d pending invitations, the most it may have; revoke some first", n)
	}
	return nil
}

// RevokeInvitation ends a pending invitation of the caller's organization;
// its token stops working at once.
func (s *Service) RevokeInvitation(ctx context.Context, globalID string) (*store.Invitation, error) {
	actor := auth.ActorFrom(ctx)
	var out *store.Invitation
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		inv, err := authz.FetchForUpdate[*store.Invitation](ctx, s.Authz, tx, globalID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		now := s.now()
		if st := inv.StatusAt(now); st != store.InvitationPending {
			return apperr.New(apperr.Conflict, "this invitation is %s, not pending", st)
		}
		if err := tx.Invitations.SetStatus(ctx, inv.OrganizationID, inv.ID, store.InvitationRevoked, nil, now); err != nil {
			return err
		}
		inv.Status, inv.UpdatedAt, out = store.InvitationRevoked, now, inv
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.InvitationRevoked, OrganizationID: inv.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.Invitation, TargetID: inv.ID, TargetOrgID: inv.OrganizationID,
			Metadata: map[string]any{"email": inv.Email},
		})
	})
	return out, err
}

var errBadInvitation = apperr.Invalid("token", "this invitation link is invalid")

// AcceptInvitation creates the invitee's account in the inviting
// organization, with the invited role and a verified address (the mail
// proved it), and signs it in. The token works once: of two concurrent
// accepts one wins and the other gets CONFLICT.
func (s *Service) AcceptInvitation(ctx context.Context, in AcceptInvitationInput) (*Session, error) {
	id, secret, ok := auth.ParseOneTime(in.Token)
	if !ok {
		return nil, errBadInvitation
	}
	name, hash, err := s.newAccount(ctx, in.Name, in.Password)
	if err != nil {
		return nil, err
	}
	var session *Session
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		inv, org, err := s.openInvitation(ctx, tx, id, secret)
		if err != nil {
			return err
		}
		now := s.now()
		u := &store.User{ID: ids.New(), OrganizationID: org.ID, Email: inv.Email, Name: name, PasswordHash: &hash,
			Role: inv.Role, Status: store.UserActive, EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
		if err := s.addUser(ctx, tx, org, u, audit.UserActor(u), map[string]any{"via": "invitation", "invitationId": inv.GlobalID()}); err != nil {
			return err
		}
		if err := tx.Invitations.SetStatus(ctx, org.ID, inv.ID, store.InvitationAccepted, &u.ID, now); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			Action: audit.InvitationAccepted, OrganizationID: org.ID, Actor: audit.UserActor(u),
			TargetType: ids.Invitation, TargetID: inv.ID, TargetOrgID: org.ID,
			Metadata: map[string]any{"email": inv.Email, "role": string(inv.Role), "userId": u.GlobalID()},
		}); err != nil {
			return err
		}
		session, err = s.sign(ctx, tx, u, org)
		return err
	})
	if errors.Is(err, store.ErrDuplicate) {
		return nil, apperr.New(apperr.Conflict, "an account with this email already exists")
	}
	return session, err
}

// openInvitation loads (and locks) the invitation a token names and checks
// that it can be accepted now, with its organization.
func (s *Service) openInvitation(ctx context.Context, tx *store.Store, id, secret string) (*store.Invitation, *store.Organization, error) {
	inv, err := tx.Invitations.GetForAcceptance(ctx, id)
	if errors.Is(err, apperr.ErrNotFound) || (err == nil && !auth.OneTimeMatches(secret, inv.TokenHash)) {
		return nil, nil, errBadInvitation
	}
	if err != nil {
		return nil, nil, err
	}
	switch inv.StatusAt(s.now()) {
	case store.InvitationAccepted:
		return nil, nil, apperr.New(apperr.Conflict, "this invitation was already accepted")
	case store.InvitationRevoked:
		return nil, nil, apperr.Invalid("token", "this invitation was revoked")
	case store.InvitationExpired:
		return nil, nil, apperr.Invalid("token", "this invitation has expired; ask for a new one")
	}
	if taken, err := tx.Users.EmailTaken(ctx, inv.Email); err != nil {
		return nil, nil, err
	} else if taken {
		if err := s.releaseUnverified(ctx, tx, inv); err != nil {
			return nil, nil, err
		}
	}
	org, err := tx.Organizations.GetByID(ctx, inv.OrganizationID)
	if err != nil {
		return nil, nil, err
	}
	if org.Status != store.OrganizationActive {
		return nil, nil, apperr.New(apperr.OrganizationSuspended, "organization is suspended")
	}
	if err := passwordsAllowed(ctx, tx, nil, org.ID); err != nil {
		return nil, nil, err
	}
	if err := invitable(org); err != nil {
		return nil, nil, err
	}
	return inv, org, nil
}

// invitable refuses invitations into an organization that admits no one
// by invitation with a password: a reserved one (platform administrators
// come from `neosc create-admin`) and one whose users come from its
// identity provider.
func invitable(org *store.Organization) error {
	switch {
	case org.Reserved():
		return apperr.New(apperr.Forbidden, "the %s organization admits no one by invitation", strings.ToLower(string(org.Kind)))
	case org.RequiresSSO():
		return apperr.New(apperr.Forbidden, "this organization's users sign in with its identity provider; invite them there")
	}
	return nil
}

// releaseUnverified frees inv's address when the account holding it never
// proved it (registered with an address it does not own, or never
// verified): the invitee just proved it by opening the mail, so the address
// is theirs. The old account is deactivated under a stand-in address, and
// that is recorded in its organization's trail. A verified or SSO account
// keeps its address: CONFLICT.
func (s *Service) releaseUnverified(ctx context.Context, tx *store.Store, inv *store.Invitation) error {
	taken := apperr.New(apperr.Conflict, "an account with this email already exists")
	u, err := tx.Users.GetByEmail(ctx, inv.Email)
	if err != nil || u == nil || u.EmailVerified() {
		return cmp.Or(err, error(taken))
	}
	now := s.now()
	standIn := "released-" + u.ID + "@neosc.invalid"
	if err := tx.Users.ReleaseEmail(ctx, u.OrganizationID, u.ID, standIn, now); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{
		Action: audit.UserDeactivated, OrganizationID: u.OrganizationID, Actor: audit.Actor{Email: inv.Email},
		TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID,
		Metadata: map[string]any{"reason": "another account proved this unverified address", "email": inv.Email, "emailNow": standIn},
	})
}
