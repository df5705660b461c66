package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/neosc/neosc/internal/ids"
)

// OpenEnd is the ended_at of a workspace usage row that has not ended.
var OpenEnd = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// WorkspaceUsage is one stretch of time during which a workspace's billed
// state did not change (see migrations/mysql/00013). EndedAt is OpenEnd
// while it lasts.
type WorkspaceUsage struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	WorkspaceID    string
	WorkspaceName  string
	Status         WorkspaceStatus
	CPUCores       int `gorm:"column:cpu_cores"`
	MemoryMB       int `gorm:"column:memory_mb"`
	StorageGB      int `gorm:"column:storage_gb"`
	StartedAt      time.Time
	EndedAt        time.Time
}

// TableName is the workspace_usage table.
func (WorkspaceUsage) TableName() string { return "workspace_usage" }

// OrganizationUserEvent is a change of an organization's user count.
type OrganizationUserEvent struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	Delta          int
	CreatedAt      time.Time
}

// TableName is the organization_user_events table.
func (OrganizationUserEvent) TableName() string { return "organization_user_events" }

// UsageRecords records and reads what organizations used, for billing. Every
// method is scoped by organization.
type UsageRecords struct{ db *gorm.DB }

// UsageOf is the billed state of a workspace as a usage row records it.
func UsageOf(w *Workspace) WorkspaceUsage {
	return WorkspaceUsage{OrganizationID: w.OrganizationID, WorkspaceID: w.ID, WorkspaceName: w.Name,
		Status: w.Status, CPUCores: w.CPUCores, MemoryMB: w.MemoryMB, StorageGB: w.StorageGB}
}

// Billed reports whether a and b differ in what a usage row records.
func (u WorkspaceUsage) Billed(b WorkspaceUsage) bool {
	return u.WorkspaceName != b.WorkspaceName || u.Status != b.Status || u.CPUCores != b.CPUCores ||
		u.MemoryMB != b.MemoryMB || u.StorageGB != b.StorageGB
}

// StartWorkspace opens a usage row for w's current state at at. Call it in
// the transaction that creates or changes w.
func (r UsageRecords) StartWorkspace(ctx context.Context, w *Workspace, at time.Time) error {
	if w.OrganizationID == "" {
		return ErrNoScope
	}
	row := UsageOf(w)
	row.ID, row.StartedAt, row.EndedAt = ids.New(), at.UTC(), OpenEnd
	return r.db.WithContext(ctx).Create(&row).Error
}

// EndWorkspace ends the open usage row of a workspace of organization
// orgID at at (none open: nothing to end). Call it in the transaction that
// changes or deletes the workspace.
func (r UsageRecords) EndWorkspace(ctx context.Context, orgID, workspaceID string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Model(&WorkspaceUsage{}).
		Where("organization_id = ? AND workspace_id = ? AND ended_at = ?", orgID, workspaceID, OpenEnd).
		UpdateColumn("ended_at", at.UTC()).Error
}

// EndOrganization ends every open usage row of organization orgID at at:
// for a change that removes all its workspaces at once (deleting the
// organization), in that change's transaction.
func (r UsageRecords) EndOrganization(ctx context.Context, orgID string, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Model(&WorkspaceUsage{}).
		Where("organization_id = ? AND ended_at = ?", orgID, OpenEnd).
		UpdateColumn("ended_at", at.UTC()).Error
}

// EachWorkspaceUsage calls fn with every usage row of organization orgID
// that overlaps [since, until), ordered by workspace then start, reading
// the rows as fn consumes them (constant memory). fn's error stops the
// scan and is returned.
func (r UsageRecords) EachWorkspaceUsage(ctx context.Context, orgID string, since, until time.Time, fn func(*WorkspaceUsage) error) error {
	if orgID == "" {
		return ErrNoScope
	}
	rows, err := r.db.WithContext(ctx).Model(&WorkspaceUsage{}).
		Where("organization_id = ? AND ended_at > ? AND started_at < ?", orgID, since.UTC(), until.UTC()).
		Order("workspace_id, started_at, id").Rows()
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var u WorkspaceUsage
		if err := r.db.ScanRows(rows, &u); err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RecordUsers records a change of organization orgID's user count at at.
func (r UsageRecords) RecordUsers(ctx context.Context, orgID string, delta int, at time.Time) error {
	if orgID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Create(&OrganizationUserEvent{ID: ids.New(), OrganizationID: orgID, Delta: delta, CreatedAt: at.UTC()}).Error
}

// PeakUsers is the highest user count of organization orgID during
// [since, until): its count at since (the sum of the changes up to and
// including since), then after each change inside the window.
func (r UsageRecords) PeakUsers(ctx context.Context, orgID string, since, until time.Time) (int, error) {
	if orgID == "" {
		return 0, ErrNoScope
	}
	var base struct{ N *int }
	if err := r.db.WithContext(ctx).Model(&OrganizationUserEvent{}).Select("SUM(delta) AS n").
		Where("organization_id = ? AND created_at <= ?", orgID, since.UTC()).Scan(&base).Error; err != nil {
		return 0, err
	}
	count := 0
	if base.N != nil {
		count = *base.N
	}
	peak := count
	rows, err := r.db.WithContext(ctx).Model(&OrganizationUserEvent{}).Select("delta").
		Where("organization_id = ? AND created_at > ? AND created_at < ?", orgID, since.UTC(), until.UTC()).
		Order("created_at, id").Rows()
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var d int
		if err := rows.Scan(&d); err != nil {
			return 0, err
		}
		count += d
		peak = max(peak, count)
	}
	return peak, rows.Err()
}

// ActiveUsers counts the distinct users of organization orgID who signed
// in (a successful user.login or user.sso_login) during [since, until).
func (r UsageRecords) ActiveUsers(ctx context.Context, orgID string, since, until time.Time) (int, error) {
	if orgID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&AuditEvent{}).
		Where("organization_id = ? AND created_at >= ? AND created_at < ? AND action IN ? AND outcome = ? AND actor_id IS NOT NULL",
			orgID, since.UTC(), until.UTC(), []string{"user.login", "user.sso_login"}, OutcomeSuccess).
		Distinct("actor_id").Count(&n).Error
	return int(n), err
}
