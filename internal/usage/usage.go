// Package usage answers what an organization used during a window of time,
// for billing: the usage report (Organization.usageReport) and the
// per-workspace CSV export (GET /usage/export).
//
// What is counted (from the rows internal/workspaces writes in the
// transaction of each workspace change, see migrations/mysql/00013):
//   - workspaceHours, cpuCoreHours, memoryGbHours: while a workspace is
//     RUNNING, its hours, times its cpuCores, times its memoryMb/1024;
//   - storageGbHours: while a workspace exists, whatever its status, its
//     storageGb times the hours;
//   - peakUsers: the highest user count of the organization during the
//     window (its count when the window starts, then after each change);
//   - activeUsers: distinct users who signed in (user.login or
//     user.sso_login, outcome SUCCESS) during the window.
//
// Every stretch is clipped to the window [since, until) and a stretch that
// has not ended is counted up to now, never into the future.
package usage

import (
	"context"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/store"
)

// MaxWindow is the longest window a report or an export may span.
const MaxWindow = 366 * 24 * time.Hour

// Service computes usage.
type Service struct {
	Store *store.Store
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Report is the usage of one organization during [Since, Until).
type Report struct {
	Since, Until   time.Time
	WorkspaceHours float64
	CPUCoreHours   float64
	MemoryGBHours  float64
	StorageGBHours float64
	PeakUsers      int
	ActiveUsers    int
}

// Line is one workspace's usage during a window.
type Line struct {
	WorkspaceID    string // row ID (not the global ID)
	WorkspaceName  string // its name at the end of its last stretch in the window
	WorkspaceHours float64
	CPUCoreHours   float64
	MemoryGBHours  float64
	StorageGBHours float64
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Window validates a window: since before until, at most MaxWindow long.
// Bad input names the field.
func Window(since, until time.Time) error {
	if !since.Before(until) {
		return apperr.Invalid("until", "until must be after since")
	}
	if until.Sub(since) > MaxWindow {
		return apperr.Invalid("until", "the window from since to until must be at most 366 days")
	}
	return nil
}

// Report answers the usage of organization orgID (already authorized by
// the caller) during [since, until).
func (s *Service) Report(ctx context.Context, orgID string, since, until time.Time) (*Report, error) {
	if err := Window(since, until); err != nil {
		return nil, err
	}
	r := &Report{Since: since.UTC(), Until: until.UTC()}
	err := s.Lines(ctx, orgID, since, until, func(l *Line) error {
		r.WorkspaceHours += l.WorkspaceHours
		r.CPUCoreHours += l.CPUCoreHours
		r.MemoryGBHours += l.MemoryGBHours
		r.StorageGBHours += l.StorageGBHours
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.PeakUsers, err = s.Store.Usage.PeakUsers(ctx, orgID, since, until); err != nil {
		return nil, err
	}
	if r.ActiveUsers, err = s.Store.Usage.ActiveUsers(ctx, orgID, since, until); err != nil {
		return nil, err
	}
	return r, nil
}

// Lines calls fn with the usage of each workspace of organization orgID
// that existed during [since, until), in workspace ID order, as the rows
// are read (one workspace in memory at a time). fn's error stops it.
func (s *Service) Lines(ctx context.Context, orgID string, since, until time.Time, fn func(*Line) error) error {
	if err := Window(since, until); err != nil {
		return err
	}
	now := s.now()
	var cur *Line
	err := s.Store.Usage.EachWorkspaceUsage(ctx, orgID, since, until, func(u *store.WorkspaceUsage) error {
		if cur != nil && cur.WorkspaceID != u.WorkspaceID {
			if err := fn(cur); err != nil {
				return err
			}
			cur = nil
		}
		if cur == nil {
			cur = &Line{WorkspaceID: u.WorkspaceID}
		}
		cur.WorkspaceName = u.WorkspaceName
		add(cur, u, since, until, now)
		return nil
	})
	if err != nil || cur == nil {
		return err
	}
	return fn(cur)
}

// add counts the part of stretch u inside [since, until) and before now.
func add(l *Line, u *store.WorkspaceUsage, since, until, now time.Time) {
	start := latest(u.StartedAt, since)
	end := earliest(u.EndedAt, until, now)
	if !end.After(start) {
		return
	}
	hours := end.Sub(start).Hours()
	l.StorageGBHours += hours * float64(u.StorageGB)
	if u.Status != store.WorkspaceRunning {
		return
	}
	l.WorkspaceHours += hours
	l.CPUCoreHours += hours * float64(u.CPUCores)
	l.MemoryGBHours += hours * float64(u.MemoryMB) / 1024
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a time.Time, more ...time.Time) time.Time {
	for _, b := range more {
		if b.Before(a) {
			a = b
		}
	}
	return a
}
