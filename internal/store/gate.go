package store

import (
	"context"
	"sync"

	"gorm.io/gorm"
)

// writeGate queues this process's transactions on one SQLite database.
// SQLite has a single writer, and every transaction Tx begins takes the
// write lock at once (_txlock=immediate); the rest wait in SQLite's busy
// handler, which polls with sleeps of 1 to 100 ms, leaving the lock idle
// between its holder's commit and a sleeper's next try. Under 32 concurrent
// writers that idle time was most of a write's latency (S4's p99 near
// 200 ms, docs/performance.md). Waiting here instead hands the lock over
// the moment it is free, first come first served.
//
// It is only a queue in front of SQLite's own lock, which still decides:
// another process on the same file, or a write outside Tx, meets SQLite's
// lock and busy handler as before, and correctness never depends on the
// gate. MySQL and MariaDB get none (row locks, many writers at once).
type writeGate chan struct{}

var gates sync.Map // *sql.DB -> writeGate (one per pool: a process opens one; the tests a few dozen)

// gateOf returns the write gate of db's pool: nil unless db is SQLite.
func gateOf(db *gorm.DB) writeGate {
	if db.Dialector.Name() != "sqlite" {
		return nil
	}
	pool, err := db.DB()
	if err != nil {
		return nil
	}
	if g, ok := gates.Load(pool); ok {
		return g.(writeGate)
	}
	g, _ := gates.LoadOrStore(pool, make(writeGate, 1))
	return g.(writeGate)
}

// run runs tx once ctx's turn at the gate comes (at once for a nil gate),
// and lets the next one in when tx returns or panics.
func (g writeGate) run(ctx context.Context, tx func() error) error {
	if g == nil {
		return tx()
	}
	select {
	case g <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g }()
	return tx()
}
