package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAdministrationWalkthrough runs docs/administration.md's walk-through
// as printed: `neosc create-admin` with the document's arguments, then its
// block in one shell against a fresh server started by the real `serve`
// command on SQLite (mail logged), and compares what it prints with what
// the document shows.
func TestAdministrationWalkthrough(t *testing.T) {
	needTools(t, "bash", "curl", "jq", "grep")
	doc, err := os.ReadFile("docs/administration.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- administration:walkthrough -->\\s*```sh\\n(.*?)```\\s*<!-- administration:walkthrough:end -->.*?```\\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/administration.md has no walkthrough block with its output")
	}
	block, printed := string(m[1]), strings.TrimSpace(string(m[2]))
	admin := regexp.MustCompile(`echo '([^']*)' \| \./bin/neosc create-admin --email (\S+) --name (\S+)`).FindSubmatch(doc)
	if admin == nil {
		t.Fatal("docs/administration.md shows no create-admin command")
	}

	addr, dir := freeAddr(t), t.TempDir()
	logPath := filepath.Join(dir, "neosc.log")
	for k, v := range map[string]string{"NEOSC_ADDR": addr, "NEOSC_DATABASE_URL": "sqlite:" + filepath.Join(dir, "neosc.db"),
		"NEOSC_SIGNING_KEY_FILE": filepath.Join(dir, "key.jwk"), "NEOSC_PUBLIC_URL": "http://" + addr, "NEOSC_LOG_FORMAT": "json", "NEOSC_SMTP_URL": ""} {
		t.Setenv(k, v)
	}
	if err := run(context.Background(), []string{"create-admin", "--email", string(admin[2]), "--name", string(admin[3])},
		strings.NewReader(string(admin[1])+"\n"), io.Discard, io.Discard); err != nil {
		t.Fatalf("create-admin: %v", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, logFile) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = logFile.Close()
	})
	waitHealthy(t, "http://"+addr)

	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Env = append(os.Environ(), "API=http://"+addr, "LOG="+logPath)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("the walk-through failed: %v\n%s\nprinted so far:\n%s", err, stderr, out)
	}
	if got := strings.TrimSpace(string(out)); got != printed {
		t.Errorf("the walk-through printed\n%s\nthe document says\n%s", got, printed)
	}
}
