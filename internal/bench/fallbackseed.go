package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/store"
)

// Sizes is the shape of a data set: the scenarios need one big
// organization (its first user an ADMIN) and a platform administrator in
// an organization of their own.
type Sizes struct {
	Organizations, Users, BigOrgUsers, Workspaces, BigOrgWorkspaces, AuditEvents int
}

// The data sets of the common brief: "large" and one tenth of it.
var (
	Large = Sizes{Organizations: 1000, Users: 100_000, BigOrgUsers: 50_000, Workspaces: 20_000, BigOrgWorkspaces: 5000, AuditEvents: 1_000_000}
	Small = Sizes{Organizations: 100, Users: 10_000, BigOrgUsers: 5000, Workspaces: 2000, BigOrgWorkspaces: 500, AuditEvents: 100_000}
	// Tiny is the CI run's data set.
	Tiny = Sizes{Organizations: 4, Users: 60, BigOrgUsers: 40, Workspaces: 12, BigOrgWorkspaces: 6, AuditEvents: 200}
)

// Seeded names what the scenarios need of a seeded database (raw store
// UUIDs).
type Seeded struct {
	PlatformOrgID, PlatformAdminID, BigOrgID, BigOrgAdminID string
}

// fallbackSeed writes a data set of sizes with batched GORM inserts: the
// harness's own, used until internal/seed (`neosc seed`) is on this branch.
// Deterministic: IDs are UUIDv7-shaped from a sequence, so their order is
// the insertion order, and times step by one second from a fixed instant.
func fallbackSeed(ctx context.Context, d *db.DB, s Sizes) (*Seeded, error) {
	seq := 0
	next := func() string {
		seq++
		return fmt.Sprintf("0190%04x-%04x-7000-8000-%012x", seq>>16, seq&0xffff, seq)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	g := d.DB.WithContext(ctx)

	orgs := make([]store.Organization, 0, s.Organizations+1)
	platform := store.Organization{ID: next(), Name: "Bench Operators", NameKey: "bench operators", Slug: "bench-operators",
		Status: store.OrganizationActive, Kind: store.KindOperators, CreatedAt: t0, UpdatedAt: t0}
	orgs = append(orgs, platform)
	for i := range s.Organizations {
		name := fmt.Sprintf("Bench Org %05d", i)
		orgs = append(orgs, store.Organization{ID: next(), Name: name, NameKey: fmt.Sprintf("bench org %05d", i),
			Slug: fmt.Sprintf("bench-org-%05d", i), Status: store.OrganizationActive, Kind: store.KindTenant, CreatedAt: at(i), UpdatedAt: at(i)})
	}
	big := &orgs[1]
	tenants := orgs[1:]

	users := make([]store.User, 0, s.Users+1)
	users = append(users, store.User{ID: next(), OrganizationID: platform.ID, Email: "admin@bench-operators.test", Name: "Platform Admin",
		Role: store.RoleAdmin, PlatformAdmin: true, Status: store.UserActive, CreatedAt: t0, UpdatedAt: t0})
	orgs[0].UserCount = 1
	for i := range s.Users {
		o := big
		if i >= s.BigOrgUsers && len(tenants) > 1 {
			o = &tenants[1+(i-s.BigOrgUsers)%(len(tenants)-1)]
		}
		role := store.RoleMember
		if o.UserCount == 0 {
			role = store.RoleAdmin
		}
		o.UserCount++
		users = append(users, store.User{ID: next(), OrganizationID: o.ID, Email: fmt.Sprintf("user%06d@bench.test", i),
			Name: fmt.Sprintf("User %06d", i), Role: role, Status: store.UserActive, CreatedAt: at(i), UpdatedAt: at(i)})
	}
	wss := make([]store.Workspace, 0, s.Workspaces)
	for i := range s.Workspaces {
		o := big
		if i >= s.BigOrgWorkspaces && len(tenants) > 1 {
			o = &tenants[1+(i-s.BigOrgWorkspaces)%(len(tenants)-1)]
		}
		o.WorkspaceCount++
		o.CPUCores += 2
		o.MemoryMB += 4096
		o.StorageGB += 50
		wss = append(wss, store.Workspace{ID: next(), OrganizationID: o.ID, Name: fmt.Sprintf("ws-%06d", i), Type: store.WorkspaceLinux,
			ConnectionType: store.ConnectionWeb, Status: store.WorkspaceAvailable, CPUCores: 2, MemoryMB: 4096, StorageGB: 50,
			CreatedAt: at(i), UpdatedAt: at(i)})
	}
	if err := g.CreateInBatches(orgs, 200).Error; err != nil {
		return nil, fmt.Errorf("seed organizations: %w", err)
	}
	if err := g.CreateInBatches(users, 500).Error; err != nil {
		return nil, fmt.Errorf("seed users: %w", err)
	}
	if err := g.CreateInBatches(wss, 500).Error; err != nil {
		return nil, fmt.Errorf("seed workspaces: %w", err)
	}
	actions := []string{"workspace.created", "user.login", "workspace.updated", "user.invited", "workspace.deleted"}
	const batch = 1000
	evs := make([]store.AuditEvent, 0, batch)
	for i := range s.AuditEvents {
		o := big
		if i%2 == 1 && len(tenants) > 1 {
			o = &tenants[1+(i/2)%(len(tenants)-1)]
		}
		actor := users[1]
		email := actor.Email
		target, tid := "Workspace", wss[i%len(wss)].ID
		evs = append(evs, store.AuditEvent{ID: next(), OrganizationID: &o.ID, Action: actions[i%len(actions)], Outcome: store.OutcomeSuccess,
			ActorID: &actor.ID, ActorEmail: &email, ActorOrganizationID: &actor.OrganizationID, TargetType: &target, TargetID: &tid,
			TargetOrganizationID: &o.ID, Metadata: store.JSON{"seed": i}, CreatedAt: at(i)})
		if len(evs) == batch || i == s.AuditEvents-1 {
			if err := g.CreateInBatches(evs, 250).Error; err != nil {
				return nil, fmt.Errorf("seed audit events: %w", err)
			}
			evs = evs[:0]
		}
	}
	return &Seeded{PlatformOrgID: platform.ID, PlatformAdminID: users[0].ID, BigOrgID: big.ID, BigOrgAdminID: users[1].ID}, nil
}
