package store

// Organization and platform administration (issue 11, points 1 and 2):
// renaming, suspending, searching and deleting organizations; roles,
// deactivation and self-service names of users. Callers authorize first
// (internal/organizations through internal/authz) and lock the
// organization row before its children (the lock order).

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CountActiveAdmins counts organization orgID's ACTIVE users with role
// ADMIN. Called inside the transaction that holds the organization row's
// lock, the count cannot change before the transaction ends.
func (r Users) CountActiveAdmins(ctx context.Context, orgID string) (int, error) {
	if orgID == "" {
		return 0, ErrNoScope
	}
	// A locking read: on MariaDB a plain SELECT would read the
	// transaction's snapshot, taken by its first read (before the
	// organization lock was granted), and miss a change committed while
	// this transaction waited for that lock.
	var n int64
	err := r.db.WithContext(ctx).Model(&User{}).Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("organization_id = ? AND role = ? AND status = ?", orgID, RoleAdmin, UserActive).Count(&n).Error
	return int(n), err
}

// SetRole sets the role of user userID of organization orgID.
func (r Users) SetRole(ctx context.Context, orgID, userID string, role OrgRole, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return exactlyOne(r.db.WithContext(ctx).Model(&User{}).Where("organization_id = ? AND id = ?", orgID, userID).
		Updates(map[string]any{"role": role, "updated_at": at}))
}

// SetStatus sets the status of user userID of organization orgID.
func (r Users) SetStatus(ctx context.Context, orgID, userID string, status UserStatus, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return exactlyOne(r.db.WithContext(ctx).Model(&User{}).Where("organization_id = ? AND id = ?", orgID, userID).
		Updates(map[string]any{"status": status, "updated_at": at}))
}

// SetName sets the display name of user userID of organization orgID.
func (r Users) SetName(ctx context.Context, orgID, userID, name string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return exactlyOne(r.db.WithContext(ctx).Model(&User{}).Where("organization_id = ? AND id = ?", orgID, userID).
		Updates(map[string]any{"name": name, "updated_at": at}))
}

// Rename sets organization id's name, its confusable skeleton key and its
// lower-cased search key. A name whose key another organization holds is
// ErrDuplicate (the unique index).
func (r Organizations) Rename(ctx context.Context, id, name, key string, at time.Time) error {
	if id == "" {
		return ErrNoScope
	}
	return exactlyOne(r.db.WithContext(ctx).Model(&Organization{}).Where("id = ?", id).
		Updates(map[string]any{"name": name, "name_key": key, "name_lower": strings.ToLower(name), "updated_at": at}))
}

// SetStatus sets organization id's status.
func (r Organizations) SetStatus(ctx context.Context, id string, status OrganizationStatus, at time.Time) error {
	if id == "" {
		return ErrNoScope
	}
	return exactlyOne(r.db.WithContext(ctx).Model(&Organization{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "updated_at": at}))
}

// OrganizationFilter narrows Organizations.Search: Search is a prefix of
// the lower-cased name, of the slug or of the domain ("" for any); Status
// one status ("" for any).
type OrganizationFilter struct {
	Search string
	Status OrganizationStatus
}

// prefixEnd is the exclusive upper bound of the strings that start with p
// under a binary collation (utf8mb4_bin, SQLite's BINARY): p followed by
// the highest code point. "col >= p AND col < prefixEnd(p)" is an index
// range, where LIKE would scan on SQLite.
func prefixEnd(p string) string { return p + "\U0010FFFF" }

// Search lists the organizations matching f, by ID (keyset paging): for
// platform administrators only (checked by the service). Each prefix
// condition is a range on an index of its own (organizations_name_lower,
// organizations_slug, organizations_domain).
func (r Organizations) Search(ctx context.Context, f OrganizationFilter, p Page) ([]*Organization, bool, error) {
	return keysetScan[Organization](r.searchQuery(ctx, f), p, false, orgColumns)
}

// SearchCount counts the organizations matching f (totalCount).
func (r Organizations) SearchCount(ctx context.Context, f OrganizationFilter) (int, error) {
	var n int64
	err := r.searchQuery(ctx, f).Count(&n).Error
	return int(n), err
}

func (r Organizations) searchQuery(ctx context.Context, f OrganizationFilter) *gorm.DB {
	q := r.db.WithContext(ctx).Model(&Organization{})
	if f.Search != "" {
		s := strings.ToLower(f.Search)
		end := prefixEnd(s)
		q = q.Where("(name_lower >= ? AND name_lower < ?) OR (slug >= ? AND slug < ?) OR (domain >= ? AND domain < ?)",
			s, end, s, end, s, end)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	return q
}

// Purge deletes organization id and everything it owns, in the caller's
// transaction (one transaction: all or nothing): workspace grants in both
// directions, API tokens, signed-out sessions, email verifications,
// invitations, domains, queued and sent mail, rate-limit buckets of the
// organization, its users and its tokens, workspaces, users, and the
// organization row. Audit events stay: they are snapshots, and
// organization.deleted names what was deleted; organization_counts
// counts one fewer. It answers the rows deleted per table.
func (r Organizations) Purge(ctx context.Context, id string) (map[string]int64, error) {
	if id == "" {
		return nil, ErrNoScope
	}
	db := r.db.WithContext(ctx)
	out := map[string]int64{}
	del := func(table, where string, args ...any) error {
		res := db.Exec("DELETE FROM "+table+" WHERE "+where, args...)
		if res.Error != nil {
			return res.Error
		}
		out[table] += res.RowsAffected
		return nil
	}
	steps := []struct {
		table, where string
		args         []any
	}{
		{"workspace_grants", "organization_id = ? OR grantee_organization_id = ?", []any{id, id}},
		{"rate_limits", "scope = ? AND subject IN (SELECT id FROM api_tokens WHERE organization_id = ?)", []any{ScopeToken, id}},
		{"rate_limits", "scope = ? AND subject IN (SELECT id FROM users WHERE organization_id = ?)", []any{ScopeUser, id}},
		{"rate_limits", "scope = ? AND subject = ?", []any{ScopeOrg, id}},
		{"api_tokens", "organization_id = ?", []any{id}},
		{"revoked_sessions", "organization_id = ?", []any{id}},
		{"email_verifications", "organization_id = ?", []any{id}},
		{"invitations", "organization_id = ?", []any{id}},
		{"organization_domains", "organization_id = ?", []any{id}},
		{"mail_outbox", "organization_id = ?", []any{id}},
		{"organization_policies", "organization_id = ?", []any{id}},
		{"workspaces", "organization_id = ?", []any{id}},
		{"users", "organization_id = ?", []any{id}},
		{"organizations", "id = ?", []any{id}},
	}
	for _, s := range steps {
		if err := del(s.table, s.where, s.args...); err != nil {
			return nil, err
		}
	}
	if out["organizations"] != 1 {
		return nil, notFound(gorm.ErrRecordNotFound)
	}
	if err := countOrganization(db, id, -1); err != nil {
		return nil, err
	}
	return out, nil
}
