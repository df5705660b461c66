package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"syscall"

	"github.com/pressly/goose/v3"

	"github.com/neosc/neosc/migrations"
)

// Migrator applies the embedded migrations of the engine in use.
type Migrator struct {
	p         *goose.Provider
	db        *sql.DB
	newLocker func() sessionLocker
}

type sessionLocker interface {
	SessionLock(context.Context, *sql.Conn) error
	SessionUnlock(context.Context, *sql.Conn) error
}

// MigratorOption configures a Migrator.
type MigratorOption func(*migratorConfig)

type migratorConfig struct{ defaultOrg string }

// WithDefaultOrganization names the default organization that migration
// 00007 creates (NEOSC_DEFAULT_ORG_NAME); migrations.DefaultOrganizationName
// when not given.
func WithDefaultOrganization(name string) MigratorOption {
	return func(c *migratorConfig) { c.defaultOrg = name }
}

// NewMigrator prepares the migrations for d: the engine's SQL files and the
// Go migrations (migrations.Go). Up and Down hold a lock that spans
// processes: MySQL's GET_LOCK on a dedicated connection, or an flock on a
// file next to the SQLite database, so two replicas starting together never
// both migrate.
func NewMigrator(d *DB, log *slog.Logger, options ...MigratorOption) (*Migrator, error) {
	var cfg migratorConfig
	for _, o := range options {
		o(&cfg)
	}
	sub, err := fs.Sub(migrations.FS, string(d.Engine))
	if err != nil {
		return nil, err
	}
	var (
		dialect   goose.Dialect
		newLocker func() sessionLocker
	)
	switch d.Engine {
	case MySQL:
		dialect, newLocker = goose.DialectMySQL, func() sessionLocker { return mysqlLocker{} }
	case SQLite:
		dialect, newLocker = goose.DialectSQLite3, func() sessionLocker { return &fileLocker{path: d.SQLitePath + ".migrate.lock"} }
	default:
		return nil, fmt.Errorf("migrations: unknown engine %q", d.Engine)
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(newLocker()), goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(migrations.Go(cfg.defaultOrg)...)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(dialect, d.migrationSQL(), sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{p: p, db: d.migrationSQL(), newLocker: newLocker}, nil
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	// goose creates its version table and version 0 row before taking its
	// lock. On MySQL the CREATE TABLE commits at once, so a replica starting
	// alongside could see the table without that row, take the lock first
	// and fail with "missing zero version migration". Create it under the
	// lock.
	if err := m.locked(ctx, func() error { _, err := m.p.HasPending(ctx); return err }); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return m.p.Up(ctx)
}

// locked runs f holding the cross-process migration lock.
func (m *Migrator) locked(ctx context.Context, f func() error) (err error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	l := m.newLocker()
	if err := l.SessionLock(ctx, conn); err != nil {
		return err
	}
	defer func() {
		if uerr := l.SessionUnlock(context.WithoutCancel(ctx), conn); err == nil {
			err = uerr
		}
	}()
	return f()
}

// Down rolls back the most recent migration.
func (m *Migrator) Down(ctx context.Context) (*goose.MigrationResult, error) { return m.p.Down(ctx) }

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.p.Status(ctx)
}

// Current reports whether the database is at the newest embedded version.
// It only reads (readiness probes call it): a missing version table means
// not current, never "create it".
func (m *Migrator) Current(ctx context.Context) (bool, error) {
	pending, err := m.pendingCount(ctx)
	if err != nil {
		if pingErr := m.db.PingContext(ctx); pingErr != nil {
			return false, pingErr
		}
		return false, nil // no version table yet
	}
	return pending == 0, nil
}

// pendingCount counts embedded versions not applied, per goose's version
// table (the newest row of each version wins).
func (m *Migrator) pendingCount(ctx context.Context) (int, error) {
	rows, err := m.db.QueryContext(ctx, "SELECT version_id, is_applied FROM goose_db_version ORDER BY id")
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }()
	state := map[int64]bool{}
	for rows.Next() {
		var v int64
		var applied bool
		if err := rows.Scan(&v, &applied); err != nil {
			return 0, err
		}
		state[v] = applied
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, src := range m.p.ListSources() {
		if !state[src.Version] {
			n++
		}
	}
	return n, nil
}

// mysqlLocker holds MySQL's named lock for the session: released explicitly,
// or by the server when the connection dies. Named locks are server-wide, so
// the name carries the database: deployments sharing a server don't wait
// for each other.
type mysqlLocker struct{}

// MySQLLockName is the SQL expression naming the migration lock (at most
// 64 characters, as MySQL requires).
const MySQLLockName = "CONCAT('neosc_migrate:', MD5(DATABASE()))"

func (mysqlLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+MySQLLockName+", 300)").Scan(&got); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return errors.New("migration lock: timed out after 300s waiting for another migrating process")
	}
	return nil
}

func (mysqlLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT RELEASE_LOCK("+MySQLLockName+")")
	return err
}

// fileLocker is an exclusive flock on a file: the embedded database lives on
// one host, and the kernel drops the lock when the process dies.
type fileLocker struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func (l *fileLocker) SessionLock(ctx context.Context, _ *sql.Conn) error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("migration lock: %w", err)
		}
	case <-ctx.Done():
		_ = f.Close() // unblocks nothing, but the lock dies with the file
		return ctx.Err()
	}
	l.mu.Lock()
	l.f = f
	l.mu.Unlock()
	return nil
}

func (l *fileLocker) SessionUnlock(context.Context, *sql.Conn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
	return err
}
