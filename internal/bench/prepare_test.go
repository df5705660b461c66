package bench

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// TestRaiseBufferPool: -mysql-buffer-pool raises the server's InnoDB
// buffer pool for the run and puts it back; a pool already large enough
// is left alone.
func TestRaiseBufferPool(t *testing.T) {
	if !slices.Contains(testdb.Engines(t), db.MySQL) {
		t.Skip("MySQL not configured (NEOSC_TEST_MYSQL_DSN unset; in CI testdb.Engines fails instead)")
	}
	dsn := os.Getenv(testdb.EnvMySQL)
	ctx := context.Background()
	conn, _, err := adminConn(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pool := func() int64 {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT @@innodb_buffer_pool_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := pool()

	before, restore, err := RaiseBufferPool(ctx, dsn, start) // already that large
	if err != nil || before != start {
		t.Fatalf("RaiseBufferPool(current) = %d, %v; want %d", before, err, start)
	}
	if err := restore(ctx); err != nil || pool() != start {
		t.Fatalf("a pool large enough was changed: %d, %v", pool(), err)
	}

	want := start + 128<<20
	before, restore, err = RaiseBufferPool(ctx, dsn, want-1) // rounded up to whole 128 MiB chunks
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = restore(ctx) }()
	if before != start || pool() < want {
		t.Fatalf("pool %d after raising %d to %d", pool(), before, want)
	}
	if err := restore(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pool(); got != start {
		t.Fatalf("pool %d after restoring, want %d", got, start)
	}
}

// -scenarios: Config.Only runs the named scenarios, in report order.
func TestOnlyScenarios(t *testing.T) {
	if got := (&Config{}).scenarios(); !slices.Equal(got, Scenarios) {
		t.Fatalf("no filter: %v", got)
	}
	if got := (&Config{Only: []string{MIX, S6}}).scenarios(); !slices.Equal(got, []string{S6, MIX}) {
		t.Fatalf("S6,MIX: %v", got)
	}
}

// Rounds interleave every side on every data set, reversed every other
// round, so that over two rounds each run's mean position is the same: a
// steady drift of the machine weighs on all of them alike.
func TestRoundOrder(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		sum := make([]int, 2*n)
		for round := range 2 {
			order := RoundOrder(round, n)
			seen := map[int]bool{}
			for pos, i := range order {
				if i < 0 || i >= 2*n || seen[i] {
					t.Fatalf("n=%d round %d: order %v is not a permutation of 0..%d", n, round, order, 2*n-1)
				}
				seen[i] = true
				sum[i] += pos
			}
		}
		for i, s := range sum {
			if s != 2*n-1 {
				t.Errorf("n=%d: run %d's positions over two rounds sum to %d, want %d (orders %v, %v)", n, i, s, 2*n-1, RoundOrder(0, n), RoundOrder(1, n))
			}
		}
	}
}

// S6n's tokens: each new, each as long as the real one, differing from it
// only in its signature.
func TestForgedSignatures(t *testing.T) {
	const tok = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLXNpeHR5LWZvdXItYnl0ZXMtLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0"
	dot := strings.LastIndexByte(tok, '.')
	seen := map[string]bool{tok: true}
	for i := range uint64(5000) {
		f := forgedSignature(tok, i)
		if len(f) != len(tok) || f[:dot] != tok[:dot] {
			t.Fatalf("token %d changed beyond its signature: %s", i, f)
		}
		if seen[f] {
			t.Fatalf("token %d was made before: %s", i, f)
		}
		seen[f] = true
	}
}
