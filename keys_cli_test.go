package main

// Issue, point 4, through the command line: `neosc keys rotate` and
// NEOSC_KEY_ENCRYPTION_KEY (replicas needed a shared key file; keys did not
// rotate).

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/testdb"
)

func newKEKBase64(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestKeysRotateCommand(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			u := testdb.URL(t, e)
			keyFile := cliEnv(t, u)
			d := openDB(t, u)

			// Without a key-encryption key the key is a file, which does
			// not rotate: one line says what to do.
			r := runCLI(t, "", "keys", "rotate")
			if r.err == nil || !strings.Contains(r.err.Error(), "NEOSC_KEY_ENCRYPTION_KEY") || strings.Contains(r.err.Error(), "\n") {
				t.Fatalf("keys rotate without NEOSC_KEY_ENCRYPTION_KEY: %v", r.err)
			}
			for _, args := range [][]string{{"keys"}, {"keys", "list"}, {"keys", "rotate", "now"}} {
				if r := runCLI(t, "", args...); r.err == nil || !strings.Contains(r.err.Error(), "usage: neosc keys rotate") {
					t.Errorf("neosc %s: %v, want the usage", strings.Join(args, " "), r.err)
				}
			}

			// A single node that had a key file switches to the database:
			// the file's key becomes the first one, so its tokens keep
			// working, and the rotation retires it.
			fileKey, err := auth.LoadOrCreateSigningKey(keyFile)
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("NEOSC_KEY_ENCRYPTION_KEY", newKEKBase64(t))
			t.Setenv("NEOSC_TOKEN_TTL", "2h")
			start := time.Now()
			r = runCLI(t, "", "keys", "rotate")
			if r.err != nil {
				t.Fatalf("keys rotate: %v\n%s", r.err, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "new key ") ||
				!strings.HasPrefix(lines[1], "key "+fileKey.KeyID()+" retired: its tokens verify until ") {
				t.Fatalf("keys rotate printed:\n%s\nwant the new key, then the key file's %s retired", r.stdout, fileKey.KeyID())
			}
			at, ttl, _ := strings.Cut(strings.TrimPrefix(lines[1], "key "+fileKey.KeyID()+" retired: its tokens verify until "), " ")
			if ttl != "(session tokens of NEOSC_TOKEN_TTL=2h0m0s at most)" {
				t.Errorf("keys rotate does not say which NEOSC_TOKEN_TTL it assumed: %q", lines[1])
			}
			until, err := time.Parse(time.RFC3339, at)
			if err != nil {
				t.Fatal(err)
			}
			// The old key outlives every token it may still sign: until the
			// new key activates everywhere, plus NEOSC_TOKEN_TTL.
			if min := start.Add(auth.KeyActivationDelay + 2*time.Hour); until.Before(min.Truncate(time.Second)) {
				t.Errorf("the retired key verifies until %v, want at least %v", until, min)
			}

			r = runCLI(t, "", "keys", "rotate")
			if r.err != nil {
				t.Fatalf("second keys rotate: %v", r.err)
			}
			var gens []int
			if err := d.Raw("SELECT generation FROM signing_keys ORDER BY generation").Scan(&gens).Error; err != nil {
				t.Fatal(err)
			}
			if len(gens) != 3 || gens[0] != 1 || gens[2] != 3 {
				t.Errorf("generations %v, want 1 2 3", gens)
			}
			var events int64
			d.Raw("SELECT COUNT(*) FROM audit_events WHERE action = 'signing_key.rotated' AND organization_id IS NULL").Scan(&events)
			if events != 2 {
				t.Errorf("%d signing_key.rotated events, want 2", events)
			}
		})
	}
}

func TestWrongKeyEncryptionKeyRefusesToStart(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			u := testdb.URL(t, e)
			cliEnv(t, u)
			t.Setenv("NEOSC_KEY_ENCRYPTION_KEY", newKEKBase64(t))
			if r := runCLI(t, "", "keys", "rotate"); r.err != nil {
				t.Fatalf("keys rotate: %v", r.err)
			}

			wrong := newKEKBase64(t)
			t.Setenv("NEOSC_KEY_ENCRYPTION_KEY", wrong)
			for _, args := range [][]string{{"serve"}, {"keys", "rotate"}} {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := run(ctx, args, strings.NewReader(""), io.Discard, io.Discard)
				cancel()
				if err == nil {
					t.Fatalf("neosc %s with another NEOSC_KEY_ENCRYPTION_KEY: no error", args[0])
				}
				msg := err.Error()
				if !strings.Contains(msg, "NEOSC_KEY_ENCRYPTION_KEY") || strings.Contains(msg, "\n") || strings.Contains(msg, wrong) {
					t.Errorf("neosc %s: %q: want one line naming NEOSC_KEY_ENCRYPTION_KEY, without the key", args[0], msg)
				}
			}

			// A value that is no key at all stops start-up at the
			// configuration, before the database is opened.
			for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))} {
				t.Setenv("NEOSC_KEY_ENCRYPTION_KEY", bad)
				r := runCLI(t, "", "serve")
				if r.err == nil || !strings.HasPrefix(r.err.Error(), "config: NEOSC_KEY_ENCRYPTION_KEY: ") || strings.Contains(r.err.Error(), bad) {
					t.Errorf("NEOSC_KEY_ENCRYPTION_KEY=%q: %v", bad, r.err)
				}
			}
		})
	}
}
