// Package testdb gives tests real databases: a fresh SQLite file always, and
// a fresh MySQL/MariaDB database whenever NEOSC_TEST_MYSQL_DSN is set
// (mysql://USER:PASS@HOST:PORT/ — the database name is generated). Each call
// creates its own database, migrated to the newest version, and drops it when
// the test ends. With CI=true and no reachable MySQL the test fails instead
// of skipping. It is imported by tests only.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"

	"github.com/neosc/neosc/internal/db"
)

// EnvMySQL names the MySQL server tests use.
const EnvMySQL = "NEOSC_TEST_MYSQL_DSN"

// Engines lists the engines to run a test on: SQLite always, MySQL when
// configured. In CI (CI=true) MySQL must be configured.
func Engines(t testing.TB) []db.Engine {
	t.Helper()
	engines := []db.Engine{db.SQLite}
	if os.Getenv(EnvMySQL) != "" {
		engines = append(engines, db.MySQL)
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is not set: the MySQL suite must run in CI", EnvMySQL)
	}
	return engines
}

// ForEach runs f as a subtest on each engine with a fresh database.
func ForEach(t *testing.T, f func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			f(t, New(t, e))
		})
	}
}

// New returns a fresh, migrated database of engine e, dropped at cleanup.
func New(t testing.TB, e db.Engine) *db.DB {
	t.Helper()
	d := NewEmpty(t, e)
	migrateUp(t, d)
	return d
}

func migrateUp(t testing.TB, d *db.DB) {
	t.Helper()
	m, err := db.NewMigrator(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
}

// RollBackAll rolls back every applied migration of m, newest first, through
// its Down, and returns how many it rolled back.
func RollBackAll(t testing.TB, m *db.Migrator) int {
	t.Helper()
	for n := 0; ; n++ {
		_, err := m.Down(context.Background())
		if errors.Is(err, goose.ErrNoNextVersion) {
			return n
		}
		if err != nil {
			t.Fatalf("migrate down, after %d: %v", n, err)
		}
	}
}

// NewEmpty returns a fresh database of engine e without any migration.
func NewEmpty(t testing.TB, e db.Engine) *db.DB {
	t.Helper()
	u := URL(t, e)
	d, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", e, err)
	}
	if e == db.MySQL {
		smallPool(d)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// smallPool keeps a MySQL database's pool small: test packages run in
// parallel against one server and must stay under max_connections.
func smallPool(d *db.DB) {
	d.SQL().SetMaxOpenConns(12)
	d.SQL().SetMaxIdleConns(4)
}

var seq atomic.Int64

// URL creates a fresh database of engine e and returns its NEOSC_DATABASE_URL.
func URL(t testing.TB, e db.Engine) string {
	t.Helper()
	switch e {
	case db.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "neosc.db")
	case db.MySQL:
		base := os.Getenv(EnvMySQL)
		if base == "" {
			t.Fatalf("%s is not set", EnvMySQL)
		}
		name := fmt.Sprintf("neosc_t%d_%d_%s", time.Now().Unix()%100000, seq.Add(1), randHex(4))
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("%s: cannot be parsed", EnvMySQL)
		}
		admin := *u
		admin.Path = "/mysql"
		cfg, err := db.ParseMySQLURL(admin.String())
		if err != nil {
			t.Fatal(err)
		}
		conn, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
			t.Fatalf("MySQL at %s unreachable or refusing CREATE DATABASE: %v", u.Host, err)
		}
		t.Cleanup(func() {
			c, err := sql.Open("mysql", cfg.FormatDSN())
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = c.Exec("DROP DATABASE IF EXISTS `" + name + "`")
		})
		u.Path = "/" + name
		return u.String()
	}
	t.Fatalf("unknown engine %q", e)
	return ""
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Counter counts the SQL statements GORM runs on a database.
type Counter struct {
	n      atomic.Int64
	record atomic.Bool
	log    atomic.Pointer[[]string]
}

// CountStatements starts counting every statement run through d's GORM
// handle (queries, inserts, updates, deletes, raw SQL).
func CountStatements(t testing.TB, d *db.DB) *Counter {
	t.Helper()
	c := &Counter{}
	c.log.Store(&[]string{})
	cb := func(tx *gorm.DB) {
		// DryRun: GORM building a subquery's SQL, not running it.
		if tx.Statement == nil || tx.Statement.SQL.Len() == 0 || tx.DryRun {
			return
		}
		c.n.Add(1)
		if c.record.Load() {
			for {
				old := c.log.Load()
				next := append(append([]string{}, *old...), tx.Statement.SQL.String())
				if c.log.CompareAndSwap(old, &next) {
					break
				}
			}
		}
	}
	name := "testdb:count:" + randHex(4)
	cbs := d.Callback()
	for _, reg := range []error{
		cbs.Query().After("gorm:query").Register(name, cb),
		cbs.Create().After("gorm:create").Register(name, cb),
		cbs.Update().After("gorm:update").Register(name, cb),
		cbs.Delete().After("gorm:delete").Register(name, cb),
		cbs.Row().After("gorm:row").Register(name, cb),
		cbs.Raw().After("gorm:raw").Register(name, cb),
	} {
		if reg != nil {
			t.Fatal(reg)
		}
	}
	return c
}

// Reset zeroes the count and starts recording statements' SQL.
func (c *Counter) Reset() {
	c.n.Store(0)
	c.record.Store(true)
	c.log.Store(&[]string{})
}

// N is the number of statements since the last Reset.
func (c *Counter) N() int { return int(c.n.Load()) }

// SQL lists the statements since the last Reset.
func (c *Counter) SQL() string { return strings.Join(*c.log.Load(), "\n") }
