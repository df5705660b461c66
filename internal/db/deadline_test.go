package db_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
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

func isBusy(err error) bool {
	var se *gosqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 5
}

// TestSQLiteWritersBeginImmediate: a transaction that may write holds the
// write lock from BEGIN, before any statement, so two writers queue instead
// of failing when both upgrade a read lock. Before: the DSN's _txlock was
// ignored (glebarez/go-sqlite stops reading options after _time_format) and
// transactions began DEFERRED. A read-only transaction still begins
// DEFERRED and blocks no writer.
func TestSQLiteWritersBeginImmediate(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	other := otherSQLite(t, d.SQLitePath)
	ctx := context.Background()
	write := func() error {
		_, err := other.ExecContext(ctx, "UPDATE organizations SET updated_at = updated_at")
		return err
	}

	tx, err := d.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(); !isBusy(err) {
		t.Errorf("another writer while a transaction is merely begun: %v, want SQLITE_BUSY (BEGIN IMMEDIATE)", err)
	}
	_ = tx.Rollback()

	tx, err = d.SQL().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := write(); err != nil {
		t.Errorf("another writer beside a read-only transaction: %v", err)
	}
	_ = tx.Rollback()

	// store.Tx, which every write path uses, begins the same way.
	locked := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_ = store.New(d.DB).Tx(ctx, func(*store.Store) error {
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	if err := write(); !isBusy(err) {
		t.Errorf("another writer during store.Tx before its first statement: %v, want SQLITE_BUSY", err)
	}
	close(release)
}

// oldSQLiteDSN is the DSN db.Open used before _time_format was dropped.
func oldSQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
}

// storedTime is how a time is stored: "2006-01-02 15:04:05.999999999-07:00"
// in UTC, the driver's "sqlite" format.
var storedTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})?\+00:00$`)

// TestSQLiteTimesStayCompatible: a database file written before the DSN
// lost _time_format still works, and times are written exactly as before,
// so stored times compare and sort alike whichever version wrote them.
func TestSQLiteTimesStayCompatible(t *testing.T) {
	path := filepath.Join(t.TempDir(), "neosc.db")
	pool, err := sql.Open("sqlite", oldSQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	g, err := gorm.Open(&sqlite.Dialector{Conn: pool}, &gorm.Config{SkipDefaultTransaction: true, TranslateError: true})
	if err != nil {
		t.Fatal(err)
	}
	old := &db.DB{DB: g, Engine: db.SQLite, SQLitePath: path}
	m, err := db.NewMigrator(old, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := gen.Organization(t, old, store.Organization{})
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := db.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	m, err = db.NewMigrator(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cur, err := m.Current(context.Background()); err != nil || !cur {
		t.Fatalf("the old file is not current: %v, %v", cur, err)
	}
	got, err := store.Lookup[store.Organization](context.Background(), store.New(d.DB), before.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(before.CreatedAt) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("created_at written before reads back as %v, want %v (UTC)", got.CreatedAt, before.CreatedAt)
	}
	after := gen.Organization(t, d, store.Organization{CreatedAt: before.CreatedAt.Add(time.Microsecond)})

	var texts []string
	if err := d.Raw("SELECT CAST(created_at AS TEXT) FROM organizations WHERE id IN (?, ?) ORDER BY created_at",
		before.ID, after.ID).Scan(&texts).Error; err != nil {
		t.Fatal(err)
	}
	if len(texts) != 2 {
		t.Fatalf("stored times %q", texts)
	}
	for _, s := range texts {
		if !storedTime.MatchString(s) {
			t.Errorf("stored time %q is not in the format the old DSN wrote", s)
		}
	}
	if texts[0] >= texts[1] {
		t.Errorf("times written before and after do not sort as text: %q", texts)
	}
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
	within("BEGIN", func(ctx context.Context) error {
		tx, err := d.SQL().BeginTx(ctx, nil)
		if err == nil {
			_ = tx.Rollback()
		}
		return err
	})
	within("a write outside a transaction", func(ctx context.Context) error {
		return d.WithContext(ctx).Exec("UPDATE organizations SET updated_at = updated_at").Error
	})
	within("store.Tx", func(ctx context.Context) error {
		return store.New(d.DB).Tx(ctx, func(*store.Store) error { return nil })
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
		t.Skip("MySQL not configured (NEOSC_TEST_MYSQL_DSN unset; in CI testdb.Engines fails instead)")
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
