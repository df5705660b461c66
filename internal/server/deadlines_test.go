package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// requestTimeout is the short NEOSC_REQUEST_TIMEOUT of these tests.
const requestTimeout = time.Second

// wantUnavailable sends a request to a database that cannot answer: it must
// end at the deadline (give or take a second) with 503, Retry-After and
// UNAVAILABLE, the cause masked.
func wantUnavailable(t *testing.T, env *apitest.Env, token, query string, vars map[string]any) {
	t.Helper()
	start := time.Now()
	r := env.Do(token, query, vars)
	took := time.Since(start)
	checkHTTPResponse(t, r)
	if took > requestTimeout+time.Second {
		t.Errorf("answered after %s; the deadline is %s", took, requestTimeout)
	}
	wantHTTPError(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	if ra := r.Header.Get("Retry-After"); ra != "5" {
		t.Errorf("Retry-After %q, want 5", ra)
	}
	if msg := r.Message(); msg != "service temporarily unavailable, retry later" {
		t.Errorf("message %q shows more than the code", msg)
	}
}

// sqlConn is a connection of the test's own to d, as another client of the
// database would have.
func sqlConn(t *testing.T, pool *sql.DB) *sql.Conn {
	t.Helper()
	conn, err := pool.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func execOn(t *testing.T, conn *sql.Conn, query string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// hang is one way of freezing the database: freeze does it and returns
// what undoes it; reads says whether reads wait too (else only writes do).
type hang struct {
	name   string
	freeze func(t *testing.T, d *db.DB) (thaw func())
	reads  bool
}

// TestHangs: with the database frozen, every request ends at the
// server-side deadline with 503 UNAVAILABLE and Retry-After, whether it
// waits in the authenticator or in a resolver, nothing of it is written,
// and once the database is back the same requests succeed. A database that
// is down answers the same way.
//
// Before (no deadline): register behind a MariaDB row lock, `me` behind
// LOCK TABLES or a frozen network gave no answer within 20 s (a row lock
// holds out 50 s, eight times over with store.Tx's retries; a table lock
// 24 h): the client's patience was the only limit. A database that was down
// answered INTERNAL_SERVER_ERROR, with 503 from the authenticator and 200
// from the executor. On SQLite a write behind another connection's
// transaction failed after 2 s with INTERNAL_SERVER_ERROR (its DEFERRED
// transaction could not upgrade; with IMMEDIATE and no deadline it would
// wait the 10 s busy timeout per attempt).
func TestHangs(t *testing.T) {
	hangs := map[db.Engine][]hang{
		db.SQLite: {{name: "write lock held", freeze: func(t *testing.T, d *db.DB) func() {
			other, err := sql.Open("sqlite", "file:"+d.SQLitePath)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = other.Close() })
			conn := sqlConn(t, other)
			execOn(t, conn, "BEGIN EXCLUSIVE")
			return func() { execOn(t, conn, "ROLLBACK") }
		}}},
		db.MySQL: {
			{name: "row lock held", freeze: func(t *testing.T, d *db.DB) func() {
				conn := sqlConn(t, d.SQL())
				execOn(t, conn, "BEGIN")
				execOn(t, conn, "SELECT id FROM organizations FOR UPDATE")
				return func() { execOn(t, conn, "ROLLBACK") }
			}},
			{name: "table lock held", reads: true, freeze: func(t *testing.T, d *db.DB) func() {
				conn := sqlConn(t, d.SQL())
				execOn(t, conn, "LOCK TABLES users WRITE, organizations WRITE")
				return func() { execOn(t, conn, "UNLOCK TABLES") }
			}},
		},
	}
	for _, e := range testdb.Engines(t) {
		for _, h := range hangs[e] {
			t.Run(string(e)+"/"+h.name, func(t *testing.T) {
				d := testdb.New(t, e)
				testHang(t, d, h)
			})
		}
		if e != db.MySQL {
			continue
		}
		// Through a proxy that stops forwarding, or goes away.
		t.Run("mysql/network frozen", func(t *testing.T) {
			d, proxy := testdb.NewMySQLBehindProxy(t)
			testHang(t, d, hang{reads: true, freeze: func(*testing.T, *db.DB) func() {
				proxy.Freeze()
				return proxy.Restore
			}})
		})
		t.Run("mysql/down", func(t *testing.T) {
			d, proxy := testdb.NewMySQLBehindProxy(t)
			testHang(t, d, hang{reads: true, freeze: func(*testing.T, *db.DB) func() {
				proxy.Down()
				return proxy.Restore
			}})
		})
	}
}

func testHang(t *testing.T, d *db.DB, h hang) {
	// The account is made through a replica with the default deadline: on
	// a loaded machine a registration's password hash alone can outlast
	// the 1 s deadline under test, before anything is frozen.
	setup := apitest.New(t, d)
	admin := setup.Register("admin@hang.test", "Hang")
	env := apitest.New(t, d, apitest.WithRequestTimeout(requestTimeout), apitest.WithSigningKey(setup.Key))
	const me = `{ me { email } }`
	createWS := `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { id } }`
	wsVars := map[string]any{"in": apitest.WorkspaceInput("frozen")}
	events := env.Count("SELECT COUNT(*) FROM audit_events")

	thaw := h.freeze(t, d)
	wantUnavailable(t, env, "", registerQ, registerInput("late@hang.test", ""))
	wantUnavailable(t, env, admin.Token, createWS, wsVars)
	if h.reads {
		wantUnavailable(t, env, admin.Token, me, nil)
	} else {
		env.Do(admin.Token, me, nil).OK(t)
	}
	thaw()

	if n := env.Count("SELECT COUNT(*) FROM users WHERE email = ?", "late@hang.test"); n != 0 {
		t.Errorf("a registration answered UNAVAILABLE left %d users", n)
	}
	if n := env.Count("SELECT COUNT(*) FROM workspaces WHERE name = ?", "frozen"); n != 0 {
		t.Errorf("a createWorkspace answered UNAVAILABLE left %d workspaces", n)
	}
	if n := env.Count("SELECT COUNT(*) FROM audit_events"); n != events {
		t.Errorf("audit events %d, want %d: half-written", n, events)
	}
	exactCounts(t, env)
	// The database is back: the client's retries succeed. A retry may
	// still meet a connection the freeze left dead, or (on a loaded
	// machine) a password hash slower than the 1 s deadline: UNAVAILABLE is
	// retryable, so retry it, as a client does, for a while.
	retry := func(token, q string, vars map[string]any) {
		t.Helper()
		var r *apitest.Response
		for i := 0; i < 10; i++ {
			if r = env.Do(token, q, vars); r.Code() != "UNAVAILABLE" {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		r.OK(t)
	}
	retry("", registerQ, registerInput("late@hang.test", ""))
	retry(admin.Token, createWS, wsVars)
	retry(admin.Token, me, nil)
}

// TestSQLiteBusyStorm: a storm of 200 registrations, 50 at a time, all
// succeed, none INTERNAL_SERVER_ERROR, on SQLite (and on MariaDB, the
// control).
//
// Before: SQLite answered INTERNAL_SERVER_ERROR (SQLITE_BUSY) for 3 to 12
// of them (MariaDB: none). Its transactions began DEFERRED, the DSN's
// _txlock being ignored by the driver: two that read and then write cannot
// both upgrade their lock, SQLite fails one at once whatever the busy
// timeout, and store.Tx's retries ran out.
//
// Each registration hashes its password with argon2id (19 MiB while it
// runs), so 50 requests are in flight at a time, about 1 GiB, instead of
// all 200 (about 4 GiB): still six times the SQLite pool's 8 connections,
// so every transaction has rivals. The deadline is the longest allowed, so
// that a machine short of CPU for the hashing cannot fail the test: it is
// about lock contention.
func TestSQLiteBusyStorm(t *testing.T) {
	const registrations, inFlight = 200, 50
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		// The storm is of concurrent SQLite writers: the process-wide bound on
		// password hashing (which would answer most of them 429 at once, as
		// it should in production) is as wide as the clients in flight here.
		env := apitest.New(t, d, apitest.WithRequestTimeout(config.MaxRequestTimeout),
			apitest.WithPasswords(auth.NewPasswords(inFlight, registrations, config.MaxRequestTimeout)))
		var (
			mu       sync.Mutex
			ok       int
			failures = map[string]int{}
			sample   = map[string]string{}
			wg       sync.WaitGroup
			slots    = make(chan struct{}, inFlight)
		)
		for i := range registrations {
			wg.Add(1)
			slots <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				r := env.Do("", registerQ, registerInput(fmt.Sprintf("storm%d@storm.test", i), ""))
				mu.Lock()
				defer mu.Unlock()
				if r.Status == http.StatusOK && r.Code() == "" {
					ok++
					return
				}
				key := fmt.Sprintf("%d %s", r.Status, r.Code())
				failures[key]++
				sample[key] = string(r.Body) + "\n" + grepLog(env.Logs.String(), r.Get("errors.0.extensions.requestId").String())
			}()
		}
		wg.Wait()
		for key, n := range failures {
			t.Errorf("%d of %d registrations answered %s, e.g. %s", n, registrations, key, sample[key])
		}
		if n := env.Count("SELECT COUNT(*) FROM users WHERE email LIKE ?", "%@storm.test"); n != ok {
			t.Errorf("%d users registered, %d answers said so", n, ok)
		}
		exactCounts(t, env)
	})
}
