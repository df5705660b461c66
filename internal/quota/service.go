package quota

import (
	"context"

	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// Service sets organizations' quotas.
type Service struct {
	Store *store.Store
	Authz *authz.Authorizer
}

// Set replaces the quota of the organization globalID (PLATFORM_ADMIN):
// every limit of q, nil being unlimited. A limit below the current usage is
// allowed: nothing is removed, further additions are refused. Audited as
// organization.quota_changed with before and after.
func (s *Service) Set(ctx context.Context, globalID string, q store.Quota) (*store.Organization, error) {
	if err := Validate(q); err != nil {
		return nil, err
	}
	q = Copy(q)
	actor := auth.ActorFrom(ctx)
	var out *store.Organization
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		org, err := authz.FetchForUpdate[*store.Organization](ctx, s.Authz, tx, globalID, authz.PlatformAdmin)
		if err != nil {
			return err
		}
		before := org.Quota
		if err := tx.Organizations.SetQuota(ctx, org.ID, q); err != nil {
			return err
		}
		org.Quota = q
		out = org
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.OrganizationQuotaChanged, OrganizationID: org.ID, Actor: audit.ActorOf(actor),
			TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID,
			Metadata: map[string]any{"before": Map(before), "after": Map(q)},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
