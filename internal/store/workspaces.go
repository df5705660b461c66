package store

import (
	"context"

	"gorm.io/gorm"
)

// Workspaces reads and writes workspaces.
type Workspaces struct{ db *gorm.DB }

// GetByID fetches a workspace by primary key, unscoped: callers authorize
// against the returned row's organization (fetch, then authorize). Missing
// rows answer apperr.ErrNotFound.
func (r Workspaces) GetByID(ctx context.Context, id string) (*Workspace, error) {
	return lookup[Workspace](ctx, r.db, id, false)
}

// GetByIDForUpdate is GetByID that also locks the row until the end of the
// transaction (MySQL; SQLite transactions already hold the write lock), so
// two concurrent updates cannot lose one another's changes.
func (r Workspaces) GetByIDForUpdate(ctx context.Context, id string) (*Workspace, error) {
	return lookup[Workspace](ctx, r.db, id, true)
}

// ListByIDs fetches the workspaces with the given IDs, in any order; the
// caller maps them by ID and authorizes each.
func (r Workspaces) ListByIDs(ctx context.Context, idList []string) ([]*Workspace, error) {
	var out []*Workspace
	if len(idList) == 0 {
		return out, nil
	}
	err := r.db.WithContext(ctx).Where("id IN ?", idList).Find(&out).Error
	return out, err
}

// ListByOrganization lists one organization's workspaces, oldest first.
func (r Workspaces) ListByOrganization(ctx context.Context, orgID string, p Page) ([]*Workspace, bool, error) {
	if orgID == "" {
		return nil, false, ErrNoScope
	}
	q := r.db.WithContext(ctx).Model(&Workspace{}).Where("organization_id = ?", orgID)
	return keysetScan[Workspace](seek(q, "workspaces", "workspaces_organization"), p, false, workspaceColumns)
}

// Create inserts a workspace. The caller adds to the organization's counter
// first, in the same transaction.
func (r Workspaces) Create(ctx context.Context, w *Workspace) error {
	if w.OrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Create(w).Error
}

// Update writes every column of w back, inside its organization only.
func (r Workspaces) Update(ctx context.Context, w *Workspace) error {
	if w.OrganizationID == "" {
		return ErrNoScope
	}
	return updateIn(ctx, r.db, w.OrganizationID, w.ID, w, "name", "description", "type", "connection_type", "status",
		"image_url", "url", "cpu_cores", "memory_mb", "storage_gb", "updated_at")
}

// Delete removes a workspace of an organization; apperr.ErrNotFound when no
// such row exists there (already deleted, or never there).
func (r Workspaces) Delete(ctx context.Context, orgID, id string) error {
	if orgID == "" {
		return ErrNoScope
	}
	return deleteIn[Workspace](ctx, r.db, orgID, id)
}
