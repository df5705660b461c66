package db_test

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/migrations"
)

// TestDefaultOrganizationMigration: before migration 00007 the default
// organization was created lazily, so an attacker could register it by
// name first and be its ADMIN. On such a database 00007 renames the
// attacker's organization (its members stay, the rename is in its trail)
// and creates the real, reserved default organization beside it; on a
// database whose default organization shows no sign of a takeover it only
// marks that one reserved.
func TestDefaultOrganizationMigration(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e)+"/taken by a registrant", func(t *testing.T) {
			d := upTo(t, e, 6)
			squatter := seedOrg(t, d, "Default Organization", "evil.test", true)
			migrateRest(t, d, "Default Organization")
			var name, kind string
			d.Raw("SELECT name, kind FROM organizations WHERE id = ?", squatter).Row().Scan(&name, &kind)
			if kind != "TENANT" || name == "Default Organization" || len(name) < len("Default Organization (renamed") {
				t.Errorf("the taken organization is now %q (%s)", name, kind)
			}
			var defID string
			d.Raw("SELECT id FROM organizations WHERE kind = 'DEFAULT' AND name = 'Default Organization' AND domain IS NULL").Row().Scan(&defID)
			if defID == "" || defID == squatter {
				t.Fatal("no separate reserved default organization was created")
			}
			var users, updated, claims int64
			var domain *string
			d.Raw("SELECT COUNT(*) FROM users WHERE organization_id = ?", squatter).Row().Scan(&users)
			d.Raw("SELECT COUNT(*) FROM audit_events WHERE organization_id = ? AND action = 'organization.updated'", squatter).Row().Scan(&updated)
			d.Raw("SELECT domain FROM organizations WHERE id = ?", squatter).Row().Scan(&domain)
			d.Raw("SELECT COUNT(*) FROM organization_domains WHERE organization_id = ? AND domain = 'evil.test' AND verified_at IS NULL", squatter).Row().Scan(&claims)
			if users != 1 || updated != 2 {
				t.Errorf("members of the renamed organization: %d (want 1); organization.updated events: %d (want 2: domain, name)", users, updated)
			}
			// A primary domain set before DNS verification existed is now an
			// unverified claim (the squatting attack of issue 8).
			if domain != nil || claims != 1 {
				t.Errorf("primary domain after 00007: %v; unverified claims: %d (want none; 1)", domain, claims)
			}
		})
		t.Run(string(e)+"/the genuine one", func(t *testing.T) {
			d := upTo(t, e, 6)
			genuine := seedOrg(t, d, "Operations Org", "", false)
			migrateRest(t, d, "Operations Org")
			var n int64
			d.Raw("SELECT COUNT(*) FROM organizations WHERE kind = 'DEFAULT'").Row().Scan(&n)
			var kind string
			d.Raw("SELECT kind FROM organizations WHERE id = ?", genuine).Row().Scan(&kind)
			if n != 1 || kind != "DEFAULT" {
				t.Errorf("default organizations: %d; the existing one is %s", n, kind)
			}
		})
	}
}

// upTo returns a fresh database migrated up to version (6: the state before
// the default organization became a migration; 7: before SSO issuers became
// canonical).
func upTo(t *testing.T, e db.Engine, version int64) *db.DB {
	t.Helper()
	d := testdb.NewEmpty(t, e)
	sub, err := fs.Sub(migrations.FS, string(e))
	if err != nil {
		t.Fatal(err)
	}
	dialect := goose.DialectSQLite3
	if e == db.MySQL {
		dialect = goose.DialectMySQL
	}
	p, err := goose.NewProvider(dialect, d.SQL(), sub, goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(migrations.Go("")...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return d
}

// seedOrg inserts an organization as versions before 00007 did (name key
// lower-cased), with one user, ADMIN when admin is set.
func seedOrg(t *testing.T, d *db.DB, name, domain string, admin bool) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := ids.New()
	var dom any
	if domain != "" {
		dom = domain
	}
	if err := d.Exec(`INSERT INTO organizations (id, name, name_key, slug, domain, status, user_count, workspace_count, created_at, updated_at)
		VALUES (?, ?, LOWER(?), ?, ?, 'ACTIVE', 1, 0, ?, ?)`, id, name, name, id, dom, now, now).Error; err != nil {
		t.Fatal(err)
	}
	role := "MEMBER"
	if admin {
		role = "ADMIN"
	}
	if err := d.Exec(`INSERT INTO users (id, organization_id, email, email_scope, name, role, platform_admin, status, created_at, updated_at)
		VALUES (?, ?, ?, '', 'U', ?, FALSE, 'ACTIVE', ?, ?)`, ids.New(), id, id+"@x.test", role, now, now).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

func migrateRest(t *testing.T, d *db.DB, defaultOrg string) {
	t.Helper()
	m, err := db.NewMigrator(d, nil, db.WithDefaultOrganization(defaultOrg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate up the rest: %v", err)
	}
}
