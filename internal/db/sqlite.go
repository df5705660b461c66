package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
)

// SQLiteBusyTimeout is how long a SQLite writer waits for the database's
// write lock when its context has no nearer deadline.
const SQLiteBusyTimeout = 10 * time.Second

// sqliteDSN is the driver DSN of the database file at path.
//
// _txlock=immediate makes every transaction that may write (database/sql's
// ReadOnly ones excepted) begin IMMEDIATE, taking the write lock at BEGIN:
// writers queue on the busy timeout instead of failing at once with
// SQLITE_BUSY when two of them upgrade a read lock together. The DSN must
// not carry _time_format: glebarez/go-sqlite v1.21.2 stops reading options
// right after that one, and _txlock was silently ignored while it was
// there. Times are written the same without it (that driver's default is
// the "sqlite" format, "2006-01-02 15:04:05.999999999-07:00";
// TestSQLiteTimesStayCompatible holds it to that).
func sqliteDSN(path string) string {
	return fmt.Sprintf("file:%s?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(%d)"+
		"&_pragma=synchronous(NORMAL)&_txlock=immediate", path, SQLiteBusyTimeout.Milliseconds())
}

// openSQLitePool opens the connection pool of dsn through sqliteConnector.
func openSQLitePool(dsn string) *sql.DB {
	return sql.OpenDB(sqliteConnector{dsn: dsn})
}

// sqliteConnector opens glebarez/go-sqlite connections wrapped in
// deadlineConn.
type sqliteConnector struct{ dsn string }

var sqliteDriver = &gosqlite.Driver{}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("sqlite: driver connection %T lacks the context methods", conn)
	}
	return &deadlineConn{sqliteConn: sc, busy: SQLiteBusyTimeout, cur: SQLiteBusyTimeout}, nil
}

func (sqliteConnector) Driver() driver.Driver { return sqliteDriver }

// sqliteConn is what glebarez/go-sqlite's connections implement; database/sql
// sees exactly these through deadlineConn.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

// lockWaitSlack is how far past a deadline a wait for the write lock may
// run: busy_timeout is lowered again only when it exceeds what is left of
// the deadline by more, so a connection runs at most one PRAGMA per slack.
const lockWaitSlack = 50 * time.Millisecond

// deadlineConn is a SQLite connection whose wait for the write lock ends
// with the caller's deadline. SQLite's busy handler sleeps without looking
// at the context (sqlite3_interrupt does not cut it short) and the driver
// begins transactions without the context, so a writer queued behind
// another, or behind a process holding the lock, would otherwise wait the
// whole busy timeout past its request's deadline. Before BEGIN and each
// statement, busy_timeout is set to what is left of the deadline when that
// is shorter, and back to the full timeout for callers without one.
type deadlineConn struct {
	sqliteConn
	busy time.Duration // the full busy timeout
	cur  time.Duration // the busy timeout in effect on the connection
}

func (c *deadlineConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.boundLockWait(ctx); err != nil {
		return nil, err
	}
	return c.sqliteConn.BeginTx(ctx, opts)
}

func (c *deadlineConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.boundLockWait(ctx); err != nil {
		return nil, err
	}
	return c.sqliteConn.ExecContext(ctx, query, args)
}

func (c *deadlineConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.boundLockWait(ctx); err != nil {
		return nil, err
	}
	return c.sqliteConn.QueryContext(ctx, query, args)
}

// boundLockWait sets busy_timeout so that a lock wait starting now ends by
// ctx's deadline (within lockWaitSlack); past the deadline it refuses.
func (c *deadlineConn) boundLockWait(ctx context.Context) error {
	want := c.busy
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return context.DeadlineExceeded
		}
		want = min(want, left)
	}
	if c.cur >= want && c.cur-want <= lockWaitSlack {
		return nil
	}
	ms := max(want.Milliseconds(), 1)
	if _, err := c.sqliteConn.ExecContext(context.Background(), "PRAGMA busy_timeout = "+strconv.FormatInt(ms, 10), nil); err != nil {
		return err
	}
	c.cur = time.Duration(ms) * time.Millisecond
	return nil
}
