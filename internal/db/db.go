// Package db opens the database named by NEOSC_DATABASE_URL (embedded SQLite
// or MySQL) and applies the embedded migrations under a cross-process lock.
//
// Rules: times are stored in UTC; SQLite runs in WAL mode with foreign keys on
// and every transaction taking the write lock at BEGIN (so two writers never
// deadlock on a lock upgrade), and a writer's wait for the lock ends with its
// context's deadline; MySQL connections are recycled well before the server's
// idle timeout and have read and write timeouts, except on the small pool
// migrations run on.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Engine names a database engine.
type Engine string

// The supported engines.
const (
	SQLite Engine = "sqlite"
	MySQL  Engine = "mysql"
)

// DB is an open database: the GORM handle plus what migrations need.
type DB struct {
	*gorm.DB
	Engine Engine
	// SQLitePath is the database file, for the embedded engine.
	SQLitePath string
	// migrations, when set, is the pool migrations run on (see
	// migrationPool); else they use the serving pool.
	migrations *sql.DB
}

// SQL returns the underlying connection pool.
func (d *DB) SQL() *sql.DB {
	s, err := d.DB.DB()
	if err != nil {
		// Only happens when the GORM handle was not opened from a pool.
		panic(err)
	}
	return s
}

// Close closes the connection pools.
func (d *DB) Close() error {
	if d.migrations != nil {
		_ = d.migrations.Close()
	}
	return d.SQL().Close()
}

// migrationSQL is the pool migrations run on.
func (d *DB) migrationSQL() *sql.DB {
	if d.migrations != nil {
		return d.migrations
	}
	return d.SQL()
}

// migrationPool is a small MySQL pool without the read timeout, for
// migrations: they wait up to 300 s for another replica's migration lock,
// and an ALTER TABLE on a large table may run for minutes, where the
// serving pool's read timeout would cut the connection mid-statement.
func migrationPool(mc *gomysql.Config) (*sql.DB, error) {
	c := mc.Clone()
	c.ReadTimeout = 0
	conn, err := gomysql.NewConnector(c)
	if err != nil {
		return nil, err
	}
	pool := sql.OpenDB(conn)
	pool.SetMaxOpenConns(4)
	pool.SetMaxIdleConns(1)
	pool.SetConnMaxLifetime(3 * time.Minute)
	pool.SetConnMaxIdleTime(time.Minute)
	return pool, nil
}

// Open opens a database URL: "sqlite:PATH" or "mysql://USER:PASS@HOST:PORT/DB?opts".
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		SkipDefaultTransaction: true,
		TranslateError:         true,
		PrepareStmt:            false,
	}
	switch {
	case strings.HasPrefix(databaseURL, "sqlite:"):
		path := strings.TrimPrefix(databaseURL, "sqlite:")
		if path == "" {
			return nil, errors.New("sqlite: empty path")
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("sqlite: create %s: %w", dir, err)
			}
		}
		pool := openSQLitePool(sqliteDSN(path))
		g, err := gorm.Open(&sqlite.Dialector{Conn: pool}, cfg)
		if err != nil {
			_ = pool.Close()
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		d := &DB{DB: g, Engine: SQLite, SQLitePath: path}
		pool.SetMaxOpenConns(8)
		pool.SetMaxIdleConns(8)
		if err := pool.PingContext(ctx); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		// The file holds password hashes: owner only (WAL and SHM files
		// follow the main file's mode).
		_ = os.Chmod(path, 0o600)
		return d, nil
	case strings.HasPrefix(databaseURL, "mysql://"):
		mc, err := ParseMySQLURL(databaseURL)
		if err != nil {
			return nil, err
		}
		g, err := gorm.Open(mysql.New(mysql.Config{DSNConfig: mc}), cfg)
		if err != nil {
			return nil, fmt.Errorf("mysql: open %s: %w", mc.Addr, redact(err, mc.Passwd))
		}
		d := &DB{DB: g, Engine: MySQL}
		pool := d.SQL()
		if d.migrations, err = migrationPool(mc); err != nil {
			_ = pool.Close()
			return nil, fmt.Errorf("mysql: %w", redact(err, mc.Passwd))
		}
		pool.SetMaxOpenConns(32)
		pool.SetMaxIdleConns(16)
		pool.SetConnMaxLifetime(3 * time.Minute)
		pool.SetConnMaxIdleTime(time.Minute)
		if err := pool.PingContext(ctx); err != nil {
			_ = d.Close()
			return nil, fmt.Errorf("mysql: connect %s: %w", mc.Addr, redact(err, mc.Passwd))
		}
		return d, nil
	default:
		return nil, errors.New("database URL: want sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB")
	}
}

// Defaults of the MySQL URL's readTimeout and writeTimeout: how long the
// driver waits for one answer of the server, and to hand it one request.
// Requests end at their deadline (NEOSC_REQUEST_TIMEOUT, at most 50 s)
// before either; these bound what runs without one (the mail sender) and
// a server or network that stopped answering without closing the
// connection. The read timeout exceeds InnoDB's default lock wait (50 s),
// so a lock wait ends with the server's retryable 1205 first.
const (
	MySQLReadTimeout  = 60 * time.Second
	MySQLWriteTimeout = 30 * time.Second
)

// ParseMySQLURL turns "mysql://USER:PASS@HOST:PORT/DB?opts" into a driver
// configuration with the settings the store relies on forced on: parsed
// times in UTC, utf8mb4, strict SQL mode.
func ParseMySQLURL(databaseURL string) (*gomysql.Config, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		// url's error quotes the whole URL, password included.
		return nil, errors.New("mysql URL: cannot be parsed")
	}
	if u.Scheme != "mysql" || u.Host == "" {
		return nil, errors.New("mysql URL: want mysql://USER:PASS@HOST:PORT/DB")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, errors.New("mysql URL: missing database name")
	}
	mc := gomysql.NewConfig()
	mc.Net = "tcp"
	mc.Addr = u.Host
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		mc.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	mc.User = u.User.Username()
	mc.Passwd, _ = u.User.Password()
	mc.DBName = name
	mc.Params = map[string]string{}
	for k, v := range u.Query() {
		switch k {
		case "tls":
			mc.TLSConfig = v[0]
		case "timeout", "readTimeout", "writeTimeout":
			d, err := time.ParseDuration(v[0])
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("mysql URL: %s must be a duration such as 10s", k)
			}
			switch k {
			case "timeout":
				mc.Timeout = d
			case "readTimeout":
				mc.ReadTimeout = d
			default:
				mc.WriteTimeout = d
			}
		case "parseTime", "loc", "collation", "charset", "time_zone", "sql_mode", "interpolateParams":
			// Forced below; kept in Params they would override it in the DSN.
		default:
			if strings.HasPrefix(k, "character_set") || strings.HasPrefix(k, "collation_") || k == "names" {
				// Interpolated parameters are escaped for utf8mb4: a session in
				// another character set (big5, gbk, sjis: a 0x5c byte inside a
				// character) could read an escaped quote as the end of a string.
				return nil, fmt.Errorf("mysql URL: %s cannot be set: the connection's character set is utf8mb4 (collation utf8mb4_bin)", k)
			}
			mc.Params[k] = v[0]
		}
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.Collation = "utf8mb4_bin"
	// One round trip per statement: the driver writes the parameters into
	// the statement text (escaped for utf8mb4, the only character set a
	// connection gets, see above) instead of prepare, execute and close.
	// The driver refuses interpolation under an unsafe collation.
	mc.InterpolateParams = true
	if mc.Timeout == 0 {
		mc.Timeout = 10 * time.Second
	}
	if mc.ReadTimeout == 0 {
		mc.ReadTimeout = MySQLReadTimeout
	}
	if mc.WriteTimeout == 0 {
		mc.WriteTimeout = MySQLWriteTimeout
	}
	mc.Params["time_zone"] = "'+00:00'"
	mc.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'"
	return mc, nil
}

// RedactURL returns a database URL safe to log: the password replaced.
func RedactURL(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable database URL)"
		}
		return databaseURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}

func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "REDACTED"))
}
