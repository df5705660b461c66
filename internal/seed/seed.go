// Package seed writes the benchmark data set of issue 12 (`neosc seed`):
// organizations, their users, workspaces (with their open usage rows) and
// audit events, deterministically — the same Options give the same rows and
// the same IDs on every run and engine — with batched multi-row INSERTs, so
// the large set loads in under a minute on SQLite.
//
// The rows are the ones the service itself would have written: UUIDv7 IDs
// whose time increases in creation order (so the user at 80 % depth by id is
// the 80 %-th created), every denormalised counter of an organization
// (user_count, workspace_count, cpu_cores, memory_mb, storage_gb) equal to
// the COUNT/SUM over its rows, an organization_user_events row per
// organization and an open workspace_usage row per workspace (what billing
// reads), unlimited quotas (NULL limits), ACTIVE users with a verified email
// and one password, Result.Password, hashed once by the service's hasher.
//
// Run never mixes with real data: it refuses a database that holds any user
// or any organization besides the default one the migrations create.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/store"
)

// Password is the password of every seeded user.
const Password = "neosc-bench-password"

// PlatformAdminEmail is the seeded platform administrator's email.
const PlatformAdminEmail = "platform-admin@seed.example.com"

// DefaultNow is the base time of the rows when Options.Now is zero: a fixed
// instant, so that IDs and times do not depend on when the seed ran.
var DefaultNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options sizes the data set. The big organization is the first one: it
// holds BigOrgUsers of the Users, BigOrgWorkspaces of the Workspaces and
// half of the AuditEvents; the rest are spread evenly over the others.
type Options struct {
	Organizations, Users, BigOrgUsers, Workspaces, BigOrgWorkspaces, AuditEvents int
	// Seed drives every random choice: the same Options give the same rows
	// and the same IDs.
	Seed int64
	// Now is the creation time of the first row (each next row is one
	// millisecond later); zero means DefaultNow.
	Now time.Time
}

// Large is the data set of issue 12: 1,000 organizations, 100,000 users
// (50,000 in the big organization), 20,000 workspaces (5,000 in the big
// one) and 1,000,000 audit events (half in the big one).
func Large() Options {
	return Options{Organizations: 1000, Users: 100000, BigOrgUsers: 50000, Workspaces: 20000, BigOrgWorkspaces: 5000,
		AuditEvents: 1000000, Seed: 1}
}

// Small is one tenth of Large.
func Small() Options {
	return Options{Organizations: 100, Users: 10000, BigOrgUsers: 5000, Workspaces: 2000, BigOrgWorkspaces: 500,
		AuditEvents: 100000, Seed: 1}
}

// maxRows bounds every count: the IDs' timestamps step one millisecond per
// row, and nobody needs a larger benchmark here.
const maxRows = 100_000_000

// Validate reports the first thing wrong with o, naming the flag.
func (o Options) Validate() error {
	for _, c := range []struct {
		name string
		n    int
	}{{"organizations", o.Organizations}, {"users", o.Users}, {"big-org-users", o.BigOrgUsers},
		{"workspaces", o.Workspaces}, {"big-org-workspaces", o.BigOrgWorkspaces}, {"audit-events", o.AuditEvents}} {
		if c.n < 0 || c.n > maxRows {
			return fmt.Errorf("%s must be between 0 and %d, got %d", c.name, maxRows, c.n)
		}
	}
	switch {
	case o.Organizations < 1:
		return errors.New("organizations must be at least 1 (the big organization)")
	case o.BigOrgUsers < 1:
		return errors.New("big-org-users must be at least 1 (the big organization's admin)")
	case o.BigOrgUsers > o.Users:
		return fmt.Errorf("big-org-users (%d) must not exceed users (%d)", o.BigOrgUsers, o.Users)
	case o.Users-o.BigOrgUsers < o.Organizations-1:
		return fmt.Errorf("users (%d) must leave at least one user (its admin) for each of the %d other organizations: at least %d",
			o.Users, o.Organizations-1, o.BigOrgUsers+o.Organizations-1)
	case o.Organizations == 1 && o.Users != o.BigOrgUsers:
		return fmt.Errorf("with one organization every user is in it: users (%d) must equal big-org-users (%d)", o.Users, o.BigOrgUsers)
	case o.BigOrgWorkspaces > o.Workspaces:
		return fmt.Errorf("big-org-workspaces (%d) must not exceed workspaces (%d)", o.BigOrgWorkspaces, o.Workspaces)
	case o.Organizations == 1 && o.Workspaces != o.BigOrgWorkspaces:
		return fmt.Errorf("with one organization every workspace is in it: workspaces (%d) must equal big-org-workspaces (%d)", o.Workspaces, o.BigOrgWorkspaces)
	}
	return nil
}

// Result is what Run wrote: the IDs are raw UUIDs (store IDs, not GraphQL
// global IDs; ids.Encode makes those).
type Result struct {
	// PlatformOrgID is the default organization, where the platform
	// administrator lives (as `neosc create-admin` places one).
	PlatformOrgID, PlatformAdminID string
	// BigOrgID is the big organization; BigOrgAdminID its first user, its
	// ADMIN.
	BigOrgID, BigOrgAdminID string
	// PlatformAdminEmail and BigOrgAdminEmail sign in with Password.
	PlatformAdminEmail, BigOrgAdminEmail string
	// Password is every seeded user's password.
	Password string
	// Counts is how many rows Run wrote per table (the default
	// organization's updated counters not included).
	Counts map[string]int64
}

// bulkTables are the tables whose secondary indexes are built after the
// load (dropIndexes).
var bulkTables = []string{"users", "workspaces", "workspace_usage", "audit_events"}

// Run writes the data set o into d, which the migrations must have brought
// up to date and which must hold no user and no organization besides the
// default one. progress, when not nil, gets a line per table.
func Run(ctx context.Context, d *db.DB, o Options, progress io.Writer) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Now.IsZero() {
		o.Now = DefaultNow
	}
	if progress == nil {
		progress = io.Discard
	}
	conn, err := d.SQL().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	defaultOrg, err := checkEmpty(ctx, conn)
	if err != nil {
		return nil, err
	}
	restore, err := tune(ctx, conn, d.Engine)
	if err != nil {
		return nil, err
	}
	defer restore()
	p := newPlan(o, defaultOrg)
	hash, err := hashPassword(ctx)
	if err != nil {
		return nil, err
	}
	bulk := bulkTables
	if d.Engine == db.MySQL {
		// InnoDB keeps the others' indexes up to date fast enough, and
		// some of them serve foreign keys, which must keep an index.
		bulk = []string{"audit_events"}
	}
	dropped, err := dropIndexes(ctx, conn, d.Engine, bulk...)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	w := &writer{ctx: ctx, conn: conn, engine: d.Engine, progress: progress, counts: map[string]int64{}}
	err = p.write(w, hash)
	// The indexes come back even when the load failed half way.
	if ierr := createIndexes(context.WithoutCancel(ctx), conn, d.Engine, dropped, progress); err == nil {
		err = ierr
	}
	if err == nil { // the organizations were written in bulk: count them (store.Organizations.CountAll)
		err = store.New(d.DB).Organizations.Recount(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("seed: %w (the database now holds part of the data set: drop it and seed a fresh one)", err)
	}
	return &Result{
		PlatformOrgID: defaultOrg, PlatformAdminID: p.platformAdminID,
		BigOrgID: p.orgs[0].id, BigOrgAdminID: p.users[0].id,
		PlatformAdminEmail: PlatformAdminEmail, BigOrgAdminEmail: p.users[0].email,
		Password: Password, Counts: w.counts,
	}, nil
}
