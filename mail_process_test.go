package main

// Two real `neosc serve` processes on one database deliver the outbox
// exactly once. The processes are this test binary run again with
// NEOSC_TEST_SERVE_HELPER=1, which makes TestMain call run()
// with "serve": the real configuration, wiring and shutdown, without a
// `go build`.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/mail"
	"github.com/neosc/neosc/internal/mailtest"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

const serveHelperEnv = "NEOSC_TEST_SERVE_HELPER"

// TestMain runs the tests, or, in a child process started by
// startServer (NEOSC_TEST_SERVE_HELPER=1), a real `neosc serve` until
// SIGTERM, before any test could run: no test needs to tell which it is in.
func TestMain(m *testing.M) {
	if os.Getenv(cliHelperEnv) != "" {
		os.Exit(cliHelper())
	}
	if os.Getenv(serveHelperEnv) != "1" {
		os.Exit(m.Run())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "neosc:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serverProcess is a `neosc serve` child process.
type serverProcess struct {
	cmd    *exec.Cmd
	stderr *apitest.SyncBuffer
	done   chan error
}

func startServer(t *testing.T, name string, env ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NEOSC_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, serveHelperEnv+"=1", "NEOSC_ADDR=127.0.0.1:0", "NEOSC_LOG_FORMAT=json",
		"NEOSC_SIGNING_KEY_FILE="+filepath.Join(t.TempDir(), "key.jwk"))
	cmd.Env = append(cmd.Env, env...)
	p := &serverProcess{cmd: cmd, stderr: &apitest.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, p.stderr.String())
		}
	})
	return p
}

// records are the process's JSON log records with the given message.
func (p *serverProcess) records(msg string) int {
	n := 0
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		var rec struct{ Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
			n++
		}
	}
	return n
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serverProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("server exited with %v after SIGTERM", err)
		}
	case <-time.After(40 * time.Second):
		t.Error("server did not stop within 40s of SIGTERM")
	}
}

// TestTwoServersDeliverOnce: two server processes on one database (MariaDB
// when configured, and SQLite) and one SMTP server deliver 100 queued mails
// exactly once each, and both take part.
func TestTwoServersDeliverOnce(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			dbURL := testdb.URL(t, e)
			smtp := mailtest.Start(t)
			// 30ms a mail: one sender alone needs 3s for the 100, longer than
			// the 2s poll, so the other one joins in.
			smtp.Delay(30 * time.Millisecond)
			d := openDB(t, dbURL)
			m, err := db.NewMigrator(d, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Up(t.Context()); err != nil {
				t.Fatal(err)
			}

			env := []string{"NEOSC_DATABASE_URL=" + dbURL, "NEOSC_SMTP_URL=" + smtp.URL()}
			servers := []*serverProcess{startServer(t, "server A", env...), startServer(t, "server B", env...)}
			deadline := time.Now().Add(60 * time.Second)
			for _, p := range servers {
				for p.records("serving") == 0 {
					select {
					case err := <-p.done:
						t.Fatalf("a server exited early (%v):\n%s", err, p.stderr.String())
					case <-time.After(20 * time.Millisecond):
					}
					if time.Now().After(deadline) {
						t.Fatalf("a server did not start:\n%s", p.stderr.String())
					}
				}
			}

			const n = 100
			err = store.New(d.DB).Tx(t.Context(), func(tx *store.Store) error {
				for i := 0; i < n; i++ {
					if err := mail.Enqueue(t.Context(), tx, "", mail.Message{To: fmt.Sprintf("user%03d@example.test", i),
						Subject: "Welcome", Text: fmt.Sprintf("Verify: https://neosc.test/verify?token=%d\n", i)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}

			smtp.WaitForCount(t, n, 60*time.Second)
			for time.Now().Before(deadline) {
				var pending int64
				if err := d.Model(&store.OutboxMail{}).Where("sent_at IS NULL").Count(&pending).Error; err != nil {
					t.Fatal(err)
				}
				if pending == 0 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // a few more polls: no second delivery
			for _, p := range servers {
				p.stop(t)
			}

			per := map[string]int{}
			for _, msg := range smtp.Messages() {
				for _, to := range msg.To {
					per[to]++
				}
				if mailtest.Link(msg) == "" {
					t.Errorf("mail to %v without its link", msg.To)
				}
			}
			for i := 0; i < n; i++ {
				if to := fmt.Sprintf("user%03d@example.test", i); per[to] != 1 {
					t.Errorf("%s received %d mails, want 1", to, per[to])
				}
			}
			if len(per) != n {
				t.Errorf("%d recipients, want %d", len(per), n)
			}
			a, b := servers[0].records("mail sent"), servers[1].records("mail sent")
			t.Logf("server A sent %d, server B %d", a, b)
			if a+b != n || a == 0 || b == 0 {
				t.Errorf("servers logged %d + %d sent mails, want %d in all from both", a, b, n)
			}
		})
	}
}
