// Package model holds the GraphQL types that are not store rows: connections,
// edges, page info and the session payload. models_gen.go is generated; the
// other files are written by hand.
package model

import (
	"context"

	"github.com/neosc/neosc/internal/store"
)

// Keyed is a row with a primary key: the keyset cursor of its edge.
type Keyed interface{ RowID() string }

// Page is what every connection is made of: one page of rows, whether more
// follow, and the count of the whole list (computed only when selected).
type Page[N Keyed] struct {
	Nodes   []N
	HasNext bool
	// CountAll computes totalCount; nil where the connection has none.
	CountAll func(context.Context) (int, error)
}

// PageOf is the page of a service's listing.
func PageOf[N Keyed](l store.Listing[N]) Page[N] {
	return Page[N]{Nodes: l.Rows, HasNext: l.HasNext, CountAll: l.Count}
}

// PageInfo tells where the page starts and ends. HasPreviousPage stays
// false: pagination is forward only (Relay allows false with first/after).
func (p *Page[N]) PageInfo() *PageInfo {
	pi := &PageInfo{HasNextPage: p.HasNext}
	if len(p.Nodes) > 0 {
		first, last := store.Cursor(p.Nodes[0].RowID()), store.Cursor(p.Nodes[len(p.Nodes)-1].RowID())
		pi.StartCursor, pi.EndCursor = &first, &last
	}
	return pi
}

// TotalCount counts every row of the list, not only this page.
func (p *Page[N]) TotalCount(ctx context.Context) (int, error) { return p.CountAll(ctx) }

// edgesOf pairs each row of a page with its cursor.
func edgesOf[N Keyed, E any](p *Page[N], edge func(cursor string, node N) E) []E {
	out := make([]E, len(p.Nodes))
	for i, n := range p.Nodes {
		out[i] = edge(store.Cursor(n.RowID()), n)
	}
	return out
}

// OrganizationConnection is a page of organizations.
type OrganizationConnection struct{ Page[*store.Organization] }

// Edges pairs each node with its cursor.
func (c *OrganizationConnection) Edges() []*OrganizationEdge {
	return edgesOf(&c.Page, func(cursor string, n *store.Organization) *OrganizationEdge {
		return &OrganizationEdge{Cursor: cursor, Node: n}
	})
}

// UserConnection is a page of users.
type UserConnection struct{ Page[*store.User] }

// Edges pairs each node with its cursor.
func (c *UserConnection) Edges() []*UserEdge {
	return edgesOf(&c.Page, func(cursor string, n *store.User) *UserEdge { return &UserEdge{Cursor: cursor, Node: n} })
}

// WorkspaceConnection is a page of workspaces.
type WorkspaceConnection struct{ Page[*store.Workspace] }

// Edges pairs each node with its cursor.
func (c *WorkspaceConnection) Edges() []*WorkspaceEdge {
	return edgesOf(&c.Page, func(cursor string, n *store.Workspace) *WorkspaceEdge {
		return &WorkspaceEdge{Cursor: cursor, Node: n}
	})
}

// AuditEventConnection is a page of audit events, newest first (no
// totalCount: counting a trail is not cheap).
type AuditEventConnection struct{ Page[*store.AuditEvent] }

// Edges pairs each node with its cursor.
func (c *AuditEventConnection) Edges() []*AuditEventEdge {
	return edgesOf(&c.Page, func(cursor string, n *store.AuditEvent) *AuditEventEdge {
		return &AuditEventEdge{Cursor: cursor, Node: n}
	})
}

// APITokenConnection is a page of API tokens, newest first.
type APITokenConnection struct{ Page[*store.APIToken] }

// Edges pairs each node with its cursor.
func (c *APITokenConnection) Edges() []*APITokenEdge {
	return edgesOf(&c.Page, func(cursor string, n *store.APIToken) *APITokenEdge {
		return &APITokenEdge{Cursor: cursor, Node: n}
	})
}

// APITokenEdge is one token of a page.
type APITokenEdge struct {
	Cursor string
	Node   *store.APIToken
}

// WorkspaceGrantConnection is a page of a workspace's grants.
type WorkspaceGrantConnection struct{ Page[*store.WorkspaceGrant] }

// Edges pairs each node with its cursor.
func (c *WorkspaceGrantConnection) Edges() []*WorkspaceGrantEdge {
	return edgesOf(&c.Page, func(cursor string, n *store.WorkspaceGrant) *WorkspaceGrantEdge {
		return &WorkspaceGrantEdge{Cursor: cursor, Node: n}
	})
}

// InvitationConnection is a page of invitations, newest first.
type InvitationConnection struct{ Page[*store.Invitation] }

// Edges pairs each node with its cursor.
func (c *InvitationConnection) Edges() []*InvitationEdge {
	return edgesOf(&c.Page, func(cursor string, n *store.Invitation) *InvitationEdge {
		return &InvitationEdge{Cursor: cursor, Node: n}
	})
}
