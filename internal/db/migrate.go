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
	p *goose.Provider
}

// NewMigrator prepares the migrations for d. Up and Down hold a lock that
// spans processes: MySQL's GET_LOCK on a dedicated connection, or an flock on
// a file next to the SQLite database, so two replicas starting together never
// both migrate.
func NewMigrator(d *DB, log *slog.Logger) (*Migrator, error) {
	sub, err := fs.Sub(migrations.FS, string(d.Engine))
	if err != nil {
		return nil, err
	}
	var (
		dialect goose.Dialect
		locker  interface {
			SessionLock(context.Context, *sql.Conn) error
			SessionUnlock(context.Context, *sql.Conn) error
		}
	)
	switch d.Engine {
	case MySQL:
		dialect, locker = goose.DialectMySQL, mysqlLocker{}
	case SQLite:
		dialect, locker = goose.DialectSQLite3, &fileLocker{path: d.SQLitePath + ".migrate.lock"}
	default:
		return nil, fmt.Errorf("migrations: unknown engine %q", d.Engine)
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(dialect, d.SQL(), sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) { return m.p.Up(ctx) }

// Down rolls back the most recent migration.
func (m *Migrator) Down(ctx context.Context) (*goose.MigrationResult, error) { return m.p.Down(ctx) }

// DownAll rolls back every migration.
func (m *Migrator) DownAll(ctx context.Context) ([]*goose.MigrationResult, error) {
	return m.p.DownTo(ctx, 0)
}

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.p.Status(ctx)
}

// Current reports whether the database is at the newest embedded version.
func (m *Migrator) Current(ctx context.Context) (bool, error) {
	pending, err := m.p.HasPending(ctx)
	if err != nil {
		return false, err
	}
	return !pending, nil
}

// mysqlLocker holds MySQL's named lock for the session: released explicitly,
// or by the server when the connection dies.
type mysqlLocker struct{}

func (mysqlLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('neosc_migrate', 300)").Scan(&got); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return errors.New("migration lock: timed out after 300s waiting for another migrating process")
	}
	return nil
}

func (mysqlLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT RELEASE_LOCK('neosc_migrate')")
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
