// Package identity registers users, signs them in and creates platform
// administrators.
//
// Rules:
//   - Registration without an organization joins the default one; with an
//     unknown name it creates that organization (domain = the email's domain
//     unless another organization has it) with the registrant as ADMIN; with
//     a known name it joins only when the email's domain is the
//     organization's domain, else FORBIDDEN and user.registration_denied.
//   - Emails are unique case-insensitively (stored lower-cased): CONFLICT.
//   - A wrong email and a wrong password give the same UNAUTHENTICATED answer
//     and cost the same hashing work.
//   - Every hash runs in a turn of Passwords (a process-wide bound on the
//     memory and CPU hashing takes); no turn: RATE_LIMITED.
//   - Sign-ins are throttled per account (ratelimit.LoginPolicy); failed
//     ones are audited at most once per account per window, with a count,
//     and the same refused registration once per window.
//   - Each change and its audit event share one transaction.
//   - Sessions end on demand (sessions.go): signOut denylists the calling
//     token; signOutEverywhere, revokeSessions, changePassword and a
//     password reset refuse every token the user was issued until then. A
//     new session is never issued before the user's cutoff (sign).
package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gosimple/slug"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/names"
	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/store"
)

// Service registers and signs in users.
type Service struct {
	Store          *store.Store
	Tokens         *auth.Tokens
	DefaultOrgName string
	Log            *slog.Logger
	// OIDC verifies external access tokens for ssoLogin; nil when no
	// provider is configured.
	OIDC *auth.OIDC
	// Authz authorizes invitations (inviteUser, revokeInvitation).
	Authz *authz.Authorizer
	// Domains answers for organization domains; nil: no domain admits
	// anyone and none is recorded.
	Domains Domains
	// Mail queues a message inside tx, delivered after commit
	// (internal/mail's outbox).
	Mail func(ctx context.Context, tx *store.Store, orgID string, m Mail) error
	// PublicURL is the base of the links in mails (NEOSC_PUBLIC_URL).
	PublicURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// MaxPendingInvitations bounds an organization's pending invitations
	// (DefaultMaxPendingInvitations when 0).
	MaxPendingInvitations int
	// Passwords bounds concurrent password hashing (every hash and check).
	Passwords *auth.Passwords
	// Limits throttles password sign-ins per account and tallies repeated
	// refusals for the audit trail.
	Limits *ratelimit.Limiter
	// DefaultQuota is the quota of every organization created from now on
	// (NEOSC_DEFAULT_QUOTA; zero: unlimited), see internal/quota.
	DefaultQuota store.Quota
}

// Domains is what membership asks of organization domains
// (internal/domains).
type Domains interface {
	// AutoJoins reports whether organization orgID verified emailDomain by
	// DNS and admits its addresses automatically (enrollment AUTO_JOIN).
	AutoJoins(ctx context.Context, tx *store.Store, orgID, emailDomain string) (bool, error)
	// RecordFounderDomain records emailDomain as an unverified domain of a
	// new organization, audited as actor; nothing for a domain that cannot
	// be claimed (a public mail domain).
	RecordFounderDomain(ctx context.Context, tx *store.Store, orgID, emailDomain string, actor audit.Actor) error
}

// Mail is one message to queue.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// Session is a signed-in user and their service token.
type Session struct {
	Token     string
	ExpiresAt time.Time
	Actor     *auth.Actor
}

// RegisterInput is what a registrant sends.
type RegisterInput struct {
	Email        string
	Password     string
	Name         string
	Organization *string
}

// LoginInput is what a user signs in with.
type LoginInput struct {
	Email    string
	Password string
}

// errDenied carries a registration refused out of the transaction, so the
// denial is recorded after the rollback.
type errDenied struct {
	org    *store.Organization
	reason string
}

func (e *errDenied) Error() string { return e.reason }

// errAdmitsByInvitation is every refused registration into an existing
// organization: the same answer whatever the reason, so it tells nothing
// about the organization's domains or identity provider.
var errAdmitsByInvitation = apperr.New(apperr.Forbidden, "this organization admits members by invitation")

// Register creates an account and signs it in. Without an organization the
// user joins the default one; with a new name they found it and are its
// ADMIN; with an existing one they join only through a DNS-verified
// AUTO_JOIN domain of their email, as PENDING until the address is verified.
// Every registrant gets a verification mail.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*Session, error) {
	email, domain, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	var orgName string
	if in.Organization != nil {
		if orgName, err = names.Display("organization", *in.Organization, 100); err != nil {
			return nil, err
		}
	}
	name, hash, err := s.newAccount(ctx, in.Name, in.Password)
	if err != nil {
		return nil, err
	}

	var session *Session
	// Two registrations may race to create the same organization; the loser
	// hits the unique name key and runs again, then finds the winner's.
	for attempt := 0; ; attempt++ {
		err = s.Store.Tx(ctx, func(tx *store.Store) error {
			if taken, err := tx.Users.EmailTaken(ctx, email); err != nil {
				return err
			} else if taken {
				return apperr.New(apperr.Conflict, "an account with this email already exists")
			}
			j, err := s.organizationFor(ctx, tx, orgName, domain)
			if err != nil {
				return err
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			u := &store.User{
				ID: ids.New(), OrganizationID: j.org.ID, Email: email, Name: name, PasswordHash: &hash,
				Role: j.role, Status: j.status, CreatedAt: now, UpdatedAt: now,
			}
			if j.created {
				if err := s.recordFounded(ctx, tx, u, j.org, domain); err != nil {
					return err
				}
			}
			if err := s.addUser(ctx, tx, j.org, u, audit.UserActor(u), map[string]any{"organizationCreated": j.created, "via": "register"}); err != nil {
				return err
			}
			if err := s.sendVerification(ctx, tx, u); err != nil {
				return err
			}
			session, err = s.sign(ctx, tx, u, j.org)
			return err
		})
		if errors.Is(err, store.ErrDuplicate) && attempt < 2 {
			continue
		}
		break
	}
	var denied *errDenied
	if errors.As(err, &denied) {
		// The same request, refused again and again (anyone can ask to join
		// any organization by name; the address budget bounds how often),
		// is audited once per window, with a count.
		if rerr := s.Store.Tx(ctx, func(tx *store.Store) error {
			n, err := s.Limits.Tally(ctx, tx, "registration_denied\x00"+denied.org.ID+"\x00"+in.Email+"\x00"+orgName)
			if err != nil || n == nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Event{
				Action: audit.UserRegistrationDenied, Outcome: store.OutcomeDenied, OrganizationID: denied.org.ID,
				Actor:      audit.Actor{Email: email},
				TargetType: ids.Organization, TargetID: denied.org.ID, TargetOrgID: denied.org.ID,
				Metadata: map[string]any{"reason": denied.reason, "emailDomain": domain, "count": n.Count,
					"since": n.Since.UTC().Format(time.RFC3339Nano)},
			})
		}); rerr != nil {
			s.Log.ErrorContext(ctx, "record registration denial", "err", rerr)
		}
		return nil, errAdmitsByInvitation
	}
	if errors.Is(err, store.ErrDuplicate) {
		return nil, apperr.New(apperr.Conflict, "an account with this email already exists")
	}
	if err != nil {
		return nil, err
	}
	return session, nil
}

// newAccount checks a new account's display name and password and hashes
// the password (the expensive step, last, after every cheap check).
func (s *Service) newAccount(ctx context.Context, rawName, password string) (name, hash string, err error) {
	if name, err = names.Display("name", rawName, 200); err != nil {
		return "", "", err
	}
	if err = auth.CheckPasswordPolicy(password); err != nil {
		return "", "", err
	}
	hash, err = s.Passwords.Hash(ctx, password)
	return name, hash, err
}

// joining is where a registrant lands and as what.
type joining struct {
	org     *store.Organization
	created bool
	role    store.OrgRole
	status  store.UserStatus
}

// organizationFor decides where a registrant lands: the default
// organization (name ""), a new organization they found, or an existing one
// that admits them by a verified AUTO_JOIN domain. Names are compared by
// their confusable skeleton: a name that only looks like an existing one is
// a CONFLICT, never a second organization.
func (s *Service) organizationFor(ctx context.Context, tx *store.Store, name, emailDomain string) (*joining, error) {
	if name == "" {
		org, err := tx.Organizations.GetDefault(ctx)
		if err != nil {
			return nil, err
		}
		return &joining{org: org, role: store.RoleMember, status: store.UserActive}, nil
	}
	org, err := tx.Organizations.GetByNameKey(ctx, names.Skeleton(name))
	if err != nil {
		return nil, err
	}
	if org == nil {
		org, err := s.createOrganization(ctx, tx, name)
		return &joining{org: org, created: true, role: store.RoleAdmin, status: store.UserActive}, err
	}
	if !strings.EqualFold(org.Name, name) {
		return nil, &apperr.Error{Code: apperr.Conflict, Field: "organization",
			Message: "an organization with a name that looks like this one exists; choose another name"}
	}
	switch {
	case org.Reserved():
		return nil, &errDenied{org: org, reason: "reserved organization"}
	case org.Status != store.OrganizationActive: // the same answer: registration tells nothing of an organization's state
		return nil, &errDenied{org: org, reason: "organization suspended"}
	case org.RequiresSSO():
		return nil, &errDenied{org: org, reason: "organization signs in with its identity provider"}
	}
	if err := passwordsAllowed(ctx, tx, nil, org.ID); err != nil {
		return nil, &errDenied{org: org, reason: reasonSSORequired}
	}
	ok, err := s.autoJoins(ctx, tx, org.ID, emailDomain)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &errDenied{org: org, reason: "email domain is not a verified AUTO_JOIN domain of the organization"}
	}
	return &joining{org: org, role: store.RoleMember, status: store.UserPending}, nil
}

func (s *Service) autoJoins(ctx context.Context, tx *store.Store, orgID, emailDomain string) (bool, error) {
	if s.Domains == nil {
		return false, nil
	}
	return s.Domains.AutoJoins(ctx, tx, orgID, emailDomain)
}

// createOrganization inserts a new tenant named name, with no primary
// domain until one is verified by DNS.
func (s *Service) createOrganization(ctx context.Context, tx *store.Store, name string) (*store.Organization, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	org := &store.Organization{
		ID: ids.New(), Name: name, NameKey: names.Skeleton(name), Status: store.OrganizationActive, Kind: store.KindTenant,
		CreatedAt: now, UpdatedAt: now,
	}
	quota.ApplyDefault(org, s.DefaultQuota)
	var err error
	if org.Slug, err = s.uniqueSlug(ctx, tx, name); err != nil {
		return nil, err
	}
	return org, tx.Organizations.Create(ctx, org)
}

// recordFounded audits a new organization and records the founder's email
// domain as an unverified domain of it (never a public mail domain).
func (s *Service) recordFounded(ctx context.Context, tx *store.Store, founder *store.User, org *store.Organization, emailDomain string) error {
	if err := audit.Record(ctx, tx, audit.Event{
		Action: audit.OrganizationCreated, OrganizationID: org.ID, Actor: audit.UserActor(founder),
		TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID,
		Metadata: map[string]any{"name": org.Name, "slug": org.Slug, "via": "register"},
	}); err != nil {
		return err
	}
	if s.Domains == nil {
		return nil
	}
	return s.Domains.RecordFounderDomain(ctx, tx, org.ID, emailDomain, audit.UserActor(founder))
}

// addUser counts and inserts u into org (organization row first: counter,
// quota and lock) and records user.registered with meta.
func (s *Service) addUser(ctx context.Context, tx *store.Store, org *store.Organization, u *store.User, actor audit.Actor, meta map[string]any) error {
	if _, err := quota.Add(ctx, tx, org.ID, store.Usage{Users: 1}, audit.Actor{Email: u.Email}); err != nil {
		return err
	}
	org.UserCount++
	if err := tx.Users.Create(ctx, u); err != nil {
		return err
	}
	m := map[string]any{"email": u.Email, "name": u.Name, "role": string(u.Role), "status": string(u.Status)}
	for k, v := range meta {
		m[k] = v
	}
	return audit.Record(ctx, tx, audit.Event{
		Action: audit.UserRegistered, OrganizationID: org.ID, Actor: actor,
		TargetType: ids.User, TargetID: u.ID, TargetOrgID: org.ID, Metadata: m,
	})
}

func (s *Service) uniqueSlug(ctx context.Context, tx *store.Store, name string) (string, error) {
	base := slug.Make(name)
	if len(base) > 100 {
		base = strings.Trim(base[:100], "-")
	}
	if base == "" {
		base = "org"
	}
	candidate := base
	for i := 2; i < 50; i++ {
		taken, err := tx.Organizations.SlugTaken(ctx, candidate)
		if err != nil || !taken {
			return candidate, err
		}
		candidate = fmt.Sprintf("%s-%d", base, i)
	}
	return base + "-" + ids.New()[:8], nil
}

// Login signs a user in with email and password. The order keeps a
// refused attempt cheap: a hashing turn first (none: RATE_LIMITED, nothing
// counted), then the account's throttle (locked: RATE_LIMITED, no hash),
// then the lookup and the hash.
func (s *Service) Login(ctx context.Context, in LoginInput) (*Session, error) {
	email, _, emailErr := NormalizeEmail(in.Email)
	account := email
	if emailErr != nil {
		account = strings.ToLower(strings.TrimSpace(in.Email))
	}
	turn, err := s.Passwords.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer turn.Release()
	attempt, err := s.Limits.BeginLogin(ctx, account, audit.RequestFrom(ctx).IP)
	if err != nil {
		return nil, err
	}
	var u *store.User
	if emailErr == nil {
		if u, err = s.Store.Users.GetByEmail(ctx, email); err != nil {
			return nil, err
		}
	}
	var hash *string
	if u != nil {
		hash = u.PasswordHash
	}
	ok := turn.Check(in.Password, hash) // always costs one hash
	turn.Release()
	var (
		org    *store.Organization
		reason string
	)
	switch {
	case u == nil:
		reason = "unknown email"
	case !ok:
		reason = "wrong password"
	case u.Status == store.UserDeactivated:
		reason = "user deactivated" // a PENDING user signs in: they need a session to verify
	}
	if reason == "" {
		var err error
		if org, err = s.Store.Organizations.GetByID(ctx, u.OrganizationID); err != nil {
			return nil, err
		}
		if org.Status != store.OrganizationActive && !u.PlatformAdmin {
			reason = "organization suspended"
		} else if err := passwordsAllowed(ctx, s.Store, u, org.ID); err != nil {
			s.recordLoginFailed(ctx, attempt, u, email, reasonSSORequired)
			return nil, err
		}
	}
	if reason != "" {
		s.recordLoginFailed(ctx, attempt, u, email, reason)
		if reason == "organization suspended" {
			return nil, apperr.New(apperr.OrganizationSuspended, "organization is suspended")
		}
		return nil, apperr.New(apperr.Unauthenticated, "invalid email or password")
	}

	var session *Session
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		now := time.Now().UTC().Truncate(time.Microsecond)
		earlier, err := attempt.Succeeded(ctx, tx)
		if err != nil {
			return err
		}
		if earlier != nil {
			if err := audit.Record(ctx, tx, loginFailedEvent(u, email, earlier, "")); err != nil {
				return err
			}
		}
		if err := tx.Users.RecordLogin(ctx, u.OrganizationID, u.ID, now); err != nil {
			return err
		}
		u.LastLoginAt = &now
		if err := audit.Record(ctx, tx, audit.Event{
			Action: audit.UserLogin, OrganizationID: u.OrganizationID, Actor: audit.UserActor(u),
			TargetType: ids.User, TargetID: u.ID, TargetOrgID: u.OrganizationID,
			Metadata: map[string]any{"method": "password"},
		}); err != nil {
			return err
		}
		session, err = s.sign(ctx, tx, u, org)
		return err
	})
	if err != nil {
		return nil, err
	}
	return session, nil
}

// recordLoginFailed counts a failed sign-in and, once per window, audits
// the failures counted since the last event (ratelimit.Attempt.Failed), in
// a transaction of its own.
func (s *Service) recordLoginFailed(ctx context.Context, attempt *ratelimit.Attempt, u *store.User, email, reason string) {
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		failures, err := attempt.Failed(ctx, tx)
		if err != nil || failures == nil {
			return err
		}
		return audit.Record(ctx, tx, loginFailedEvent(u, email, failures, reason))
	})
	if err != nil {
		s.Log.ErrorContext(ctx, "record login failure", "err", err)
	}
}

// loginFailedEvent is user.login_failed standing for f's failures (the
// reason is the latest one's; "" when the event reports earlier failures
// at a successful sign-in).
func loginFailedEvent(u *store.User, email string, f *ratelimit.Failures, reason string) audit.Event {
	meta := map[string]any{"count": f.Count, "since": f.Since.UTC().Format(time.RFC3339Nano)}
	if reason != "" {
		meta["reason"] = reason
	}
	e := audit.Event{
		Action: audit.UserLoginFailed, Outcome: store.OutcomeFailure,
		Actor:    audit.Actor{Email: email},
		Metadata: meta,
	}
	if u != nil {
		e.OrganizationID = u.OrganizationID
		e.Actor = audit.UserActor(u)
		e.TargetType, e.TargetID, e.TargetOrgID = ids.User, u.ID, u.OrganizationID
	}
	return e
}

// sign starts a session for u: a token never older than the cutoff that
// ended the user's earlier sessions, if any, and living no longer than the
// organization's sessionTtlMinutes (read through tx).
func (s *Service) sign(ctx context.Context, tx *store.Store, u *store.User, org *store.Organization) (*Session, error) {
	var validAfter time.Time
	if u.SessionsValidAfter != nil {
		validAfter = *u.SessionsValidAfter
	}
	maxTTL, err := sessionCap(ctx, tx, u.OrganizationID)
	if err != nil {
		return nil, err
	}
	token, exp, err := s.Tokens.IssueCapped(u.ID, u.OrganizationID, validAfter, maxTTL)
	if err != nil {
		return nil, err
	}
	return &Session{Token: token, ExpiresAt: exp, Actor: &auth.Actor{User: *u, Organization: *org}}, nil
}

// CreatePlatformAdmin creates a platform administrator in the default
// organization, or promotes the existing account with that email (and sets
// its password). It reports whether the account is new.
func (s *Service) CreatePlatformAdmin(ctx context.Context, rawEmail, rawName, password string) (*store.User, bool, error) {
	email, _, err := NormalizeEmail(rawEmail)
	if err != nil {
		return nil, false, err
	}
	name, err := names.Display("name", rawName, 200)
	if err != nil {
		return nil, false, err
	}
	if err := auth.CheckPasswordPolicy(password); err != nil {
		return nil, false, err
	}
	hash, err := s.Passwords.Hash(ctx, password)
	if err != nil {
		return nil, false, err
	}
	var (
		out     *store.User
		created bool
	)
	cli := audit.Actor{Email: "cli:create-admin"}
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		existing, err := tx.Users.GetByEmail(ctx, email)
		if err != nil {
			return err
		}
		if existing != nil {
			// Promote (or, for an existing administrator, reset the
			// password: the operator's way back in). Recorded as what it is.
			if err := tx.Users.SetPlatformAdmin(ctx, existing.OrganizationID, existing.ID, &hash); err != nil {
				return err
			}
			// A new password ends the sessions the old one started.
			now := time.Now().UTC().Truncate(time.Microsecond)
			if err := tx.Users.RevokeSessions(ctx, existing.OrganizationID, existing.ID, laterCutoff(existing, now), now); err != nil {
				return err
			}
			action, meta := audit.UserRoleChanged, map[string]any{"platformAdmin": map[string]any{"from": false, "to": true}, "passwordChanged": true, "sessions": "all", "via": "cli"}
			if existing.PlatformAdmin {
				action, meta = audit.UserPasswordChanged, map[string]any{"sessions": "all", "via": "cli"}
			}
			existing.PlatformAdmin = true
			out = existing
			return audit.Record(ctx, tx, audit.Event{
				Action: action, OrganizationID: existing.OrganizationID, Actor: cli,
				TargetType: ids.User, TargetID: existing.ID, TargetOrgID: existing.OrganizationID,
				Metadata: meta,
			})
		}
		// Platform administrators live in the default organization: reserved,
		// created by a migration, never an organization anybody can create.
		org, err := tx.Organizations.GetDefault(ctx)
		if err != nil {
			return err
		}
		if err := tx.Organizations.AddUsers(ctx, org.ID, 1); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		out = &store.User{
			ID: ids.New(), OrganizationID: org.ID, Email: email, Name: name, PasswordHash: &hash,
			Role: store.RoleMember, PlatformAdmin: true, Status: store.UserActive, CreatedAt: now, UpdatedAt: now,
			EmailVerifiedAt: &now, // the operator vouches for the address
		}
		if err := tx.Users.Create(ctx, out); err != nil {
			return err
		}
		created = true
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.UserRegistered, OrganizationID: org.ID, Actor: cli,
			TargetType: ids.User, TargetID: out.ID, TargetOrgID: org.ID,
			Metadata: map[string]any{"email": email, "name": name, "platformAdmin": true, "via": "cli"},
		})
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
