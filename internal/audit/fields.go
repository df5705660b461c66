package audit

import (
	"reflect"
	"time"

	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// Auditable is every model whose fields the table below classifies. Snapshot
// and Diff accept nothing else, so an unclassified model does not compile;
// fields_test checks that this set and the table name the same types and
// that the table classifies every field of each.
type Auditable interface {
	store.Organization | store.User | store.Workspace | store.APIToken | store.WorkspaceGrant |
		store.OrganizationDomain | store.OrganizationPolicy
}

// action is what snapshots and diffs do with a field.
type action int

const (
	actionTrack  action = iota + 1 // copied, under its key
	actionIgnore                   // left out
	actionSecret                   // never copied; a diff says only that it changed
)

// field classifies one struct field: its action and its key in audit
// metadata (the API's name for it). A tracked raw ID column carries the type
// of its global ID: metadata names objects by global ID, never by UUID.
type field struct {
	action action
	key    string
	id     ids.Type
}

func track(key string) field  { return field{action: actionTrack, key: key} }
func ignore(key string) field { return field{action: actionIgnore, key: key} }
func secret(key string) field { return field{action: actionSecret, key: key} }

func trackID(key string, t ids.Type) field {
	return field{action: actionTrack, key: key, id: t}
}

// table classifies every field of every audited model, keyed by model type
// and Go field name. Some rules hold throughout:
//   - A row's own ID and organization ID are ignored: the event's targetId
//     and targetOrganizationId carry them.
//   - CreatedAt and UpdatedAt are ignored: the event's own createdAt says
//     when the change happened, and an update would otherwise always show
//     updatedAt in its diff.
//   - CreatedByID is ignored: the actor of the creating event is the creator.
var table = map[reflect.Type]map[string]field{
	reflect.TypeFor[store.Organization](): {
		"ID":   ignore("id"),
		"Name": track("name"),
		// NameKey is Name's confusable skeleton (the uniqueness key): it
		// changes exactly when Name does.
		"NameKey": ignore("nameKey"),
		// NameLower is Name lower-cased (the search key): it follows Name.
		"NameLower": ignore("nameLower"),
		"Slug":      track("slug"),
		"Domain":    track("domain"),
		"Status":    track("status"),
		// Not in the schema, but which identity provider owns an
		// organization is worth a trail; the key follows externalId.
		"ExternalIssuer": track("externalIssuer"),
		"ExternalID":     track("externalId"),
		// Counters move with other rows' changes, each audited on its own
		// (user.registered, workspace.created, ...).
		"UserCount":      ignore("userCount"),
		"WorkspaceCount": ignore("workspaceCount"),
		// Reserved or not: set once by a migration or at creation.
		"Kind":      track("kind"),
		"CreatedAt": ignore("createdAt"),
		"UpdatedAt": ignore("updatedAt"),
		// Quota (issue 11): the limits are changed by setOrganizationQuota,
		// audited as organization.quota_changed with before and after; the
		// usage moves with workspace changes, each audited on its own.
		"Quota":     ignore("quota"),
		"CPUCores":  ignore("usageCpuCores"),
		"MemoryMB":  ignore("usageMemoryMb"),
		"StorageGB": ignore("usageStorageGb"),
	},
	reflect.TypeFor[store.User](): {
		"ID":             ignore("id"),
		"OrganizationID": ignore("organizationId"),
		"Email":          track("email"),
		// EmailScope is derived from SSOIssuer ("" or the issuer).
		"EmailScope": ignore("emailScope"),
		"Name":       track("name"),
		// Keyed by what the API calls it: a diff shows only that the
		// password changed, never the hash.
		"PasswordHash":  secret("password"),
		"Role":          track("role"),
		"PlatformAdmin": track("platformAdmin"),
		"Status":        track("status"),
		"SSOIssuer":     track("ssoIssuer"),
		// The user's ID at the identity provider: an identifier, not a
		// credential (user.sso_provisioned already records it).
		"SSOSubject": track("ssoSubject"),
		"CreatedAt":  ignore("createdAt"),
		"UpdatedAt":  ignore("updatedAt"),
		// Moves on every sign-in, which user.login records on its own.
		"LastLoginAt": ignore("lastLoginAt"),
		// user.email_verified records the proof; the snapshot shows whether.
		"EmailVerifiedAt": track("emailVerifiedAt"),
		// Moved by user.sessions_revoked and user.password_changed, whose
		// metadata carry it as validAfter.
		"SessionsValidAfter": ignore("sessionsValidAfter"),
	},
	reflect.TypeFor[store.Workspace](): {
		"ID":             ignore("id"),
		"OrganizationID": ignore("organizationId"),
		"Name":           track("name"),
		"Description":    track("description"),
		"Type":           track("type"),
		"ConnectionType": track("connectionType"),
		"Status":         track("status"),
		"ImageURL":       track("imageUrl"),
		"URL":            track("url"),
		"CPUCores":       track("cpuCores"),
		"MemoryMB":       track("memoryMb"),
		"StorageGB":      track("storageGb"),
		"CreatedAt":      ignore("createdAt"),
		"UpdatedAt":      ignore("updatedAt"),
	},
	reflect.TypeFor[store.APIToken](): {
		// Not a secret: the token is a signed JWT whose jti is the ID, and
		// metadata already names tokens by global ID (apiTokenId).
		"ID":             ignore("id"),
		"OrganizationID": ignore("organizationId"),
		"Name":           track("name"),
		"Scopes":         track("scopes"),
		"CreatedByID":    ignore("createdById"),
		"ExpiresAt":      track("expiresAt"),
		"CreatedAt":      ignore("createdAt"),
		// Touched by use (at most once a minute), not by a change.
		"LastUsedAt": ignore("lastUsedAt"),
		"RevokedAt":  track("revokedAt"),
	},
	reflect.TypeFor[store.WorkspaceGrant](): {
		"ID":             ignore("id"),
		"OrganizationID": ignore("organizationId"),
		// Which workspace and which partner are what a grant is; the keys
		// are those of grantWorkspaceAccess's input.
		"WorkspaceID":           trackID("workspaceId", ids.Workspace),
		"GranteeOrganizationID": trackID("granteeOrganizationId", ids.Organization),
		"CreatedByID":           ignore("createdById"),
		"CreatedAt":             ignore("createdAt"),
		"ExpiresAt":             track("expiresAt"),
		"Status":                track("status"),
		// grant.accepted / grant.declined carry the time.
		"RespondedAt": ignore("respondedAt"),
	},
	reflect.TypeFor[store.OrganizationDomain](): {
		"ID":             ignore("id"),
		"OrganizationID": ignore("organizationId"),
		"Domain":         track("domain"),
		// Public once published in DNS, but until then it is what proves
		// control of the domain; the audit trail (READ_AUDIT API tokens
		// included) need not repeat it.
		"VerificationToken": secret("verificationToken"),
		"VerifiedAt":        track("verifiedAt"),
		// Domain again, once verified: verifiedAt already says when.
		"VerifiedDomain": ignore("verifiedDomain"),
		"Enrollment":     track("enrollment"),
		"CreatedAt":      ignore("createdAt"),
		"UpdatedAt":      ignore("updatedAt"),
	},
	// Security policy and branding (internal/policy); keys as in the schema.
	reflect.TypeFor[store.OrganizationPolicy](): {
		"OrganizationID":    ignore("organizationId"),
		"RequireSSO":        track("requireSso"),
		"AllowedIPRanges":   track("allowedIpRanges"),
		"SessionTTLMinutes": track("sessionTtlMinutes"),
		"DisplayName":       track("displayName"),
		"LogoURL":           track("logoUrl"),
		"PrimaryColor":      track("primaryColor"),
		"UpdatedAt":         ignore("updatedAt"),
	},
}

// column is a tracked or secret field, located in its struct once.
type column struct {
	field
	index int
}

// columns holds each model's tracked and secret fields in struct order,
// resolved from the table once at start-up.
var columns = resolve(table)

func resolve(t map[reflect.Type]map[string]field) map[reflect.Type][]column {
	out := make(map[reflect.Type][]column, len(t))
	for typ, fields := range t {
		for i := range typ.NumField() {
			// An unclassified field is left out, like an ignored one.
			if f, ok := fields[typ.Field(i).Name]; ok && f.action != actionIgnore {
				out[typ] = append(out[typ], column{field: f, index: i})
			}
		}
	}
	return out
}

// Snapshot returns the tracked fields of v keyed by their metadata key (nil
// for a nil v). Values are plain JSON values: pointers dereferenced (nil
// stays nil), enums as string, integers as int, times as RFC 3339 strings in
// UTC, scope lists as []string, raw IDs as global IDs. Secret fields never
// appear.
func Snapshot[T Auditable](v *T) map[string]any {
	if v == nil {
		return nil
	}
	return snapshot(reflect.ValueOf(v).Elem())
}

// Diff returns the fields that differ between before and after: a tracked
// field as {"from": old, "to": new} (values as in Snapshot), a secret field
// as {"changed": true} with neither value. A nil side reads as the zero
// model. before is usually a copy of the row taken before the change; a
// pointer field must then be replaced, not written through.
func Diff[T Auditable](before, after *T) map[string]any {
	var zero T
	if before == nil {
		before = &zero
	}
	if after == nil {
		after = &zero
	}
	return diff(reflect.ValueOf(before).Elem(), reflect.ValueOf(after).Elem())
}

// snapshot is Snapshot of the struct value v.
func snapshot(v reflect.Value) map[string]any {
	out := map[string]any{}
	for _, c := range columns[v.Type()] {
		if c.action == actionTrack {
			out[c.key] = c.value(v.Field(c.index))
		}
	}
	return out
}

// diff is Diff of the struct values b and a, of one type.
func diff(b, a reflect.Value) map[string]any {
	out := map[string]any{}
	for _, c := range columns[a.Type()] {
		from, to := c.value(b.Field(c.index)), c.value(a.Field(c.index))
		switch {
		case reflect.DeepEqual(from, to):
		case c.action == actionSecret:
			out[c.key] = map[string]any{"changed": true}
		default:
			out[c.key] = map[string]any{"from": from, "to": to}
		}
	}
	return out
}

// value is the plain JSON value of the field v.
func (c column) value(v reflect.Value) any {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		switch {
		case c.id == "":
			return v.String()
		case v.String() == "": // no ID: no global ID either
			return nil
		}
		return ids.Encode(c.id, v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Bool:
		return v.Bool()
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			out := make([]string, v.Len())
			for i := range out {
				out[i] = v.Index(i).String()
			}
			return out
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	// Anything else is copied as is; fields_test requires every tracked
	// field of the table to come out as one of the plain values above.
	return v.Interface()
}
