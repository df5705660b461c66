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
	w      *writer
	name   string
	ncols  int
	per    int    // rows per full statement
	full   string // the INSERT of per rows
	prefix string // "INSERT INTO t (cols) VALUES "
	args   []any
	rows   int // rows buffered
	// stmt is full prepared in stmtTx: reused for every full statement of
	// a transaction (MySQL would otherwise prepare, execute and close
	// each, and SQLite parse each).
	stmt    *sql.Stmt
	stmtTx  *sql.Tx
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
	var err error
	if t.rows == t.per {
		err = t.w.execFull(t)
	} else {
		err = t.w.exec(insert(t.prefix, t.ncols, t.rows), t.rows, t.args)
	}
	if err != nil {
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

func (w *writer) begin() error {
	if w.tx != nil {
		return nil
	}
	tx, err := w.conn.BeginTx(w.ctx, nil)
	w.tx = tx
	return err
}

func (w *writer) exec(q string, rows int, args []any) error {
	if err := w.begin(); err != nil {
		return err
	}
	_, err := w.tx.ExecContext(w.ctx, q, args...)
	return w.done(rows, err)
}

// execFull writes a full statement of t through its prepared statement.
func (w *writer) execFull(t *table) error {
	if err := w.begin(); err != nil {
		return err
	}
	if t.stmtTx != w.tx {
		stmt, err := w.tx.PrepareContext(w.ctx, t.full)
		if err != nil {
			return w.done(0, err)
		}
		t.stmt, t.stmtTx = stmt, w.tx // closed by the transaction's end
	}
	_, err := t.stmt.ExecContext(w.ctx, t.args...)
	return w.done(t.rows, err)
}

// done ends a statement of rows rows: a failure rolls the transaction
// back, enough rows commit it.
func (w *writer) done(rows int, err error) error {
	if err != nil {
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
		set = []string{"PRAGMA cache_size = -65536"} // 64 MiB
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

// index is a secondary index: on SQLite its CREATE INDEX statement, on
// MySQL its "ADD INDEX" clause of an ALTER TABLE.
type index struct{ table, name, def string }

// dropIndexes drops the secondary indexes of tables and returns their
// definitions: building an index once over the loaded rows is several
// times faster than keeping it up to date row by row. createIndexes puts
// them back (and so checks the unique ones).
func dropIndexes(ctx context.Context, conn *sql.Conn, e db.Engine, tables ...string) ([]index, error) {
	var out []index
	for _, t := range tables {
		var (
			list []index
			err  error
		)
		if e == db.MySQL {
			list, err = mysqlIndexes(ctx, conn, t)
		} else {
			list, err = sqliteIndexes(ctx, conn, t)
		}
		if err != nil {
			return nil, err
		}
		for _, ix := range list {
			q := `DROP INDEX "` + ix.name + `"`
			if e == db.MySQL {
				q = "DROP INDEX `" + ix.name + "` ON `" + ix.table + "`"
			}
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("drop index %s: %w", ix.name, err)
			}
		}
		out = append(out, list...)
	}
	return out, nil
}

func sqliteIndexes(ctx context.Context, conn *sql.Conn, table string) ([]index, error) {
	rows, err := conn.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", table)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []index
	for rows.Next() {
		ix := index{table: table}
		if err := rows.Scan(&ix.name, &ix.def); err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

// mysqlIndexes lists the plain B-tree secondary indexes of table (any
// other kind stays where it is).
func mysqlIndexes(ctx context.Context, conn *sql.Conn, table string) ([]index, error) {
	rows, err := conn.QueryContext(ctx, `SELECT INDEX_NAME, NON_UNIQUE, INDEX_TYPE, COLUMN_NAME, SUB_PART, COLLATION
		FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY'
		ORDER BY INDEX_NAME, SEQ_IN_INDEX`, table)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var (
		out   []index
		cols  = map[string][]string{}
		skip  = map[string]bool{}
		order []string
	)
	for rows.Next() {
		var (
			name, typ, col string
			nonUnique      int
			sub            sql.NullInt64
			collation      sql.NullString
		)
		if err := rows.Scan(&name, &nonUnique, &typ, &col, &sub, &collation); err != nil {
			return nil, err
		}
		if typ != "BTREE" {
			skip[name] = true
		}
		if _, seen := cols[name]; !seen {
			order = append(order, name)
			kind := "INDEX"
			if nonUnique == 0 {
				kind = "UNIQUE INDEX"
			}
			cols[name] = []string{kind}
		}
		c := "`" + col + "`"
		if sub.Valid {
			c += fmt.Sprintf("(%d)", sub.Int64)
		}
		if collation.String == "D" {
			c += " DESC"
		}
		cols[name] = append(cols[name], c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range order {
		if skip[name] {
			continue
		}
		c := cols[name]
		out = append(out, index{table: table, name: name, def: "ADD " + c[0] + " `" + name + "` (" + strings.Join(c[1:], ", ") + ")"})
	}
	return out, nil
}

// createIndexes creates the indexes dropIndexes dropped, reporting the
// time. On MySQL one ALTER TABLE per index: each stays well inside the
// serving pool's read timeout (internal/db.MySQLReadTimeout), where one
// statement building them all might not on a large table.
func createIndexes(ctx context.Context, conn *sql.Conn, e db.Engine, list []index, progress io.Writer) error {
	if len(list) == 0 {
		return nil
	}
	start := time.Now()
	for _, ix := range list {
		q := ix.def
		if e == db.MySQL {
			q = "ALTER TABLE `" + ix.table + "` " + ix.def
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild index %s: %w", ix.name, err)
		}
	}
	fmt.Fprintf(progress, "%-26s %9d built   %6.2fs\n", "indexes", len(list), time.Since(start).Seconds())
	return nil
}
