package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"gorm.io/gorm"
)

// Organizations reads and writes tenants and their counters.
type Organizations struct{ db *gorm.DB }

// GetByID fetches an organization by primary key, unscoped: callers
// authorize against the returned row (fetch, then authorize). Missing rows
// answer apperr.ErrNotFound.
func (r Organizations) GetByID(ctx context.Context, id string) (*Organization, error) {
	return lookup[Organization](ctx, r.db, id, false)
}

// ListByIDs fetches the organizations with the given IDs, in any order; the
// caller maps them by ID and authorizes each.
func (r Organizations) ListByIDs(ctx context.Context, idList []string) ([]*Organization, error) {
	var out []*Organization
	if len(idList) == 0 {
		return out, nil
	}
	err := r.db.WithContext(ctx).Where("id IN ?", idList).Find(&out).Error
	return out, err
}

// Lock reads an organization and locks its row until the transaction ends
// (the first lock of every change that counts or bounds its rows).
func (r Organizations) Lock(ctx context.Context, id string) (*Organization, error) {
	if id == "" {
		return nil, ErrNoScope
	}
	return lookup[Organization](ctx, r.db, id, true)
}

// SetPrimaryDomain makes domain the organization's primary domain when it
// has none (the first domain it verifies), or, with domain nil, clears the
// primary domain when it is old (a removed domain).
func (r Organizations) SetPrimaryDomain(ctx context.Context, orgID string, domain *string, old string) error {
	if orgID == "" {
		return ErrNoScope
	}
	q := r.db.WithContext(ctx).Model(&Organization{}).Where("id = ?", orgID)
	if domain != nil {
		q = q.Where("domain IS NULL")
	} else {
		q = q.Where("domain = ?", old)
	}
	return q.Update("domain", domain).Error
}

// GetDefault returns the default organization (kind DEFAULT), which
// migration 00007 creates; NOT_FOUND before that.
func (r Organizations) GetDefault(ctx context.Context) (*Organization, error) {
	var o Organization
	if err := r.db.WithContext(ctx).Where("kind = ?", KindDefault).Take(&o).Error; err != nil {
		return nil, notFound(err)
	}
	return &o, nil
}

// GetByNameKey finds an organization by the confusable skeleton of its name
// (names.Skeleton); nil when absent.
func (r Organizations) GetByNameKey(ctx context.Context, key string) (*Organization, error) {
	var out []Organization
	if err := r.db.WithContext(ctx).Where("name_key = ?", key).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// GetByExternal finds the organization provisioned from an identity
// provider's organization; nil when absent.
func (r Organizations) GetByExternal(ctx context.Context, issuer, externalID string) (*Organization, error) {
	var out []Organization
	if issuer == "" || externalID == "" {
		return nil, nil
	}
	if err := r.db.WithContext(ctx).Where("external_issuer = ? AND external_id = ?", issuer, externalID).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// DomainTaken reports whether some organization already uses domain.
func (r Organizations) DomainTaken(ctx context.Context, domain string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&Organization{}).Where("domain = ?", domain).Limit(1).Count(&n).Error
	return n > 0, err
}

// SlugTaken reports whether some organization already uses slug.
func (r Organizations) SlugTaken(ctx context.Context, slug string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&Organization{}).Where("slug = ?", slug).Limit(1).Count(&n).Error
	return n > 0, err
}

// organizationCountSlots is the number of rows of organization_counts
// (migration 00017): creating an organization adds 1 to the slot its ID
// hashes to, so that concurrent creations rarely update the same row.
const organizationCountSlots = 16

// Create inserts an organization and counts it (organization_counts), in
// one transaction (a savepoint inside the caller's).
func (r Organizations) Create(ctx context.Context, o *Organization) error {
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(o).Error; err != nil {
			return err
		}
		return countOrganization(tx, o.ID, 1)
	})
}

// countOrganization adds delta to organization id's slot of
// organization_counts. A slot may go below zero (an organization counted
// in slot 0 by the migration is taken off its own slot when deleted): only
// the sum means anything.
func countOrganization(tx *gorm.DB, id string, delta int) error {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	slot := h.Sum32() % organizationCountSlots
	res := tx.Exec("UPDATE organization_counts SET n = n + ? WHERE slot = ?", delta, slot)
	if res.Error == nil && res.RowsAffected != 1 {
		return fmt.Errorf("organization_counts: slot %d missing", slot)
	}
	return res.Error
}

// Recount sets organization_counts to the number of organization rows (for
// writers that insert organizations in bulk: neosc seed).
func (r Organizations) Recount(ctx context.Context) error {
	return r.db.WithContext(ctx).Exec("UPDATE organization_counts SET n = CASE WHEN slot = 0 THEN (SELECT COUNT(*) FROM organizations) ELSE 0 END").Error
}

// ListAll lists every organization: for platform administrators only.
func (r Organizations) ListAll(ctx context.Context, p Page) ([]*Organization, bool, error) {
	return keysetScan[Organization](r.db.WithContext(ctx).Model(&Organization{}), p, false, orgColumns)
}

// CountAll counts every organization: for platform administrators only.
// It reads the 16 rows of organization_counts (Create keeps them), not
// the table: the same cost at any number of organizations.
func (r Organizations) CountAll(ctx context.Context) (int, error) {
	var n int64
	err := r.db.WithContext(ctx).Raw(CountOrganizationsSQL).Row().Scan(&n)
	return int(n), err
}

// CountOrganizationsSQL is CountAll's statement.
const CountOrganizationsSQL = "SELECT COALESCE(SUM(n), 0) FROM organization_counts"

// AddUsers changes the user counter of an organization by delta. Inside a
// transaction this also takes the organization row's lock first, which keeps
// the lock order the same for every writer.
//
// Each change is also recorded, in the same transaction, as an
// organization_user_events row (the history of the count, for the usage
// report's peakUsers).
func (r Organizations) AddUsers(ctx context.Context, orgID string, delta int) error {
	if err := r.addCounter(ctx, orgID, "user_count", delta); err != nil {
		return err
	}
	return UsageRecords(r).RecordUsers(ctx, orgID, delta, time.Now())
}

// AddWorkspaces changes the workspace counter of an organization by delta.
func (r Organizations) AddWorkspaces(ctx context.Context, orgID string, delta int) error {
	return r.addCounter(ctx, orgID, "workspace_count", delta)
}

func (r Organizations) addCounter(ctx context.Context, orgID, column string, delta int) error {
	if orgID == "" {
		return ErrNoScope
	}
	res := r.db.WithContext(ctx).Model(&Organization{}).Where("id = ?", orgID).
		UpdateColumn(column, gorm.Expr(column+" + ?", delta))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return notFound(gorm.ErrRecordNotFound)
	}
	return nil
}
