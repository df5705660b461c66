package bench

import (
	"context"
	"os"
	"slices"
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
