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
	return lookup[User](ctx, r.db, id, false)
}

// GetByEmail finds a password account by (lower-cased) email for sign-in;
// nil when absent. SSO accounts are never found this way. Email addresses are
// unique across the deployment, so this is a global lookup by design.
func (r Users) GetByEmail(ctx context.Context, email string) (*User, error) {
	var out []User
	if err := r.db.WithContext(ctx).Where("email = ? AND email_scope = ''", email).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// EmailTaken reports whether any account, password or SSO, uses email.
func (r Users) EmailTaken(ctx context.Context, email string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&User{}).Where("email = ?", email).Limit(1).Count(&n).Error
	return n > 0, err
}

// EmailTakenInScope reports whether an account of the identity source scope
// ("" for password accounts, an issuer for SSO) uses email.
func (r Users) EmailTakenInScope(ctx context.Context, email, scope string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&User{}).Where("email = ? AND email_scope = ?", email, scope).Limit(1).Count(&n).Error
	return n > 0, err
}

// ReleaseEmail frees the address of an unverified account: it takes the
// stand-in address given and is deactivated (someone else proved the
// address). NOT_FOUND when the account is verified meanwhile.
func (r Users) ReleaseEmail(ctx context.Context, orgID, userID, standIn string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return exactlyOne(r.db.WithContext(ctx).Model(&User{}).
		Where("organization_id = ? AND id = ? AND email_verified_at IS NULL", orgID, userID).
		Updates(map[string]any{"email": standIn, "status": UserDeactivated, "updated_at": at}))
}

// MemberByEmail reports whether organization orgID has a user with email.
func (r Users) MemberByEmail(ctx context.Context, orgID, email string) (bool, error) {
	if orgID == "" {
		return false, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&User{}).Where("organization_id = ? AND email = ?", orgID, email).Limit(1).Count(&n).Error
	return n > 0, err
}

// ListByIDs fetches the users with the given IDs, in any order; the caller
// maps them by ID and authorizes each.
func (r Users) ListByIDs(ctx context.Context, idList []string) ([]*User, error) {
	var out []*User
	if len(idList) == 0 {
		return out, nil
	}
	err := r.db.WithContext(ctx).Where("id IN ?", idList).Find(&out).Error
	return out, err
}

// GetBySSO finds an SSO account by (issuer, subject); nil when absent. Never
// by email: an external identity only ever reaches the account it created.
func (r Users) GetBySSO(ctx context.Context, issuer, subject string) (*User, error) {
	var out []User
	if issuer == "" || subject == "" {
		return nil, nil
	}
	if err := r.db.WithContext(ctx).Where("sso_issuer = ? AND sso_subject = ?", issuer, subject).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// RecordSSOLogin sets an SSO user's name and last sign-in time.
func (r Users) RecordSSOLogin(ctx context.Context, orgID, userID, name string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Model(&User{}).
		Where("organization_id = ? AND id = ?", orgID, userID).
		Updates(map[string]any{"name": name, "last_login_at": at, "updated_at": at}).Error
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
	return keysetScan[User](seek(q, "users", "users_organization"), p, false, userColumns)
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

// MarkEmailVerified records that the user proved their address at `at`, and
// activates a PENDING account; it reports whether the account was pending.
func (r Users) MarkEmailVerified(ctx context.Context, orgID, userID string, at time.Time) (activated bool, err error) {
	if orgID == "" {
		return false, ErrNoScope
	}
	res := r.db.WithContext(ctx).Model(&User{}).
		Where("organization_id = ? AND id = ? AND status = ?", orgID, userID, UserPending).
		Updates(map[string]any{"status": UserActive, "email_verified_at": at, "updated_at": at})
	if res.Error != nil || res.RowsAffected == 1 {
		return res.RowsAffected == 1, res.Error
	}
	return false, r.db.WithContext(ctx).Model(&User{}).
		Where("organization_id = ? AND id = ? AND email_verified_at IS NULL", orgID, userID).
		Updates(map[string]any{"email_verified_at": at, "updated_at": at}).Error
}

// Actor is a user with their organization, as loaded once per request to
// authorize it. SignedOut reports that the session token it was loaded for
// has been ended by signOut.
type Actor struct {
	User         User
	Organization Organization
	SignedOut    bool
	Budget       Budget
	// Policy is the organization's security policy (organization_policies,
	// joined in).
	Policy SecurityPolicy
}

// GetActor loads a user and their organization in one statement, which
// also tells whether the session token with ID jti is on the signOut
// denylist ("" for none: SignedOut is then false) and reads the rate-limit
// buckets of the user's sessions and of the organization (two primary-key
// lookups joined in): checking the request's budget then costs no
// statement.
func (r Users) GetActor(ctx context.Context, userID, jti string) (*Actor, error) {
	a := &Actor{}
	d := append(append(a.User.dests(), a.Organization.dests()...),
		&a.Budget.Caller, &a.Budget.Organization, &a.Policy.RequireSSO, &a.Policy.AllowedIPRanges, &a.Policy.SessionTTLMinutes, &a.SignedOut)
	err := scanOneRow(ctx, r.db, d, getActorSQL, jti, userID)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// getActorSQL is GetActor's statement: its select list is in the order of
// GetActor's destinations.
var getActorSQL = `SELECT ` + actorColumns + `, ` + budgetColumns + `, ` + policyColumns + `,
		EXISTS (SELECT 1 FROM revoked_sessions r WHERE r.jti = ?) AS signed_out
		FROM users u JOIN organizations o ON o.id = u.organization_id` + policyJoin + `
		LEFT JOIN rate_limits rc ON rc.scope = '` + ScopeUser + `' AND rc.subject = u.id
		LEFT JOIN rate_limits ro ON ro.scope = '` + ScopeOrg + `' AND ro.subject = o.id
		WHERE u.id = ?`

// RevokeSessions ends the session tokens of user userID of organization
// orgID issued before validAfter; a later cutoff already set stays.
func (r Users) RevokeSessions(ctx context.Context, orgID, userID string, validAfter, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Exec(`UPDATE users SET `+laterCutoff+`, updated_at = ?
		WHERE organization_id = ? AND id = ?`, validAfter, validAfter, at, orgID, userID).Error
}

// SetPassword replaces the password hash of user userID of organization
// orgID and ends their session tokens issued before validAfter.
func (r Users) SetPassword(ctx context.Context, orgID, userID, hash string, validAfter, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Exec(`UPDATE users SET password_hash = ?, `+laterCutoff+`, updated_at = ?
		WHERE organization_id = ? AND id = ?`, hash, validAfter, validAfter, at, orgID, userID).Error
}

// laterCutoff moves sessions_valid_after forward to its two arguments (the
// same instant), never back.
const laterCutoff = `sessions_valid_after = CASE WHEN sessions_valid_after IS NULL OR sessions_valid_after < ? THEN ? ELSE sessions_valid_after END`

// budgetColumns reads Budget from the joined buckets rc (the caller's) and
// ro (the organization's).
const budgetColumns = "COALESCE(rc.tat, 0) AS b_caller, COALESCE(ro.tat, 0) AS b_organization"

// scanOne runs a raw query expected to find one row; none is NOT_FOUND.
func scanOne(db *gorm.DB, dest any, sql string, args ...any) error {
	res := db.Raw(sql, args...).Scan(dest)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return notFound(gorm.ErrRecordNotFound)
	}
	return nil
}

var actorColumns = columns("u", "u_", userColumns...) +
	", " + columns("o", "o_", orgColumns...)

var orgColumns = []string{"id", "name", "name_key", "name_lower", "slug", "domain", "status", "external_issuer", "external_id",
	"user_count", "workspace_count", "kind", "created_at", "updated_at",
	// The quota and the resources in use: the caller's organization as the
	// actor carries it is what `organizations` answers for a tenant user.
	"max_users", "max_workspaces", "max_cpu_cores", "max_memory_mb", "max_storage_gb", "cpu_cores", "memory_mb", "storage_gb"}

// columns lists table alias a's columns, each renamed with prefix p.
func columns(a, p string, cols ...string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = a + "." + c + " AS " + p + c
	}
	return strings.Join(out, ", ")
}
