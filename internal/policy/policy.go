package policy

import (
	"context"
	"log/slog"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/store"
)

// Service reads, changes and enforces organizations' security policies and
// branding.
type Service struct {
	Store *store.Store
	Authz *authz.Authorizer
	// Limits tallies refused requests, so the audit trail gets one event
	// per caller and address per window, with a count.
	Limits *ratelimit.Limiter
	Log    *slog.Logger
}

// SecurityInput is updateSecurityPolicy's input: the whole policy.
type SecurityInput struct {
	RequireSSO        bool
	AllowedIPRanges   []string
	SessionTTLMinutes *int
}

// BrandingInput is updateOrganizationBranding's input: nil leaves a field
// as it is, "" clears it.
type BrandingInput struct {
	DisplayName  *string
	LogoURL      *string
	PrimaryColor *string
}

// Security answers organization org's security policy (the field's rule is
// decided by the field middleware before this runs).
func (s *Service) Security(ctx context.Context, org *store.Organization) (*store.SecurityPolicy, error) {
	p, err := s.Store.Organizations.GetPolicy(ctx, org.ID, false)
	if err != nil {
		return nil, err
	}
	sec := p.Security()
	if sec.AllowedIPRanges == nil {
		sec.AllowedIPRanges = store.IPRanges{}
	}
	return &sec, nil
}

// Branding answers organization org's branding.
func (s *Service) Branding(ctx context.Context, org *store.Organization) (*store.Branding, error) {
	p, err := s.Store.Organizations.GetPolicy(ctx, org.ID, false)
	if err != nil {
		return nil, err
	}
	b := p.Branding()
	return &b, nil
}

// maxSlug bounds the slugs looked up (organization slugs are at most ~110
// characters).
const maxSlug = 200

// PublicBranding answers the branding of the active tenant organization
// whose slug is slug, for a sign-in page; nil for any other slug.
func (s *Service) PublicBranding(ctx context.Context, slug string) (*store.Branding, error) {
	if len(slug) > maxSlug {
		slug = ""
	}
	b, found, err := s.Store.Organizations.PublicBranding(ctx, slug)
	if err != nil || !found {
		return nil, err
	}
	return &b, nil
}

// UpdateSecurity replaces the security policy of organization globalID, by
// one of its ADMINs, audited as organization.security_policy_updated with
// the policy before and after.
func (s *Service) UpdateSecurity(ctx context.Context, globalID string, in SecurityInput) (*store.Organization, error) {
	ranges, err := CanonicalRanges(in.AllowedIPRanges)
	if err != nil {
		return nil, err
	}
	if err := CheckSessionTTL(in.SessionTTLMinutes); err != nil {
		return nil, err
	}
	actor := auth.ActorFrom(ctx)
	var org *store.Organization
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		if org, err = authz.FetchForUpdate[*store.Organization](ctx, s.Authz, tx, globalID, authz.OrgAdmin); err != nil {
			return err
		}
		if in.RequireSSO && org.ExternalIssuer == nil {
			return apperr.Invalid(fieldRequireSSO, "requireSso needs an organization whose users sign in with an identity provider (SSO); this one has none")
		}
		if ip := audit.RequestFrom(ctx).IP; !actor.IsPlatformAdmin() && !Allowed(ranges, ip) {
			return apperr.Invalid(fieldRanges, "allowedIpRanges must include your own address (%s), or you would lock yourself out", ip)
		}
		p, err := tx.Organizations.GetPolicy(ctx, org.ID, true)
		if err != nil {
			return err
		}
		before := *p
		p.RequireSSO, p.AllowedIPRanges, p.SessionTTLMinutes = in.RequireSSO, ranges, in.SessionTTLMinutes
		p.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		if err := tx.Organizations.SavePolicy(ctx, p); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.OrganizationSecurityPolicyUpdated, OrganizationID: org.ID, Actor: audit.ActorOf(actor),
			TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID,
			Metadata: map[string]any{"before": securitySnapshot(&before), "after": securitySnapshot(p), "changes": audit.Diff(&before, p)},
		})
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// securitySnapshot is the security part of a policy row, for the audit
// trail (keys as in the schema).
func securitySnapshot(p *store.OrganizationPolicy) map[string]any {
	snap := audit.Snapshot(p)
	return map[string]any{"requireSso": snap["requireSso"], "allowedIpRanges": snap["allowedIpRanges"],
		"sessionTtlMinutes": snap["sessionTtlMinutes"]}
}

// UpdateBranding changes the branding of organization globalID, by one of
// its ADMINs, audited as organization.branding_updated.
func (s *Service) UpdateBranding(ctx context.Context, globalID string, in BrandingInput) (*store.Organization, error) {
	next, err := cleanBranding(in)
	if err != nil {
		return nil, err
	}
	actor := auth.ActorFrom(ctx)
	var org *store.Organization
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		if org, err = authz.FetchForUpdate[*store.Organization](ctx, s.Authz, tx, globalID, authz.OrgAdmin); err != nil {
			return err
		}
		p, err := tx.Organizations.GetPolicy(ctx, org.ID, true)
		if err != nil {
			return err
		}
		before := *p
		p.DisplayName = apply(p.DisplayName, next.DisplayName)
		p.LogoURL = apply(p.LogoURL, next.LogoURL)
		p.PrimaryColor = apply(p.PrimaryColor, next.PrimaryColor)
		p.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		if p.AllowedIPRanges == nil {
			p.AllowedIPRanges = store.IPRanges{}
		}
		if err := tx.Organizations.SavePolicy(ctx, p); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.OrganizationBrandingUpdated, OrganizationID: org.ID, Actor: audit.ActorOf(actor),
			TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID,
			Metadata: map[string]any{"changes": audit.Diff(&before, p)},
		})
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// cleanBranding checks every given field; "" stays "" (clear).
func cleanBranding(in BrandingInput) (BrandingInput, error) {
	out := in
	var err error
	if in.DisplayName != nil && *in.DisplayName != "" {
		var v string
		if v, err = DisplayName(*in.DisplayName); err != nil {
			return out, err
		}
		out.DisplayName = &v
	}
	if in.LogoURL != nil && *in.LogoURL != "" {
		var v string
		if v, err = LogoURL(*in.LogoURL); err != nil {
			return out, err
		}
		out.LogoURL = &v
	}
	if in.PrimaryColor != nil && *in.PrimaryColor != "" {
		var v string
		if v, err = Color(*in.PrimaryColor); err != nil {
			return out, err
		}
		out.PrimaryColor = &v
	}
	return out, nil
}

// apply is a field after an input: nil keeps cur, "" clears it.
func apply(cur, in *string) *string {
	switch {
	case in == nil:
		return cur
	case *in == "":
		return nil
	}
	v := *in
	return &v
}

// Admit refuses a caller whose organization's allowedIpRanges do not hold
// the request's client address (FORBIDDEN), session and API tokens alike;
// platform administrators pass. It is the authenticator's Admit hook: the
// policy was read with the caller (auth.Actor.Policy), except for an
// external SSO access token, whose policy is read here.
func (s *Service) Admit(ctx context.Context, a *auth.Actor) error {
	if a == nil || a.IsPlatformAdmin() {
		return nil
	}
	pol := a.Policy
	if pol == nil {
		p, err := s.Store.Organizations.GetPolicy(ctx, a.OrganizationID(), false)
		if err != nil {
			return err
		}
		sec := p.Security()
		pol, a.Policy = &sec, &sec
	}
	ip := audit.RequestFrom(ctx).IP
	if Allowed(pol.AllowedIPRanges, ip) {
		return nil
	}
	s.recordRefused(ctx, a, ip)
	return errAddressRefused
}

var errAddressRefused = apperr.New(apperr.Forbidden,
	"your organization does not allow requests from this address (allowedIpRanges of its security policy)")

// recordRefused audits a request refused by allowedIpRanges as
// access.denied in the organization's trail: the first of a window at once,
// the others of that window counted into the next event (ratelimit.Tally),
// so a flood of refused requests does not flood the trail.
func (s *Service) recordRefused(ctx context.Context, a *auth.Actor, ip string) {
	who := a.UserID()
	if a.IsAPIToken() {
		who = "token:" + a.APIToken.ID
	}
	orgID := a.OrganizationID()
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		n, err := s.Limits.Tally(ctx, tx, "ip_refused\x00"+orgID+"\x00"+who+"\x00"+ip)
		if err != nil || n == nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.AccessDenied, Outcome: store.OutcomeDenied, OrganizationID: orgID, Actor: audit.ActorOf(a),
			TargetType: ids.Organization, TargetID: orgID, TargetOrgID: orgID,
			Metadata: map[string]any{"reason": "client address outside the organization's allowedIpRanges", "ip": ip,
				"count": n.Count, "since": n.Since.UTC().Format(time.RFC3339Nano)},
		})
	})
	if err != nil {
		s.Log.ErrorContext(ctx, "record refused address", "err", err)
	}
}
