// Package model holds the GraphQL types that are not store rows: connections,
// edges, page info, inputs and the session payload. models_gen.go is
// generated; the other files are written by hand.
package model

import (
	"context"

	"github.com/neosc/neosc/internal/store"
)

// Counter computes a connection's totalCount on demand.
type Counter func(ctx context.Context) (int, error)

func pageInfo(hasNext bool, lastID string) *PageInfo {
	pi := &PageInfo{HasNextPage: hasNext}
	if lastID != "" {
		c := store.Cursor(lastID)
		pi.EndCursor = &c
	}
	return pi
}

// OrganizationConnection is a page of organizations.
type OrganizationConnection struct {
	Nodes    []*store.Organization
	HasNext  bool
	CountAll Counter
}

// Edges pairs each node with its cursor.
func (c *OrganizationConnection) Edges() []*OrganizationEdge {
	out := make([]*OrganizationEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = &OrganizationEdge{Cursor: store.Cursor(n.ID), Node: n}
	}
	return out
}

// PageInfo tells where the page ends.
func (c *OrganizationConnection) PageInfo() *PageInfo {
	if len(c.Nodes) == 0 {
		return pageInfo(c.HasNext, "")
	}
	return pageInfo(c.HasNext, c.Nodes[len(c.Nodes)-1].ID)
}

// TotalCount counts every organization of the listing, not only this page.
func (c *OrganizationConnection) TotalCount(ctx context.Context) (int, error) { return c.CountAll(ctx) }

// UserConnection is a page of users.
type UserConnection struct {
	Nodes    []*store.User
	HasNext  bool
	CountAll Counter
}

// Edges pairs each node with its cursor.
func (c *UserConnection) Edges() []*UserEdge {
	out := make([]*UserEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = &UserEdge{Cursor: store.Cursor(n.ID), Node: n}
	}
	return out
}

// PageInfo tells where the page ends.
func (c *UserConnection) PageInfo() *PageInfo {
	if len(c.Nodes) == 0 {
		return pageInfo(c.HasNext, "")
	}
	return pageInfo(c.HasNext, c.Nodes[len(c.Nodes)-1].ID)
}

// TotalCount counts every user of the listing, not only this page.
func (c *UserConnection) TotalCount(ctx context.Context) (int, error) { return c.CountAll(ctx) }

// WorkspaceConnection is a page of workspaces.
type WorkspaceConnection struct {
	Nodes    []*store.Workspace
	HasNext  bool
	CountAll Counter
}

// Edges pairs each node with its cursor.
func (c *WorkspaceConnection) Edges() []*WorkspaceEdge {
	out := make([]*WorkspaceEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = &WorkspaceEdge{Cursor: store.Cursor(n.ID), Node: n}
	}
	return out
}

// PageInfo tells where the page ends.
func (c *WorkspaceConnection) PageInfo() *PageInfo {
	if len(c.Nodes) == 0 {
		return pageInfo(c.HasNext, "")
	}
	return pageInfo(c.HasNext, c.Nodes[len(c.Nodes)-1].ID)
}

// TotalCount counts every workspace of the listing, not only this page.
func (c *WorkspaceConnection) TotalCount(ctx context.Context) (int, error) { return c.CountAll(ctx) }

// AuditEventConnection is a page of audit events, newest first.
type AuditEventConnection struct {
	Nodes   []*store.AuditEvent
	HasNext bool
}

// Edges pairs each node with its cursor.
func (c *AuditEventConnection) Edges() []*AuditEventEdge {
	out := make([]*AuditEventEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = &AuditEventEdge{Cursor: store.Cursor(n.ID), Node: n}
	}
	return out
}

// PageInfo tells where the page ends.
func (c *AuditEventConnection) PageInfo() *PageInfo {
	if len(c.Nodes) == 0 {
		return pageInfo(c.HasNext, "")
	}
	return pageInfo(c.HasNext, c.Nodes[len(c.Nodes)-1].ID)
}

// APITokenConnection is a page of API tokens, newest first.
type APITokenConnection struct {
	Nodes    []*store.APIToken
	HasNext  bool
	CountAll Counter
}

// Edges pairs each node with its cursor.
func (c *APITokenConnection) Edges() []*APITokenEdge {
	out := make([]*APITokenEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = &APITokenEdge{Cursor: store.Cursor(n.ID), Node: n}
	}
	return out
}

// PageInfo tells where the page ends.
func (c *APITokenConnection) PageInfo() *PageInfo {
	if len(c.Nodes) == 0 {
		return pageInfo(c.HasNext, "")
	}
	return pageInfo(c.HasNext, c.Nodes[len(c.Nodes)-1].ID)
}

// TotalCount counts every token of the organization.
func (c *APITokenConnection) TotalCount(ctx context.Context) (int, error) { return c.CountAll(ctx) }

// APITokenEdge is one token of a page.
type APITokenEdge struct {
	Cursor string
	Node   *store.APIToken
}

// WorkspaceGrantConnection is a page of a workspace's grants.
type WorkspaceGrantConnection struct {
	Nodes    []*store.WorkspaceGrant
	HasNext  bool
	CountAll Counter
}

// Edges pairs each node with its cursor.
func (c *WorkspaceGrantConnection) Edges() []*WorkspaceGrantEdge {
	out := make([]*WorkspaceGrantEdge, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = &WorkspaceGrantEdge{Cursor: store.Cursor(n.ID), Node: n}
	}
	return out
}

// PageInfo tells where the page ends.
func (c *WorkspaceGrantConnection) PageInfo() *PageInfo {
	if len(c.Nodes) == 0 {
		return pageInfo(c.HasNext, "")
	}
	return pageInfo(c.HasNext, c.Nodes[len(c.Nodes)-1].ID)
}

// TotalCount counts every grant of the workspace.
func (c *WorkspaceGrantConnection) TotalCount(ctx context.Context) (int, error) {
	return c.CountAll(ctx)
}
