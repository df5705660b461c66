// Package apitokens creates and revokes API tokens for partner integrations.
//
// Rules:
//   - A token belongs to the organization of the admin who creates it and
//     acts only there, only within its scopes (enforced by the @scope rules).
//   - The token string (a service-signed JWT whose jti is the token's ID) is
//     returned once; only the ID is stored, so a leaked database leaks no
//     usable token.
//   - Revocation is a column the authenticator reads on every request: it
//     counts on the next request, on every replica.
//   - Creation and revocation are audited in their own transaction.
package apitokens

import (
	"context"
	"log/slog"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/names"
	"github.com/neosc/neosc/internal/store"
)

// Lifetimes of a token.
const (
	DefaultLifetime = 90 * 24 * time.Hour
	MaxLifetime     = 366 * 24 * time.Hour
	MinLifetime     = time.Minute
)

// Service manages API tokens.
type Service struct {
	Store  *store.Store
	Authz  *authz.Authorizer
	Tokens *auth.Tokens
	Log    *slog.Logger
}

// CreateInput describes a new token.
type CreateInput struct {
	Name      string
	Scopes    []store.APIScope
	ExpiresAt *time.Time
}

// Create makes a token in the caller's organization and returns its secret
// (shown once) with the stored row.
func (s *Service) Create(ctx context.Context, in CreateInput) (string, *store.APIToken, error) {
	actor, err := s.Authz.Own(ctx, authz.OrgAdmin)
	if err != nil {
		return "", nil, err
	}
	if actor.IsAPIToken() {
		return "", nil, apperr.ErrForbidden
	}
	name, err := names.Clean("name", in.Name, 100)
	if err != nil {
		return "", nil, err
	}
	var scopes store.ScopeList
	for _, sc := range in.Scopes {
		if !scopes.Has(sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return "", nil, apperr.Invalid("scopes", "give at least one scope")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	exp := now.Add(DefaultLifetime)
	if in.ExpiresAt != nil {
		exp = in.ExpiresAt.UTC().Truncate(time.Second)
	}
	if exp.Before(now.Add(MinLifetime)) || exp.After(now.Add(MaxLifetime)) {
		return "", nil, apperr.Invalid("expiresAt", "expiresAt must be between a minute and 366 days from now")
	}
	creator := actor.UserID()
	t := &store.APIToken{
		ID: ids.New(), OrganizationID: actor.OrganizationID(), Name: name, Scopes: scopes,
		CreatedByID: &creator, ExpiresAt: exp, CreatedAt: now,
	}
	scopeNames := make([]string, len(scopes))
	for i, sc := range scopes {
		scopeNames[i] = string(sc)
	}
	var secret string
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.APITokens.Create(ctx, t); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			Action: audit.APITokenCreated, OrganizationID: t.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.APIToken, TargetID: t.ID, TargetOrgID: t.OrganizationID,
			Metadata: map[string]any{"name": name, "scopes": scopeNames, "expiresAt": exp.Format(time.RFC3339)},
		}); err != nil {
			return err
		}
		var err error
		secret, err = s.Tokens.IssueAPIToken(ctx, tx, t.ID, t.OrganizationID, exp, scopeNames)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// Revoke stops a token of the caller's organization from working. Another
// organization's token is NOT_FOUND (and audited as access.denied).
// Revoking a revoked token changes nothing.
func (s *Service) Revoke(ctx context.Context, globalID string) (*store.APIToken, error) {
	actor := auth.ActorFrom(ctx)
	if actor.IsAPIToken() {
		return nil, apperr.ErrForbidden
	}
	var out *store.APIToken
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		t, err := authz.Fetch[*store.APIToken](ctx, s.Authz, tx, globalID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		changed, err := tx.APITokens.Revoke(ctx, t.OrganizationID, t.ID, now)
		if err != nil {
			return err
		}
		out = t
		if !changed {
			return nil
		}
		t.RevokedAt = &now
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.APITokenRevoked, OrganizationID: t.OrganizationID, Actor: audit.ActorOf(actor),
			TargetType: ids.APIToken, TargetID: t.ID, TargetOrgID: t.OrganizationID,
			Metadata: map[string]any{"name": t.Name},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
