package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Invitations reads and writes invitations into organizations.
type Invitations struct{ db *gorm.DB }

// Create inserts an invitation.
func (r Invitations) Create(ctx context.Context, i *Invitation) error {
	if i.OrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Create(i).Error
}

// GetForAcceptance fetches and locks an invitation by primary key, unscoped:
// the invitee proves the right to it with the token's secret, which the
// caller compares next (acceptInvitation is PUBLIC: there is no caller
// organization to scope by). Missing rows answer apperr.ErrNotFound.
func (r Invitations) GetForAcceptance(ctx context.Context, id string) (*Invitation, error) {
	return lookup[Invitation](ctx, r.db, id, true)
}

// ListByOrganization lists an organization's invitations, newest first;
// with status, only those in that state at now (EXPIRED: pending past
// their expiry; PENDING: not yet expired).
func (r Invitations) ListByOrganization(ctx context.Context, orgID string, status *InvitationStatus, now time.Time, p Page) ([]*Invitation, bool, error) {
	if orgID == "" {
		return nil, false, ErrNoScope
	}
	index := "invitations_organization"
	if status != nil {
		index = "invitations_organization_status"
	}
	return keyset[*Invitation](seek(r.filtered(ctx, orgID, status, now), "invitations", index), p, true)
}

// filtered is the query of an organization's invitations in status at now.
func (r Invitations) filtered(ctx context.Context, orgID string, status *InvitationStatus, now time.Time) *gorm.DB {
	q := r.db.WithContext(ctx).Model(&Invitation{}).Where("organization_id = ?", orgID)
	if status == nil {
		return q
	}
	switch *status {
	case InvitationPending:
		return q.Where("status = ? AND expires_at > ?", InvitationPending, now.UTC())
	case InvitationExpired:
		return q.Where("status = ? AND expires_at <= ?", InvitationPending, now.UTC())
	}
	return q.Where("status = ?", *status)
}

// Count counts an organization's invitations, all or those in status at
// now (as ListByOrganization filters them).
func (r Invitations) Count(ctx context.Context, orgID string, status *InvitationStatus, now time.Time) (int, error) {
	if orgID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.filtered(ctx, orgID, status, now).Count(&n).Error
	return int(n), err
}

// CountPending counts an organization's unexpired pending invitations.
func (r Invitations) CountPending(ctx context.Context, orgID string, now time.Time) (int, error) {
	if orgID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&Invitation{}).
		Where("organization_id = ? AND status = ? AND expires_at > ?", orgID, InvitationPending, now.UTC()).Count(&n).Error
	return int(n), err
}

// PendingFor reports whether the organization has an unexpired pending
// invitation for email.
func (r Invitations) PendingFor(ctx context.Context, orgID, email string, now time.Time) (bool, error) {
	if orgID == "" {
		return false, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&Invitation{}).
		Where("organization_id = ? AND email = ? AND status = ? AND expires_at > ?", orgID, email, InvitationPending, now.UTC()).
		Limit(1).Count(&n).Error
	return n > 0, err
}

// SetStatus moves a pending invitation of the organization to status
// (ACCEPTED with the user it created, or REVOKED); NOT_FOUND when it is no
// longer pending.
func (r Invitations) SetStatus(ctx context.Context, orgID, id string, status InvitationStatus, acceptedUserID *string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	res := r.db.WithContext(ctx).Model(&Invitation{}).
		Where("organization_id = ? AND id = ? AND status = ?", orgID, id, InvitationPending).
		Updates(map[string]any{"status": status, "accepted_user_id": acceptedUserID, "updated_at": at})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return notFound(gorm.ErrRecordNotFound)
	}
	return nil
}

// EmailVerifications reads and writes single-use email proofs.
type EmailVerifications struct{ db *gorm.DB }

// Create inserts a verification.
func (r EmailVerifications) Create(ctx context.Context, v *EmailVerification) error {
	if v.OrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Create(v).Error
}

// GetForUse fetches and locks a verification by primary key, unscoped: the
// holder of the mailed token proves the right to it with its secret, which
// the caller compares next (verifyEmail is PUBLIC). Missing rows answer
// apperr.ErrNotFound.
func (r EmailVerifications) GetForUse(ctx context.Context, id string) (*EmailVerification, error) {
	return lookup[EmailVerification](ctx, r.db, id, true)
}

// MarkUsed spends a verification; NOT_FOUND when it was already used.
func (r EmailVerifications) MarkUsed(ctx context.Context, orgID, id string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	res := r.db.WithContext(ctx).Model(&EmailVerification{}).
		Where("organization_id = ? AND id = ? AND used_at IS NULL", orgID, id).Update("used_at", at)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return notFound(gorm.ErrRecordNotFound)
	}
	return nil
}

// LatestFor returns when the user's newest verification was created; zero
// when none was.
func (r EmailVerifications) LatestFor(ctx context.Context, orgID, userID string) (time.Time, error) {
	if orgID == "" {
		return time.Time{}, ErrNoScope
	}
	var out []EmailVerification
	err := r.db.WithContext(ctx).Where("organization_id = ? AND user_id = ?", orgID, userID).
		Order("created_at DESC").Limit(1).Find(&out).Error
	if err != nil || len(out) == 0 {
		return time.Time{}, err
	}
	return out[0].CreatedAt, nil
}
