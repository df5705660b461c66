package main

// `neosc seed` as a process (issue 12): this test binary run again with
// NEOSC_TEST_CLI_ARGS, which makes TestMain run that command line as
// main does — its output, its exit code — before any test could run.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/seed"
	"github.com/neosc/neosc/internal/testdb"
)

// cliHelperEnv holds the command line (JSON array) a child process runs.
const cliHelperEnv = "NEOSC_TEST_CLI_ARGS"

// cliHelper runs the command line of NEOSC_TEST_CLI_ARGS as main does and
// returns the exit code.
func cliHelper() int {
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(cliHelperEnv)), &args); err != nil {
		fmt.Fprintln(os.Stderr, "bad", cliHelperEnv, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, args, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "neosc:", err)
		return 1
	}
	return 0
}

type processResult struct {
	stdout, stderr string
	code           int
}

// runProcess runs `neosc args...` in a child process on database dbURL.
func runProcess(t *testing.T, dbURL string, args ...string) processResult {
	t.Helper()
	encoded, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NEOSC_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, cliHelperEnv+"="+string(encoded), "NEOSC_DATABASE_URL="+dbURL, "NEOSC_LOG_FORMAT=json",
		"NEOSC_SIGNING_KEY_FILE="+filepath.Join(t.TempDir(), "key.jwk"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := processResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

func TestSeedCommand(t *testing.T) {
	tiny := []string{"seed", "--scale", "small", "--organizations", "3", "--users", "12", "--big-org-users", "6",
		"--workspaces", "6", "--big-org-workspaces", "2", "--audit-events", "40", "--seed", "7"}
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			u := testdb.URL(t, e)
			r := runProcess(t, u, tiny...)
			if r.code != 0 {
				t.Fatalf("neosc seed exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			d := openDB(t, u)
			var bigOrg string
			if err := d.SQL().QueryRow("SELECT organization_id FROM users WHERE role = 'ADMIN' ORDER BY id LIMIT 1").Scan(&bigOrg); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				"seeded in ", "(" + string(e) + ", seed 7)",
				"  organizations                      3\n", "  users                             13\n", // and the platform administrator
				"  workspaces                         6\n", "  audit_events                      41\n",
				"big organization:    " + ids.Encode(ids.Organization, bigOrg) + " (" + bigOrg + ")\n",
				"big org admin:       user000000@org0000.seed.example.com\n",
				"platform admin:      " + seed.PlatformAdminEmail + "\n",
				"password (everyone): " + seed.Password + "\n",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("neosc seed printed:\n%s\nwant %q in it", r.stdout, want)
				}
			}
			var users int
			if err := d.SQL().QueryRow("SELECT COUNT(*) FROM users").Scan(&users); err != nil || users != 13 {
				t.Errorf("%d users in the database (%v), want 13", users, err)
			}

			// Again into the same database: refused, exit code 1, one
			// clear line.
			r = runProcess(t, u, tiny...)
			if r.code != 1 || !strings.Contains(r.stderr, "neosc: seed: the database already holds users") || !strings.Contains(r.stderr, "fresh database") {
				t.Errorf("second neosc seed: exit %d, stderr:\n%s\nwant exit 1 and the refusal", r.code, r.stderr)
			}
		})
	}
}

func TestSeedCommandBadFlags(t *testing.T) {
	u, path := sqliteURL(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--scale", "medium"}, "neosc: seed: --scale must be small or large, not \"medium\""},
		{[]string{"--users", "ten"}, "invalid value \"ten\" for flag -users"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"extra"}, "unexpected argument \"extra\""},
		{[]string{"--organizations", "0"}, "neosc: seed: organizations must be at least 1"},
		{[]string{"--users", "-1"}, "neosc: seed: users must be between 0 and"},
		{[]string{"--scale", "small", "--big-org-users", "20000"}, "big-org-users (20000) must not exceed users (10000)"},
	} {
		r := runProcess(t, u, append([]string{"seed"}, c.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("neosc seed %s: exit %d, stderr:\n%s\nwant exit 1 and %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
	r := runProcess(t, u, "seed", "-h")
	if r.code != 0 || !strings.Contains(r.stderr, "-big-org-users int") || !strings.Contains(r.stderr, "small (one tenth) or large") {
		t.Errorf("neosc seed -h: exit %d, stderr:\n%s\nwant exit 0 and the flags", r.code, r.stderr)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bad flags opened the database: %v", err)
	}
}
