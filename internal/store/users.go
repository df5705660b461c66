package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Users reads and writes user accounts.
type Users struct{ db *gorm.DB }

// GetByID fetches a user by primary key, unscoped: callers authorize against
// the returned row's organization. Missing rows answer apperr.ErrNotFound.
func (r Users) GetByID(ctx context.Context, id string) (*User, error) {
	var u User
	if err := r.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// GetByEmail finds a user by (lower-cased) email for sign-in; nil when absent.
// Email addresses are unique across the deployment, so this is a global
// lookup by design.
func (r Users) GetByEmail(ctx context.Context, email string) (*User, error) {
	var out []User
	if err := r.db.WithContext(ctx).Where("email = ?", email).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// Create inserts a user. The caller adds to the organization's user counter
// in the same transaction.
func (r Users) Create(ctx context.Context, u *User) error {
	if u.OrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Create(u).Error
}

// ListByOrganization lists one organization's users, oldest first.
func (r Users) ListByOrganization(ctx context.Context, orgID string, p Page) ([]*User, bool, error) {
	if orgID == "" {
		return nil, false, ErrNoScope
	}
	q := r.db.WithContext(ctx).Model(&User{}).Where("organization_id = ?", orgID)
	return keyset[*User](q, p, false)
}

// CountByOrganization counts one organization's users with a fresh COUNT(*).
func (r Users) CountByOrganization(ctx context.Context, orgID string) (int, error) {
	if orgID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&User{}).Where("organization_id = ?", orgID).Count(&n).Error
	return int(n), err
}

// RecordLogin sets a user's last sign-in time.
func (r Users) RecordLogin(ctx context.Context, orgID, userID string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Model(&User{}).
		Where("organization_id = ? AND id = ?", orgID, userID).
		Updates(map[string]any{"last_login_at": at, "updated_at": at}).Error
}

// SetPlatformAdmin grants platform administration to a user (and sets a new
// password hash when given).
func (r Users) SetPlatformAdmin(ctx context.Context, orgID, userID string, passwordHash *string) error {
	if orgID == "" {
		return ErrNoScope
	}
	cols := User{PlatformAdmin: true, UpdatedAt: time.Now().UTC()}
	fields := []string{"PlatformAdmin", "UpdatedAt"}
	if passwordHash != nil {
		cols.PasswordHash = passwordHash
		fields = append(fields, "PasswordHash")
	}
	return r.db.WithContext(ctx).Model(&User{}).
		Where("organization_id = ? AND id = ?", orgID, userID).
		Select(fields).Updates(&cols).Error
}

// Actor is a user with their organization, as loaded once per request to
// authorize it.
type Actor struct {
	User         User
	Organization Organization
}

// GetActor loads a user and their organization in one statement.
func (r Users) GetActor(ctx context.Context, userID string) (*Actor, error) {
	var row struct {
		User         User         `gorm:"embedded;embeddedPrefix:u_"`
		Organization Organization `gorm:"embedded;embeddedPrefix:o_"`
	}
	res := r.db.WithContext(ctx).Raw(`SELECT `+actorColumns+`
		FROM users u JOIN organizations o ON o.id = u.organization_id
		WHERE u.id = ?`, userID).Scan(&row)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, notFound(gorm.ErrRecordNotFound)
	}
	return &Actor{User: row.User, Organization: row.Organization}, nil
}

var actorColumns = func() string {
	userCols := []string{"id", "organization_id", "email", "name", "password_hash", "role", "platform_admin",
		"status", "sso_issuer", "sso_subject", "created_at", "updated_at", "last_login_at"}
	orgCols := []string{"id", "name", "name_key", "slug", "domain", "status", "external_issuer", "external_id",
		"user_count", "workspace_count", "created_at", "updated_at"}
	var cols []string
	for _, c := range userCols {
		cols = append(cols, "u."+c+" AS u_"+c)
	}
	for _, c := range orgCols {
		cols = append(cols, "o."+c+" AS o_"+c)
	}
	return strings.Join(cols, ", ")
}()
