package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/seed"
)

// Prepare migrates the database at databaseURL and seeds it.
func Prepare(ctx context.Context, databaseURL string, s Sizes) (*Seeded, error) {
	d, err := db.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	m, err := db.NewMigrator(d, nil, db.WithDefaultOrganization("Default Organization"))
	if err != nil {
		return nil, err
	}
	if _, err := m.Up(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	r, err := seed.Run(ctx, d, s, nil)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return &Seeded{PlatformOrgID: r.PlatformOrgID, PlatformAdminID: r.PlatformAdminID, BigOrgID: r.BigOrgID, BigOrgAdminID: r.BigOrgAdminID}, nil
}

// DropMySQL drops database name on the server of base.
func DropMySQL(ctx context.Context, base, name string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("MySQL DSN cannot be parsed")
	}
	u.Path = "/mysql"
	cfg, err := db.ParseMySQLURL(u.String())
	if err != nil {
		return err
	}
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
	return err
}

// FreshMySQL drops and creates database name on the server of base
// (mysql://USER:PASS@HOST:PORT/) and returns its URL.
func FreshMySQL(ctx context.Context, base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("MySQL DSN cannot be parsed")
	}
	admin := *u
	admin.Path = "/mysql"
	cfg, err := db.ParseMySQLURL(admin.String())
	if err != nil {
		return "", err
	}
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
		return "", fmt.Errorf("MySQL at %s: %w", u.Host, err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		return "", fmt.Errorf("MySQL at %s: %w", u.Host, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}
