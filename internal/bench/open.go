package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/neosc/neosc/internal/db"
)

// sqliteDSN is internal/db's DSN of a database file (its sqliteDSN is not
// exported): WAL, foreign keys, busy timeout, writers BEGIN IMMEDIATE.
func sqliteDSN(path string) string {
	return fmt.Sprintf("file:%s?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(%d)"+
		"&_pragma=synchronous(NORMAL)&_txlock=immediate", path, db.SQLiteBusyTimeout.Milliseconds())
}

type dsnConnector struct {
	dsn string
	drv *gosqlite.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

// OpenPool opens a connection pool on databaseURL (NEOSC_DATABASE_URL's
// syntax) with internal/db's driver settings and pool sizes, counting its
// statements in c. On SQLite, internal/db also wraps each connection to cut
// lock waits at the request's deadline; that wrapper (unexported) is left
// out here: it runs nothing while deadlines are far.
func OpenPool(ctx context.Context, databaseURL string, c *Counter) (*sql.DB, db.Engine, error) {
	var (
		pool   *sql.DB
		engine db.Engine
	)
	switch {
	case strings.HasPrefix(databaseURL, "sqlite:"):
		engine = db.SQLite
		pool = sql.OpenDB(countingConnector{inner: dsnConnector{dsn: sqliteDSN(strings.TrimPrefix(databaseURL, "sqlite:")), drv: &gosqlite.Driver{}}, c: c})
		pool.SetMaxOpenConns(8)
		pool.SetMaxIdleConns(8)
	case strings.HasPrefix(databaseURL, "mysql://"):
		engine = db.MySQL
		mc, err := db.ParseMySQLURL(databaseURL)
		if err != nil {
			return nil, "", err
		}
		conn, err := gomysql.NewConnector(mc)
		if err != nil {
			return nil, "", err
		}
		pool = sql.OpenDB(countingConnector{inner: conn, c: c})
		pool.SetMaxOpenConns(32)
		pool.SetMaxIdleConns(16)
		pool.SetConnMaxLifetime(3 * time.Minute)
		pool.SetConnMaxIdleTime(time.Minute)
	default:
		return nil, "", errors.New("database URL: want sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB")
	}
	if err := pool.PingContext(ctx); err != nil {
		_ = pool.Close()
		return nil, "", err
	}
	return pool, engine, nil
}

// OpenDB opens databaseURL as the service's *db.DB (GORM with internal/db's
// configuration) over a counting pool.
func OpenDB(ctx context.Context, databaseURL string, c *Counter) (*db.DB, error) {
	pool, engine, err := OpenPool(ctx, databaseURL, c)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
	var dial gorm.Dialector = &sqlite.Dialector{Conn: pool}
	if engine == db.MySQL {
		dial = mysql.New(mysql.Config{Conn: pool})
	}
	g, err := gorm.Open(dial, cfg)
	if err != nil {
		_ = pool.Close()
		return nil, err
	}
	d := &db.DB{DB: g, Engine: engine}
	if engine == db.SQLite {
		d.SQLitePath = strings.TrimPrefix(databaseURL, "sqlite:")
	}
	return d, nil
}
