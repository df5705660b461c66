package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"

	sqlite "github.com/glebarez/go-sqlite"
	gomysql "github.com/go-sql-driver/mysql"
)

// SQLite primary result codes (the low byte of extended codes such as
// SQLITE_BUSY_SNAPSHOT, 517).
const (
	sqliteBusy      = 5
	sqliteLocked    = 6
	sqliteInterrupt = 9
)

// retryable reports whether err lost to another transaction, so that
// running it again may succeed: a deadlock or a lock wait that ran out
// (MySQL 1213, 1205; a Galera certification failure is 1213 too), or a
// SQLite database busy or locked.
func retryable(err error) bool {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff
		return code == sqliteBusy || code == sqliteLocked
	}
	return false
}

// mysqlUnavailable are the MySQL/MariaDB errors of a server that refuses
// work for now rather than a statement at fault.
var mysqlUnavailable = map[uint16]bool{
	1040: true, // too many connections
	1047: true, // Galera: node not ready (not in the primary component)
	1053: true, // server shutdown in progress
	1290: true, // --read-only (a replica, or a primary being switched over)
	1317: true, // query interrupted
	1836: true, // read-only mode
	1927: true, // MariaDB: connection killed
	1969: true, // MariaDB: max_statement_time exceeded
	3024: true, // MySQL: max_execution_time exceeded
	4031: true, // MySQL: disconnected by the server (inactivity)
}

// Unavailable reports whether err, met while serving ctx, means that the
// database could not answer in time rather than a fault of the service:
// ctx ended (the request's deadline passed, or the client left, and
// whatever failed after that failed because of it), a lock wait or a busy
// database outlasted Tx's retries, a statement was interrupted or timed
// out, or the server is unreachable, went away, or refuses work for now.
// Clients get UNAVAILABLE for these (retryable, HTTP 503), never
// INTERNAL_SERVER_ERROR.
func Unavailable(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || retryable(err) {
		return true
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, gomysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var ne net.Error // refused, reset, i/o timeout (the DSN's readTimeout), unknown host
	if errors.As(err, &ne) {
		return true
	}
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return mysqlUnavailable[me.Number]
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteInterrupt
}
