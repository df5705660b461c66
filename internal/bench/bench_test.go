package bench

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// tinyInProc seeds a tiny data set on a fresh database of engine e and
// builds both handlers over it.
func tinyInProc(t testing.TB, e db.Engine) *InProc {
	t.Helper()
	u := testdb.URL(t, e)
	s, err := Prepare(context.Background(), u, Tiny)
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "key.jwk"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewInProc(context.Background(), u, s, key, "t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestBodiesEqual(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			p := tinyInProc(t, e)
			if err := p.CheckBodies(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
