package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// AuditEvents is the audit trail: insert and read, never update or delete.
type AuditEvents struct{ db *gorm.DB }

// Insert appends an event.
func (r AuditEvents) Insert(ctx context.Context, e *AuditEvent) error {
	return r.db.WithContext(ctx).Create(e).Error
}

// AuditFilter narrows a listing; zero fields do not filter.
type AuditFilter struct {
	Actions []string
	ActorID string
	Outcome AuditOutcome
	Since   *time.Time
	Until   *time.Time
}

// ListByOrganization lists one organization's events, newest first.
func (r AuditEvents) ListByOrganization(ctx context.Context, orgID string, f AuditFilter, p Page) ([]*AuditEvent, bool, error) {
	if orgID == "" {
		return nil, false, ErrNoScope
	}
	q := r.db.WithContext(ctx).Model(&AuditEvent{}).Where("organization_id = ?", orgID)
	if len(f.Actions) > 0 {
		q = q.Where("action IN ?", f.Actions)
	}
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	if f.Since != nil {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	return keyset[*AuditEvent](q, p, true)
}

// GetByID fetches an event by primary key, unscoped: callers authorize
// against the returned row's organization.
func (r AuditEvents) GetByID(ctx context.Context, id string) (*AuditEvent, error) {
	return lookup[AuditEvent](ctx, r.db, id, false)
}
