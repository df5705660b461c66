package workspaces

import (
	"context"
	"errors"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/loaders"
	"github.com/neosc/neosc/internal/store"
)

// Grant lifetimes.
const (
	DefaultGrantLifetime = 30 * 24 * time.Hour
	MaxGrantLifetime     = 366 * 24 * time.Hour
)

// GrantInput shares a workspace with a partner organization.
type GrantInput struct {
	WorkspaceID           string // global IDs
	GranteeOrganizationID string
	ExpiresAt             *time.Time
}

// Grant offers one of the caller's organization's workspaces to a partner
// organization until ExpiresAt. The grant is PENDING and gives nothing until
// an ADMIN of the partner accepts it. A pending or accepted grant to the
// same partner is a CONFLICT; an expired or declined one is replaced.
// Recorded in both organizations' trails.
func (s *Service) Grant(ctx context.Context, in GrantInput) (*store.WorkspaceGrant, error) {
	actor := auth.ActorFrom(ctx)
	now := time.Now().UTC().Truncate(time.Microsecond)
	var g *store.WorkspaceGrant
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		w, err := authz.Fetch[*store.Workspace](ctx, s.Authz, tx, in.WorkspaceID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		granteeID, exp, err := checkGrant(in, now)
		if err != nil {
			return err
		}
		if granteeID == w.OrganizationID {
			return apperr.Invalid("granteeOrganizationId", "a workspace cannot be shared with its own organization")
		}
		grantee, err := tx.Organizations.GetByID(ctx, granteeID)
		if err != nil {
			return err
		}
		existing, err := tx.Grants.Find(ctx, w.OrganizationID, w.ID, grantee.ID)
		if err != nil {
			return err
		}
		if existing != nil {
			if existing.Open(now) {
				return apperr.New(apperr.Conflict, "this workspace is already shared with that organization; revoke the grant first")
			}
			if err := tx.Grants.Delete(ctx, w.OrganizationID, existing.ID); err != nil {
				return err
			}
		}
		creator := actor.UserID()
		g = &store.WorkspaceGrant{
			ID: ids.New(), OrganizationID: w.OrganizationID, WorkspaceID: w.ID, GranteeOrganizationID: grantee.ID,
			CreatedAt: now, ExpiresAt: exp, Status: store.GrantPending,
		}
		if creator != "" {
			g.CreatedByID = &creator
		}
		if err := tx.Grants.Create(ctx, g); err != nil {
			return err
		}
		return recordBoth(ctx, tx, audit.Event{
			Action: audit.WorkspaceGrantCreated, Actor: audit.ActorOf(actor),
			TargetType: ids.Workspace, TargetID: w.ID, TargetOrgID: w.OrganizationID,
			Metadata: map[string]any{
				"grantId": g.GlobalID(), "workspace": w.Name, "granteeOrganizationId": ids.Encode(ids.Organization, grantee.ID),
				"granteeOrganization": grantee.Name, "expiresAt": exp.Format(time.RFC3339),
			},
		}, w.OrganizationID, grantee.ID)
	})
	if errors.Is(err, store.ErrDuplicate) { // a concurrent grant to the same partner won
		return nil, apperr.Wrap(err, apperr.Conflict, "this workspace is already shared with that organization; revoke the grant first")
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

// checkGrant validates a grant's partner and end, after the workspace has
// been authorized (a caller learns nothing from validation first).
func checkGrant(in GrantInput, now time.Time) (granteeID string, exp time.Time, err error) {
	granteeID, ok := ids.Decode(ids.Organization, in.GranteeOrganizationID)
	if !ok {
		return "", exp, apperr.Invalid("granteeOrganizationId", "granteeOrganizationId is not an organization ID")
	}
	exp = now.Add(DefaultGrantLifetime)
	if in.ExpiresAt != nil {
		exp = in.ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	if !exp.After(now) || exp.After(now.Add(MaxGrantLifetime)) {
		return "", exp, apperr.Invalid("expiresAt", "expiresAt must be in the future and at most 366 days away")
	}
	return granteeID, exp, nil
}

// Revoke ends a grant of the caller's organization; the partner loses
// access on its next request. It answers the grant's global ID.
func (s *Service) Revoke(ctx context.Context, globalID string) (string, error) {
	actor := auth.ActorFrom(ctx)
	var id string
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		g, err := authz.Fetch[*store.WorkspaceGrant](ctx, s.Authz, tx, globalID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		id = g.GlobalID()
		if err := tx.Grants.Delete(ctx, g.OrganizationID, g.ID); err != nil {
			return err
		}
		return recordBoth(ctx, tx, audit.Event{
			Action: audit.WorkspaceGrantRevoked, Actor: audit.ActorOf(actor),
			TargetType: ids.Workspace, TargetID: g.WorkspaceID, TargetOrgID: g.OrganizationID,
			Metadata: map[string]any{"grantId": g.GlobalID(), "granteeOrganizationId": ids.Encode(ids.Organization, g.GranteeOrganizationID)},
		}, g.OrganizationID, g.GranteeOrganizationID)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// Respond records the grantee's answer to a pending grant: accept makes it
// live (the partner's members reach the workspace from the next request),
// decline ends it. Only an ADMIN of the grantee organization may answer;
// for anyone else the grant does not exist (NOT_FOUND, audited). Recorded
// in both organizations' trails.
func (s *Service) Respond(ctx context.Context, globalID string, accept bool) (*store.WorkspaceGrant, error) {
	actor := auth.ActorFrom(ctx)
	status, action := store.GrantDeclined, audit.GrantDeclined
	if accept {
		status, action = store.GrantAccepted, audit.GrantAccepted
	}
	var out *store.WorkspaceGrant
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		g, err := authz.FetchAddressed[*store.WorkspaceGrant](ctx, s.Authz, tx, globalID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		if g.Status != store.GrantPending || !now.Before(g.ExpiresAt) {
			return apperr.New(apperr.Conflict, "this grant is no longer pending")
		}
		if err := tx.Grants.Respond(ctx, g.OrganizationID, g.ID, status, now); err != nil {
			return err
		}
		g.Status, g.RespondedAt, out = status, &now, g
		return recordBoth(ctx, tx, audit.Event{
			Action: action, Actor: audit.ActorOf(actor),
			TargetType: ids.WorkspaceGrant, TargetID: g.ID, TargetOrgID: g.OrganizationID,
			Metadata: map[string]any{"grantId": g.GlobalID(), "workspaceId": ids.Encode(ids.Workspace, g.WorkspaceID),
				"granteeOrganizationId": ids.Encode(ids.Organization, g.GranteeOrganizationID)},
		}, g.OrganizationID, g.GranteeOrganizationID)
	})
	return out, err
}

// Incoming lists the grants offered to organization org (already
// authorized for its admins), newest first, each seen from the grantee's
// side, with the owners primed in the request's loaders.
func (s *Service) Incoming(ctx context.Context, org *store.Organization, page store.Page) (store.Listing[*store.WorkspaceGrant], error) {
	rows, hasNext, err := s.Store.Grants.ListIncoming(ctx, org.ID, page)
	if err != nil {
		return store.Listing[*store.WorkspaceGrant]{}, err
	}
	for _, g := range rows {
		authz.Addressee(ctx, g)
	}
	owner := func(g *store.WorkspaceGrant) string { return g.OrganizationID }
	if err := loaders.PrimeOrganizations(ctx, s.Store, rows, owner); err != nil {
		return store.Listing[*store.WorkspaceGrant]{}, err
	}
	return store.Listing[*store.WorkspaceGrant]{Rows: rows, HasNext: hasNext, Count: func(ctx context.Context) (int, error) {
		return s.Store.Grants.CountIncoming(ctx, org.ID)
	}}, nil
}

// GrantsOf lists the grants of workspace w (already authorized), with the
// workspace and the partners primed in the request's loaders so that their
// fields resolve without a statement per row.
func (s *Service) GrantsOf(ctx context.Context, w *store.Workspace, page store.Page) (store.Listing[*store.WorkspaceGrant], error) {
	rows, hasNext, err := s.Store.Grants.ListByWorkspace(ctx, w.OrganizationID, w.ID, page)
	if err != nil {
		return store.Listing[*store.WorkspaceGrant]{}, err
	}
	loaders.PrimeWorkspace(ctx, w)
	grantee := func(g *store.WorkspaceGrant) string { return g.GranteeOrganizationID }
	if err := loaders.PrimeOrganizations(ctx, s.Store, rows, grantee); err != nil {
		return store.Listing[*store.WorkspaceGrant]{}, err
	}
	return store.Listing[*store.WorkspaceGrant]{Rows: rows, HasNext: hasNext, Count: func(ctx context.Context) (int, error) {
		return s.Store.Grants.CountByWorkspace(ctx, w.OrganizationID, w.ID)
	}}, nil
}

// SharedWith lists the workspaces shared with the caller's organization
// through live grants, their owners loaded in one statement (a partner sees
// only the owner's id and name).
func (s *Service) SharedWith(ctx context.Context, page store.Page) (store.Listing[*store.Workspace], error) {
	actor := auth.ActorFrom(ctx)
	if actor == nil {
		return store.Listing[*store.Workspace]{}, apperr.ErrUnauthenticated
	}
	if !actor.IsMember(actor.OrganizationID()) { // PENDING: a member of nothing yet
		return store.Listing[*store.Workspace]{Count: func(context.Context) (int, error) { return 0, nil }}, nil
	}
	now := time.Now()
	rows, hasNext, err := s.Store.Grants.SharedWith(ctx, actor.OrganizationID(), page, now)
	if err != nil {
		return store.Listing[*store.Workspace]{}, err
	}
	owner := func(w *store.Workspace) string { return w.OrganizationID }
	if err := loaders.PrimeOrganizations(ctx, s.Store, rows, owner); err != nil {
		return store.Listing[*store.Workspace]{}, err
	}
	return store.Listing[*store.Workspace]{Rows: rows, HasNext: hasNext, Count: func(ctx context.Context) (int, error) {
		return s.Store.Grants.CountSharedWith(ctx, actor.OrganizationID(), now)
	}}, nil
}

// recordBoth writes e into the owner's and the grantee's trails.
func recordBoth(ctx context.Context, tx *store.Store, e audit.Event, owner, grantee string) error {
	for _, org := range []string{owner, grantee} {
		e.OrganizationID = org
		if err := audit.Record(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}
