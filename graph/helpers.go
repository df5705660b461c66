package graph

import (
	"context"
	"time"

	"github.com/neosc/neosc/graph/model"
	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/identity"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/loaders"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/workspaces"
)

func payload(s *identity.Session) *model.AuthPayload {
	return &model.AuthPayload{Token: s.Token, ExpiresAt: s.ExpiresAt, User: &s.Actor.User, Actor: s.Actor}
}

// lookup fetches the row behind a global ID of any node type. The @auth
// rules authorize the returned row against the caller (fetch, then
// authorize); a malformed or unknown ID is NOT_FOUND.
func (r *Resolver) lookup(ctx context.Context, globalID string, want ...ids.Type) (model.Node, error) {
	typ, id, ok := ids.Parse(globalID)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	if len(want) > 0 && typ != want[0] {
		return nil, apperr.ErrNotFound
	}
	switch typ {
	case ids.Organization:
		return r.Store.Organizations.GetByID(ctx, id)
	case ids.User:
		return r.Store.Users.GetByID(ctx, id)
	case ids.Workspace:
		return r.Store.Workspaces.GetByID(ctx, id)
	case ids.AuditEvent:
		return r.Store.AuditEvents.GetByID(ctx, id)
	case ids.APIToken:
		return r.Store.APITokens.GetByID(ctx, id)
	case ids.WorkspaceGrant:
		return r.Store.Grants.GetByID(ctx, id)
	}
	return nil, apperr.ErrNotFound
}

func createSpec(in model.CreateWorkspaceInput) workspaces.Spec {
	return workspaces.Spec{
		Name: in.Name, Description: in.Description, Type: in.Type, ConnectionType: in.ConnectionType,
		ImageURL: in.ImageURL, URL: in.URL, CPUCores: in.CPUCores, MemoryMB: in.MemoryMb, StorageGB: in.StorageGb,
	}
}

func updatePatch(in model.UpdateWorkspaceInput) workspaces.Patch {
	return workspaces.Patch{
		Name: in.Name, Description: in.Description, Type: in.Type, ConnectionType: in.ConnectionType,
		Status: in.Status, ImageURL: in.ImageURL, URL: in.URL, CPUCores: in.CPUCores, MemoryMB: in.MemoryMb,
		StorageGB: in.StorageGb,
	}
}

func auditFilter(f *model.AuditEventFilter) (store.AuditFilter, error) {
	var out store.AuditFilter
	if f == nil {
		return out, nil
	}
	if len(f.Actions) > 50 {
		return out, apperr.Invalid("filter.actions", "at most 50 actions")
	}
	out.Actions = f.Actions
	if f.ActorID != nil {
		id, ok := ids.Decode(ids.User, *f.ActorID)
		if !ok {
			return out, apperr.Invalid("filter.actorId", "actorId is not a user ID")
		}
		out.ActorID = id
	}
	if f.Outcome != nil {
		out.Outcome = *f.Outcome
	}
	out.Since, out.Until = f.Since, f.Until
	return out, nil
}

// organizations lists what the caller may see: every organization for a
// platform administrator, else their own.
func (r *Resolver) organizations(ctx context.Context, first *int, after *string) (*model.OrganizationConnection, error) {
	page, err := store.NewPage(first, after)
	if err != nil {
		return nil, err
	}
	actor := auth.ActorFrom(ctx)
	if actor == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if actor.IsPlatformAdmin() {
		rows, hasNext, err := r.Store.Organizations.ListAll(ctx, page)
		if err != nil {
			return nil, err
		}
		return &model.OrganizationConnection{Nodes: rows, HasNext: hasNext, CountAll: r.Store.Organizations.CountAll}, nil
	}
	own := actor.Organization
	conn := &model.OrganizationConnection{CountAll: func(context.Context) (int, error) { return 1, nil }}
	if cur, ok := store.CursorID(page.After); !ok || cur < own.ID {
		conn.Nodes = []*store.Organization{&own}
	}
	return conn, nil
}

// sharedWorkspaces lists the workspaces shared with the caller's
// organization through live grants.
func (r *Resolver) sharedWorkspaces(ctx context.Context, first *int, after *string) (*model.WorkspaceConnection, error) {
	page, err := store.NewPage(first, after)
	if err != nil {
		return nil, err
	}
	actor := auth.ActorFrom(ctx)
	if actor == nil {
		return nil, apperr.ErrUnauthenticated
	}
	now := time.Now()
	rows, hasNext, err := r.Store.Grants.SharedWith(ctx, actor.OrganizationID(), page, now)
	if err != nil {
		return nil, err
	}
	owners := make([]string, len(rows))
	for i, w := range rows {
		owners[i] = w.OrganizationID
	}
	if err := loaders.PrimeOrganizations(ctx, r.Store, owners); err != nil {
		return nil, err
	}
	return &model.WorkspaceConnection{Nodes: rows, HasNext: hasNext, CountAll: func(ctx context.Context) (int, error) {
		return r.Store.Grants.CountSharedWith(ctx, actor.OrganizationID(), now)
	}}, nil
}
