// Package gen inserts test fixtures with defaults, after coder's dbgen:
// gen.Organization(t, d, store.Organization{}) fills every zero field of the
// seed with a sensible default, inserts the row and returns it. It is
// imported by tests only.
//
// Rules:
//   - IDs are fresh UUIDv7s, and names, emails and slugs derive from the ID,
//     so any number of fixtures coexist in one database.
//   - A missing owner is generated too: an empty OrganizationID gets a fresh
//     organization, an empty WorkspaceID a fresh workspace.
//   - Rows go in through the store's own methods, and counters stay exact:
//     User and Workspace add to their organization's counter in the same
//     transaction, organization row first, as the services do. The
//     *store.Organization a test holds is not refreshed.
//   - Times are UTC, truncated to the microsecond both engines store, so a
//     row read back equals the one returned.
//   - Any failure ends the test (t.Fatal).
package gen

import (
	"cmp"
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// Lifetimes given to tokens and grants without an ExpiresAt: the services'
// defaults, so that a generated token or grant is usable.
const (
	TokenLifetime = 90 * 24 * time.Hour
	GrantLifetime = 30 * 24 * time.Hour
)

// Organization inserts an ACTIVE organization named "Organization <ID>",
// slug "org-<ID>", without a domain or counted rows.
func Organization(t testing.TB, d *db.DB, seed store.Organization) *store.Organization {
	t.Helper()
	o := seed
	o.ID = cmp.Or(o.ID, ids.New())
	o.Name = cmp.Or(o.Name, "Organization "+o.ID)
	o.NameKey = cmp.Or(o.NameKey, strings.ToLower(o.Name))
	o.Slug = cmp.Or(o.Slug, "org-"+o.ID)
	o.Status = cmp.Or(o.Status, store.OrganizationActive)
	o.CreatedAt = stamp(o.CreatedAt, now())
	o.UpdatedAt = stamp(o.UpdatedAt, o.CreatedAt)
	write(t, d, "organization", func(ctx context.Context, tx *store.Store) error {
		return tx.Organizations.Create(ctx, &o)
	})
	return &o
}

// User inserts an ACTIVE MEMBER "user-<ID>@example.test" without a password
// (an SSO seed's EmailScope defaults to its issuer), and adds one to the
// organization's user counter in the same transaction.
func User(t testing.TB, d *db.DB, seed store.User) *store.User {
	t.Helper()
	u := seed
	u.ID = cmp.Or(u.ID, ids.New())
	u.OrganizationID = orgOr(t, d, u.OrganizationID)
	u.Email = cmp.Or(u.Email, "user-"+u.ID+"@example.test")
	if u.SSOIssuer != nil {
		u.EmailScope = cmp.Or(u.EmailScope, *u.SSOIssuer)
	}
	u.Name = cmp.Or(u.Name, "User "+u.ID)
	u.Role = cmp.Or(u.Role, store.RoleMember)
	u.Status = cmp.Or(u.Status, store.UserActive)
	u.CreatedAt = stamp(u.CreatedAt, now())
	u.UpdatedAt = stamp(u.UpdatedAt, u.CreatedAt)
	u.LastLoginAt = stampPtr(u.LastLoginAt)
	write(t, d, "user",
		func(ctx context.Context, tx *store.Store) error {
			return tx.Organizations.AddUsers(ctx, u.OrganizationID, 1)
		},
		func(ctx context.Context, tx *store.Store) error { return tx.Users.Create(ctx, &u) })
	return &u
}

// Workspace inserts an AVAILABLE DEV workspace reached over WEB, named
// "workspace-<ID>", with 2 cores, 4096 MB and 20 GB, and adds one to the
// organization's workspace and resource counters in the same transaction.
func Workspace(t testing.TB, d *db.DB, seed store.Workspace) *store.Workspace {
	t.Helper()
	w := seed
	w.ID = cmp.Or(w.ID, ids.New())
	w.OrganizationID = orgOr(t, d, w.OrganizationID)
	w.Name = cmp.Or(w.Name, "workspace-"+w.ID)
	w.Type = cmp.Or(w.Type, store.WorkspaceDev)
	w.ConnectionType = cmp.Or(w.ConnectionType, store.ConnectionWeb)
	w.Status = cmp.Or(w.Status, store.WorkspaceAvailable)
	w.CPUCores = cmp.Or(w.CPUCores, 2)
	w.MemoryMB = cmp.Or(w.MemoryMB, 4096)
	w.StorageGB = cmp.Or(w.StorageGB, 20)
	w.CreatedAt = stamp(w.CreatedAt, now())
	w.UpdatedAt = stamp(w.UpdatedAt, w.CreatedAt)
	write(t, d, "workspace",
		func(ctx context.Context, tx *store.Store) error {
			return tx.Organizations.AddUsage(ctx, w.OrganizationID, store.Usage{Workspaces: 1, CPUCores: w.CPUCores, MemoryMB: w.MemoryMB, StorageGB: w.StorageGB})
		},
		func(ctx context.Context, tx *store.Store) error { return tx.Workspaces.Create(ctx, &w) })
	return &w
}

// APIToken inserts a live token named "token-<ID>" with the
// READ_ORGANIZATION scope, expiring TokenLifetime after its creation.
func APIToken(t testing.TB, d *db.DB, seed store.APIToken) *store.APIToken {
	t.Helper()
	k := seed
	k.ID = cmp.Or(k.ID, ids.New())
	k.OrganizationID = orgOr(t, d, k.OrganizationID)
	k.Name = cmp.Or(k.Name, "token-"+k.ID)
	if len(k.Scopes) == 0 {
		k.Scopes = store.ScopeList{store.ScopeReadOrganization}
	}
	k.CreatedAt = stamp(k.CreatedAt, now())
	k.ExpiresAt = stamp(k.ExpiresAt, k.CreatedAt.Add(TokenLifetime))
	k.LastUsedAt = stampPtr(k.LastUsedAt)
	k.RevokedAt = stampPtr(k.RevokedAt)
	write(t, d, "API token", func(ctx context.Context, tx *store.Store) error {
		return tx.APITokens.Create(ctx, &k)
	})
	return &k
}

// Grant inserts a live grant, expiring GrantLifetime after its creation, of
// a workspace to a fresh grantee organization. Without a WorkspaceID it
// shares a fresh workspace of OrganizationID (itself fresh when empty); with
// one, OrganizationID defaults to that workspace's owner.
func Grant(t testing.TB, d *db.DB, seed store.WorkspaceGrant) *store.WorkspaceGrant {
	t.Helper()
	g := seed
	g.ID = cmp.Or(g.ID, ids.New())
	switch {
	case g.WorkspaceID == "":
		w := Workspace(t, d, store.Workspace{OrganizationID: g.OrganizationID})
		g.WorkspaceID, g.OrganizationID = w.ID, w.OrganizationID
	case g.OrganizationID == "":
		w, err := store.New(d.DB).Workspaces.GetByID(t.Context(), g.WorkspaceID)
		if err != nil {
			t.Fatalf("gen: grant of workspace %s: %v", g.WorkspaceID, err)
		}
		g.OrganizationID = w.OrganizationID
	}
	g.GranteeOrganizationID = orgOr(t, d, g.GranteeOrganizationID)
	g.CreatedAt = stamp(g.CreatedAt, now())
	g.ExpiresAt = stamp(g.ExpiresAt, g.CreatedAt.Add(GrantLifetime))
	g.Status = cmp.Or(g.Status, store.GrantAccepted)
	write(t, d, "grant", func(ctx context.Context, tx *store.Store) error {
		return tx.Grants.Create(ctx, &g)
	})
	return &g
}

// OrganizationDomain inserts an unverified INVITATION_ONLY domain
// "d-<ID>.example.com" with a fresh verification token. A seed with
// VerifiedAt is verified: its VerifiedDomain defaults to its Domain.
func OrganizationDomain(t testing.TB, d *db.DB, seed store.OrganizationDomain) *store.OrganizationDomain {
	t.Helper()
	o := seed
	o.ID = cmp.Or(o.ID, ids.New())
	o.OrganizationID = orgOr(t, d, o.OrganizationID)
	o.Domain = cmp.Or(o.Domain, "d-"+o.ID+".example.com")
	o.VerificationToken = cmp.Or(o.VerificationToken, rand.Text())
	o.Enrollment = cmp.Or(o.Enrollment, store.EnrollmentInvitationOnly)
	o.VerifiedAt = stampPtr(o.VerifiedAt)
	if o.VerifiedAt != nil && o.VerifiedDomain == nil {
		o.VerifiedDomain = &o.Domain
	}
	o.CreatedAt = stamp(o.CreatedAt, now())
	o.UpdatedAt = stamp(o.UpdatedAt, o.CreatedAt)
	write(t, d, "organization domain", func(ctx context.Context, tx *store.Store) error {
		return tx.Domains.Create(ctx, &o)
	})
	return &o
}

// AuditEvent inserts a SUCCESS event "test.event" with empty metadata and
// no actor or target. A nil OrganizationID gets a fresh organization, so a
// platform event (no organization) is not made here.
func AuditEvent(t testing.TB, d *db.DB, seed store.AuditEvent) *store.AuditEvent {
	t.Helper()
	e := seed
	e.ID = cmp.Or(e.ID, ids.New())
	if e.OrganizationID == nil {
		id := Organization(t, d, store.Organization{}).ID
		e.OrganizationID = &id
	}
	e.Action = cmp.Or(e.Action, "test.event")
	e.Outcome = cmp.Or(e.Outcome, store.OutcomeSuccess)
	if e.Metadata == nil {
		e.Metadata = store.JSON{}
	}
	e.CreatedAt = stamp(e.CreatedAt, now())
	write(t, d, "audit event", func(ctx context.Context, tx *store.Store) error {
		return tx.AuditEvents.Insert(ctx, &e)
	})
	return &e
}

// orgOr is id, or a fresh organization's when id is empty.
func orgOr(t testing.TB, d *db.DB, id string) string {
	t.Helper()
	if id != "" {
		return id
	}
	return Organization(t, d, store.Organization{}).ID
}

// write runs steps in order in one transaction of a store over d (the
// organization's counter first, then the row, where there is a counter),
// ending the test if one fails.
func write(t testing.TB, d *db.DB, what string, steps ...func(context.Context, *store.Store) error) {
	t.Helper()
	ctx := t.Context()
	err := store.New(d.DB).Tx(ctx, func(tx *store.Store) error {
		for _, step := range steps {
			if err := step(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("gen: insert %s: %v", what, err)
	}
}

// now is the current time as the database stores it.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// stamp is at in UTC to the microsecond, or def when at is zero.
func stamp(at, def time.Time) time.Time {
	if at.IsZero() {
		return def
	}
	return at.UTC().Truncate(time.Microsecond)
}

// stampPtr is stamp for an optional time: nil stays nil.
func stampPtr(at *time.Time) *time.Time {
	if at == nil {
		return nil
	}
	v := stamp(*at, time.Time{})
	return &v
}
