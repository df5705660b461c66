package workspaces

import (
	"context"
	"errors"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ids"
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

// Grant shares one of the caller's organization's workspaces with a partner
// organization until ExpiresAt. A live grant to the same partner is a
// CONFLICT; an expired one is replaced. Recorded in both organizations'
// trails.
func (s *Service) Grant(ctx context.Context, actor *auth.Actor, in GrantInput) (*store.WorkspaceGrant, error) {
	if actor == nil {
		return nil, apperr.ErrUnauthenticated
	}
	granteeID, ok := ids.Decode(ids.Organization, in.GranteeOrganizationID)
	if !ok {
		return nil, apperr.Invalid("granteeOrganizationId", "granteeOrganizationId is not an organization ID")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	exp := now.Add(DefaultGrantLifetime)
	if in.ExpiresAt != nil {
		exp = in.ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	if !exp.After(now) || exp.After(now.Add(MaxGrantLifetime)) {
		return nil, apperr.Invalid("expiresAt", "expiresAt must be in the future and at most 366 days away")
	}
	var g *store.WorkspaceGrant
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		w, err := fetch(ctx, tx, actor, in.WorkspaceID, false)
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
			if existing.Live(now) {
				return apperr.New(apperr.Conflict, "this workspace is already shared with that organization; revoke the grant first")
			}
			if err := tx.Grants.Delete(ctx, w.OrganizationID, existing.ID); err != nil {
				return err
			}
		}
		creator := actor.UserID()
		g = &store.WorkspaceGrant{
			ID: ids.New(), OrganizationID: w.OrganizationID, WorkspaceID: w.ID, GranteeOrganizationID: grantee.ID,
			CreatedAt: now, ExpiresAt: exp,
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
		return nil, s.denied(ctx, actor, err)
	}
	return g, nil
}

// Revoke ends a grant of the caller's organization; the partner loses
// access on its next request. It answers the grant's global ID.
func (s *Service) Revoke(ctx context.Context, actor *auth.Actor, globalID string) (string, error) {
	if actor == nil {
		return "", apperr.ErrUnauthenticated
	}
	id, ok := ids.Decode(ids.WorkspaceGrant, globalID)
	if !ok {
		return "", apperr.ErrNotFound
	}
	var cross *store.WorkspaceGrant
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		g, err := tx.Grants.GetByID(ctx, id)
		if err != nil {
			return err
		}
		if g.OrganizationID != actor.OrganizationID() && !actor.IsPlatformAdmin() {
			cross = g
			return apperr.ErrNotFound
		}
		if err := tx.Grants.Delete(ctx, g.OrganizationID, g.ID); err != nil {
			return err
		}
		return recordBoth(ctx, tx, audit.Event{
			Action: audit.WorkspaceGrantRevoked, Actor: audit.ActorOf(actor),
			TargetType: ids.Workspace, TargetID: g.WorkspaceID, TargetOrgID: g.OrganizationID,
			Metadata: map[string]any{"grantId": g.GlobalID(), "granteeOrganizationId": ids.Encode(ids.Organization, g.GranteeOrganizationID)},
		}, g.OrganizationID, g.GranteeOrganizationID)
	})
	if cross != nil && errors.Is(err, apperr.ErrNotFound) {
		if rerr := audit.RecordDenied(ctx, s.Store, actor, ids.WorkspaceGrant, cross.ID, cross.OrganizationID,
			"grant belongs to another organization"); rerr != nil {
			s.Log.ErrorContext(ctx, "record access.denied", "err", rerr)
		}
		return "", apperr.ErrNotFound
	}
	if err != nil {
		return "", s.denied(ctx, actor, err)
	}
	return ids.Encode(ids.WorkspaceGrant, id), nil
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
