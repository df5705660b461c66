// Package audit builds audit events and owns their one write path.
//
// Rules:
//   - An event is written with Record inside the transaction of the change it
//     records: no change without its event, no event without its change.
//   - Events are snapshots (IDs, emails and names copied by value) and are
//     never updated or deleted.
//   - A denied cross-organization attempt is written once into each of the two
//     organizations' trails (RecordDenied), so each side's admins see it and
//     the table stays partitioned by organization_id; only the target's copy
//     names the target's organization.
//   - Secrets (passwords, tokens) never go into metadata.
//   - Model snapshots and diffs come from the per-field table in fields.go:
//     every field of an audited model is tracked, ignored or secret, and a
//     test fails when a model gains a field the table does not classify.
package audit

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// Actions of the contract.
const (
	OrganizationCreated     = "organization.created"
	OrganizationUpdated     = "organization.updated"
	UserRegistered          = "user.registered"
	UserRegistrationDenied  = "user.registration_denied"
	UserLogin               = "user.login"
	UserLoginFailed         = "user.login_failed"
	UserSSOProvisioned      = "user.sso_provisioned"
	UserSSOLogin            = "user.sso_login"
	UserRoleChanged         = "user.role_changed"
	UserPasswordChanged     = "user.password_changed"
	UserDeactivated         = "user.deactivated"
	WorkspaceCreated        = "workspace.created"
	WorkspaceUpdated        = "workspace.updated"
	WorkspaceDeleted        = "workspace.deleted"
	APITokenCreated         = "api_token.created"
	APITokenRevoked         = "api_token.revoked"
	WorkspaceGrantCreated   = "workspace.grant_created"
	WorkspaceGrantRevoked   = "workspace.grant_revoked"
	AccessDenied            = "access.denied"
	UserEmailVerified       = "user.email_verified"
	InvitationCreated       = "invitation.created"
	InvitationAccepted      = "invitation.accepted"
	InvitationRevoked       = "invitation.revoked"
	GrantAccepted           = "grant.accepted"
	GrantDeclined           = "grant.declined"
	DomainAdded             = "domain.added"
	DomainVerified          = "domain.verified"
	DomainEnrollmentChanged = "domain.enrollment_changed"
	DomainRemoved           = "domain.removed"
)

// Actions of sessions and signing keys.
const (
	// UserSessionsRevoked: signOut (metadata sessions "current"),
	// signOutEverywhere and revokeSessions (sessions "all").
	UserSessionsRevoked = "user.sessions_revoked"
	// SigningKeyRotated: `neosc keys rotate`, a platform event.
	SigningKeyRotated = "signing_key.rotated"
)

// Actions of security policies and branding (internal/policy).
const (
	// OrganizationSecurityPolicyUpdated: updateSecurityPolicy (metadata
	// before, after, changes).
	OrganizationSecurityPolicyUpdated = "organization.security_policy_updated"
	// OrganizationBrandingUpdated: updateOrganizationBranding (changes).
	OrganizationBrandingUpdated = "organization.branding_updated"
)

// Request is what is known of the HTTP request behind an event.
type Request struct {
	IP        string
	UserAgent string
	RequestID string
}

type requestKey struct{}

// WithRequest returns ctx carrying the request's details.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request's details (zero outside a request).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Actor names who acted, by value. A partner API token acts without a
// user: Email then reads "api-token:<name>" and APITokenID is set (it goes
// into the event's metadata as apiTokenId).
type Actor struct {
	ID             string
	Email          string
	OrganizationID string
	APITokenID     string
}

// ActorOf returns the audit actor of an authenticated caller (zero for nil).
func ActorOf(a *auth.Actor) Actor {
	switch {
	case a == nil:
		return Actor{}
	case a.IsAPIToken():
		return Actor{Email: "api-token:" + a.APIToken.Name, OrganizationID: a.OrganizationID(), APITokenID: a.APIToken.ID}
	}
	return Actor{ID: a.User.ID, Email: a.User.Email, OrganizationID: a.User.OrganizationID}
}

// ProviderActor is an identity provider acting (SSO provisioning).
func ProviderActor(issuer string) Actor { return Actor{Email: "oidc:" + issuer} }

// UserActor returns the audit actor of a user acting on their own behalf.
func UserActor(u *store.User) Actor {
	return Actor{ID: u.ID, Email: u.Email, OrganizationID: u.OrganizationID}
}

// Event is one thing to record.
type Event struct {
	Action         string
	Outcome        store.AuditOutcome // SUCCESS when empty
	OrganizationID string             // the trail it belongs to; "" only for platform events
	Actor          Actor
	TargetType     ids.Type
	TargetID       string
	TargetOrgID    string
	Metadata       map[string]any
}

// Record writes e through tx, the transaction of the change it records.
func Record(ctx context.Context, tx *store.Store, e Event) error {
	return tx.AuditEvents.Insert(ctx, build(ctx, e))
}

// RecordDenied records an access.denied event in the trail of the caller's
// organization and in that of the target's, in one transaction of its own
// (the denied request changes nothing). internal/authz calls it once per
// target per request. The caller's copy does not name the target's
// organization: the caller's own admins (or the caller, if they are one)
// would otherwise learn whose an ID is, which a random ID never tells.
func RecordDenied(ctx context.Context, s *store.Store, actor *auth.Actor, targetType ids.Type, targetID, targetOrgID, reason string) error {
	a := ActorOf(actor)
	e := Event{
		Action: AccessDenied, Outcome: store.OutcomeDenied, Actor: a, TargetType: targetType, TargetID: targetID,
		Metadata: map[string]any{"reason": reason},
	}
	return s.Tx(ctx, func(tx *store.Store) error {
		if a.OrganizationID != "" && a.OrganizationID != targetOrgID {
			caller := e
			caller.OrganizationID = a.OrganizationID
			if err := Record(ctx, tx, caller); err != nil {
				return err
			}
		}
		if targetOrgID == "" {
			return nil
		}
		e.OrganizationID, e.TargetOrgID = targetOrgID, targetOrgID
		return Record(ctx, tx, e)
	})
}

func build(ctx context.Context, e Event) *store.AuditEvent {
	req := RequestFrom(ctx)
	outcome := e.Outcome
	if outcome == "" {
		outcome = store.OutcomeSuccess
	}
	meta := store.JSON{}
	for k, v := range e.Metadata {
		meta[k] = v
	}
	if e.Actor.APITokenID != "" {
		meta["apiTokenId"] = ids.Encode(ids.APIToken, e.Actor.APITokenID)
	}
	ev := &store.AuditEvent{
		ID:                   ids.New(),
		OrganizationID:       opt(e.OrganizationID, 36),
		Action:               e.Action,
		Outcome:              outcome,
		ActorID:              opt(e.Actor.ID, 36),
		ActorEmail:           opt(e.Actor.Email, 254),
		ActorOrganizationID:  opt(e.Actor.OrganizationID, 36),
		TargetID:             opt(e.TargetID, 36),
		TargetOrganizationID: opt(e.TargetOrgID, 36),
		Metadata:             meta,
		IPAddress:            opt(req.IP, 64),
		UserAgent:            opt(req.UserAgent, 512),
		RequestID:            opt(req.RequestID, 64),
		CreatedAt:            time.Now().UTC().Truncate(time.Microsecond),
	}
	if e.TargetType != "" {
		ev.TargetType = opt(string(e.TargetType), 32)
	}
	return ev
}

// opt returns s cut to max bytes (on a rune boundary), or nil when empty.
func opt(s string, max int) *string {
	if s == "" {
		return nil
	}
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return &s
}

// Actions of quotas (issue 11, internal/quota).
const (
	// OrganizationQuotaChanged: setOrganizationQuota; metadata before and
	// after.
	OrganizationQuotaChanged = "organization.quota_changed"
	// QuotaExceeded (DENIED): an addition refused by a quota, recorded after
	// the refused change rolled back; metadata dimension, limit, usage and
	// requested.
	QuotaExceeded = "quota.exceeded"
)

// Actions of audit search and export (issue 11).
const (
	// AuditExported: GET /audit/export, recorded (and committed) before the
	// first row is streamed; metadata organizationId (absent for a platform
	// administrator's export of every organization), since, until, format.
	AuditExported = "audit.exported"
)

// Actions of organization and platform administration (issue 11, points 1
// and 2; OrganizationUpdated, UserRoleChanged and UserDeactivated are above).
const (
	// UserReactivated: reactivateUser. Target: User.
	UserReactivated = "user.reactivated"
	// UserUpdated: updateMe, a user's change of their own profile. Target: User.
	UserUpdated = "user.updated"
	// OrganizationStatusChanged: setOrganizationStatus (metadata reason).
	OrganizationStatusChanged = "organization.status_changed"
	// OrganizationDeleted: deleteOrganization; the event keeps the
	// organization's snapshot (name, slug) and the rows deleted per table.
	OrganizationDeleted = "organization.deleted"
)
