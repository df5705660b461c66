package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Grants reads and writes partner workspace grants.
type Grants struct{ db *gorm.DB }

// Create inserts a grant.
func (r Grants) Create(ctx context.Context, g *WorkspaceGrant) error {
	if g.OrganizationID == "" || g.GranteeOrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Create(g).Error
}

// GetByID fetches a grant by primary key, unscoped: callers authorize
// against the returned row's (owner) organization.
func (r Grants) GetByID(ctx context.Context, id string) (*WorkspaceGrant, error) {
	return lookup[WorkspaceGrant](ctx, r.db, id, false)
}

// Find returns the owner's grant of a workspace to a grantee, live or not;
// nil when there is none.
func (r Grants) Find(ctx context.Context, ownerID, workspaceID, granteeID string) (*WorkspaceGrant, error) {
	if ownerID == "" {
		return nil, ErrNoScope
	}
	return firstOrNil[WorkspaceGrant](r.db.WithContext(ctx).
		Where("organization_id = ? AND workspace_id = ? AND grantee_organization_id = ?", ownerID, workspaceID, granteeID))
}

// Delete removes a grant of the owner organization.
func (r Grants) Delete(ctx context.Context, ownerID, id string) error {
	if ownerID == "" {
		return ErrNoScope
	}
	return deleteIn[WorkspaceGrant](ctx, r.db, ownerID, id)
}

// ListByWorkspace lists the grants of one of the owner's workspaces, oldest
// first.
func (r Grants) ListByWorkspace(ctx context.Context, ownerID, workspaceID string, p Page) ([]*WorkspaceGrant, bool, error) {
	if ownerID == "" {
		return nil, false, ErrNoScope
	}
	q := r.db.WithContext(ctx).Model(&WorkspaceGrant{}).Where("organization_id = ? AND workspace_id = ?", ownerID, workspaceID)
	return keyset[*WorkspaceGrant](seek(q, "workspace_grants", "workspace_grants_workspace"), p, false)
}

// CountByWorkspace counts the grants of one of the owner's workspaces.
func (r Grants) CountByWorkspace(ctx context.Context, ownerID, workspaceID string) (int, error) {
	if ownerID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&WorkspaceGrant{}).
		Where("organization_id = ? AND workspace_id = ?", ownerID, workspaceID).Count(&n).Error
	return int(n), err
}

// LiveWorkspaceIDs returns which of workspaceIDs the grantee holds a live
// grant on at now.
func (r Grants) LiveWorkspaceIDs(ctx context.Context, granteeID string, workspaceIDs []string, now time.Time) (map[string]bool, error) {
	if granteeID == "" {
		return nil, ErrNoScope
	}
	out := map[string]bool{}
	if len(workspaceIDs) == 0 {
		return out, nil
	}
	var found []string
	err := r.db.WithContext(ctx).Model(&WorkspaceGrant{}).
		Where("grantee_organization_id = ? AND workspace_id IN ? AND status = ? AND expires_at > ?", granteeID, workspaceIDs, GrantAccepted, now.UTC()).
		Pluck("workspace_id", &found).Error
	for _, id := range found {
		out[id] = true
	}
	return out, err
}

// SharedWith lists the workspaces the grantee holds live grants on, by
// workspace ID.
func (r Grants) SharedWith(ctx context.Context, granteeID string, p Page, now time.Time) ([]*Workspace, bool, error) {
	if granteeID == "" {
		return nil, false, ErrNoScope
	}
	// A join read from the grants: a range on workspace_grants_grantee
	// (grantee_organization_id, workspace_id) from the cursor, each
	// workspace by primary key; a workspace has one grant per grantee.
	q := r.db.WithContext(ctx).Model(&Workspace{}).
		Joins("JOIN workspace_grants"+forceIndex(r.db, "workspace_grants_grantee")+" ON workspace_grants.workspace_id = workspaces.id").
		Where("workspace_grants.grantee_organization_id = ? AND workspace_grants.status = ? AND workspace_grants.expires_at > ?",
			granteeID, GrantAccepted, now.UTC())
	return keysetScanOn[Workspace](q, p, false, "workspace_grants.workspace_id", qualified("workspaces", workspaceColumns))
}

// CountSharedWith counts the workspaces the grantee holds live grants on.
func (r Grants) CountSharedWith(ctx context.Context, granteeID string, now time.Time) (int, error) {
	if granteeID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&WorkspaceGrant{}).
		Where("grantee_organization_id = ? AND status = ? AND expires_at > ?", granteeID, GrantAccepted, now.UTC()).Count(&n).Error
	return int(n), err
}

// Respond records the grantee's answer to a pending grant of the owner
// organization (ACCEPTED or DECLINED); NOT_FOUND when it is no longer
// pending.
func (r Grants) Respond(ctx context.Context, ownerID, id string, status GrantStatus, at time.Time) error {
	if ownerID == "" {
		return ErrNoScope
	}
	res := r.db.WithContext(ctx).Model(&WorkspaceGrant{}).
		Where("organization_id = ? AND id = ? AND status = ?", ownerID, id, GrantPending).
		Updates(map[string]any{"status": status, "responded_at": at})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return notFound(gorm.ErrRecordNotFound)
	}
	return nil
}

// ListIncoming lists the grants offered to the grantee organization (any
// status), newest first.
func (r Grants) ListIncoming(ctx context.Context, granteeID string, p Page) ([]*WorkspaceGrant, bool, error) {
	if granteeID == "" {
		return nil, false, ErrNoScope
	}
	q := r.db.WithContext(ctx).Model(&WorkspaceGrant{}).Where("grantee_organization_id = ?", granteeID)
	return keyset[*WorkspaceGrant](seek(q, "workspace_grants", "workspace_grants_grantee_id"), p, true)
}

// CountIncoming counts the grants offered to the grantee organization.
func (r Grants) CountIncoming(ctx context.Context, granteeID string) (int, error) {
	if granteeID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&WorkspaceGrant{}).Where("grantee_organization_id = ?", granteeID).Count(&n).Error
	return int(n), err
}
