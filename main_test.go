package main

// The command line, through run(), on every engine. run reads the process
// environment, so these tests use t.Setenv and cannot run in parallel.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

// neoscVars are the variables config.Load reads; each test starts from a
// known environment whatever the developer's shell exports.
var neoscVars = []string{
	"NEOSC_ADDR", "NEOSC_DATABASE_URL", "NEOSC_PUBLIC_URL", "NEOSC_SIGNING_KEY_FILE", "NEOSC_TOKEN_TTL",
	"NEOSC_DEFAULT_ORG_NAME", "NEOSC_OIDC_ISSUER", "NEOSC_OIDC_AUDIENCE", "NEOSC_OIDC_ORG_CLAIMS", "NEOSC_LOG_FORMAT",
	"NEOSC_OIDC_ALLOW_INSECURE", "NEOSC_SMTP_URL", "NEOSC_MAIL_FROM", "NEOSC_KEY_ENCRYPTION_KEY", "NEOSC_MEMORY_LIMIT", "NEOSC_PASSWORD_HASH_CONCURRENCY", "NEOSC_TRUSTED_PROXIES", "NEOSC_RATE_LIMIT_ANONYMOUS", "NEOSC_RATE_LIMIT_TOKEN", "NEOSC_RATE_LIMIT_ORGANIZATION", "NEOSC_LOGIN_MAX_FAILURES", "NEOSC_CORS_ORIGINS", "NEOSC_OIDC_CLIENT_ID",
	"NEOSC_DEFAULT_QUOTA",
}

// cliEnv points the process environment at dbURL, with the signing key in a
// temporary directory and JSON logs. It returns the key file's path.
func cliEnv(t *testing.T, dbURL string) string {
	t.Helper()
	for _, k := range neoscVars {
		t.Setenv(k, "") // blank means default
	}
	key := filepath.Join(t.TempDir(), "signing-key.jwk")
	t.Setenv("NEOSC_DATABASE_URL", dbURL)
	t.Setenv("NEOSC_SIGNING_KEY_FILE", key)
	t.Setenv("NEOSC_LOG_FORMAT", "json")
	return key
}

// sqliteURL is a database URL whose file must not appear unless a command
// really opens the database.
func sqliteURL(t *testing.T) (string, string) {
	path := filepath.Join(t.TempDir(), "never.db")
	return "sqlite:" + path, path
}

type cliResult struct {
	stdout, stderr string
	err            error
}

// runCLI runs the command line with stdin and checks what every command
// owes: JSON log lines (NEOSC_LOG_FORMAT=json) and no database password in
// any output.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
	r := cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if line != "" && !(strings.HasPrefix(line, "{") && json.Valid([]byte(line))) {
			t.Errorf("neosc %s: log line is not JSON: %q", strings.Join(args, " "), line)
		}
	}
	if u, perr := url.Parse(os.Getenv("NEOSC_DATABASE_URL")); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			if strings.Contains(r.stdout+r.stderr+fmt.Sprint(err), pw) {
				t.Errorf("neosc %s: the database password appears in the output", strings.Join(args, " "))
			}
		}
	}
	return r
}

type migrationLine struct {
	version, path string
	applied       bool
	at            time.Time
}

// migrationStatus runs `migrate status` and parses its lines:
// "00001  00001_initial.sql   pending" or "... applied 2006-01-02T15:04:05Z".
func migrationStatus(t *testing.T) []migrationLine {
	t.Helper()
	r := runCLI(t, "", "migrate", "status")
	if r.err != nil {
		t.Fatalf("migrate status: %v", r.err)
	}
	var out []migrationLine
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			t.Fatalf("migrate status line %q: want VERSION PATH STATE", line)
		}
		m := migrationLine{version: f[0], path: f[1]}
		switch {
		case len(f) == 3 && f[2] == "pending":
		case len(f) == 4 && f[2] == "applied":
			at, err := time.Parse(time.RFC3339, f[3])
			if err != nil {
				t.Fatalf("migrate status line %q: %v", line, err)
			}
			m.applied, m.at = true, at
		default:
			t.Fatalf("migrate status line %q: want pending or applied TIME", line)
		}
		out = append(out, m)
	}
	if len(out) == 0 || out[0].version != "00001" || !strings.HasPrefix(out[0].path, "00001_") {
		t.Fatalf("migrate status:\n%s\nwant 00001 first", r.stdout)
	}
	return out
}

func openDB(t *testing.T, dbURL string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestMigrateCommands(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			u := testdb.URL(t, e)
			cliEnv(t, u)
			d := openDB(t, u)
			hasUsers := func() bool { return d.Migrator().HasTable("users") }

			for _, m := range migrationStatus(t) {
				if m.applied {
					t.Errorf("fresh database: %s %s already applied", m.version, m.path)
				}
			}
			if hasUsers() {
				t.Fatal("fresh database already has a users table")
			}

			r := runCLI(t, "", "migrate", "up")
			if r.err != nil {
				t.Fatalf("migrate up: %v\n%s", r.err, r.stderr)
			}
			if !strings.Contains(r.stdout, "applied") || !strings.Contains(r.stdout, "00001_") {
				t.Errorf("migrate up printed %q: want the applied 00001 migration", r.stdout)
			}
			for _, m := range migrationStatus(t) {
				if !m.applied {
					t.Errorf("after migrate up: %s %s still pending", m.version, m.path)
				} else if d := time.Since(m.at); d < -5*time.Minute || d > 5*time.Minute {
					// Stored and shown in UTC: an offset here is a time zone mix-up.
					t.Errorf("after migrate up: %s applied at %s, %v from now", m.version, m.at, d)
				}
			}
			if !hasUsers() {
				t.Error("after migrate up: no users table")
			}

			r = runCLI(t, "", "migrate", "up")
			if r.err != nil || strings.TrimSpace(r.stdout) != "no pending migrations" {
				t.Errorf("second migrate up: %q, %v: want \"no pending migrations\"", r.stdout, r.err)
			}

			// Roll back one step at a time until 00001 is pending again.
			for i := 0; ; i++ {
				st := migrationStatus(t)
				if !st[0].applied {
					break
				}
				if i > len(st) {
					t.Fatal("migrate down never rolls back 00001")
				}
				r = runCLI(t, "", "migrate", "down")
				if r.err != nil {
					t.Fatalf("migrate down: %v\n%s", r.err, r.stderr)
				}
				if !strings.HasPrefix(r.stdout, "rolled back ") {
					t.Errorf("migrate down printed %q: want \"rolled back PATH\"", r.stdout)
				}
			}
			if !strings.Contains(r.stdout, "00001_") {
				t.Errorf("last migrate down printed %q: want 00001", r.stdout)
			}
			for _, m := range migrationStatus(t) {
				if m.applied {
					t.Errorf("after migrate down: %s still applied", m.version)
				}
			}
			if hasUsers() {
				t.Error("after migrate down: the users table is still there")
			}

			// Down leaves a database that migrates up again.
			if r = runCLI(t, "", "migrate", "up"); r.err != nil {
				t.Fatalf("migrate up after down: %v\n%s", r.err, r.stderr)
			}
			if !migrationStatus(t)[0].applied || !hasUsers() {
				t.Error("migrate up after down: 00001 not applied again")
			}
		})
	}
}

func TestMigrateUsage(t *testing.T) {
	u, _ := sqliteURL(t)
	cliEnv(t, u)
	for _, args := range [][]string{{"migrate"}, {"migrate", "sideways"}, {"migrate", "up", "down"}} {
		if r := runCLI(t, "", args...); r.err == nil {
			t.Errorf("neosc %s: no error", strings.Join(args, " "))
		} else if !strings.Contains(r.err.Error(), "up") || !strings.Contains(r.err.Error(), "status") {
			t.Errorf("neosc %s: %q: want the usage (up, down, status)", strings.Join(args, " "), r.err)
		}
	}
}

type userRow struct {
	email, name, role, status, orgName string
	platformAdmin                      bool
	hash                               string
}

func loadUser(t *testing.T, d *db.DB, id string) userRow {
	t.Helper()
	var u userRow
	err := d.Raw(`SELECT u.email, u.name, u.role, u.status, o.name, u.platform_admin, u.password_hash
		FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = ?`, id).
		Row().Scan(&u.email, &u.name, &u.role, &u.status, &u.orgName, &u.platformAdmin, &u.hash)
	if err != nil {
		t.Fatalf("user %s: %v", id, err)
	}
	return u
}

func countUsers(t *testing.T, d *db.DB, email string) int64 {
	t.Helper()
	var n int64
	if err := d.Raw("SELECT COUNT(*) FROM users WHERE LOWER(email) = LOWER(?)", email).Row().Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// adminCLI runs create-admin and returns the printed global ID and its UUID.
func adminCLI(t *testing.T, password string, args ...string) (string, string) {
	t.Helper()
	r := runCLI(t, password, append([]string{"create-admin"}, args...)...)
	if r.err != nil {
		t.Fatalf("create-admin %s: %v\n%s", strings.Join(args, " "), r.err, r.stderr)
	}
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("create-admin printed %q: want exactly one line, the ID", r.stdout)
	}
	global := strings.TrimSpace(r.stdout)
	id, ok := ids.Decode(ids.User, global)
	if !ok {
		t.Fatalf("create-admin printed %q: not a User ID", global)
	}
	return global, id
}

func TestCreateAdmin(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			u := testdb.URL(t, e)
			cliEnv(t, u)
			t.Setenv("NEOSC_DEFAULT_ORG_NAME", "Platform Operators")

			// On a fresh database: create-admin applies the migrations itself.
			const pw1 = "correct horse battery staple"
			global, id := adminCLI(t, pw1+"\n", "--email", "admin@example.com", "--name", "Admin")
			d := openDB(t, u)
			row := loadUser(t, d, id)
			if !row.platformAdmin {
				t.Error("created user: platform_admin false")
			}
			if row.email != "admin@example.com" || row.name != "Admin" || row.status != "ACTIVE" {
				t.Errorf("created user: %+v", row)
			}
			if row.orgName != "Platform Operators" {
				t.Errorf("created user's organization %q: want NEOSC_DEFAULT_ORG_NAME's Platform Operators", row.orgName)
			}
			if row.hash == "" || strings.Contains(row.hash, pw1) ||
				!(strings.HasPrefix(row.hash, "$argon2id$") || strings.HasPrefix(row.hash, "$2")) {
				t.Errorf("password stored as %q: want an argon2id or bcrypt hash", row.hash)
			}
			// The line's end is not part of the password.
			if ok, err := auth.NewPasswords(1, 0, 0).Check(t.Context(), pw1, &row.hash); err != nil || !ok {
				t.Error("the stored hash does not match the password given on stdin")
			}

			// Again with the same email: the same user, still an administrator,
			// with the new password (CRLF stripped too).
			const pw2 = "another long password"
			again, _ := adminCLI(t, pw2+"\r\n", "--email", "admin@example.com", "--name", "Admin")
			if again != global {
				t.Errorf("second create-admin printed %s, want the same user %s", again, global)
			}
			row = loadUser(t, d, id)
			if !row.platformAdmin {
				t.Error("after a second create-admin: platform_admin false")
			}
			if n := countUsers(t, d, "admin@example.com"); n != 1 {
				t.Errorf("%d users with admin@example.com, want 1", n)
			}
			if ok, err := auth.NewPasswords(1, 0, 0).Check(t.Context(), pw2, &row.hash); err != nil || !ok {
				t.Error("second create-admin: the new password does not match")
			}

			// An existing non-administrator is promoted; emails match
			// whatever their case.
			if err := d.Exec("UPDATE users SET platform_admin = ? WHERE id = ?", false, id).Error; err != nil {
				t.Fatal(err)
			}
			if loadUser(t, d, id).platformAdmin {
				t.Fatal("demotion for the test did not take")
			}
			promoted, _ := adminCLI(t, pw2, "--email", "Admin@EXAMPLE.com", "--name", "Admin")
			if promoted != global {
				t.Errorf("create-admin with the email in another case printed %s, want %s", promoted, global)
			}
			if !loadUser(t, d, id).platformAdmin {
				t.Error("create-admin did not promote the existing user")
			}
			if n := countUsers(t, d, "admin@example.com"); n != 1 {
				t.Errorf("%d users with admin@example.com, want 1", n)
			}
			// The trail says what happened each time: created, password reset
			// (already an administrator), promoted.
			var actions []string
			if err := d.Raw("SELECT action FROM audit_events WHERE target_id = ? AND action LIKE 'user.%' ORDER BY id", id).Scan(&actions).Error; err != nil {
				t.Fatal(err)
			}
			if want := "user.registered user.password_changed user.role_changed"; strings.Join(actions, " ") != want {
				t.Errorf("audit trail %v, want %s", actions, want)
			}

			// Refused: nothing printed, nothing created.
			for _, tc := range []struct {
				name, stdin string
				args        []string
				want        string // in the error
			}{
				{"short password", "short77\n", []string{"--email", "ops@example.com", "--name", "Ops"}, "at least 8"},
				{"empty stdin", "", []string{"--email", "ops@example.com", "--name", "Ops"}, "password"},
				{"missing --email", pw1, []string{"--name", "Ops"}, "--email"},
				{"empty --email", pw1, []string{"--email", "", "--name", "Ops"}, "--email"},
				{"missing --name", pw1, []string{"--email", "ops@example.com"}, "--name"},
				{"bad email", pw1, []string{"--email", "ops-at-example.com", "--name", "Ops"}, "email"},
				{"unknown flag", pw1, []string{"--email", "ops@example.com", "--name", "Ops", "--role", "ADMIN"}, "role"},
			} {
				r := runCLI(t, tc.stdin, append([]string{"create-admin"}, tc.args...)...)
				if r.err == nil {
					t.Errorf("%s: create-admin succeeded, printed %q", tc.name, r.stdout)
					continue
				}
				if !strings.Contains(r.err.Error(), tc.want) {
					t.Errorf("%s: error %q does not mention %q", tc.name, r.err, tc.want)
				}
				if strings.ContainsAny(strings.TrimSpace(r.err.Error()), "\n") && tc.name != "unknown flag" {
					t.Errorf("%s: error %q is more than one line", tc.name, r.err)
				}
				if r.stdout != "" {
					t.Errorf("%s: printed %q on failure", tc.name, r.stdout)
				}
			}
			if n := countUsers(t, d, "ops@example.com"); n != 0 {
				t.Errorf("refused create-admin calls left %d users behind", n)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	u, path := sqliteURL(t)
	cliEnv(t, u)
	r := runCLI(t, "", "frobnicate")
	if r.err == nil || !strings.Contains(r.err.Error(), "frobnicate") || !strings.Contains(r.err.Error(), "usage") {
		t.Errorf("neosc frobnicate: %v: want an error naming the command, with the usage", r.err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an unknown command opened the database (%v)", err)
	}
	r = runCLI(t, "", "help")
	if r.err != nil || !strings.Contains(r.stdout, "create-admin") || !strings.Contains(r.stdout, "migrate") {
		t.Errorf("neosc help: %q, %v: want the usage", r.stdout, r.err)
	}
}

// A bad variable stops every command before the database is touched, with
// an error naming the variable (and never the password).
func TestBadConfiguration(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"NEOSC_TOKEN_TTL", "forever"},
		{"NEOSC_TOKEN_TTL", "10s"},
		{"NEOSC_LOG_FORMAT", "yaml"},
		{"NEOSC_ADDR", "8080"},
		{"NEOSC_PUBLIC_URL", "localhost"},
		{"NEOSC_MEMORY_LIMIT", "lots"},
		{"NEOSC_TRUSTED_PROXIES", "0.0.0.0/0"},
		{"NEOSC_RATE_LIMIT_TOKEN", "lots"},
	} {
		for _, args := range [][]string{{"migrate", "status"}, {"create-admin", "--email", "a@example.com", "--name", "A"}, {"serve"}} {
			t.Run(tc.name+"="+tc.value+"/"+args[0], func(t *testing.T) {
				u, path := sqliteURL(t)
				cliEnv(t, u)
				t.Setenv(tc.name, tc.value)
				r := runCLI(t, "long enough password\n", args...)
				if r.err == nil {
					t.Fatalf("%s=%q accepted", tc.name, tc.value)
				}
				if !strings.Contains(r.err.Error(), tc.name) || strings.Contains(r.err.Error(), "\n") {
					t.Errorf("%s=%q: error %q: want one line naming %s", tc.name, tc.value, r.err, tc.name)
				}
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the database was opened despite the bad %s (%v)", tc.name, err)
				}
			})
		}
	}

	t.Run("NEOSC_DATABASE_URL", func(t *testing.T) {
		cliEnv(t, "mysql://neosc:hunter2pw@db.invalid:3306/")
		r := runCLI(t, "", "migrate", "status")
		if r.err == nil || !strings.Contains(r.err.Error(), "NEOSC_DATABASE_URL") {
			t.Errorf("error %v: want one naming NEOSC_DATABASE_URL", r.err)
		}
	})
}

// serve migrates first, then serves; it creates the signing key (0600) and
// stops cleanly when its context ends.
func TestServe(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			key := cliEnv(t, testdb.URL(t, e))
			t.Setenv("NEOSC_ADDR", "127.0.0.1:0")

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr apitest.SyncBuffer
			done := make(chan error, 1)
			go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, &stderr) }()

			addr := ""
			deadline := time.Now().Add(30 * time.Second)
			for addr == "" {
				select {
				case err := <-done:
					t.Fatalf("serve returned early: %v\n%s", err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("serve did not log its address:\n%s", stderr.String())
				}
				for _, line := range strings.Split(stderr.String(), "\n") {
					var rec struct{ Msg, Addr string }
					if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
						addr = rec.Addr
					}
				}
			}

			client := &http.Client{Timeout: 10 * time.Second}
			for _, p := range []string{"/healthz", "/readyz"} {
				resp, err := client.Get("http://" + addr + p)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d %s (readyz is 200 only when serve has migrated)", p, resp.StatusCode, body)
				}
			}
			t.Setenv("NEOSC_ADDR", addr)
			if err := run(ctx, []string{"healthcheck"}, strings.NewReader(""), io.Discard, io.Discard); err != nil {
				t.Errorf("healthcheck against a ready server: %v", err)
			}
			st, err := os.Stat(key)
			if err != nil {
				t.Errorf("signing key not created: %v", err)
			} else if st.Mode().Perm() != 0o600 {
				t.Errorf("signing key mode %v, want 0600", st.Mode().Perm())
			}

			// Each request's access-log line is written by the log sink's
			// goroutine (internal/logsink); none may be lost, and serve's
			// return writes what is left.
			const queries = 50
			for range queries {
				resp, err := client.Post("http://"+addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}

			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve after its context ended: %v", err)
				}
				logged := 0
				for _, line := range strings.Split(stderr.String(), "\n") {
					var rec struct{ Msg, Path string }
					if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "http request" && rec.Path == "/graphql" {
						logged++
					}
				}
				if logged != queries {
					t.Errorf("%d access-log lines for %d requests to /graphql", logged, queries)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop after its context ended")
			}
			if err := run(context.Background(), []string{"healthcheck"}, strings.NewReader(""), io.Discard, io.Discard); err == nil {
				t.Error("healthcheck succeeded with the server stopped")
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("serve log line is not JSON: %q", line)
				}
			}
		})
	}
}
