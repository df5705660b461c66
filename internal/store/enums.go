package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/neosc/neosc/internal/apperr"
)

// OrganizationStatus is ACTIVE or SUSPENDED.
type OrganizationStatus string

// OrgRole is a user's role in their organization.
type OrgRole string

// UserStatus is ACTIVE, DEACTIVATED or PENDING (joined by a verified
// domain, email not yet verified: no rights in the organization).
type UserStatus string

// OrganizationKind tells tenants from the reserved organizations.
type OrganizationKind string

// InvitationStatus is the stored state of an invitation (EXPIRED is derived
// from expires_at, never stored).
type InvitationStatus string

// GrantStatus is whether the grantee accepted a workspace grant.
type GrantStatus string

// WorkspaceType is what a workspace is.
type WorkspaceType string

// ConnectionType is how a client reaches a workspace.
type ConnectionType string

// WorkspaceStatus is a workspace's lifecycle state.
type WorkspaceStatus string

// AuditOutcome is how an audited action ended.
type AuditOutcome string

// Enum values, spelled as in the schema.
const (
	OrganizationActive    OrganizationStatus = "ACTIVE"
	OrganizationSuspended OrganizationStatus = "SUSPENDED"

	RoleMember OrgRole = "MEMBER"
	RoleAdmin  OrgRole = "ADMIN"

	UserActive      UserStatus = "ACTIVE"
	UserDeactivated UserStatus = "DEACTIVATED"
	UserPending     UserStatus = "PENDING"

	// KindTenant is every organization users or SSO create; KindDefault the
	// reserved organization of users who register without one (created by a
	// migration); KindOperators the reserved organization of platform
	// administrators.
	KindTenant    OrganizationKind = "TENANT"
	KindDefault   OrganizationKind = "DEFAULT"
	KindOperators OrganizationKind = "OPERATORS"

	InvitationPending  InvitationStatus = "PENDING"
	InvitationAccepted InvitationStatus = "ACCEPTED"
	InvitationRevoked  InvitationStatus = "REVOKED"
	InvitationExpired  InvitationStatus = "EXPIRED"

	GrantPending  GrantStatus = "PENDING"
	GrantAccepted GrantStatus = "ACCEPTED"
	GrantDeclined GrantStatus = "DECLINED"

	WorkspaceLinux   WorkspaceType = "LINUX"
	WorkspaceWindows WorkspaceType = "WINDOWS"
	WorkspaceBrowser WorkspaceType = "BROWSER"
	WorkspaceDev     WorkspaceType = "DEV"
	WorkspaceAdmin   WorkspaceType = "ADMIN"

	ConnectionHTML5   ConnectionType = "HTML5"
	ConnectionRDP     ConnectionType = "RDP"
	ConnectionVNC     ConnectionType = "VNC"
	ConnectionWeb     ConnectionType = "WEB"
	ConnectionBrowser ConnectionType = "BROWSER"

	WorkspaceAvailable WorkspaceStatus = "AVAILABLE"
	WorkspaceRunning   WorkspaceStatus = "RUNNING"
	WorkspaceStopped   WorkspaceStatus = "STOPPED"
	WorkspaceError     WorkspaceStatus = "ERROR"

	OutcomeSuccess AuditOutcome = "SUCCESS"
	OutcomeDenied  AuditOutcome = "DENIED"
	OutcomeFailure AuditOutcome = "FAILURE"
)

func unmarshalEnum[T ~string](v any, name string, allowed ...T) (T, error) {
	s, ok := v.(string)
	if !ok {
		return "", apperr.New(apperr.BadUserInput, "%s must be an enum value", name)
	}
	for _, a := range allowed {
		if string(a) == s {
			return a, nil
		}
	}
	return "", apperr.New(apperr.BadUserInput, "%q is not a valid %s", s, name)
}

func writeQuoted(w io.Writer, s string) {
	if len(s) > 62 || strings.ContainsAny(s, "\"\\") || !isPrintableASCII(s) {
		_, _ = io.WriteString(w, strconv.Quote(s))
		return
	}
	var buf [64]byte // an enum value: quoted in a buffer on the stack
	_, _ = w.Write(append(append(append(buf[:0], '"'), s...), '"'))
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// MarshalGQL writes the enum value.
func (e OrganizationStatus) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *OrganizationStatus) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "OrganizationStatus", OrganizationActive, OrganizationSuspended)
	return err
}

// MarshalGQL writes the enum value.
func (e OrgRole) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *OrgRole) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "OrgRole", RoleMember, RoleAdmin)
	return err
}

// MarshalGQL writes the enum value.
func (e UserStatus) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *UserStatus) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "UserStatus", UserActive, UserDeactivated, UserPending)
	return err
}

// MarshalGQL writes the enum value.
func (e InvitationStatus) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *InvitationStatus) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "InvitationStatus", InvitationPending, InvitationAccepted, InvitationRevoked, InvitationExpired)
	return err
}

// MarshalGQL writes the enum value.
func (e GrantStatus) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *GrantStatus) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "GrantStatus", GrantPending, GrantAccepted, GrantDeclined)
	return err
}

// MarshalGQL writes the enum value.
func (e WorkspaceType) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *WorkspaceType) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "WorkspaceType", WorkspaceLinux, WorkspaceWindows, WorkspaceBrowser, WorkspaceDev, WorkspaceAdmin)
	return err
}

// MarshalGQL writes the enum value.
func (e ConnectionType) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *ConnectionType) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "ConnectionType", ConnectionHTML5, ConnectionRDP, ConnectionVNC, ConnectionWeb, ConnectionBrowser)
	return err
}

// MarshalGQL writes the enum value.
func (e WorkspaceStatus) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *WorkspaceStatus) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "WorkspaceStatus", WorkspaceAvailable, WorkspaceRunning, WorkspaceStopped, WorkspaceError)
	return err
}

// MarshalGQL writes the enum value.
func (e AuditOutcome) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *AuditOutcome) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "AuditOutcome", OutcomeSuccess, OutcomeDenied, OutcomeFailure)
	return err
}

// JSON is a JSON object stored as text; it is the schema's JSON scalar.
type JSON map[string]any

// MarshalGQL writes the object as JSON.
func (j JSON) MarshalGQL(w io.Writer) {
	if j == nil {
		_, _ = io.WriteString(w, "{}")
		return
	}
	b, err := json.Marshal(map[string]any(j))
	if err != nil {
		_, _ = io.WriteString(w, "{}")
		return
	}
	_, _ = w.Write(b)
}

// UnmarshalGQL accepts a JSON object.
func (j *JSON) UnmarshalGQL(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return apperr.New(apperr.BadUserInput, "JSON must be an object")
	}
	*j = m
	return nil
}

// Value stores the object as JSON text.
func (j JSON) Value() (driver.Value, error) {
	if j == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(j))
	return string(b), err
}

// Scan reads JSON text.
func (j *JSON) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		*j = JSON{}
		return nil
	default:
		return fmt.Errorf("JSON: cannot scan %T", src)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*j = m
	return nil
}

// APIScope is what an API token may do.
type APIScope string

// The API token scopes.
const (
	ScopeReadOrganization APIScope = "READ_ORGANIZATION"
	ScopeReadWorkspaces   APIScope = "READ_WORKSPACES"
	ScopeWriteWorkspaces  APIScope = "WRITE_WORKSPACES"
	ScopeReadAudit        APIScope = "READ_AUDIT"
)

// AllScopes lists every scope.
var AllScopes = []APIScope{ScopeReadOrganization, ScopeReadWorkspaces, ScopeWriteWorkspaces, ScopeReadAudit}

// MarshalGQL writes the enum value.
func (e APIScope) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *APIScope) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "ApiScope", AllScopes...)
	return err
}

// ScopeList is a set of scopes stored as comma-separated text.
type ScopeList []APIScope

// Has reports whether the list holds s.
func (l ScopeList) Has(s APIScope) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Value stores the list as comma-separated text.
func (l ScopeList) Value() (driver.Value, error) {
	parts := make([]string, len(l))
	for i, s := range l {
		parts[i] = string(s)
	}
	return strings.Join(parts, ","), nil
}

// Scan reads comma-separated text, dropping unknown scopes.
func (l *ScopeList) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
	default:
		return fmt.Errorf("ScopeList: cannot scan %T", src)
	}
	*l = nil
	for _, part := range strings.Split(s, ",") {
		for _, known := range AllScopes {
			if part == string(known) {
				*l = append(*l, known)
			}
		}
	}
	return nil
}
