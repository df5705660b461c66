package authz

import "github.com/neosc/neosc/internal/auth"

// Access is a rule of the schema's @auth directive.
type Access string

// The rules, weakest first.
const (
	Public        Access = "PUBLIC"
	Authenticated Access = "AUTHENTICATED"
	Member        Access = "MEMBER"
	Partner       Access = "PARTNER"
	OrgAdmin      Access = "ORG_ADMIN"
	PlatformAdmin Access = "PLATFORM_ADMIN"
)

// Verdict is what a rule says of a caller and an object.
type Verdict uint8

// The verdicts and the answers they become.
const (
	Allow  Verdict = iota // the field resolves
	Anon                  // no caller where one is needed: UNAUTHENTICATED
	Forbid                // the caller's own organization, role too small: FORBIDDEN
	Hide                  // another organization's object: NOT_FOUND, audited as access.denied
)

// Owner is what a rule is decided on: the organization that owns the object,
// and whether the caller's organization reaches the object through a live
// partner grant (decided where the object was loaded, see Kind.Reach).
type Owner struct {
	OrganizationID string
	// Granted: the caller's organization holds a live grant on the object.
	Granted bool
	// Reached: the object is the value of a field of a row the caller was
	// authorized on (ReachedFrom), e.g. the owner of a shared workspace.
	Reached bool
	// Self: the object is the caller's own account, which the caller may
	// read even before belonging to its organization (a PENDING user).
	Self bool
}

// Rule decides one Access value.
type Rule func(a *auth.Actor, o Owner) Verdict

// rules is the whole meaning of the @auth values, one line each. Decide has
// already answered Anon for a missing caller (except PUBLIC) and Allow for a
// platform administrator, who passes every rule.
var rules = map[Access]Rule{
	Public:        func(*auth.Actor, Owner) Verdict { return Allow },
	Authenticated: func(*auth.Actor, Owner) Verdict { return Allow },
	Member: func(a *auth.Actor, o Owner) Verdict {
		return allowIf(a.IsMember(o.OrganizationID) || o.Self, Hide)
	},
	// A grant is held by the caller's organization: it reaches members, not
	// a PENDING user, who belongs to no organization yet.
	Partner: func(a *auth.Actor, o Owner) Verdict {
		return allowIf(a.IsMember(o.OrganizationID) || o.Self || o.Reached || o.Granted && a.IsMember(a.OrganizationID()), Hide)
	},
	// An API token holds no role: within its own organization the @scope
	// it needed for the field stands in for ORG_ADMIN.
	OrgAdmin: func(a *auth.Actor, o Owner) Verdict {
		switch {
		case a.IsOrgAdmin(o.OrganizationID), a.IsAPIToken() && a.IsMember(o.OrganizationID):
			return Allow
		case a.IsMember(o.OrganizationID):
			return Forbid
		}
		return Hide
	},
	PlatformAdmin: func(*auth.Actor, Owner) Verdict { return Forbid },
}

// Decide applies rule to caller a (nil when anonymous) and an object owned
// as o. An unknown rule forbids.
func Decide(rule Access, a *auth.Actor, o Owner) Verdict {
	switch {
	case rule == Public:
		return Allow
	case a == nil:
		return Anon
	case a.IsPlatformAdmin():
		return Allow
	}
	r, ok := rules[rule]
	if !ok {
		return Forbid
	}
	return r(a, o)
}

func allowIf(ok bool, otherwise Verdict) Verdict {
	if ok {
		return Allow
	}
	return otherwise
}
