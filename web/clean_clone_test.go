package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/webtest"
)

// TestBuildWithoutUI copies the checkout as a fresh clone has it (the
// files git tracks or would add; web/dist holds only its README), then
// builds and vets it with no UI build, and runs the binary: GET / and
// GET /graphiql answer the page that says how to build the UI, with the
// security headers, and the API still serves.
func TestBuildWithoutUI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module in a copy (-short skips it)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found on PATH (the test runs under go test): %v", err)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git not found: cannot tell which files a clone has: %v", err)
	}
	src, dst := webtest.Root(), t.TempDir()
	list, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("not a git checkout (the suite runs in a clone): %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(src, name))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dst, "web", "dist"))
	if err != nil || len(entries) != 1 || entries[0].Name() != "README.md" {
		t.Fatalf("web/dist of the copy: %v %v, want README.md alone (a built file is not git-ignored?)", entries, err)
	}

	bin := filepath.Join(dst, "bin", "neosc")
	for _, args := range [][]string{{"build", "-o", bin, "."}, {"vet", "./web/", "."}} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dst
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s without the UI: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(),
		"NEOSC_ADDR=127.0.0.1:0",
		"NEOSC_DATABASE_URL=sqlite:"+filepath.Join(data, "neosc.db"),
		"NEOSC_SIGNING_KEY_FILE="+filepath.Join(data, "signing-key.jwk"),
		"NEOSC_LOG_FORMAT=json",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, log := "", &bytes.Buffer{}
	for sc := bufio.NewScanner(stderr); addr == "" && sc.Scan(); {
		log.Write(append(sc.Bytes(), '\n'))
		var rec struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "serving" {
			addr = rec.Addr
		}
	}
	if addr == "" {
		t.Fatalf("the binary built without the UI did not serve:\n%s", log)
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()

	client := &http.Client{Timeout: 10 * time.Second}
	for path, want := range map[string]int{"/": 200, "/graphiql": 200, "/ui/graphiql/app.js": 404, "/healthz": 200} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without the UI: %d, want %d: %s", path, resp.StatusCode, want, body)
		}
		if path == "/" || path == "/graphiql" {
			if !strings.Contains(string(body), "make run") {
				t.Errorf("GET %s without the UI: %s, want the page that says how to build it", path, body)
			}
			if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("GET %s without the UI: no security headers: %v", path, resp.Header)
			}
		}
	}
}
