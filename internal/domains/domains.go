package domains

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// The TXT record that proves control of a domain: at ChallengePrefix +
// domain, with the value ValuePrefix + the domain's verification token.
const (
	ChallengePrefix = "_neosc-challenge."
	ValuePrefix     = "neosc-verification="
)

// MaxPerOrganization bounds the domains of one organization (the list is
// answered whole). Checked inside the adding transaction, it is a bound on
// size rather than an exact quota.
const MaxPerOrganization = 50

// lookupTimeout bounds one verification's DNS lookups, all servers included.
const lookupTimeout = 10 * time.Second

// Service manages organizations' domains.
type Service struct {
	Store *store.Store
	Authz *authz.Authorizer
	DNS   *Resolver
	Log   *slog.Logger
}

// Record is a DNS record to publish (the schema's DnsRecord).
type Record struct {
	Name  string
	Value string
}

// Challenge is the TXT record that verifies d; nil once d is verified
// (there is nothing left to publish).
func Challenge(d *store.OrganizationDomain) *Record {
	if d.Verified() {
		return nil
	}
	return &Record{Name: ChallengePrefix + d.Domain, Value: ValuePrefix + d.VerificationToken}
}

// List answers the domains of organization org, by name, to its members.
func (s *Service) List(ctx context.Context, org *store.Organization) ([]*store.OrganizationDomain, error) {
	if err := s.Authz.Loaded(ctx, org, authz.Member); err != nil {
		return nil, err
	}
	return s.Store.Domains.ListByOrganization(ctx, org.ID)
}

// Add claims a domain, unverified, for the caller's organization. A domain
// another organization has verified is a CONFLICT.
func (s *Service) Add(ctx context.Context, rawDomain string) (*store.OrganizationDomain, error) {
	actor, err := s.Authz.Own(ctx, authz.OrgAdmin)
	if err != nil {
		return nil, err
	}
	if actor.Organization.Reserved() {
		return nil, apperr.New(apperr.Forbidden, "a reserved organization has no domains")
	}
	var d *store.OrganizationDomain
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		d, err = s.AddUnverified(ctx, tx, actor.OrganizationID(), rawDomain, audit.ActorOf(actor))
		return err
	})
	return d, err
}

// AddUnverified claims a domain, unverified, for organization orgID in tx,
// recording domain.added by actor: Add without an authorization decision,
// for a caller that has made its own (registration, adding the registrant's
// email domain to the organization it creates). The domain is checked as
// Add checks it.
func (s *Service) AddUnverified(ctx context.Context, tx *store.Store, orgID, rawDomain string, actor audit.Actor) (*store.OrganizationDomain, error) {
	name, err := Normalize(rawDomain)
	if err != nil {
		return nil, err
	}
	if err := available(ctx, tx, orgID, name); err != nil {
		return nil, err
	}
	n, err := tx.Domains.CountByOrganization(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if n >= MaxPerOrganization {
		return nil, apperr.Invalid("domain", "an organization has at most %d domains: remove one first", MaxPerOrganization)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := &store.OrganizationDomain{
		ID: ids.New(), OrganizationID: orgID, Domain: name, VerificationToken: rand.Text(),
		Enrollment: store.EnrollmentInvitationOnly, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.Domains.Create(ctx, d); errors.Is(err, store.ErrDuplicate) {
		return nil, apperr.Wrap(err, apperr.Conflict, "this organization has already added "+name)
	} else if err != nil {
		return nil, err
	}
	return d, record(ctx, tx, audit.DomainAdded, actor, d, map[string]any{"organizationDomain": audit.Snapshot(d)})
}

// Verify looks up the TXT record of one of the caller's organization's
// domains and, when it holds the domain's value, marks the domain verified.
// A missing or different record is BAD_USER_INPUT and changes nothing; a
// domain another organization verified first is a CONFLICT. Verifying a
// verified domain answers it unchanged.
func (s *Service) Verify(ctx context.Context, rawDomain string) (*store.OrganizationDomain, error) {
	actor, err := s.Authz.Own(ctx, authz.OrgAdmin)
	if err != nil {
		return nil, err
	}
	name, err := Normalize(rawDomain)
	if err != nil {
		return nil, err
	}
	org := actor.OrganizationID()
	d, err := get(ctx, s.Store, org, name, false)
	if err != nil || d.Verified() {
		return d, err
	}
	if err := available(ctx, s.Store, org, name); err != nil {
		return nil, err
	}
	if err := s.checkTXT(ctx, d); err != nil {
		return nil, err
	}
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		if d, err = get(ctx, tx, org, name, true); err != nil || d.Verified() {
			return err // removed meanwhile, or verified by a concurrent call
		}
		before := *d
		now := time.Now().UTC().Truncate(time.Microsecond)
		verified := d.Domain
		d.VerifiedAt, d.VerifiedDomain, d.UpdatedAt = &now, &verified, now
		if err := tx.Domains.Update(ctx, d); err != nil {
			return err
		}
		if err := setPrimary(ctx, tx, org, verified); err != nil {
			return err
		}
		return record(ctx, tx, audit.DomainVerified, audit.ActorOf(actor), d,
			map[string]any{"domain": d.Domain, "changes": audit.Diff(&before, d)})
	})
	if errors.Is(err, store.ErrDuplicate) { // another organization verified it meanwhile
		return nil, errVerifiedElsewhere(name, err)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// checkTXT answers nil when a TXT record at d's challenge name holds d's
// value, else the BAD_USER_INPUT that says what was found.
func (s *Service) checkTXT(ctx context.Context, d *store.OrganizationDomain) error {
	want := Challenge(d)
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	values, err := s.DNS.TXT(ctx, want.Name)
	if err != nil {
		s.Log.WarnContext(ctx, "domain verification: DNS lookup failed", "domain", d.Domain, "err", err)
		return onDomain(apperr.Wrap(err, apperr.BadUserInput, "the DNS lookup of TXT record "+want.Name+
			" got no answer (timeout or server failure); nothing was changed, try again later"))
	}
	if slices.Contains(values, want.Value) {
		return nil
	}
	if len(values) == 0 {
		return onDomain(apperr.New(apperr.BadUserInput,
			"TXT record %s not found: publish it with the value shown in verificationRecord, then verify again", want.Name))
	}
	return onDomain(apperr.New(apperr.BadUserInput, "no TXT record at %s holds this domain's verification value (%s)", want.Name, want.Value))
}

// SetEnrollment changes how registrants at one of the caller's
// organization's domains may join it; AUTO_JOIN needs a verified domain.
func (s *Service) SetEnrollment(ctx context.Context, rawDomain string, e store.DomainEnrollment) (*store.OrganizationDomain, error) {
	actor, err := s.Authz.Own(ctx, authz.OrgAdmin)
	if err != nil {
		return nil, err
	}
	if e != store.EnrollmentInvitationOnly && e != store.EnrollmentAutoJoin {
		return nil, apperr.Invalid("enrollment", "enrollment must be INVITATION_ONLY or AUTO_JOIN")
	}
	name, err := canonical(rawDomain)
	if err != nil {
		return nil, err
	}
	var d *store.OrganizationDomain
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		if d, err = get(ctx, tx, actor.OrganizationID(), name, true); err != nil || d.Enrollment == e {
			return err
		}
		if e == store.EnrollmentAutoJoin && !d.Verified() {
			return apperr.Invalid("enrollment", "verify %s before enabling AUTO_JOIN", name)
		}
		before := *d
		d.Enrollment, d.UpdatedAt = e, time.Now().UTC().Truncate(time.Microsecond)
		if err := tx.Domains.Update(ctx, d); err != nil {
			return err
		}
		return record(ctx, tx, audit.DomainEnrollmentChanged, audit.ActorOf(actor), d,
			map[string]any{"domain": d.Domain, "changes": audit.Diff(&before, d)})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Remove gives up one of the caller's organization's domains (a verified
// one becomes free for others to verify) and answers its name.
func (s *Service) Remove(ctx context.Context, rawDomain string) (string, error) {
	actor, err := s.Authz.Own(ctx, authz.OrgAdmin)
	if err != nil {
		return "", err
	}
	name, err := canonical(rawDomain)
	if err != nil {
		return "", err
	}
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		d, err := get(ctx, tx, actor.OrganizationID(), name, true)
		if err != nil {
			return err
		}
		if err := tx.Domains.Delete(ctx, d.OrganizationID, d.ID); err != nil {
			return err
		}
		if err := tx.Organizations.SetPrimaryDomain(ctx, d.OrganizationID, nil, d.Domain); err != nil {
			return err
		}
		return record(ctx, tx, audit.DomainRemoved, audit.ActorOf(actor), d, map[string]any{"organizationDomain": audit.Snapshot(d)})
	})
	if err != nil {
		return "", err
	}
	return name, nil
}

// AutoJoinOrganization answers the organization a registrant whose email is
// at emailDomain joins by themselves: the one that verified exactly that
// domain and set it to AUTO_JOIN. ok is false for any other domain (a
// subdomain joins nothing). It reads through tx, the registration's
// transaction, and decides nothing about the caller.
func (s *Service) AutoJoinOrganization(ctx context.Context, tx *store.Store, emailDomain string) (orgID string, ok bool, err error) {
	name, err := canonical(emailDomain)
	if err != nil {
		return "", false, nil // not a host name: verified by nobody
	}
	d, err := tx.Domains.GetVerified(ctx, name)
	if err != nil || d == nil || d.Enrollment != store.EnrollmentAutoJoin {
		return "", false, err
	}
	return d.OrganizationID, true, nil
}

// get is org's row for domain name; NOT_FOUND (naming the domain: the
// lookup never leaves the caller's organization) when it has none.
func get(ctx context.Context, s *store.Store, org, name string, lock bool) (*store.OrganizationDomain, error) {
	d, err := s.Domains.Get(ctx, org, name, lock)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, onDomain(apperr.New(apperr.NotFound, "this organization has not added %s", name))
	}
	return d, err
}

// available is nil unless an organization other than org verified name.
func available(ctx context.Context, s *store.Store, org, name string) error {
	v, err := s.Domains.GetVerified(ctx, name)
	if err != nil {
		return err
	}
	if v != nil && v.OrganizationID != org {
		return errVerifiedElsewhere(name, nil)
	}
	return nil
}

func errVerifiedElsewhere(name string, cause error) error {
	return onDomain(apperr.Wrap(cause, apperr.Conflict, name+" is already verified by another organization"))
}

// onDomain names the domain argument as the input at fault.
func onDomain(e *apperr.Error) *apperr.Error {
	e.Field = "domain"
	return e
}

// record writes a domain.* event about d into its organization's trail.
func record(ctx context.Context, tx *store.Store, action string, actor audit.Actor, d *store.OrganizationDomain, meta map[string]any) error {
	return audit.Record(ctx, tx, audit.Event{
		Action: action, OrganizationID: d.OrganizationID, Actor: actor,
		TargetType: ids.OrganizationDomain, TargetID: d.ID, TargetOrgID: d.OrganizationID,
		Metadata: meta,
	})
}

// AutoJoins reports whether organization orgID verified emailDomain by DNS
// with enrollment AUTO_JOIN: registration admits that address into it.
func (s *Service) AutoJoins(ctx context.Context, tx *store.Store, orgID, emailDomain string) (bool, error) {
	id, ok, err := s.AutoJoinOrganization(ctx, tx, emailDomain)
	return ok && id == orgID, err
}

// RecordFounderDomain records the email domain of a new organization's
// founder as an unverified domain of it, in the registration's transaction.
// A domain that cannot be claimed (a public or disposable mail domain, one
// verified by another organization, a name without a registrable suffix) is
// skipped: it never stops a registration.
func (s *Service) RecordFounderDomain(ctx context.Context, tx *store.Store, orgID, emailDomain string, actor audit.Actor) error {
	_, err := s.AddUnverified(ctx, tx, orgID, emailDomain, actor)
	if ae, ok := apperr.As(err); ok && ae.Code != apperr.Internal {
		return nil
	}
	return err
}

// setPrimary makes a newly verified domain the organization's primary
// domain (Organization.domain) when it has none and no other organization
// shows that domain as its primary (an SSO organization's claim).
func setPrimary(ctx context.Context, tx *store.Store, org, domain string) error {
	taken, err := tx.Organizations.DomainTaken(ctx, domain)
	if err != nil || taken {
		return err
	}
	return tx.Organizations.SetPrimaryDomain(ctx, org, &domain, "")
}
