package store

import (
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/neosc/neosc/internal/ids"
)

// Organization is a tenant.
type Organization struct {
	ID      string `gorm:"primaryKey"`
	Name    string
	NameKey string // the name's confusable skeleton (names.Skeleton): organization names are unique by it
	// NameLower is the lower-cased name, the key of the name-prefix search
	// (organizations(filter: {search})); set by BeforeSave and Rename.
	NameLower      string
	Slug           string
	Domain         *string
	Status         OrganizationStatus
	ExternalIssuer *string
	ExternalID     *string
	UserCount      int
	WorkspaceCount int
	Kind           OrganizationKind
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// Quota (issue 11): limits, nil = unlimited, and the resource usage
	// summed over the organization's workspaces (internal/quota).
	Quota
	CPUCores  int `gorm:"column:cpu_cores"`
	MemoryMB  int `gorm:"column:memory_mb"`
	StorageGB int `gorm:"column:storage_gb"`
}

// BeforeSave keeps NameLower in step with Name on every insert or save of
// the row (registration, SSO provisioning, createOrganization, fixtures).
func (o *Organization) BeforeSave(*gorm.DB) error {
	o.NameLower = strings.ToLower(o.Name)
	return nil
}

// Reserved reports whether the organization is one of the reserved ones
// (default, operators): nobody joins it by name or gains a domain for it.
func (o *Organization) Reserved() bool { return o.Kind != "" && o.Kind != KindTenant }

// RequiresSSO reports whether members only sign in through the identity
// provider (an organization provisioned by SSO): no password sign-ups.
func (o *Organization) RequiresSSO() bool { return o.ExternalIssuer != nil }

// TableName is the organizations table.
func (Organization) TableName() string { return "organizations" }

// GlobalID is the organization's opaque API ID.
func (o *Organization) GlobalID() string { return ids.Encode(ids.Organization, o.ID) }

// OwnerOrganizationID is the organization owning the row: itself.
func (o *Organization) OwnerOrganizationID() string { return o.ID }

// IsNode marks Organization as a GraphQL Node.
func (*Organization) IsNode() {}

// NodeType is the global-ID type of Organization rows (valid on a nil pointer).
func (*Organization) NodeType() ids.Type { return ids.Organization }

// RowID is the row's primary key.
func (o *Organization) RowID() string { return o.ID }

// User is a person; they belong to exactly one organization.
type User struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	Email          string // lower-cased; unique per EmailScope
	EmailScope     string // "" for password accounts, the issuer for SSO accounts
	Name           string
	PasswordHash   *string `json:"-"`
	Role           OrgRole
	PlatformAdmin  bool
	Status         UserStatus
	SSOIssuer      *string `gorm:"column:sso_issuer"`
	SSOSubject     *string `gorm:"column:sso_subject"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastLoginAt    *time.Time
	// EmailVerifiedAt is when the address was proven (a verification link,
	// an accepted invitation, or the identity provider's email_verified).
	EmailVerifiedAt *time.Time
	// SessionsValidAfter ends the user's session tokens issued before it
	// (signOutEverywhere, revokeSessions, changePassword); nil: none ended.
	SessionsValidAfter *time.Time
}

// EmailVerified reports whether the user's address is proven.
func (u *User) EmailVerified() bool { return u.EmailVerifiedAt != nil }

// TableName is the users table.
func (User) TableName() string { return "users" }

// GlobalID is the user's opaque API ID.
func (u *User) GlobalID() string { return ids.Encode(ids.User, u.ID) }

// OwnerOrganizationID is the organization the user belongs to.
func (u *User) OwnerOrganizationID() string { return u.OrganizationID }

// IsNode marks User as a GraphQL Node.
func (*User) IsNode() {}

// NodeType is the global-ID type of User rows (valid on a nil pointer).
func (*User) NodeType() ids.Type { return ids.User }

// RowID is the row's primary key.
func (u *User) RowID() string { return u.ID }

// Workspace is a remote desktop, secure browser or development environment.
type Workspace struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	Name           string
	Description    string
	Type           WorkspaceType
	ConnectionType ConnectionType
	Status         WorkspaceStatus
	ImageURL       *string `gorm:"column:image_url"`
	URL            *string `gorm:"column:url"`
	CPUCores       int     `gorm:"column:cpu_cores"`
	MemoryMB       int     `gorm:"column:memory_mb"`
	StorageGB      int     `gorm:"column:storage_gb"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName is the workspaces table.
func (Workspace) TableName() string { return "workspaces" }

// GlobalID is the workspace's opaque API ID.
func (w *Workspace) GlobalID() string { return ids.Encode(ids.Workspace, w.ID) }

// OwnerOrganizationID is the organization owning the workspace.
func (w *Workspace) OwnerOrganizationID() string { return w.OrganizationID }

// IsNode marks Workspace as a GraphQL Node.
func (*Workspace) IsNode() {}

// NodeType is the global-ID type of Workspace rows (valid on a nil pointer).
func (*Workspace) NodeType() ids.Type { return ids.Workspace }

// RowID is the row's primary key.
func (w *Workspace) RowID() string { return w.ID }

// AuditEvent is an immutable snapshot of something that happened. It names
// actors and targets by value, never by a live join.
type AuditEvent struct {
	ID                   string  `gorm:"primaryKey"`
	OrganizationID       *string // nil only for platform events with no tenant
	Action               string
	Outcome              AuditOutcome
	ActorID              *string
	ActorEmail           *string
	ActorOrganizationID  *string
	TargetType           *string
	TargetID             *string
	TargetOrganizationID *string
	Metadata             JSON
	IPAddress            *string `gorm:"column:ip_address"`
	UserAgent            *string
	RequestID            *string
	CreatedAt            time.Time
}

// TableName is the audit_events table.
func (AuditEvent) TableName() string { return "audit_events" }

// GlobalID is the event's opaque API ID.
func (e *AuditEvent) GlobalID() string { return ids.Encode(ids.AuditEvent, e.ID) }

// OwnerOrganizationID is the organization the event belongs to ("" for a
// platform event, which no organization rule lets through).
func (e *AuditEvent) OwnerOrganizationID() string {
	if e.OrganizationID == nil {
		return ""
	}
	return *e.OrganizationID
}

// IsNode marks AuditEvent as a GraphQL Node.
func (*AuditEvent) IsNode() {}

// NodeType is the global-ID type of AuditEvent rows (valid on a nil pointer).
func (*AuditEvent) NodeType() ids.Type { return ids.AuditEvent }

// RowID is the row's primary key.
func (e *AuditEvent) RowID() string { return e.ID }

// OrganizationGlobalID is the API ID of the event's organization.
func (e *AuditEvent) OrganizationGlobalID() string {
	return ids.Encode(ids.Organization, e.OwnerOrganizationID())
}

// ActorGlobalID is the API ID of the acting user, if any.
func (e *AuditEvent) ActorGlobalID() *string { return ids.EncodePtr(ids.User, e.ActorID) }

// ActorOrganizationGlobalID is the API ID of the actor's organization, if any.
func (e *AuditEvent) ActorOrganizationGlobalID() *string {
	return ids.EncodePtr(ids.Organization, e.ActorOrganizationID)
}

// TargetGlobalID is the API ID of the target, typed by TargetType.
func (e *AuditEvent) TargetGlobalID() *string {
	if e.TargetType == nil {
		return nil
	}
	return ids.EncodePtr(ids.Type(*e.TargetType), e.TargetID)
}

// TargetOrganizationGlobalID is the API ID of the target's organization, if any.
func (e *AuditEvent) TargetOrganizationGlobalID() *string {
	return ids.EncodePtr(ids.Organization, e.TargetOrganizationID)
}

// APIToken is a partner integration's credential. The token itself is a
// service-signed JWT whose jti is ID; only the ID is stored.
type APIToken struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	Name           string
	Scopes         ScopeList
	CreatedByID    *string
	ExpiresAt      time.Time
	CreatedAt      time.Time
	LastUsedAt     *time.Time
	RevokedAt      *time.Time
}

// TableName is the api_tokens table.
func (APIToken) TableName() string { return "api_tokens" }

// GlobalID is the token's opaque API ID.
func (t *APIToken) GlobalID() string { return ids.Encode(ids.APIToken, t.ID) }

// OwnerOrganizationID is the organization the token acts in.
func (t *APIToken) OwnerOrganizationID() string { return t.OrganizationID }

// IsNode marks APIToken as a GraphQL Node.
func (*APIToken) IsNode() {}

// NodeType is the global-ID type of APIToken rows (valid on a nil pointer).
func (*APIToken) NodeType() ids.Type { return ids.APIToken }

// RowID is the row's primary key.
func (t *APIToken) RowID() string { return t.ID }

// Usable reports whether the token may be used at now.
func (t *APIToken) Usable(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

// ScopeValues lists the token's scopes (the GraphQL `scopes` field).
func (t *APIToken) ScopeValues() []APIScope { return t.Scopes }

// WorkspaceGrant gives a partner organization access to one workspace until
// ExpiresAt. OrganizationID is the owner.
type WorkspaceGrant struct {
	ID                    string `gorm:"primaryKey"`
	OrganizationID        string
	WorkspaceID           string
	GranteeOrganizationID string
	CreatedByID           *string
	CreatedAt             time.Time
	ExpiresAt             time.Time
	// Status: a PENDING grant gives nothing until an ADMIN of the grantee
	// accepts it; DECLINED ends it.
	Status      GrantStatus
	RespondedAt *time.Time
}

// TableName is the workspace_grants table.
func (WorkspaceGrant) TableName() string { return "workspace_grants" }

// GlobalID is the grant's opaque API ID.
func (g *WorkspaceGrant) GlobalID() string { return ids.Encode(ids.WorkspaceGrant, g.ID) }

// OwnerOrganizationID is the organization that shares the workspace.
func (g *WorkspaceGrant) OwnerOrganizationID() string { return g.OrganizationID }

// AddresseeOrganizationID is the grantee: the organization that accepts or
// declines the grant (internal/authz.Addressed).
func (g *WorkspaceGrant) AddresseeOrganizationID() string { return g.GranteeOrganizationID }

// IsNode marks WorkspaceGrant as a GraphQL Node.
func (*WorkspaceGrant) IsNode() {}

// NodeType is the global-ID type of WorkspaceGrant rows (valid on a nil pointer).
func (*WorkspaceGrant) NodeType() ids.Type { return ids.WorkspaceGrant }

// RowID is the row's primary key.
func (g *WorkspaceGrant) RowID() string { return g.ID }

// Live reports whether the grant gives access at now: accepted and not
// expired.
func (g *WorkspaceGrant) Live(now time.Time) bool {
	return g.Status == GrantAccepted && now.Before(g.ExpiresAt)
}

// Open reports whether the grant still stands at now (pending or accepted,
// not expired): a second grant of the same workspace to the same partner is
// a conflict while it does.
func (g *WorkspaceGrant) Open(now time.Time) bool {
	return g.Status != GrantDeclined && now.Before(g.ExpiresAt)
}

// Invitation admits one email address into an organization with a role. The
// token mailed to the invitee is "<ID>.<secret>"; only the secret's SHA-256
// is stored.
type Invitation struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	Email          string
	Role           OrgRole
	Status         InvitationStatus
	TokenHash      string `json:"-"`
	InvitedByID    *string
	AcceptedUserID *string
	ExpiresAt      time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName is the invitations table.
func (Invitation) TableName() string { return "invitations" }

// GlobalID is the invitation's opaque API ID.
func (i *Invitation) GlobalID() string { return ids.Encode(ids.Invitation, i.ID) }

// OwnerOrganizationID is the organization the invitation admits into.
func (i *Invitation) OwnerOrganizationID() string { return i.OrganizationID }

// IsNode marks Invitation as a GraphQL Node.
func (*Invitation) IsNode() {}

// NodeType is the global-ID type of Invitation rows (valid on a nil pointer).
func (*Invitation) NodeType() ids.Type { return ids.Invitation }

// RowID is the row's primary key.
func (i *Invitation) RowID() string { return i.ID }

// StatusAt is the invitation's status at now: a pending invitation past its
// expiry is EXPIRED.
func (i *Invitation) StatusAt(now time.Time) InvitationStatus {
	if i.Status == InvitationPending && !now.Before(i.ExpiresAt) {
		return InvitationExpired
	}
	return i.Status
}

// CurrentStatus is the invitation's status now (the GraphQL status).
func (i *Invitation) CurrentStatus() InvitationStatus { return i.StatusAt(time.Now()) }

// EmailVerification is a single-use proof of an address, mailed as
// "<ID>.<secret>"; only the secret's SHA-256 is stored.
type EmailVerification struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	UserID         string
	Email          string
	TokenHash      string `json:"-"`
	ExpiresAt      time.Time
	UsedAt         *time.Time
	CreatedAt      time.Time
}

// TableName is the email_verifications table.
func (EmailVerification) TableName() string { return "email_verifications" }

// OutboxMail is a mail waiting in the outbox, or sent from it. It is
// platform-level: no API type, no tenant scoping; OrganizationID only says
// which tenant the mail belongs to (nil for a platform mail).
type OutboxMail struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID *string
	Recipient      string // a bare address
	Subject        string
	Body           string // plain text; emptied once sent (it may hold single-use links)
	CreatedAt      time.Time
	Attempts       int        // claims so far, this one included
	NextAttemptAt  *time.Time // nil once sent or given up
	ClaimedUntil   *time.Time // the sending replica's lease
	SentAt         *time.Time
	LastError      *string
}

// TableName is the mail_outbox table.
func (OutboxMail) TableName() string { return "mail_outbox" }
