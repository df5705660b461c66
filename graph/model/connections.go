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

// pageInfoOf says where a page of rows (keyed by id) ends.
func pageInfoOf[N any](nodes []N, hasNext bool, id func(N) string) *PageInfo {
	pi := &PageInfo{HasNextPage: hasNext}
	if len(nodes) > 0 {
		c := store.Cursor(id(nodes[len(nodes)-1]))
		pi.EndCursor = &c
	}
	return pi
}

// edgesOf pairs each row with its cursor.
func edgesOf[N, E any](nodes []N, id func(N) string, edge func(cursor string, node N) E) []E {
	out := make([]E, len(nodes))
	for i, n := range nodes {
		out[i] = edge(store.Cursor(id(n)), n)
	}
	return out
}

func orgID(n *store.Organization) string     { return n.ID }
func userID(n *store.User) string            { return n.ID }
func workspaceID(n *store.Workspace) string  { return n.ID }
func eventID(n *store.AuditEvent) string     { return n.ID }
func tokenID(n *store.APIToken) string       { return n.ID }
func grantID(n *store.WorkspaceGrant) string { return n.ID }

// OrganizationConnection is a page of organizations.
type OrganizationConnection struct {
	Nodes    []*store.Organization
	HasNext  bool
	CountAll Counter
}

// Edges pairs each node with its cursor.
func (c *OrganizationConnection) Edges() []*OrganizationEdge {
	return edgesOf(c.Nodes, orgID, func(cursor string, node *store.Organization) *OrganizationEdge {
		return &OrganizationEdge{Cursor: cursor, Node: node}
	})
}

// PageInfo tells where the page ends.
func (c *OrganizationConnection) PageInfo() *PageInfo {
	return pageInfoOf(c.Nodes, c.HasNext, orgID)
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
	return edgesOf(c.Nodes, userID, func(cursor string, node *store.User) *UserEdge { return &UserEdge{Cursor: cursor, Node: node} })
}

// PageInfo tells where the page ends.
func (c *UserConnection) PageInfo() *PageInfo {
	return pageInfoOf(c.Nodes, c.HasNext, userID)
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
	return edgesOf(c.Nodes, workspaceID, func(cursor string, node *store.Workspace) *WorkspaceEdge {
		return &WorkspaceEdge{Cursor: cursor, Node: node}
	})
}

// PageInfo tells where the page ends.
func (c *WorkspaceConnection) PageInfo() *PageInfo {
	return pageInfoOf(c.Nodes, c.HasNext, workspaceID)
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
	return edgesOf(c.Nodes, eventID, func(cursor string, node *store.AuditEvent) *AuditEventEdge {
		return &AuditEventEdge{Cursor: cursor, Node: node}
	})
}

// PageInfo tells where the page ends.
func (c *AuditEventConnection) PageInfo() *PageInfo {
	return pageInfoOf(c.Nodes, c.HasNext, eventID)
}

// APITokenConnection is a page of API tokens, newest first.
type APITokenConnection struct {
	Nodes    []*store.APIToken
	HasNext  bool
	CountAll Counter
}

// Edges pairs each node with its cursor.
func (c *APITokenConnection) Edges() []*APITokenEdge {
	return edgesOf(c.Nodes, tokenID, func(cursor string, node *store.APIToken) *APITokenEdge {
		return &APITokenEdge{Cursor: cursor, Node: node}
	})
}

// PageInfo tells where the page ends.
func (c *APITokenConnection) PageInfo() *PageInfo {
	return pageInfoOf(c.Nodes, c.HasNext, tokenID)
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
	return edgesOf(c.Nodes, grantID, func(cursor string, node *store.WorkspaceGrant) *WorkspaceGrantEdge {
		return &WorkspaceGrantEdge{Cursor: cursor, Node: node}
	})
}

// PageInfo tells where the page ends.
func (c *WorkspaceGrantConnection) PageInfo() *PageInfo {
	return pageInfoOf(c.Nodes, c.HasNext, grantID)
}

// TotalCount counts every grant of the workspace.
func (c *WorkspaceGrantConnection) TotalCount(ctx context.Context) (int, error) {
	return c.CountAll(ctx)
}
