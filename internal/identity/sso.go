package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/names"
	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/store"
)

// SSO rules:
//   - An organization is matched by (issuer, external ID), a user by
//     (issuer, sub), the issuer in canonical form (auth.CanonicalIssuer);
//     never by email or name. An SSO user whose email equals a
//     password account's is a different user in the provider's organization.
//   - Unknown ones are provisioned on first sight (organization.created with
//     the provider as actor, user.sso_provisioned), exactly once even under
//     concurrent first requests (unique keys decide; the loser re-reads).
//   - A domain already used by another organization is never taken over.
//   - The role is set when the user is provisioned: ADMIN only when the
//     provider's admin role is keyed under this very organization.
//   - ssoLogin also updates the name and lastLoginAt (user.sso_login); a
//     plain Bearer request with an external token writes nothing once the
//     user exists.

// ResolveExternal maps a verified external identity to its actor,
// provisioning the organization and user when they are new.
func (s *Service) ResolveExternal(ctx context.Context, id *auth.ExternalIdentity) (*auth.Actor, error) {
	if u, err := s.Store.Users.GetBySSO(ctx, id.Issuer, id.Subject); err != nil {
		return nil, err
	} else if u != nil {
		org, err := s.Store.Organizations.GetByID(ctx, u.OrganizationID)
		if err != nil {
			return nil, err
		}
		if err := checkExternal(u, org, id); err != nil {
			return nil, err
		}
		return &auth.Actor{User: *u, Organization: *org}, nil
	}
	return s.provision(ctx, id, false)
}

// SSOLogin exchanges an access token of the configured OpenID Provider for
// a service session.
func (s *Service) SSOLogin(ctx context.Context, raw string) (*Session, error) {
	if s.OIDC == nil {
		return nil, apperr.New(apperr.Unauthenticated, "single sign-on is not configured")
	}
	id, err := s.OIDC.Verify(ctx, raw)
	if err != nil {
		s.Log.InfoContext(ctx, "ssoLogin refused", "reason", err.Error())
		return nil, apperr.ErrUnauthenticated
	}
	actor, err := s.provision(ctx, id, true)
	if err != nil {
		return nil, err
	}
	return s.sign(ctx, s.Store, &actor.User, &actor.Organization)
}

func checkExternal(u *store.User, org *store.Organization, id *auth.ExternalIdentity) error {
	if u.OrganizationID != org.ID || org.ExternalIssuer == nil || *org.ExternalIssuer != id.Issuer || org.ExternalID == nil || *org.ExternalID != id.OrgID {
		return apperr.Wrap(errors.New("token names another organization than the user's"), apperr.Unauthenticated,
			"authentication required or invalid")
	}
	if u.Status != store.UserActive {
		return apperr.Wrap(errors.New("user deactivated"), apperr.Unauthenticated, "authentication required or invalid")
	}
	if org.Status != store.OrganizationActive && !u.PlatformAdmin {
		return apperr.New(apperr.OrganizationSuspended, "organization is suspended")
	}
	return nil
}

// provision finds or creates the identity's organization and user in one
// transaction; with login it also records the sign-in.
func (s *Service) provision(ctx context.Context, id *auth.ExternalIdentity, login bool) (*auth.Actor, error) {
	var actor *auth.Actor
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = s.Store.Tx(ctx, func(tx *store.Store) error {
			org, err := s.externalOrganization(ctx, tx, id)
			if err != nil {
				return err
			}
			u, err := tx.Users.GetBySSO(ctx, id.Issuer, id.Subject)
			if err != nil {
				return err
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			if u == nil {
				if u, err = s.externalUser(ctx, tx, org, id, now); err != nil {
					return err
				}
			}
			if err := checkExternal(u, org, id); err != nil {
				return err
			}
			if login {
				name := externalName(id)
				if err := tx.Users.RecordSSOLogin(ctx, org.ID, u.ID, name, now); err != nil {
					return err
				}
				u.Name, u.LastLoginAt = name, &now
				if err := audit.Record(ctx, tx, audit.Event{
					Action: audit.UserSSOLogin, OrganizationID: org.ID, Actor: audit.UserActor(u),
					TargetType: ids.User, TargetID: u.ID, TargetOrgID: org.ID,
					Metadata: map[string]any{"issuer": id.Issuer},
				}); err != nil {
					return err
				}
			}
			actor = &auth.Actor{User: *u, Organization: *org}
			return nil
		})
		if !errors.Is(err, store.ErrDuplicate) {
			break
		}
		// Another request provisioned the same organization or user first:
		// run again and find theirs.
	}
	if errors.Is(err, store.ErrDuplicate) {
		return nil, apperr.Wrap(err, apperr.Conflict, "this identity conflicts with an existing account of the provider")
	}
	return actor, err
}

func (s *Service) externalOrganization(ctx context.Context, tx *store.Store, id *auth.ExternalIdentity) (*store.Organization, error) {
	org, err := tx.Organizations.GetByExternal(ctx, id.Issuer, id.OrgID)
	if err != nil || org != nil {
		return org, err
	}
	name := cleanExternal(id.OrgName, 100)
	if name == "" {
		name = cleanExternal(id.OrgID, 100)
	}
	if name, err = s.freeName(ctx, tx, name, id.OrgID); err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	issuer, extID := id.Issuer, id.OrgID
	org = &store.Organization{
		ID: ids.New(), Name: name, NameKey: names.Skeleton(name), Status: store.OrganizationActive, Kind: store.KindTenant,
		ExternalIssuer: &issuer, ExternalID: &extID, CreatedAt: now, UpdatedAt: now,
	}
	quota.ApplyDefault(org, s.DefaultQuota)
	if org.Slug, err = s.uniqueSlug(ctx, tx, name); err != nil {
		return nil, err
	}
	meta := map[string]any{"name": name, "slug": org.Slug, "issuer": issuer, "externalId": extID, "via": "sso"}
	if d := id.OrgDomain; d != "" {
		if !validDomain(d) {
			meta["domainSkipped"] = "the provider's primary domain " + d + " is not a valid domain"
		} else if taken, err := s.domainTaken(ctx, tx, d); err != nil {
			return nil, err
		} else if taken {
			meta["domainSkipped"] = "domain " + d + " is already used by another organization"
		} else {
			org.Domain = &d
		}
	}
	meta["domain"] = deref(org.Domain)
	if err := tx.Organizations.Create(ctx, org); err != nil {
		return nil, err
	}
	return org, audit.Record(ctx, tx, audit.Event{
		Action: audit.OrganizationCreated, OrganizationID: org.ID, Actor: audit.ProviderActor(issuer),
		TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID, Metadata: meta,
	})
}

// freeName returns name, or a variant of it that no organization uses yet.
func (s *Service) freeName(ctx context.Context, tx *store.Store, name, externalID string) (string, error) {
	candidates := []string{name, cut(name+" ("+cleanExternal(externalID, 40)+")", 100), cut(name, 90) + " " + ids.New()[:8]}
	for _, c := range candidates {
		existing, err := tx.Organizations.GetByNameKey(ctx, names.Skeleton(c))
		if err != nil {
			return "", err
		}
		if existing == nil {
			return c, nil
		}
	}
	return candidates[len(candidates)-1], nil
}

func (s *Service) externalUser(ctx context.Context, tx *store.Store, org *store.Organization, id *auth.ExternalIdentity, now time.Time) (*store.User, error) {
	role := store.RoleMember
	if id.Admin {
		role = store.RoleAdmin
	}
	// The provider's verified email, unless it is unusable or another of its
	// identities already has it: then a stand-in, so nobody is locked out.
	email, _, err := NormalizeEmail(id.Email)
	if err != nil {
		email = syntheticEmail(id)
	} else if taken, err := tx.Users.EmailTakenInScope(ctx, email, id.Issuer); err != nil {
		return nil, err
	} else if taken {
		email = syntheticEmail(id)
	}
	issuer, subject := id.Issuer, id.Subject
	u := &store.User{
		ID: ids.New(), OrganizationID: org.ID, Email: email, EmailScope: issuer, Name: externalName(id),
		Role: role, Status: store.UserActive, SSOIssuer: &issuer, SSOSubject: &subject, CreatedAt: now, UpdatedAt: now,
	}
	if email != syntheticEmail(id) {
		u.EmailVerifiedAt = &now // the provider asserted email_verified (a stand-in is never verified)
	}
	if _, err := quota.Add(ctx, tx, org.ID, store.Usage{Users: 1}, audit.ProviderActor(issuer)); err != nil {
		return nil, err
	}
	org.UserCount++
	if err := tx.Users.Create(ctx, u); err != nil {
		return nil, err
	}
	return u, audit.Record(ctx, tx, audit.Event{
		Action: audit.UserSSOProvisioned, OrganizationID: org.ID, Actor: audit.ProviderActor(issuer),
		TargetType: ids.User, TargetID: u.ID, TargetOrgID: org.ID,
		Metadata: map[string]any{"issuer": issuer, "subject": subject, "email": email, "name": u.Name, "role": string(role)},
	})
}

func externalName(id *auth.ExternalIdentity) string {
	if n := cleanExternal(id.Name, 200); n != "" {
		return n
	}
	return cut(id.Subject, 200)
}

// syntheticEmail stands in for a provider that asserts no usable email.
func syntheticEmail(id *auth.ExternalIdentity) string {
	h := sha256.Sum256([]byte(id.Subject))
	host := "sso.invalid"
	if u, err := url.Parse(id.Issuer); err == nil && u.Hostname() != "" && validDomain(strings.ToLower(u.Hostname())) {
		host = strings.ToLower(u.Hostname())
	}
	return "sso-" + hex.EncodeToString(h[:8]) + "@" + host
}

// cleanExternal trims a provider-supplied string, drops control characters
// and cuts it to max characters.
func cleanExternal(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if names.Invisible(r) || r == utf8.RuneError {
			return -1 // a provider's name is taken, not refused: drop what names.Display would refuse
		}
		return r
	}, strings.TrimSpace(s))
	s = cut(strings.TrimSpace(s), max)
	if d, err := names.Display("name", s, max); err == nil {
		return d
	}
	return s
}

func cut(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max])
}

// domainTaken reports whether another organization shows domain as its
// primary domain or has verified it by DNS.
func (s *Service) domainTaken(ctx context.Context, tx *store.Store, domain string) (bool, error) {
	if taken, err := tx.Organizations.DomainTaken(ctx, domain); err != nil || taken {
		return taken, err
	}
	v, err := tx.Domains.GetVerified(ctx, domain)
	return v != nil, err
}
