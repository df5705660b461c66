package store

import (
	"time"

	"context"

	"gorm.io/gorm"
)

// Quota is an organization's limits (issue 11); nil is unlimited. It is
// embedded in Organization: the columns are the organization row's.
type Quota struct {
	MaxUsers      *int `gorm:"column:max_users"`
	MaxWorkspaces *int `gorm:"column:max_workspaces"`
	MaxCPUCores   *int `gorm:"column:max_cpu_cores"`
	MaxMemoryMB   *int `gorm:"column:max_memory_mb"`
	MaxStorageGB  *int `gorm:"column:max_storage_gb"`
}

// Usage is a change of an organization's counters: users, workspaces and
// the resources its workspaces hold.
type Usage struct {
	Users      int
	Workspaces int
	CPUCores   int
	MemoryMB   int
	StorageGB  int
}

// AddUsage changes an organization's counters by u in one statement.
// internal/quota calls it after locking the row and checking the limits;
// it is the only writer of the resource counters.
func (r Organizations) AddUsage(ctx context.Context, orgID string, u Usage) error {
	if orgID == "" {
		return ErrNoScope
	}
	cols := map[string]any{}
	for col, d := range map[string]int{"user_count": u.Users, "workspace_count": u.Workspaces,
		"cpu_cores": u.CPUCores, "memory_mb": u.MemoryMB, "storage_gb": u.StorageGB} {
		if d != 0 {
			cols[col] = gorm.Expr(col+" + ?", d)
		}
	}
	if len(cols) == 0 {
		return nil
	}
	if err := exactlyOne(r.db.WithContext(ctx).Model(&Organization{}).Where("id = ?", orgID).UpdateColumns(cols)); err != nil {
		return err
	}
	if u.Users != 0 {
		// The history of the user count (the usage report's peakUsers), as
		// AddUsers keeps it.
		return UsageRecords(r).RecordUsers(ctx, orgID, u.Users, time.Now())
	}
	return nil
}

// SetQuota replaces an organization's limits (nil columns are unlimited).
func (r Organizations) SetQuota(ctx context.Context, orgID string, q Quota) error {
	if orgID == "" {
		return ErrNoScope
	}
	return exactlyOne(r.db.WithContext(ctx).Model(&Organization{}).Where("id = ?", orgID).UpdateColumns(map[string]any{
		"max_users": q.MaxUsers, "max_workspaces": q.MaxWorkspaces, "max_cpu_cores": q.MaxCPUCores,
		"max_memory_mb": q.MaxMemoryMB, "max_storage_gb": q.MaxStorageGB,
	}))
}

// Detached returns a store over the pool that s's transaction came from,
// outside any transaction: for what must be written whatever becomes of
// s's transaction, from an AfterTx hook (a refusal's audit event after the
// rollback).
func (s *Store) Detached() *Store {
	if s.root != nil {
		return New(s.root)
	}
	return New(s.db)
}

// Usage is the organization's current usage (Organization.usage).
func (o *Organization) Usage() Usage {
	return Usage{Users: o.UserCount, Workspaces: o.WorkspaceCount, CPUCores: o.CPUCores, MemoryMB: o.MemoryMB, StorageGB: o.StorageGB}
}
