package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// APITokens reads and writes partner API tokens.
type APITokens struct{ db *gorm.DB }

// Create inserts a token.
func (r APITokens) Create(ctx context.Context, t *APIToken) error {
	if t.OrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Create(t).Error
}

// GetByID fetches a token by primary key, unscoped: callers authorize
// against the returned row's organization.
func (r APITokens) GetByID(ctx context.Context, id string) (*APIToken, error) {
	return lookup[APIToken](ctx, r.db, id, false)
}

// ListByOrganization lists one organization's tokens, newest first.
func (r APITokens) ListByOrganization(ctx context.Context, orgID string, p Page) ([]*APIToken, bool, error) {
	if orgID == "" {
		return nil, false, ErrNoScope
	}
	q := r.db.WithContext(ctx).Model(&APIToken{}).Where("organization_id = ?", orgID)
	return keyset[*APIToken](seek(q, "api_tokens", "api_tokens_organization"), p, true)
}

// CountByOrganization counts one organization's tokens.
func (r APITokens) CountByOrganization(ctx context.Context, orgID string) (int, error) {
	if orgID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&APIToken{}).Where("organization_id = ?", orgID).Count(&n).Error
	return int(n), err
}

// Revoke marks a token of an organization revoked; it reports false when
// it already was.
func (r APITokens) Revoke(ctx context.Context, orgID, id string, at time.Time) (bool, error) {
	if orgID == "" {
		return false, ErrNoScope
	}
	res := r.db.WithContext(ctx).Model(&APIToken{}).
		Where("organization_id = ? AND id = ? AND revoked_at IS NULL", orgID, id).
		Update("revoked_at", at)
	return res.RowsAffected == 1, res.Error
}

// Touch records a use of the token, at most once a minute (one indexed
// UPDATE that matches nothing otherwise).
func (r APITokens) Touch(ctx context.Context, orgID, id string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Model(&APIToken{}).
		Where("organization_id = ? AND id = ? AND (last_used_at IS NULL OR last_used_at < ?)", orgID, id, at.Add(-time.Minute)).
		UpdateColumn("last_used_at", at).Error
}

// TokenActor is a token with its organization, loaded once per request.
type TokenActor struct {
	Token        APIToken
	Organization Organization
	Budget       Budget
	// Policy is the organization's security policy (joined in).
	Policy SecurityPolicy
	// CreatorDeactivated: the user who created the token is DEACTIVATED
	// (the token stops while they are; see internal/auth).
	CreatorDeactivated bool
}

// GetActor loads a token and its organization in one statement, which also
// reads the rate-limit buckets of the token and of the organization (see
// Users.GetActor) and whether the token's creator is deactivated.
func (r APITokens) GetActor(ctx context.Context, id string) (*TokenActor, error) {
	var row struct {
		Token              APIToken       `gorm:"embedded;embeddedPrefix:t_"`
		Organization       Organization   `gorm:"embedded;embeddedPrefix:o_"`
		Budget             Budget         `gorm:"embedded;embeddedPrefix:b_"`
		Policy             SecurityPolicy `gorm:"embedded;embeddedPrefix:p_"`
		CreatorDeactivated bool           `gorm:"column:creator_deactivated"`
	}
	err := scanOne(r.db.WithContext(ctx), &row, `SELECT `+tokenActorColumns+`, `+budgetColumns+`, `+policyColumns+`,
		CASE WHEN cu.status = '`+string(UserDeactivated)+`' THEN 1 ELSE 0 END AS creator_deactivated
		FROM api_tokens t JOIN organizations o ON o.id = t.organization_id`+policyJoin+`
		LEFT JOIN users cu ON cu.id = t.created_by_id
		LEFT JOIN rate_limits rc ON rc.scope = '`+ScopeToken+`' AND rc.subject = t.id
		LEFT JOIN rate_limits ro ON ro.scope = '`+ScopeOrg+`' AND ro.subject = o.id
		WHERE t.id = ?`, id)
	if err != nil {
		return nil, err
	}
	return &TokenActor{Token: row.Token, Organization: row.Organization, Budget: row.Budget, Policy: row.Policy, CreatorDeactivated: row.CreatorDeactivated}, nil
}

var tokenActorColumns = columns("t", "t_", "id", "organization_id", "name", "scopes", "created_by_id", "expires_at",
	"created_at", "last_used_at", "revoked_at") + ", " + columns("o", "o_", orgColumns...)

// LatestExpiry is the expiry of the longest-lived token that still works
// at now, in any organization (zero when there is none): how long a signing
// key that signed tokens before the service recorded which (a key file taken
// into the database) must keep verifying.
func (r APITokens) LatestExpiry(ctx context.Context, now time.Time) (time.Time, error) {
	t, err := firstOrNil[APIToken](r.db.WithContext(ctx).Where("revoked_at IS NULL AND expires_at > ?", now).Order("expires_at DESC"))
	if err != nil || t == nil {
		return time.Time{}, err
	}
	return t.ExpiresAt, nil
}
