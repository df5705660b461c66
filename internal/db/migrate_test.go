package db_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/google/uuid"
	"github.com/pressly/goose/v3"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/migrations"
)

// schemaTables are the tables the migrations create.
var schemaTables = []string{"organizations", "users", "workspaces", "audit_events"}

// migrationCount is the number of migrations of engine e: its embedded SQL
// files and the Go migrations.
func migrationCount(t *testing.T, e db.Engine) int {
	t.Helper()
	files, err := fs.Glob(migrations.FS, string(e)+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no embedded migrations for %s", e)
	}
	return len(files) + len(migrations.Go(""))
}

// migrationVersions are the versions of the embedded migrations of engine
// e, from their file names ("00005_name.sql" is 5). They need not be
// contiguous: branches number their migrations apart and land in any order.
func migrationVersions(t *testing.T, e db.Engine) []int64 {
	t.Helper()
	files, err := fs.Glob(migrations.FS, string(e)+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, f := range files {
		num, _, _ := strings.Cut(path.Base(f), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: no version number", f)
		}
		out = append(out, v)
	}
	return out
}

// tableExists asks the engine's catalog whether table exists.
func tableExists(t *testing.T, d *db.DB, table string) bool {
	t.Helper()
	var n int64
	var err error
	switch d.Engine {
	case db.SQLite:
		err = d.Raw("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n).Error
	case db.MySQL:
		err = d.Raw("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", table).Scan(&n).Error
	default:
		t.Fatalf("unknown engine %q", d.Engine)
	}
	if err != nil {
		t.Fatalf("catalog query for %s: %v", table, err)
	}
	return n > 0
}

func wantTables(t *testing.T, d *db.DB, exist bool, step string) {
	t.Helper()
	for _, table := range schemaTables {
		if got := tableExists(t, d, table); got != exist {
			t.Fatalf("%s: table %s exists=%v, want %v", step, table, got, exist)
		}
	}
}

func wantCurrent(t *testing.T, m *db.Migrator, want bool, step string) {
	t.Helper()
	got, err := m.Current(context.Background())
	if err != nil {
		t.Fatalf("%s: Current: %v", step, err)
	}
	if got != want {
		t.Fatalf("%s: Current() = %v, want %v", step, got, want)
	}
}

// wantVersion1 checks that Status lists version 1 in the given state.
func wantVersion1(t *testing.T, m *db.Migrator, state goose.State, step string) {
	t.Helper()
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatalf("%s: Status: %v", step, err)
	}
	for _, s := range st {
		if s.Source != nil && s.Source.Version == 1 {
			if s.State != state {
				t.Fatalf("%s: version 1 state %q, want %q", step, s.State, state)
			}
			return
		}
	}
	t.Fatalf("%s: Status does not list version 1 (%d entries)", step, len(st))
}

func TestMigrateUpDownUp(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			d := testdb.NewEmpty(t, e)
			m, err := db.NewMigrator(d, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := migrationCount(t, e)

			wantTables(t, d, false, "fresh")
			wantCurrent(t, m, false, "fresh")
			wantVersion1(t, m, goose.StatePending, "fresh")

			res, err := m.Up(ctx)
			if err != nil {
				t.Fatalf("first up: %v", err)
			}
			if len(res) != n {
				t.Fatalf("first up applied %d migrations, want %d", len(res), n)
			}
			wantTables(t, d, true, "after first up")
			wantCurrent(t, m, true, "after first up")
			wantVersion1(t, m, goose.StateApplied, "after first up")

			if down := testdb.RollBackAll(t, m); down != n {
				t.Fatalf("down all rolled back %d migrations, want %d", down, n)
			}
			wantTables(t, d, false, "after down all")
			wantCurrent(t, m, false, "after down all")
			wantVersion1(t, m, goose.StatePending, "after down all")

			res, err = m.Up(ctx)
			if err != nil {
				t.Fatalf("second up: %v", err)
			}
			if len(res) != n {
				t.Fatalf("second up applied %d migrations, want %d", len(res), n)
			}
			wantTables(t, d, true, "after second up")
			wantCurrent(t, m, true, "after second up")
			wantVersion1(t, m, goose.StateApplied, "after second up")

			// Up again is a no-op.
			res, err = m.Up(ctx)
			if err != nil || len(res) != 0 {
				t.Fatalf("third up: %d results, err %v; want none", len(res), err)
			}

			// The schema works: a row goes in and comes back out.
			id := uuid.NewString()
			now := time.Now().UTC().Truncate(time.Second)
			if err := d.Exec(`INSERT INTO organizations
				(id, name, name_key, slug, domain, status, user_count, workspace_count, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?)`,
				id, "Acme Corp", "acme corp", "acme-corp", "acme.test", "ACTIVE", now, now).Error; err != nil {
				t.Fatalf("insert organization: %v", err)
			}
			var got struct {
				Name      string
				Slug      string
				Domain    string
				CreatedAt time.Time
			}
			if err := d.Raw("SELECT name, slug, domain, created_at FROM organizations WHERE id = ?", id).Scan(&got).Error; err != nil {
				t.Fatalf("read organization: %v", err)
			}
			if got.Name != "Acme Corp" || got.Slug != "acme-corp" || got.Domain != "acme.test" || !got.CreatedAt.Equal(now) {
				t.Fatalf("read back %+v, want Acme Corp/acme-corp/acme.test/%v", got, now)
			}
		})
	}
}

func TestMigrateConcurrentUp(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			n := migrationCount(t, e)
			// Even rounds start from an empty database, as replicas deploying
			// together do: goose's version table must be created once, with
			// its version 0 row, before either replica looks at it. Odd
			// rounds create the version table first, so that both replicas
			// see pending migrations and only the lock keeps them from both
			// applying them; without it most of those rounds fail. Each
			// round has a fresh database.
			for round := 0; round < 16; round++ {
				concurrentUp(t, e, n, round, round%2 == 1)
			}
		})
	}
}

func concurrentUp(t *testing.T, e db.Engine, n, round int, primed bool) {
	t.Helper()
	ctx := context.Background()
	u := testdb.URL(t, e)
	const replicas = 4
	dbs := make([]*db.DB, replicas)
	ms := make([]*db.Migrator, replicas)
	for i := range dbs {
		d, err := db.Open(ctx, u)
		if err != nil {
			t.Fatalf("round %d: open %d: %v", round, i, err)
		}
		m, err := db.NewMigrator(d, nil)
		if err != nil {
			t.Fatal(err)
		}
		dbs[i], ms[i] = d, m
	}
	defer func() { // each round's pools go before the next round opens more
		for _, d := range dbs {
			_ = d.Close()
		}
	}()
	if primed {
		for i, m := range ms {
			wantCurrent(t, m, false, fmt.Sprintf("round %d replica %d before up", round, i))
		}
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	applied := make([]int, replicas)
	for i := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			res, err := ms[i].Up(ctx)
			errs[i], applied[i] = err, len(res)
		}()
	}
	close(start)
	wg.Wait()

	total := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("round %d: replica %d: Up: %v", round, i, err)
		}
		total += applied[i]
	}
	if total != n {
		t.Fatalf("round %d: replicas applied %v migrations in total, want %d (each exactly once)", round, applied, n)
	}

	var rows []struct {
		VersionID int64
		N         int64
	}
	if err := dbs[0].Raw("SELECT version_id, COUNT(*) AS n FROM goose_db_version GROUP BY version_id ORDER BY version_id").
		Scan(&rows).Error; err != nil {
		t.Fatalf("round %d: read version table: %v", round, err)
	}
	seen := map[int64]bool{}
	for _, r := range rows {
		if r.N != 1 {
			t.Fatalf("round %d: version %d has %d rows, want 1: %+v", round, r.VersionID, r.N, rows)
		}
		seen[r.VersionID] = true
	}
	for _, v := range migrationVersions(t, e) {
		if !seen[v] {
			t.Fatalf("round %d: version %d not recorded: %+v", round, v, rows)
		}
	}
	for i, m := range ms {
		wantCurrent(t, m, true, fmt.Sprintf("round %d replica %d", round, i))
	}
	wantTables(t, dbs[1], true, fmt.Sprintf("round %d", round))
}

// holdMigrationLock takes the migration lock as another process would: the
// MySQL named lock on its own session, or the flock next to the SQLite file.
// It returns the release function.
func holdMigrationLock(t *testing.T, d *db.DB) func() {
	t.Helper()
	ctx := context.Background()
	switch d.Engine {
	case db.MySQL:
		conn, err := d.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got int64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+db.MySQLLockName+", 0)").Scan(&got); err != nil || got != 1 {
			t.Fatalf("GET_LOCK: %d, %v", got, err)
		}
		return func() {
			_, _ = conn.ExecContext(ctx, "SELECT RELEASE_LOCK("+db.MySQLLockName+")")
			_ = conn.Close()
		}
	case db.SQLite:
		f, err := os.OpenFile(d.SQLitePath+".migrate.lock", os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			t.Fatalf("flock: %v", err)
		}
		return func() { _ = f.Close() }
	}
	t.Fatalf("unknown engine %q", d.Engine)
	return nil
}

// TestMigrateUpWaitsForLock: while another process holds the migration lock,
// Up touches nothing, not even goose's version table (creating that outside
// the lock races with the other process on MySQL), and it completes once the
// lock is released.
func TestMigrateUpWaitsForLock(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			d := testdb.NewEmpty(t, e)
			m, err := db.NewMigrator(d, nil)
			if err != nil {
				t.Fatal(err)
			}
			release := holdMigrationLock(t, d)
			released := false
			defer func() {
				if !released {
					release()
				}
			}()

			done := make(chan error, 1)
			go func() {
				_, err := m.Up(context.Background())
				done <- err
			}()
			// Unlocked, the version table appears within milliseconds.
			select {
			case err := <-done:
				t.Fatalf("Up returned (%v) while another process held the lock", err)
			case <-time.After(300 * time.Millisecond):
			}
			for _, table := range append([]string{"goose_db_version"}, schemaTables...) {
				if tableExists(t, d, table) {
					t.Fatalf("Up created %s while another process held the lock", table)
				}
			}

			release()
			released = true
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Up after the lock was released: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Up did not finish after the lock was released")
			}
			wantTables(t, d, true, "after up")
			wantCurrent(t, m, true, "after up")
		})
	}
}

func TestParseMySQLURL(t *testing.T) {
	t.Run("host without port gets 3306", func(t *testing.T) {
		mc, err := db.ParseMySQLURL("mysql://neosc:pw@db.internal/neosc")
		if err != nil {
			t.Fatal(err)
		}
		if mc.Addr != "db.internal:3306" || mc.Net != "tcp" {
			t.Fatalf("addr %s/%s, want tcp/db.internal:3306", mc.Net, mc.Addr)
		}
		if mc.User != "neosc" || mc.Passwd != "pw" || mc.DBName != "neosc" {
			t.Fatalf("user %q pass %q db %q", mc.User, mc.Passwd, mc.DBName)
		}
	})
	t.Run("explicit port and IPv6 host kept", func(t *testing.T) {
		for in, want := range map[string]string{
			"mysql://u:p@db.internal:3307/x": "db.internal:3307",
			"mysql://u:p@[::1]:3310/x":       "[::1]:3310",
			"mysql://u:p@[::1]/x":            "[::1]:3306",
		} {
			mc, err := db.ParseMySQLURL(in)
			if err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			if mc.Addr != want {
				t.Fatalf("%s: addr %s, want %s", in, mc.Addr, want)
			}
		}
	})
	t.Run("escaped password decoded", func(t *testing.T) {
		mc, err := db.ParseMySQLURL("mysql://u:p%40ss%3Aw%2Frd@h/x")
		if err != nil {
			t.Fatal(err)
		}
		if mc.Passwd != "p@ss:w/rd" {
			t.Fatalf("password %q, want p@ss:w/rd", mc.Passwd)
		}
	})
	t.Run("parseTime and UTC forced", func(t *testing.T) {
		for _, in := range []string{
			"mysql://u:p@h/x",
			"mysql://u:p@h/x?parseTime=false",
			"mysql://u:p@h/x?parseTime=false&loc=Local",
		} {
			mc, err := db.ParseMySQLURL(in)
			if err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			if !mc.ParseTime || mc.Loc != time.UTC {
				t.Fatalf("%s: parseTime %v loc %v, want true/UTC", in, mc.ParseTime, mc.Loc)
			}
			// What the driver actually connects with is the formatted DSN.
			back, err := gomysql.ParseDSN(mc.FormatDSN())
			if err != nil {
				t.Fatalf("%s: formatted DSN does not parse: %v", in, err)
			}
			if !back.ParseTime || back.Loc != time.UTC {
				t.Fatalf("%s: driver DSN %q has parseTime %v loc %v, want true/UTC", in, redactDSN(mc), back.ParseTime, back.Loc)
			}
			if back.Params["time_zone"] != "'+00:00'" {
				t.Fatalf("%s: time_zone %q, want '+00:00'", in, back.Params["time_zone"])
			}
		}
	})
	t.Run("interpolateParams forced, utf8mb4 only", func(t *testing.T) {
		for _, in := range []string{"mysql://u:p@h/x", "mysql://u:p@h/x?interpolateParams=false", "mysql://u:p@h/x?charset=gbk&collation=big5_chinese_ci"} {
			mc, err := db.ParseMySQLURL(in)
			if err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			back, err := gomysql.ParseDSN(mc.FormatDSN())
			if err != nil {
				t.Fatalf("%s: formatted DSN does not parse: %v", in, err)
			}
			if !back.InterpolateParams || back.Collation != "utf8mb4_bin" {
				t.Fatalf("%s: driver DSN %q has interpolateParams %v collation %q, want true/utf8mb4_bin", in, redactDSN(mc), back.InterpolateParams, back.Collation)
			}
		}
		for _, k := range []string{"character_set_client", "character_set_connection", "collation_connection"} {
			_, err := db.ParseMySQLURL("mysql://u:p@h/x?" + k + "=gbk")
			if err == nil || !strings.Contains(err.Error(), k+" cannot be set") {
				t.Fatalf("%s=gbk: err %v, want refused", k, err)
			}
		}
		// The driver itself refuses interpolation under a multibyte
		// collation whose characters can hold a backslash byte.
		if _, err := gomysql.ParseDSN("u:p@tcp(h)/x?interpolateParams=true&collation=gbk_chinese_ci"); err == nil {
			t.Fatal("driver accepts interpolateParams with gbk_chinese_ci")
		}
	})
	t.Run("options kept", func(t *testing.T) {
		mc, err := db.ParseMySQLURL("mysql://u:p@h/x?timeout=3s&tls=skip-verify&maxAllowedPacket=0&readTimeout=7s&writeTimeout=8s")
		if err != nil {
			t.Fatal(err)
		}
		if mc.Timeout != 3*time.Second || mc.TLSConfig != "skip-verify" {
			t.Fatalf("timeout %v tls %q", mc.Timeout, mc.TLSConfig)
		}
		if mc.ReadTimeout != 7*time.Second || mc.WriteTimeout != 8*time.Second {
			t.Fatalf("readTimeout %v writeTimeout %v, want 7s 8s", mc.ReadTimeout, mc.WriteTimeout)
		}
		if _, ok := mc.Params["readTimeout"]; ok {
			t.Fatal("readTimeout kept as a session variable")
		}
		mc, err = db.ParseMySQLURL("mysql://u:p@h/x")
		if err != nil {
			t.Fatal(err)
		}
		if mc.Timeout <= 0 {
			t.Fatalf("default timeout %v, want > 0", mc.Timeout)
		}
		if mc.ReadTimeout != db.MySQLReadTimeout || mc.WriteTimeout != db.MySQLWriteTimeout {
			t.Fatalf("default readTimeout %v writeTimeout %v", mc.ReadTimeout, mc.WriteTimeout)
		}
		back, err := gomysql.ParseDSN(mc.FormatDSN())
		if err != nil || back.ReadTimeout != db.MySQLReadTimeout || back.WriteTimeout != db.MySQLWriteTimeout {
			t.Fatalf("driver DSN %q loses the read and write timeouts (%v)", redactDSN(mc), err)
		}
		for _, bad := range []string{"readTimeout=fast", "writeTimeout=0", "readTimeout=-1s"} {
			if _, err := db.ParseMySQLURL("mysql://u:p@h/x?" + bad); err == nil {
				t.Errorf("%s accepted", bad)
			}
		}
	})
	t.Run("refused without leaking the password", func(t *testing.T) {
		const secret = "Sup3rS3cretPw"
		for _, in := range []string{
			"mysql://u:" + secret + "@h",               // no database
			"mysql://u:" + secret + "@h/",              // empty database
			"mysql://u:" + secret + "@h/a/b",           // path is not a name
			"mysql://u:" + secret + "@h:notaport/x",    // unparsable port
			"mysql://u:" + secret + "%zz@h/x",          // bad escape
			"postgres://u:" + secret + "@h/x",          // wrong scheme
			"mysql://u:" + secret + "@/x",              // no host
			"mysql://u:" + secret + "@h/x\x7f%" + "zz", // control character
		} {
			mc, err := db.ParseMySQLURL(in)
			if err == nil {
				t.Fatalf("%q accepted: %+v", in, mc)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error for %q shows the password: %v", in, err)
			}
		}
		_, err := db.ParseMySQLURL("mysql://u:" + secret + "@h")
		if !strings.Contains(err.Error(), "database name") {
			t.Fatalf("missing database: error %q does not say so", err)
		}
	})
	t.Run("open failure does not leak the password", func(t *testing.T) {
		const secret = "An0therS3cret"
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// Port 1 on loopback: nothing listens, the connection is refused.
		d, err := db.Open(ctx, "mysql://neosc:"+secret+"@127.0.0.1:1/neosc?timeout=2s")
		if err == nil {
			_ = d.Close()
			t.Fatal("open of an unreachable server succeeded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("open error shows the password: %v", err)
		}
	})
}

// redactDSN is the driver DSN with the password hidden, for failure messages.
func redactDSN(mc *gomysql.Config) string {
	c := mc.Clone()
	c.Passwd = "x"
	return c.FormatDSN()
}

func TestRedactURL(t *testing.T) {
	const secret = "Sup3rS3cretPw"
	for in, want := range map[string]string{
		"mysql://neosc:" + secret + "@db:3306/neosc?tls=true": "mysql://neosc:REDACTED@db:3306/neosc?tls=true",
		"mysql://neosc@db:3306/neosc":                         "mysql://neosc@db:3306/neosc",
		"mysql://db:3306/neosc":                               "mysql://db:3306/neosc",
		"sqlite:data/neosc.db":                                "sqlite:data/neosc.db",
	} {
		if got := db.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{
		"mysql://neosc:" + secret + "@db:3306/neosc",
		"mysql://neosc:" + secret + "%zz@db/neosc", // unparsable
		"mysql://neosc:" + secret + "@db:port/neosc",
		"mysql://neosc:p%40" + secret + "@db/neosc", // escaped characters
	} {
		if got := db.RedactURL(in); strings.Contains(got, secret) {
			t.Errorf("RedactURL(%q) = %q shows the password", in, got)
		}
	}
}

// TestCurrentOnlyReads: readiness probes call Current; on an empty database
// it answers false without creating goose's version table.
func TestCurrentOnlyReads(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			d := testdb.NewEmpty(t, e)
			m, err := db.NewMigrator(d, nil)
			if err != nil {
				t.Fatal(err)
			}
			cur, err := m.Current(context.Background())
			if err != nil || cur {
				t.Fatalf("Current on an empty database = %v, %v; want false, nil", cur, err)
			}
			if tableExists(t, d, "goose_db_version") {
				t.Fatal("Current created the version table")
			}
			if _, err := m.Up(context.Background()); err != nil {
				t.Fatal(err)
			}
			if cur, err := m.Current(context.Background()); err != nil || !cur {
				t.Fatalf("Current after up = %v, %v", cur, err)
			}
		})
	}
}

// TestSQLiteFileIsPrivate: the embedded database holds password hashes.
func TestSQLiteFileIsPrivate(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	st, err := os.Stat(d.SQLitePath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", st.Mode().Perm())
	}
}
