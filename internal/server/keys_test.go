package server_test

// Issue, point 4: replicas needed a signing-key file shared between them,
// which the README never mentioned, and the key could not be rotated. These
// tests are named after those findings.

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newKEK(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// openRing opens the database keys of d as a replica starting would.
func openRing(t *testing.T, d *db.DB, kek []byte, now func() time.Time) *auth.Keyring {
	t.Helper()
	ring, err := auth.OpenKeyring(context.Background(), store.New(d.DB), kek, auth.KeyringOptions{Now: now})
	if err != nil {
		t.Fatalf("open keyring: %v", err)
	}
	return ring
}

// kidOf is the kid a token names.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		t.Fatal(err)
	}
	return msg.Signatures()[0].ProtectedHeaders().KeyID()
}

// jwksKids lists the kids a replica serves at /.well-known/jwks.json.
func jwksKids(t *testing.T, env *apitest.Env) map[string]bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/.well-known/jwks.json", nil)
	r := env.Send(req)
	set, err := jwk.Parse(r.Body)
	if err != nil {
		t.Fatalf("jwks: %v: %s", err, r.Body)
	}
	out := map[string]bool{}
	for i := range set.Len() {
		k, _ := set.Key(i)
		if private, _ := jwk.IsPrivateKey(k); private {
			t.Fatalf("jwks serves a private key: %s", r.Body)
		}
		out[k.KeyID()] = true
	}
	return out
}

func TestReplicasNeedASharedKeyFile(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		kek := newKEK(t)

		// First, as the issue found it: without NEOSC_KEY_ENCRYPTION_KEY
		// (the zero-setup default) each replica has a key file of its own,
		// and refuses the tokens the other signs. The README now says so.
		t.Run("replicas with a key file each refuse each other's tokens", func(t *testing.T) {
			a, b := apitest.New(t, d), apitest.New(t, d)
			acc := a.Register("alone@files.test", "Files")
			wantSignedOut(t, b, acc.Token, "a token of another replica's key file")
		})

		t.Run("replicas starting together store one first key", func(t *testing.T) {
			for round := range 4 {
				fresh := testdb.New(t, d.Engine)
				const n = 8
				kids := make([]string, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ring, err := auth.OpenKeyring(context.Background(), store.New(fresh.DB), kek, auth.KeyringOptions{})
						if errs[i] = err; err == nil {
							kids[i] = ring.Signer().KeyID()
						}
					}()
				}
				wg.Wait()
				for i := range n {
					if errs[i] != nil {
						t.Fatalf("round %d, replica %d: %v", round, i, errs[i])
					}
					if kids[i] != kids[0] {
						t.Errorf("round %d: replica %d signs with %s, replica 0 with %s", round, i, kids[i], kids[0])
					}
				}
				var stored int64
				fresh.DB.Raw("SELECT COUNT(*) FROM signing_keys").Scan(&stored)
				if stored != 1 {
					t.Errorf("round %d: %d keys stored, want 1", round, stored)
				}
				var sealed string
				fresh.DB.Raw("SELECT private_key FROM signing_keys").Scan(&sealed)
				if key, err := jwk.ParseKey([]byte(sealed)); err == nil && key != nil {
					t.Error("the private key is stored in clear")
				}
			}
		})

		t.Run("two replicas on one database, without a shared file, accept each other's tokens", func(t *testing.T) {
			a := apitest.New(t, d, apitest.WithKeys(openRing(t, d, kek, nil)))
			b := apitest.New(t, d, apitest.WithKeys(openRing(t, d, kek, nil)))
			acc := a.Register("ada@replicas.test", "Replicas")
			wantSignedIn(t, b, acc.Token, "a token signed by replica A, on replica B")
			tok := signIn(t, b, acc.Email, "password-ada@replicas.test")
			wantSignedIn(t, a, tok, "a token signed by replica B, on replica A")
			ka, kb := jwksKids(t, a), jwksKids(t, b)
			if len(ka) != 1 || len(kb) != 1 || !ka[kidOf(t, tok)] || !kb[kidOf(t, acc.Token)] {
				t.Errorf("JWKS of A %v, of B %v", ka, kb)
			}
			// Sessions end on every replica: the denylist is in the database.
			a.Do(tok, signOutQ, nil).OK(t)
			wantSignedOut(t, b, tok, "a token signed out on replica A, on replica B")
		})

		t.Run("a wrong key-encryption key does not open the stored keys", func(t *testing.T) {
			_, err := auth.OpenKeyring(context.Background(), store.New(d.DB), newKEK(t), auth.KeyringOptions{})
			if !errors.Is(err, auth.ErrWrongKeyEncryptionKey) {
				t.Fatalf("OpenKeyring with another key: %v, want ErrWrongKeyEncryptionKey", err)
			}
		})
	})
}

func TestNoKeyRotation(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		clk, kek := newTestClock(), newKEK(t)
		ringA, ringB := openRing(t, d, kek, clk.Now), openRing(t, d, kek, clk.Now)
		a, b := apitest.New(t, d, apitest.WithKeys(ringA)), apitest.New(t, d, apitest.WithKeys(ringB))
		acc := a.Register("ops@rotation.test", "Rotation")
		pw := "password-ops@rotation.test"
		oldKid := kidOf(t, acc.Token)
		st := store.New(d.DB)
		rotate := func(t *testing.T) *auth.Rotation {
			t.Helper()
			var rot *auth.Rotation
			if err := st.Tx(context.Background(), func(tx *store.Store) error {
				var err error
				rot, err = ringA.Rotate(context.Background(), tx, time.Hour)
				return err
			}); err != nil {
				t.Fatalf("rotate: %v", err)
			}
			return rot
		}
		rot := rotate(t)
		newKid := rot.New.ID
		if len(rot.Retired) != 1 || rot.Retired[0].ID != oldKid {
			t.Fatalf("rotation retired %+v, want the key %s", rot.Retired, oldKid)
		}

		t.Run("the new key is published before any replica signs with it", func(t *testing.T) {
			if err := ringA.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			if kids := jwksKids(t, a); !kids[oldKid] || !kids[newKid] {
				t.Errorf("JWKS %v, want the old key %s and the new %s", kids, oldKid, newKid)
			}
			if kid := kidOf(t, signIn(t, a, acc.Email, pw)); kid != oldKid {
				t.Errorf("a token signed before the new key's activation names %s, want the old %s", kid, oldKid)
			}
		})

		t.Run("once active, every replica signs with the new key and accepts it", func(t *testing.T) {
			clk.Add(auth.KeyActivationDelay + time.Second)
			tok := signIn(t, a, acc.Email, pw)
			if kid := kidOf(t, tok); kid != newKid {
				t.Fatalf("replica A signs with %s, want the new key %s", kid, newKid)
			}
			// Replica B has not reloaded since the rotation: the unknown
			// kid makes it reload, once.
			wantSignedIn(t, b, tok, "a token of the new key on a replica that had not reloaded")
			if kid := kidOf(t, signIn(t, b, acc.Email, pw)); kid != newKid {
				t.Errorf("replica B signs with %s, want %s", kid, newKid)
			}
		})

		t.Run("tokens signed by the old key keep working until they expire", func(t *testing.T) {
			wantSignedIn(t, a, acc.Token, "an old token on replica A")
			wantSignedIn(t, b, acc.Token, "an old token on replica B")
			want := rot.New.ActivatesAt.Add(auth.KeyRefresh + time.Hour + auth.ClockSkew)
			if got := rot.Retired[0].ExpiresAt; got == nil || !got.Equal(want) {
				t.Errorf("the old key verifies until %v, want %v (activation + refresh + token TTL + skew)", got, want)
			}
		})

		t.Run("a kid no replica knows costs at most one reload every 10 s", func(t *testing.T) {
			stranger, err := auth.NewSigningKey()
			if err != nil {
				t.Fatal(err)
			}
			forged := sign(t, claims(t, acc, nil), jwa.EdDSA, stranger, stranger.KeyID())
			a.Counter.Reset()
			wantSignedOut(t, a, forged, "a token of an unknown key")
			wantSignedOut(t, a, forged, "the same token again")
			if n := a.Counter.N(); n > 1 {
				t.Errorf("%d statements for two tokens of an unknown kid, want at most 1:\n%s", n, a.Counter.SQL())
			}
		})

		t.Run("the old key retires once the last token it signed has expired", func(t *testing.T) {
			clk.Add(time.Hour + 2*auth.KeyRefresh)
			for _, ring := range []*auth.Keyring{ringA, ringB} {
				if err := ring.Refresh(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if kids := jwksKids(t, a); kids[oldKid] || !kids[newKid] {
				t.Errorf("JWKS %v: want the new key only", kids)
			}
			// Only the keyring's clock has moved: the token itself has not
			// expired, its key has.
			wantSignedOut(t, a, acc.Token, "a token of the retired key")
		})

		t.Run("a key keeps verifying the API tokens it signed until they expire", func(t *testing.T) {
			secret, _ := newToken(t, a, apitest.Account{Token: signIn(t, a, acc.Email, pw)}, "partner", "READ_ORGANIZATION")
			if kidOf(t, secret) != newKid {
				t.Fatalf("API token signed by %s", kidOf(t, secret))
			}
			rotate(t)
			clk.Add(auth.KeyActivationDelay + 2*time.Hour) // past the session tokens' bound
			for _, ring := range []*auth.Keyring{ringA, ringB} {
				if err := ring.Refresh(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			for _, env := range []*apitest.Env{a, b} {
				env.Do(secret, `{ organizations { totalCount } }`, nil).OK(t)
				if !jwksKids(t, env)[newKid] {
					t.Error("the key of a live API token left the JWKS")
				}
			}
		})
	})
}

// TestALeakedKeyEndsAtOnce runs the procedure of docs/operations.md for a
// leaked key: rotate, then expire the old key by hand.
func TestALeakedKeyEndsAtOnce(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ring := openRing(t, d, newKEK(t), nil)
		env := apitest.New(t, d, apitest.WithKeys(ring))
		acc := env.Register("leak@keys.test", "Leak")
		leaked := kidOf(t, acc.Token)
		if err := store.New(d.DB).Tx(context.Background(), func(tx *store.Store) error {
			_, err := ring.Rotate(context.Background(), tx, time.Hour)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		now := map[db.Engine]string{db.MySQL: "UTC_TIMESTAMP(6)", db.SQLite: "CURRENT_TIMESTAMP"}[d.Engine]
		env.Exec("UPDATE signing_keys SET expires_at = "+now+", keep_until = NULL WHERE id = ?", leaked)
		if err := ring.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantSignedOut(t, env, acc.Token, "a token of the leaked key")
		tok := signIn(t, env, acc.Email, "password-leak@keys.test")
		if kidOf(t, tok) == leaked {
			t.Error("the leaked key still signs")
		}
		wantSignedIn(t, env, tok, "a token of the new key")
	})
}
