package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/dnstest"
	"github.com/neosc/neosc/internal/domains"
	"github.com/neosc/neosc/internal/store"
)

// TestMembershipWalkthrough runs docs/membership.md's two blocks, as
// printed, in one shell against a fresh server started by the real `serve`
// command on SQLite (mail logged, no SMTP), and compares what they print
// with what the document shows. Between the blocks it does what the reader
// does at their DNS provider: it publishes the TXT record, on a DNS server
// on loopback that the server uses as NEOSC_DNS_RESOLVER.
func TestMembershipWalkthrough(t *testing.T) {
	needTools(t, "bash", "curl", "jq", "grep")
	doc, err := os.ReadFile("docs/membership.md")
	if err != nil {
		t.Fatal(err)
	}
	invite, invitePrinted := docBlock(t, doc, "invite")
	verify, verifyPrinted := docBlock(t, doc, "verify")

	dnsSrv := dnstest.New(t)
	addr, dir := freeAddr(t), t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "neosc.db")
	logPath := filepath.Join(dir, "neosc.log")
	for k, v := range map[string]string{"NEOSC_ADDR": addr, "NEOSC_DATABASE_URL": dbURL, "NEOSC_SIGNING_KEY_FILE": filepath.Join(dir, "key.jwk"),
		"NEOSC_PUBLIC_URL": "http://" + addr, "NEOSC_LOG_FORMAT": "json", "NEOSC_DNS_RESOLVER": dnsSrv.Addr(), "NEOSC_SMTP_URL": ""} {
		t.Setenv(k, v)
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

	// One shell: the second block uses the first one's functions and token.
	// The marker between the blocks is on stdout, so that it cannot overtake
	// the first block's output.
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", invite+"\necho __published__?\nread -r _\n"+verify)
	cmd.Env = append(os.Environ(), "API=http://"+addr, "LOG="+logPath)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if sc.Text() != "__published__?" {
			out = append(out, sc.Text())
			continue
		}
		if got := strings.TrimSpace(strings.Join(out, "\n")); got != invitePrinted {
			t.Errorf("the invitation block printed\n%s\nthe document says\n%s", got, invitePrinted)
		}
		out = nil
		publish(t, dbURL, dnsSrv)
		_, _ = io.WriteString(stdin, "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("walk-through failed: %v\n%s%s", err, strings.Join(out, "\n"), errOut.String())
	}
	if got := strings.TrimSpace(strings.Join(out, "\n")); got != verifyPrinted {
		t.Errorf("the verification block printed\n%s\nthe document says\n%s", got, verifyPrinted)
	}
}

// docBlock returns the shell block marked name and the output printed
// after it.
func docBlock(t *testing.T, doc []byte, name string) (block, printed string) {
	t.Helper()
	m := regexp.MustCompile("(?s)<!-- membership:" + name + " -->\\s*```sh\\n(.*?)```\\s*<!-- membership:" + name + ":end -->.*?```\\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("docs/membership.md has no %s block with its output", name)
	}
	return string(m[1]), strings.TrimSpace(string(m[2]))
}

// publish serves the TXT record of acme.com's verification, as read by its
// organization's admins, from the loopback DNS server.
func publish(t *testing.T, dbURL string, dnsSrv *dnstest.Server) {
	t.Helper()
	d, err := db.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var row store.OrganizationDomain
	if err := d.DB.Where("domain = ?", "acme.com").Take(&row).Error; err != nil {
		t.Fatalf("acme.com was not claimed: %v", err)
	}
	rec := domains.Challenge(&row)
	dnsSrv.SetTXT(rec.Name, rec.Value)
}
