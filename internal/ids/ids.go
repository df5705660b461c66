// Package ids makes the opaque global IDs clients see: the base64url of
// "<Type>:<uuid>". Clients never parse them; the server always checks the type
// tag, so an ID of one type is never accepted where another is expected.
package ids

import (
	"encoding/base64"
	"strings"

	"github.com/google/uuid"
)

// Type is the GraphQL type an ID belongs to.
type Type string

// The node types.
const (
	Organization   Type = "Organization"
	User           Type = "User"
	Workspace      Type = "Workspace"
	AuditEvent     Type = "AuditEvent"
	APIToken       Type = "ApiToken"
	WorkspaceGrant Type = "WorkspaceGrant"
	Invitation     Type = "Invitation"
	// OrganizationDomain names domain rows in audit events and denials; the
	// API names a domain by its name, never by a global ID.
	OrganizationDomain Type = "OrganizationDomain"
)

// maxLen bounds what Decode looks at: the longest type tag plus a UUID, base64'd.
const maxLen = 80

// Encode returns the global ID of the row with the given UUID.
func Encode(t Type, id string) string {
	var buf [64]byte // "Type:uuid" on the stack: one allocation, the result
	src := append(append(append(buf[:0], t...), ':'), id...)
	return base64.RawURLEncoding.EncodeToString(src)
}

// EncodePtr is Encode for an optional ID; nil or empty stays nil.
func EncodePtr(t Type, id *string) *string {
	if id == nil || *id == "" {
		return nil
	}
	s := Encode(t, *id)
	return &s
}

// New returns a new time-ordered (v7) UUID, the primary key of every row.
func New() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Parse splits a global ID into its type and UUID. It reports false for
// anything that is not a well-formed ID: a type tag (a GraphQL type name)
// and a canonical UUID. Whether the type exists is the caller's question
// (internal/authz's registry answers it for node lookups).
func Parse(global string) (Type, string, bool) {
	if len(global) == 0 || len(global) > maxLen {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(global)
	if err != nil {
		return "", "", false
	}
	t, id, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	if !validTag(t) {
		return "", "", false
	}
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return "", "", false
	}
	return Type(t), id, true
}

// Decode returns the UUID of a global ID that must be of type t.
func Decode(t Type, global string) (string, bool) {
	got, id, ok := Parse(global)
	if !ok || got != t {
		return "", false
	}
	return id, true
}

// validTag reports whether t can be a GraphQL type name: an ASCII letter,
// then letters or digits, at most 32 characters.
func validTag(t string) bool {
	if t == "" || len(t) > 32 {
		return false
	}
	for i, r := range t {
		letter := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
