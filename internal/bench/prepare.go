package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

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

// adminConn opens a pool on the server of base (mysql://USER:PASS@HOST:PORT/),
// on its mysql database; it answers base parsed as well.
func adminConn(base string) (*sql.DB, *url.URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, nil, fmt.Errorf("MySQL DSN cannot be parsed")
	}
	admin := *u
	admin.Path = "/mysql"
	cfg, err := db.ParseMySQLURL(admin.String())
	if err != nil {
		return nil, nil, err
	}
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, nil, err
	}
	return conn, u, nil
}

// DropMySQL drops database name on the server of base.
func DropMySQL(ctx context.Context, base, name string) error {
	conn, _, err := adminConn(base)
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
	conn, u, err := adminConn(base)
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

// RaiseBufferPool makes the InnoDB buffer pool of the MySQL/MariaDB server
// at base at least size bytes (SET GLOBAL innodb_buffer_pool_size, which
// needs the SUPER or SYSTEM_VARIABLES_ADMIN privilege) and waits until the
// server reports it. It answers the size before and a function that puts
// it back (a no-op when nothing was changed). A pool smaller than the data
// makes the large data set's reads miss the pool, which says more about
// the server's configuration than about either handler.
func RaiseBufferPool(ctx context.Context, base string, size int64) (before int64, restore func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	conn, u, err := adminConn(base)
	if err != nil {
		return 0, noop, err
	}
	defer conn.Close()
	if err := conn.QueryRowContext(ctx, "SELECT @@innodb_buffer_pool_size").Scan(&before); err != nil {
		return 0, noop, fmt.Errorf("MySQL at %s: %w", u.Host, err)
	}
	const chunk = 128 << 20 // whole chunks: the size the server reads back
	size = (size + chunk - 1) / chunk * chunk
	if before >= size {
		return before, noop, nil
	}
	set := func(ctx context.Context, n int64) error {
		conn, _, err := adminConn(base)
		if err != nil {
			return err
		}
		defer conn.Close()
		var from int64
		if err := conn.QueryRowContext(ctx, "SELECT @@innodb_buffer_pool_size").Scan(&from); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "SET GLOBAL innodb_buffer_pool_size = ?", n); err != nil {
			return fmt.Errorf("MySQL at %s: set innodb_buffer_pool_size: %w", u.Host, err)
		}
		// The resize runs in the background on some versions; the variable
		// reads the new size once it is done (rounded up to whole chunks:
		// wait for it to pass n, not to equal it).
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var now int64
			if err := conn.QueryRowContext(ctx, "SELECT @@innodb_buffer_pool_size").Scan(&now); err != nil {
				return err
			}
			if (n > from && now >= n) || (n <= from && now <= n) {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("MySQL at %s: innodb_buffer_pool_size is %d, not %d, after 2 minutes", u.Host, now, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := set(ctx, size); err != nil {
		return before, noop, err
	}
	return before, func(ctx context.Context) error { return set(ctx, before) }, nil
}
