package db_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// otherSQLite opens the SQLite file at path on a pool of its own, as
// another process would, without waiting for locks (busy_timeout 0).
func otherSQLite(t *testing.T, path string) *sql.Conn {
	t.Helper()
	pool, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	conn, err := pool.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestSQLiteLockWaitEndsAtDeadline: a writer queued behind a lock held
// elsewhere gives up at its context's deadline, not after the whole busy
// timeout (SQLite's busy handler does not look at the context); callers
// without a deadline get the whole busy timeout back.
func TestSQLiteLockWaitEndsAtDeadline(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	other := otherSQLite(t, d.SQLitePath)
	if _, err := other.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	const wait = 300 * time.Millisecond
	within := func(what string, f func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		start := time.Now()
		err := f(ctx)
		took := time.Since(start)
		if err == nil {
			t.Fatalf("%s succeeded while another connection held the write lock", what)
		}
		if took > wait+200*time.Millisecond {
			t.Errorf("%s gave up after %s, deadline %s", what, took, wait)
		}
		if !store.Unavailable(ctx, err) {
			t.Errorf("%s: %v is not Unavailable", what, err)
		}
	}
	within("a write outside a transaction", func(ctx context.Context) error {
		return d.WithContext(ctx).Exec("UPDATE organizations SET updated_at = updated_at").Error
	})

	conn, err := d.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	busyTimeout := func(ctx context.Context) time.Duration {
		var ms int64
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ms) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if got := busyTimeout(ctx); got > wait {
		t.Errorf("busy_timeout %s under a %s deadline", got, wait)
	}
	if got := busyTimeout(context.Background()); got != db.SQLiteBusyTimeout {
		t.Errorf("busy_timeout %s without a deadline, want %s", got, db.SQLiteBusyTimeout)
	}
}

// TestMySQLReadTimeout: a server that stops answering without closing the
// connection costs a caller without a deadline the URL's readTimeout, not
// forever; migrations, which may wait minutes for another replica's lock,
// run on a pool without it.
func TestMySQLReadTimeout(t *testing.T) {
	if !hasMySQL(t) {
		t.Skip("MySQL not configured")
	}
	u, proxy := testdb.MySQLBehindProxy(t)
	d, err := db.Open(context.Background(), u+"?readTimeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()

	// The migration lock held 2 s elsewhere: Up waits past the read timeout.
	m, err := db.NewMigrator(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	release := holdMigrationLock(t, d)
	go func() { time.Sleep(2 * time.Second); release() }()
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrations cut short by the serving pool's read timeout: %v", err)
	}

	proxy.Freeze()
	defer proxy.Restore()
	start := time.Now()
	err = d.SQL().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM organizations").Scan(new(int))
	took := time.Since(start)
	if err == nil || took > 5*time.Second {
		t.Fatalf("a read from a frozen server: %v after %s, want an error after about 1s", err, took)
	}
	if !store.Unavailable(context.Background(), err) {
		t.Errorf("%v is not Unavailable", err)
	}
}

func hasMySQL(t *testing.T) bool {
	for _, e := range testdb.Engines(t) {
		if e == db.MySQL {
			return true
		}
	}
	return false
}
