// Package workspaces creates, changes and deletes workspaces.
//
// Rules:
//   - The organization of a new workspace is the caller's, never input.
//   - Every method authorizes through internal/authz first: a create in the
//     caller's own organization (Own), a workspace named by ID fetched and
//     authorized against its own organization (Fetch): another
//     organization's is NOT_FOUND, exactly like a missing one, and recorded
//     as access.denied.
//   - Each change, its counter update and its audit event share one
//     transaction. Creates, deletes and resizes lock the organization row
//     first (its counters and quota, internal/quota); other updates lock
//     the workspace row they read.
package workspaces

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/names"
	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/store"
)

// Resource bounds of one workspace.
const (
	MinCPUCores  = 1
	MaxCPUCores  = 256
	MinMemoryMB  = 128
	MaxMemoryMB  = 1 << 20 // 1 TiB
	MinStorageGB = 1
	MaxStorageGB = 65536
	maxDescLen   = 2000
	maxURLLen    = 2048
)

// Service manages workspaces.
type Service struct {
	Store *store.Store
	Authz *authz.Authorizer
	Log   *slog.Logger
	// Now is the clock of the usage records and timestamps (time.Now when
	// nil); tests inject one.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Spec is a full workspace description (create).
type Spec struct {
	Name           string
	Description    *string
	Type           store.WorkspaceType
	ConnectionType store.ConnectionType
	ImageURL       *string
	URL            *string
	CPUCores       int
	MemoryMB       int
	StorageGB      int
}

// Patch changes some fields (update); nil leaves a field unchanged.
type Patch struct {
	Name           *string
	Description    *string
	Type           *store.WorkspaceType
	ConnectionType *store.ConnectionType
	Status         *store.WorkspaceStatus
	ImageURL       *string
	URL            *string
	CPUCores       *int
	MemoryMB       *int
	StorageGB      *int
}

// Create adds a workspace to the caller's organization.
func (s *Service) Create(ctx context.Context, in Spec) (*store.Workspace, error) {
	actor, err := s.Authz.Own(ctx, authz.OrgAdmin)
	if err != nil {
		return nil, err
	}
	now := s.now()
	w := &store.Workspace{
		ID: ids.New(), OrganizationID: actor.OrganizationID(), Type: in.Type, ConnectionType: in.ConnectionType,
		Status: store.WorkspaceAvailable, CPUCores: in.CPUCores, MemoryMB: in.MemoryMB, StorageGB: in.StorageGB,
		CreatedAt: now, UpdatedAt: now,
	}
	if w.Name, err = names.Clean("name", in.Name, 100); err != nil {
		return nil, err
	}
	if in.Description != nil {
		w.Description = *in.Description
	}
	w.ImageURL, w.URL = in.ImageURL, in.URL
	if err := validate(w); err != nil {
		return nil, err
	}
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		// Organization row first: lock, quota and counters (internal/quota).
		if _, err := quota.Add(ctx, tx, w.OrganizationID, quota.Resources(w), audit.ActorOf(actor)); err != nil {
			return err
		}
		if err := tx.Workspaces.Create(ctx, w); err != nil {
			return err
		}
		if err := tx.Usage.StartWorkspace(ctx, w, now); err != nil { // usage for billing
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.WorkspaceCreated, OrganizationID: w.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.Workspace, TargetID: w.ID, TargetOrgID: w.OrganizationID,
			Metadata: map[string]any{"workspace": audit.Snapshot(w)},
		})
	})
	if errors.Is(err, store.ErrDuplicate) {
		return nil, apperr.Wrap(err, apperr.Conflict, "a workspace with this name already exists in the organization")
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Update changes the given fields of a workspace.
func (s *Service) Update(ctx context.Context, globalID string, p Patch) (*store.Workspace, error) {
	actor := auth.ActorFrom(ctx)
	var out *store.Workspace
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		if p.resizes() {
			// A resize moves the organization's usage: its row is locked
			// first (the lock order), then the workspace re-read under its
			// own lock, so the difference counted is the current one.
			w, err := authz.Fetch[*store.Workspace](ctx, s.Authz, tx, globalID, authz.OrgAdmin)
			if err != nil {
				return err
			}
			if _, err := tx.Organizations.Lock(ctx, w.OrganizationID); err != nil {
				return err
			}
		}
		w, err := authz.FetchForUpdate[*store.Workspace](ctx, s.Authz, tx, globalID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		before := *w // Patch replaces pointer fields, never writes through them
		if p.Name != nil {
			if w.Name, err = names.Clean("name", *p.Name, 100); err != nil {
				return err
			}
		}
		if p.Description != nil {
			w.Description = *p.Description
		}
		if p.Type != nil {
			w.Type = *p.Type
		}
		if p.ConnectionType != nil {
			w.ConnectionType = *p.ConnectionType
		}
		if p.Status != nil {
			w.Status = *p.Status
		}
		if p.ImageURL != nil {
			w.ImageURL = p.ImageURL
		}
		if p.URL != nil {
			w.URL = p.URL
		}
		if p.CPUCores != nil {
			w.CPUCores = *p.CPUCores
		}
		if p.MemoryMB != nil {
			w.MemoryMB = *p.MemoryMB
		}
		if p.StorageGB != nil {
			w.StorageGB = *p.StorageGB
		}
		if err := validate(w); err != nil {
			return err
		}
		changes := audit.Diff(&before, w)
		if len(changes) == 0 {
			out = w
			return nil
		}
		if d := quota.Resize(&before, w); d != (store.Usage{}) {
			if _, err := quota.Add(ctx, tx, w.OrganizationID, d, audit.ActorOf(actor)); err != nil {
				return err
			}
		}
		w.UpdatedAt = s.now()
		if err := tx.Workspaces.Update(ctx, w); err != nil {
			return err
		}
		if err := s.recordUsage(ctx, tx, &before, w); err != nil {
			return err
		}
		out = w
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.WorkspaceUpdated, OrganizationID: w.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.Workspace, TargetID: w.ID, TargetOrgID: w.OrganizationID,
			Metadata: map[string]any{"changes": changes},
		})
	})
	if errors.Is(err, store.ErrDuplicate) {
		return nil, apperr.Wrap(err, apperr.Conflict, "a workspace with this name already exists in the organization")
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes a workspace and answers its global ID.
func (s *Service) Delete(ctx context.Context, globalID string) (string, error) {
	actor := auth.ActorFrom(ctx)
	var id string
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		w, err := authz.Fetch[*store.Workspace](ctx, s.Authz, tx, globalID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		// Organization row first (counters and lock), then the workspace,
		// re-read under its lock so that the resources released are the
		// current ones; a concurrent delete of the same row finds nothing
		// and rolls back.
		if _, err := tx.Organizations.Lock(ctx, w.OrganizationID); err != nil {
			return err
		}
		if w, err = authz.FetchForUpdate[*store.Workspace](ctx, s.Authz, tx, globalID, authz.OrgAdmin); err != nil {
			return err
		}
		if _, err := quota.Add(ctx, tx, w.OrganizationID, quota.Negate(quota.Resources(w)), audit.ActorOf(actor)); err != nil {
			return err
		}
		if err := tx.Workspaces.Delete(ctx, w.OrganizationID, w.ID); err != nil {
			return err
		}
		if err := tx.Usage.EndWorkspace(ctx, w.OrganizationID, w.ID, s.now()); err != nil { // usage for billing
			return err
		}
		id = w.GlobalID()
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.WorkspaceDeleted, OrganizationID: w.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.Workspace, TargetID: w.ID, TargetOrgID: w.OrganizationID,
			Metadata: map[string]any{"workspace": audit.Snapshot(w)},
		})
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// resizes reports whether p may change the resources a workspace holds.
func (p Patch) resizes() bool {
	return p.CPUCores != nil || p.MemoryMB != nil || p.StorageGB != nil
}

// recordUsage ends the workspace's usage row and opens the next when the
// change touches what is billed (status, resources, name), at the change's
// time, in its transaction.
func (s *Service) recordUsage(ctx context.Context, tx *store.Store, before, after *store.Workspace) error {
	if !store.UsageOf(before).Billed(store.UsageOf(after)) {
		return nil
	}
	if err := tx.Usage.EndWorkspace(ctx, after.OrganizationID, after.ID, after.UpdatedAt); err != nil {
		return err
	}
	return tx.Usage.StartWorkspace(ctx, after, after.UpdatedAt)
}

func validate(w *store.Workspace) error {
	if utf8.RuneCountInString(w.Description) > maxDescLen {
		return apperr.Invalid("description", "description must be at most %d characters", maxDescLen)
	}
	if w.CPUCores < MinCPUCores || w.CPUCores > MaxCPUCores {
		return apperr.Invalid("cpuCores", "cpuCores must be between %d and %d", MinCPUCores, MaxCPUCores)
	}
	if w.MemoryMB < MinMemoryMB || w.MemoryMB > MaxMemoryMB {
		return apperr.Invalid("memoryMb", "memoryMb must be between %d and %d", MinMemoryMB, MaxMemoryMB)
	}
	if w.StorageGB < MinStorageGB || w.StorageGB > MaxStorageGB {
		return apperr.Invalid("storageGb", "storageGb must be between %d and %d", MinStorageGB, MaxStorageGB)
	}
	var err error
	if w.ImageURL, err = cleanURL("imageUrl", w.ImageURL); err != nil {
		return err
	}
	if w.URL, err = cleanURL("url", w.URL); err != nil {
		return err
	}
	return nil
}

// cleanURL accepts an absolute http(s) URL without credentials; "" clears.
func cleanURL(field string, s *string) (*string, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	if len(*s) > maxURLLen {
		return nil, apperr.Invalid(field, "%s must be at most %d characters", field, maxURLLen)
	}
	u, err := url.Parse(*s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, apperr.Invalid(field, "%s must be an absolute http or https URL without credentials", field)
	}
	return s, nil
}
