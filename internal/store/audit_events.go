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
	// Search (issue 11): the target's type and row ID, and the actor's
	// email (lower case, as recorded).
	TargetType string
	TargetID   string
	ActorEmail string

	// OmitMetadata and OmitRequest are not conditions: the caller will not
	// read the events' Metadata, or their IPAddress, UserAgent and
	// RequestID (a GraphQL page that does not select them), which are then
	// neither read nor parsed and stay nil.
	OmitMetadata bool
	OmitRequest  bool
}

// columns are the columns a listing reads: a prefix of auditColumns, all
// but metadata when it is omitted, all but the request's details too when
// they are omitted as well (with metadata read, they are read too: one
// prefix serves).
func (f AuditFilter) columns() []string {
	switch {
	case !f.OmitMetadata:
		return auditColumns
	case f.OmitRequest:
		return auditColumns[:auditCore]
	}
	return auditColumns[:len(auditColumns)-1]
}

// ListByOrganization lists one organization's events, newest first.
func (r AuditEvents) ListByOrganization(ctx context.Context, orgID string, f AuditFilter, p Page) ([]*AuditEvent, bool, error) {
	if orgID == "" {
		return nil, false, ErrNoScope
	}
	q := r.db.WithContext(ctx).Model(&AuditEvent{}).Where("organization_id = ?", orgID)
	if index := f.seekIndex(); index != "" {
		q = seek(q, "audit_events", index)
	}
	return keysetScan[AuditEvent](f.apply(q), p, true, f.columns())
}

// seekIndex is the index an organization's listing under f walks from the
// cursor (migrations/mysql/00014): the target's or the actor's when f
// names one, else (organization_id, id), the action, actor and outcome
// filters then read the organization's newest entries until the page is
// full (~500 entries for a page of 100 of two actions out of ten). A time
// window is left to the optimizer ("": no hint), which may prefer
// (organization_id, created_at, id).
func (f AuditFilter) seekIndex() string {
	switch {
	case f.TargetID != "":
		return "audit_events_organization_target"
	case f.ActorEmail != "":
		return "audit_events_organization_actor_email"
	case f.Since != nil || f.Until != nil:
		return ""
	}
	return "audit_events_organization"
}

// apply adds the filter's conditions to q.
func (f AuditFilter) apply(q *gorm.DB) *gorm.DB {
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
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if f.ActorEmail != "" {
		q = q.Where("actor_email = ?", f.ActorEmail)
	}
	return q
}

// GetByID fetches an event by primary key, unscoped: callers authorize
// against the returned row's organization.
func (r AuditEvents) GetByID(ctx context.Context, id string) (*AuditEvent, error) {
	return lookup[AuditEvent](ctx, r.db, id, false)
}

// ListAll lists every organization's events and the platform events of
// none, newest first: for platform administrators only (the caller has
// decided that through internal/authz).
func (r AuditEvents) ListAll(ctx context.Context, f AuditFilter, p Page) ([]*AuditEvent, bool, error) {
	q := r.db.WithContext(ctx).Model(&AuditEvent{})
	switch {
	case f.TargetID != "":
		q = seek(q, "audit_events", "audit_events_target")
	case f.ActorEmail != "":
		q = seek(q, "audit_events", "audit_events_actor_email")
	}
	// Otherwise the PRIMARY key from the cursor, the optimizer's own choice.
	return keysetScan[AuditEvent](f.apply(q), p, true, f.columns())
}

// ExportWindow is what an export reads: one organization's events (or,
// with OrganizationID "", every event) created in [Since, Until).
type ExportWindow struct {
	OrganizationID string
	Since, Until   time.Time
}

// Each calls fn with every event of the window, oldest first, as the rows
// are read from the database (one event in memory at a time). fn's error
// stops the scan and is returned. An empty OrganizationID reads every
// organization's events: the caller has authorized a platform
// administrator.
func (r AuditEvents) Each(ctx context.Context, w ExportWindow, fn func(*AuditEvent) error) error {
	q := r.db.WithContext(ctx).Model(&AuditEvent{})
	if w.OrganizationID != "" {
		q = q.Where("organization_id = ?", w.OrganizationID)
	}
	rows, err := q.Where("created_at >= ? AND created_at < ?", w.Since.UTC(), w.Until.UTC()).
		Order("created_at, id").Rows()
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	var e AuditEvent
	for rows.Next() {
		e = AuditEvent{}
		if err := r.db.ScanRows(rows, &e); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}
