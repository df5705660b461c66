package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeWalkthrough runs the README's walk-through block, as printed,
// against a fresh server started by the real `serve` command on SQLite, and
// compares its output with the output the README shows.
func TestReadmeWalkthrough(t *testing.T) {
	needTools(t, "bash", "curl", "jq")
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- walkthrough:start -->\\s*```sh\\n(.*?)```\\s*<!-- walkthrough:end -->").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README has no walk-through block")
	}
	printed := regexp.MustCompile("(?s)<!-- walkthrough:end -->.*?```\\n(.*?)```").FindSubmatch(readme)
	if printed == nil {
		t.Fatal("README shows no output for the walk-through")
	}

	addr := freeAddr(t)
	dir := t.TempDir()
	t.Setenv("NEOSC_ADDR", addr)
	t.Setenv("NEOSC_DATABASE_URL", "sqlite:"+filepath.Join(dir, "neosc.db"))
	t.Setenv("NEOSC_SIGNING_KEY_FILE", filepath.Join(dir, "key.jwk"))
	t.Setenv("NEOSC_PUBLIC_URL", "http://"+addr)
	t.Setenv("NEOSC_LOG_FORMAT", "json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	waitHealthy(t, "http://"+addr)

	cmd := exec.Command("bash", "-euo", "pipefail", "-c", string(block[1]))
	cmd.Env = append(os.Environ(), "API=http://"+addr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walk-through failed: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), strings.TrimSpace(string(printed[1])); got != want {
		t.Errorf("walk-through printed\n%s\nREADME says\n%s", got, want)
	}
}

// needTools skips the test when a command-line tool it runs is missing;
// in CI (CI=true) that fails the test instead.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is needed by %s", tool, t.Name())
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not become ready")
}
