package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
)

// maxParams bounds the placeholders of one statement, under SQLite's 32,766
// host parameters and MySQL's 65,535; rowsPerStatement rows of the widest
// table stay well inside it and inside MariaDB's 16 MiB max_allowed_packet.
const (
	maxParams        = 32000
	rowsPerStatement = 500
	// sqliteParams bounds the placeholders of one statement on SQLite:
	// glebarez/go-sqlite looks each argument up by a linear scan of all
	// of them, so a statement of n placeholders costs n² to bind.
	sqliteParams = 256
	// rowsPerTx is how many rows a transaction writes before it commits.
	rowsPerTx = 20000
)

// writer writes rows through one connection, in transactions of about
// rowsPerTx rows, with multi-row INSERTs.
type writer struct {
	ctx      context.Context
	conn     *sql.Conn
	engine   db.Engine
	progress io.Writer
	counts   map[string]int64

	tx      *sql.Tx
	pending int // rows written in tx
}

// table buffers the rows of one table for multi-row INSERTs.
type table struct {
	w       *writer
	name    string
	ncols   int
	per     int    // rows per full statement
	full    string // the INSERT of per rows
	prefix  string // "INSERT INTO t (cols) VALUES "
	args    []any
	rows    int // rows buffered
	written int64
	start   time.Time
}

func (w *writer) table(name string, cols ...string) *table {
	per := min(rowsPerStatement, maxParams/len(cols))
	if w.engine == db.SQLite {
		per = max(1, sqliteParams/len(cols))
	}
	prefix := "INSERT INTO " + name + " (" + strings.Join(cols, ", ") + ") VALUES "
	return &table{w: w, name: name, ncols: len(cols), per: per, prefix: prefix, full: insert(prefix, len(cols), per),
		args: make([]any, 0, per*len(cols)), start: time.Now()}
}

// insert is prefix followed by rows tuples of ncols placeholders.
func insert(prefix string, ncols, rows int) string {
	tuple := "(" + strings.Repeat("?, ", ncols-1) + "?)"
	var b strings.Builder
	b.Grow(len(prefix) + rows*(len(tuple)+2))
	b.WriteString(prefix)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// add buffers one row (ncols values) and writes the buffer once it holds a
// full statement.
func (t *table) add(vals ...any) error {
	if len(vals) != t.ncols {
		return fmt.Errorf("%s: %d values for %d columns", t.name, len(vals), t.ncols)
	}
	t.args = append(t.args, vals...)
	t.rows++
	if t.rows == t.per {
		return t.flush()
	}
	return nil
}

// flush writes the buffered rows in the writer's transaction, committing
// it when it has written enough.
func (t *table) flush() error {
	if t.rows == 0 {
		return nil
	}
	q := t.full
	if t.rows != t.per {
		q = insert(t.prefix, t.ncols, t.rows)
	}
	if err := t.w.exec(q, t.rows, t.args); err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	t.written += int64(t.rows)
	t.args, t.rows = t.args[:0], 0
	return nil
}

// done flushes what is left, commits, and reports the table's rows.
func (t *table) done() error {
	if err := t.flush(); err != nil {
		return err
	}
	if err := t.w.commit(); err != nil {
		return err
	}
	t.w.counts[t.name] += t.written
	fmt.Fprintf(t.w.progress, "%-26s %9d rows  %6.2fs\n", t.name, t.written, time.Since(t.start).Seconds())
	return nil
}

func (w *writer) exec(q string, rows int, args []any) error {
	if w.tx == nil {
		tx, err := w.conn.BeginTx(w.ctx, nil)
		if err != nil {
			return err
		}
		w.tx = tx
	}
	if _, err := w.tx.ExecContext(w.ctx, q, args...); err != nil {
		_ = w.tx.Rollback()
		w.tx = nil
		return err
	}
	w.pending += rows
	if w.pending >= rowsPerTx {
		return w.commit()
	}
	return nil
}

// execOne runs one statement in the writer's transaction.
func (w *writer) execOne(q string, args ...any) error {
	return w.exec(q, 0, args)
}

func (w *writer) commit() error {
	if w.tx == nil {
		return nil
	}
	err := w.tx.Commit()
	w.tx, w.pending = nil, 0
	return err
}

// errNotEmpty is Run's answer for a database that already holds data.
var errNotEmpty = errors.New("seed: the database already holds users or organizations; " +
	"seed only a fresh database (a new SQLite file or an empty MySQL database, migrated), never one with real data")

// checkEmpty returns the default organization's ID, or errNotEmpty when
// the database holds anything besides what the migrations create.
func checkEmpty(ctx context.Context, conn *sql.Conn) (string, error) {
	var users, others int64
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&users); err != nil {
		return "", fmt.Errorf("seed: is the database migrated? %w", err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM organizations WHERE kind <> 'DEFAULT'").Scan(&others); err != nil {
		return "", err
	}
	if users > 0 || others > 0 {
		return "", fmt.Errorf("%w (found %d users, %d organizations besides the default one)", errNotEmpty, users, others)
	}
	var id string
	if err := conn.QueryRowContext(ctx, "SELECT id FROM organizations WHERE kind = 'DEFAULT'").Scan(&id); err != nil {
		return "", fmt.Errorf("seed: the default organization (created by the migrations): %w", err)
	}
	return id, nil
}

// tune sets session options of conn that only speed up a bulk load of rows
// known to be valid, and returns what puts them back before conn returns
// to the pool. On MySQL: no unique or foreign-key checks (the plan's keys
// are unique by construction and its references exist). On SQLite: a
// larger page cache for the index inserts; journal_mode and synchronous
// stay as internal/db set them.
func tune(ctx context.Context, conn *sql.Conn, e db.Engine) (func(), error) {
	var set, reset []string
	switch e {
	case db.MySQL:
		set = []string{"SET SESSION unique_checks = 0", "SET SESSION foreign_key_checks = 0"}
		reset = []string{"SET SESSION unique_checks = 1", "SET SESSION foreign_key_checks = 1"}
	case db.SQLite:
		var cache int64
		if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
			return nil, err
		}
		set = []string{"PRAGMA cache_size = -262144"} // 256 MiB
		reset = []string{fmt.Sprintf("PRAGMA cache_size = %d", cache)}
	}
	for _, q := range set {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("seed: %s: %w", q, err)
		}
	}
	return func() {
		for _, q := range reset {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), q)
		}
	}, nil
}

// hashPassword hashes Password once with the service's hasher.
func hashPassword(ctx context.Context) (string, error) {
	return auth.NewPasswords(1, 0, 0).Hash(ctx, Password)
}

// index is a secondary index as SQLite stores its definition.
type index struct{ name, sql string }

// dropIndexes drops the secondary indexes of tables on SQLite and returns
// their definitions: building an index once over the loaded rows is several
// times faster than keeping it up to date row by row. createIndexes puts
// them back (and checks the unique ones). Other engines keep their indexes.
func dropIndexes(ctx context.Context, conn *sql.Conn, e db.Engine, tables ...string) ([]index, error) {
	if e != db.SQLite {
		return nil, nil
	}
	var out []index
	for _, t := range tables {
		rows, err := conn.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", t)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var ix index
			if err := rows.Scan(&ix.name, &ix.sql); err != nil {
				_ = rows.Close()
				return nil, err
			}
			out = append(out, ix)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	for _, ix := range out {
		if _, err := conn.ExecContext(ctx, `DROP INDEX "`+ix.name+`"`); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	return out, nil
}

// createIndexes creates the indexes dropIndexes dropped, reporting the time.
func createIndexes(ctx context.Context, conn *sql.Conn, list []index, progress io.Writer) error {
	if len(list) == 0 {
		return nil
	}
	start := time.Now()
	for _, ix := range list {
		if _, err := conn.ExecContext(ctx, ix.sql); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	fmt.Fprintf(progress, "%-26s %9d built   %6.2fs\n", "indexes", len(list), time.Since(start).Seconds())
	return nil
}
